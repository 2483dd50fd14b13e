import * as path from 'path';
import { InvalidArgumentError, writeFileAtomic } from '@vmr/core';
import { type ClipPlanResult, type SegmentsCsvRow, planToSegmentsRow } from '@vmr/segmentation';
import { DatasetWriter } from '../dataset/dataset';
import type { ExtractorInfoInput, SplitName } from '../dataset/schema';
import { type SynthOverrides, type SynthPresetName, viewDim } from './config';
import type { SyntheticClipTruth } from './clip';
import { clipAudioFeatures, clipVideoFeatures } from './features';
import { type SynthPlanOptions, createSyntheticGenerator } from './generate';
import { WORLD_SEED } from './world';
import { type AlignmentClip, type AlignmentTruth, alignmentTruth } from './alignment';

export const SYNTH_GENERATOR_VERSION = 2;
/** Per-clip ground truth of a synthetic dataset, one JSON object per line (see `SYNTH_TRUTH_DESCRIPTION`). */
export const SYNTH_TRUTH_FILE = 'synthetic-truth.jsonl';
/** The peak variant written for synthetic datasets. */
export const SYNTH_PEAK_VARIANT = 'yariv';

export const SYNTH_TRUTH_DESCRIPTION =
  'SYNTHETIC data with known structure. Per clip (dataset.json clips[].meta.synthetic and synthetic-truth.jsonl): ' +
  'styleCluster — clips with the same cluster share a style (their latent styles are drawn around one centre); ' +
  'style / videoStyle / musicStyle — the latent style shared by the video and its music, and each side\'s noisy copy ' +
  '(the retrieval signal: nearest neighbour of videoStyle among musicStyle finds the pair); regimes — piecewise-constant ' +
  'motion levels over whole seconds [start, end) with the music\'s onset rate; changePoints — the true breakpoints (s); ' +
  'highMotion / lowMotion — the truly highest / lowest motion regime; pairing — synced (music cut to the video: its ' +
  'energy follows the motion by `coupling`, a share of its onsets bump the flow as visual hits), independent (NOT cut to the ' +
  'video: own regime sequence; the video\'s hits are its own events) or cross (NOT cut to the video: its energy follows the ' +
  'motion of clip musicDriver); musicRegimes — the music\'s energy levels and onset rates; onsets — the music\'s beat times (s); ' +
  'alignment — AV-Align (yariv, onsets cut to the video length) of the video with its own track (got), the best track of its ' +
  'split and betterAligned: the tracks of its split strictly better aligned than its own, best first (the oracle answer for ' +
  'alignment; the own track is the answer for recall). Features are linear maps of these latents plus noise ' +
  '(fixed world maps seeded "' + WORLD_SEED + '"): i3d carries the most motion, clip the cleanest style.';

export interface SynthDatasetOptions {
  out: string;
  preset: SynthPresetName;
  clips: number;
  seed: number | string;
  overrides?: SynthOverrides;
  plan?: SynthPlanOptions;
  /** Video views to write (default: all of the preset's). */
  views?: string[];
  /** Dataset name in dataset.json (default `synthetic-<preset>-seed<seed>`). */
  name?: string;
  /** `error` (default) if `out` holds a dataset, `resume` to keep its finished clips, `overwrite`. */
  existing?: 'error' | 'resume' | 'overwrite';
  /** Called after each clip. */
  onClip?: (done: number, total: number) => void;
}

export interface SynthDatasetSummary {
  dir: string;
  name: string;
  preset: SynthPresetName;
  seed: string;
  clips: number;
  /** Clips written by this run (resume skips finished ones). */
  written: number;
  /** Clips the segment planner skipped (listed in dataset.json segments.skipped). */
  segmentSkipped: number;
  splits: Record<SplitName, number>;
  views: string[];
  audio: string;
  /** Feature + flow + peak bytes written by this run. */
  bytes: number;
  seconds: number;
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Small per-clip truth stored in dataset.json (`meta.synthetic`). */
function clipMeta(t: SyntheticClipTruth, plan: ClipPlanResult): Record<string, unknown> {
  const hi = t.regimes[t.highMotion];
  const lo = t.regimes[t.lowMotion];
  return {
    synthetic: {
      split: t.split,
      styleCluster: t.styleCluster,
      pairing: t.pairing,
      musicDriver: t.musicDriver,
      changePoints: t.changePoints,
      highMotion: { regime: t.highMotion, start: hi.start, end: hi.end },
      lowMotion: { regime: t.lowMotion, start: lo.start, end: lo.end },
      onsets: t.onsets.length,
      segmentation: plan.status === 'ok' ? 'ok' : `skipped: ${plan.reason}`,
    },
  };
}

/** Full per-clip truth (one line of synthetic-truth.jsonl). */
function truthLine(t: SyntheticClipTruth, alignment: AlignmentTruth): string {
  const arr = (x: Float32Array): number[] => Array.from(x, (v) => round(v, 5));
  const regimes = (rs: SyntheticClipTruth['regimes']) => rs.map((r) => ({ start: r.start, end: r.end, level: round(r.level), onsetRate: round(r.onsetRate) }));
  return JSON.stringify({
    id: t.id,
    index: t.index,
    duration: t.duration,
    split: t.split,
    styleCluster: t.styleCluster,
    style: arr(t.style),
    videoStyle: arr(t.videoStyle),
    musicStyle: arr(t.musicStyle),
    regimes: regimes(t.regimes),
    changePoints: t.changePoints,
    highMotion: t.highMotion,
    lowMotion: t.lowMotion,
    pairing: t.pairing,
    musicDriver: t.musicDriver,
    musicRegimes: regimes(t.musicRegimes),
    onsets: Array.from(t.onsets, (v) => round(v, 6)),
    syncedOnsets: t.syncedOnsets,
    visualHits: t.visualHits,
    alignment: { got: round(alignment.got, 6), best: round(alignment.best, 6), bestId: alignment.bestId, betterAligned: alignment.betterAligned },
  });
}

/**
 * `vmr synth`: generate a synthetic dataset (DESIGN.md §2.1, `kind: synthetic`) through the dataset
 * writer: per clip the video views (stand-ins named resnet / clip / i3d, flagged `synthetic` with a
 * SYNTHETIC provenance), the audio view (vggish stand-in), the flow trajectory at 3 fps and the `yariv`
 * peaks (video: local maxima of the flow trajectory; audio: the known onset times); then segments.csv
 * from libs/segmentation's planner, splits, and the ground truth (dataset.json `meta.synthetic` per clip,
 * `synthetic-truth.jsonl` in full).
 */
export function writeSyntheticDataset(o: SynthDatasetOptions): SynthDatasetSummary {
  const t0 = Date.now();
  if (!(Number.isInteger(o.clips) && o.clips >= 1)) throw new InvalidArgumentError(`--clips must be a positive integer, got ${o.clips}`);
  const gen = createSyntheticGenerator({ preset: o.preset, seed: o.seed, overrides: o.overrides, plan: o.plan });
  const { config } = gen;
  const allViews = config.views.map((v) => v.name);
  const views = o.views ?? allViews;
  for (const v of views) {
    if (!allViews.includes(v)) throw new InvalidArgumentError(`--views: unknown synthetic view "${v}"; available: ${allViews.join(', ')}`);
  }
  const name = o.name ?? `synthetic-${o.preset}-seed${gen.seed}`;
  const label = `SYNTHETIC stand-in (vmr synth ${o.preset} v${SYNTH_GENERATOR_VERSION}, seed ${gen.seed})`;
  const extractors: ExtractorInfoInput[] = [
    ...config.views
      .filter((v) => views.includes(v.name))
      .map((v) => ({
        name: v.name,
        modality: 'video' as const,
        dim: viewDim(v),
        fps: 1,
        provenance: `${label}: not real ${v.name} features; blocks ${v.blocks.map((b) => `${b.name}[${b.dim}] style ${b.mix.style} motion ${b.mix.motion} nuisance ${b.mix.nuisance} noise ${b.mix.noise}`).join(', ')}`,
        synthetic: true,
      })),
    {
      name: config.audio.name,
      modality: 'audio',
      dim: viewDim(config.audio),
      fps: 1,
      provenance: `${label}: not real ${config.audio.name} features`,
      synthetic: true,
    },
  ];
  const writer = DatasetWriter.create(o.out, {
    name,
    kind: 'synthetic',
    flowFps: config.flowFps,
    extractors,
    existing: o.existing,
    provenance: {},
  });
  writer.setProvenance('synthetic', {
    generator: 'vmr synth',
    version: SYNTH_GENERATOR_VERSION,
    preset: o.preset,
    seed: gen.seed,
    worldSeed: WORLD_SEED,
    config,
    plan: gen.plan,
    truthFile: SYNTH_TRUTH_FILE,
    groundTruth: SYNTH_TRUTH_DESCRIPTION,
  });
  writer.setPeakVariant(SYNTH_PEAK_VARIANT, {
    video: true,
    audio: true,
    description:
      `SYNTHETIC: video = strict local maxima ≥ 0.1 of flow/<id>.npy (sample i at i/${config.flowFps} s); ` +
      'audio = the generator\'s known beat onset times (not detected from a waveform)',
  });

  const rows: SegmentsCsvRow[] = [];
  const skipped: Array<{ id: string; reason: string }> = [];
  const splits: Record<SplitName, string[]> = { train: [], val: [], test: [] };
  const truths: SyntheticClipTruth[] = [];
  const alignClips: AlignmentClip[] = [];
  let written = 0;
  let bytes = 0;
  for (let i = 0; i < o.clips; i++) {
    const clip = gen.clip(i);
    const { truth, plan } = clip;
    const id = truth.id;
    if (!writer.hasClip(id)) {
      const T = truth.duration;
      for (const v of views) {
        const data = clipVideoFeatures(truth, config, gen.world, v);
        writer.writeFeatures('video', v, id, { rows: T, cols: data.length / T, data });
        bytes += data.byteLength;
      }
      const audio = clipAudioFeatures(truth, config, gen.world);
      writer.writeFeatures('audio', config.audio.name, id, { rows: T, cols: audio.length / T, data: audio });
      writer.writeFlow(id, truth.flow);
      writer.writePeaks(SYNTH_PEAK_VARIANT, 'video', id, clip.videoPeaks);
      writer.writePeaks(SYNTH_PEAK_VARIANT, 'audio', id, clip.audioPeaks);
      bytes += audio.byteLength + truth.flow.byteLength + 8 * (clip.videoPeaks.length + clip.audioPeaks.length);
      writer.addClip({
        id,
        kind: 'video',
        durationSec: T,
        seconds: T,
        flowLength: truth.flow.length,
        hasAudio: true,
        meta: clipMeta(truth, plan),
      });
      written++;
    }
    if (plan.status === 'ok') rows.push(planToSegmentsRow(plan, id));
    else skipped.push({ id, reason: `${plan.reason}: ${plan.message}` });
    splits[truth.split].push(id);
    truths.push(truth);
    alignClips.push({ id, gallery: truth.split, seconds: truth.duration, videoPeaks: clip.videoPeaks, audioPeaks: clip.audioPeaks });
    o.onClip?.(i + 1, o.clips);
  }
  writer.writeSegments(rows, { planner: 'planClipSegments', flowFps: config.flowFps, ...gen.plan }, skipped);
  writer.writeSplits(splits);
  const alignment = alignmentTruth(alignClips, config.flowFps);
  writeFileAtomic(path.join(writer.dir, SYNTH_TRUTH_FILE), truths.map((t, i) => truthLine(t, alignment[i])).join('\n') + '\n');
  writer.close();
  return {
    dir: writer.dir,
    name,
    preset: o.preset,
    seed: gen.seed,
    clips: o.clips,
    written,
    segmentSkipped: skipped.length,
    splits: { train: splits.train.length, val: splits.val.length, test: splits.test.length },
    views,
    audio: config.audio.name,
    bytes,
    seconds: (Date.now() - t0) / 1000,
  };
}
