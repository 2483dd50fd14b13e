import { InvalidArgumentError } from '@vmr/core';
import { type ClipPlanOptions, type ClipPlanResult, planClipSegments } from '@vmr/segmentation';
import { type SynthConfig, type SynthOverrides, type SynthPresetName, resolveSynthConfig } from './config';
import { type SynthContext, type SyntheticClipTruth, createSynthContext, generateClipTruth } from './clip';
import { buildWorld, type WorldMaps } from './world';
import { flowPeakTimes } from '../peaks/flow-peaks';

/** Segment planning options of the generator (the paper's defaults unless overridden). */
export type SynthPlanOptions = Omit<ClipPlanOptions, 'flowFps' | 'featureLength' | 'clipId'>;

/** One generated clip without its feature matrices (see `clipVideoFeatures` / `clipAudioFeatures`). */
export interface SyntheticClip {
  truth: SyntheticClipTruth;
  /** libs/segmentation's plan on the flow trajectory (or the recorded reason it was skipped). */
  plan: ClipPlanResult;
  /** AV-Align `yariv` peaks in seconds: video = strict local maxima ≥ 0.1 of the flow trajectory. */
  videoPeaks: Float64Array;
  /** Audio peaks = the generator's known onset times (not detected from a waveform). */
  audioPeaks: Float64Array;
}

/** A ready generator: the validated config, the seed's context and the fixed world maps. */
export interface SyntheticGenerator {
  config: SynthConfig;
  seed: string;
  context: SynthContext;
  world: WorldMaps;
  plan: SynthPlanOptions;
  /** Generate clip `index` (deterministic, independent of the others). */
  clip(index: number): SyntheticClip;
}

export interface SyntheticGeneratorOptions {
  preset: SynthPresetName;
  seed: number | string;
  overrides?: SynthOverrides;
  plan?: SynthPlanOptions;
}

export function createSyntheticGenerator(options: SyntheticGeneratorOptions): SyntheticGenerator {
  const config = resolveSynthConfig(options.preset, options.overrides);
  const context = createSynthContext(config, options.seed);
  const world = buildWorld(config);
  const plan = { ...(options.plan ?? {}) };
  return {
    config,
    seed: context.seed,
    context,
    world,
    plan,
    clip(index: number): SyntheticClip {
      if (!(Number.isInteger(index) && index >= 0)) throw new InvalidArgumentError(`synthetic clip index must be a non-negative integer, got ${index}`);
      const truth = generateClipTruth(context, index);
      const segPlan = planClipSegments(truth.flow, { ...plan, flowFps: config.flowFps, featureLength: truth.duration, clipId: truth.id });
      return {
        truth,
        plan: segPlan,
        videoPeaks: flowPeakTimes(truth.flow, config.flowFps),
        audioPeaks: truth.onsets,
      };
    },
  };
}
