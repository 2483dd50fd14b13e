import { z } from 'zod';
import { SYNTH_PRESETS } from './config';
import type { SynthDatasetOptions } from './write';

/**
 * A synthetic dataset recipe as written in experiment files (`datasets: [{path, synth: …}]`): the
 * preset, clip count and seed, the generator knobs to override and the segment planning of
 * segments.csv. One schema for every caller (experiments, sweeps, quickstart).
 */
export const SynthRecipeSchema = z
  .object({
    preset: z.enum(SYNTH_PRESETS),
    clips: z.number().int().min(2),
    seed: z.union([z.number().int(), z.string()]).default(0),
    name: z.string().min(1).optional(),
    views: z.array(z.string().min(1)).optional(),
    // Generator knobs (SynthConfig); unset = the preset's value.
    minDuration: z.number().int().min(1).optional(),
    maxDuration: z.number().int().min(1).optional(),
    pairNoise: z.number().min(0).optional(),
    styleStrength: z.number().min(0).optional(),
    noiseScale: z.number().min(0).optional(),
    regimes: z.number().int().min(1).optional(),
    minRegimeSeconds: z.number().int().min(1).optional(),
    unsyncedShare: z.number().min(0).max(1).optional(),
    crossMatchShare: z.number().min(0).max(1).optional(),
    coupling: z.number().min(0).max(1).optional(),
    syncRate: z.number().min(0).max(1).optional(),
    restShare: z.number().min(0).max(0.9).optional(),
    trainFraction: z.number().min(0).max(1).optional(),
    valFraction: z.number().min(0).max(1).optional(),
    /** segments.csv planning (match the experiment's `segmentation` so training reuses it). */
    segments: z.number().int().min(1).optional(),
    minSegmentSeconds: z.number().positive().optional(),
    jumpSeconds: z.number().positive().optional(),
    maxSegmentSeconds: z.number().positive().optional(),
    protocol: z.enum(['paper', 'vmr-code']).optional(),
  })
  .strict();
export type SynthRecipe = z.infer<typeof SynthRecipeSchema>;

/** `writeSyntheticDataset` options of a recipe (without `out` / `existing` / `onClip`). */
export function synthRecipeOptions(r: SynthRecipe): Omit<SynthDatasetOptions, 'out'> {
  return {
    preset: r.preset,
    clips: r.clips,
    seed: r.seed,
    name: r.name,
    views: r.views,
    overrides: {
      minDuration: r.minDuration,
      maxDuration: r.maxDuration,
      pairNoise: r.pairNoise,
      styleStrength: r.styleStrength,
      noiseScale: r.noiseScale,
      regimes: r.regimes,
      minRegimeSeconds: r.minRegimeSeconds,
      unsyncedShare: r.unsyncedShare,
      crossMatchShare: r.crossMatchShare,
      coupling: r.coupling,
      syncRate: r.syncRate,
      restShare: r.restShare,
      trainFraction: r.trainFraction,
      valFraction: r.valFraction,
    },
    plan: { segments: r.segments, minSegmentSeconds: r.minSegmentSeconds, jumpSeconds: r.jumpSeconds, maxSegmentSeconds: r.maxSegmentSeconds, protocol: r.protocol },
  };
}
