import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, InsufficientDataError, NotFoundError } from '@vmr/core';
import { Dataset, MANIFEST_FILE, type ExtractorInfo } from '@vmr/data';
import { planClipSegments, type ClipPlanResult } from '@vmr/segmentation';
import type { HostTensor, SegmentBatch } from '@vmr/models';
import type { ModelKind, SplitChoice, TrainConfig } from './config';

/** One clip ready for batching: per-second features and (OF-VM-Net) its S ranked segments. */
export interface PreparedClip {
  id: string;
  /** T, rows of the feature matrices. */
  seconds: number;
  /** `[T, Dv]` row-major. */
  video: Float32Array;
  /** `[T, Da]` row-major. */
  audio: Float32Array;
  /** Kept segments [start, end) in whole seconds, time order (S of them). */
  segments: Array<[number, number]>;
  /** ranks[i] of segments[i], 1 = most motion. */
  ranks: number[];
}

export interface SkippedClipRecord {
  id: string;
  reason: string;
}

export interface PreparedData {
  datasetDir: string;
  datasetName: string;
  datasetKind: 'synthetic' | 'media' | 'imported';
  /** True when the video or audio extractor is a synthetic stand-in. */
  synthetic: boolean;
  split: SplitChoice;
  videoExtractor: ExtractorInfo;
  audioExtractor: ExtractorInfo;
  videoDim: number;
  audioDim: number;
  clips: PreparedClip[];
  skipped: SkippedClipRecord[];
  /** `dataset` (segments.csv with matching parameters) or `planned` (planned from flow here). */
  segmentSource: 'dataset' | 'planned' | 'none';
}

/** Options that decide which clips are usable and how they are cut (shared by trainer and evaluator). */
export interface DataOptions {
  features: string;
  audioFeatures: string;
  model: ModelKind;
  segmentation: TrainConfig['segmentation'];
}

/** Open a dataset directory with a clear error when it is missing. */
export function openDataset(dir: string): Dataset {
  const abs = path.resolve(dir);
  if (!fs.existsSync(path.join(abs, MANIFEST_FILE))) {
    throw new NotFoundError(
      `dataset ${dir} not found: ${path.join(abs, MANIFEST_FILE)} does not exist (generate one with \`vmr synth\` or ingest media with \`vmr ingest\`)`,
      { details: { path: abs } },
    );
  }
  return Dataset.open(abs);
}

/** The clip ids of a split (`all`: every video clip with audio). */
export function splitIds(ds: Dataset, split: SplitChoice): string[] {
  if (split === 'all') return ds.clips.filter((c) => c.kind === 'video' && c.hasAudio).map((c) => c.id);
  const ids = ds.split(split);
  if (!ids) throw new NotFoundError(`dataset ${ds.dir}: splits/${split}.txt does not exist (use split 'all' or write splits)`);
  return ids;
}

function extractorOf(ds: Dataset, modality: 'video' | 'audio', name: string): ExtractorInfo {
  const found = ds.manifest.extractors.find((e) => e.modality === modality && e.name === name);
  if (!found) {
    const have = ds.manifest.extractors.filter((e) => e.modality === modality).map((e) => e.name);
    throw new ConfigError(
      `dataset ${ds.dir} has no ${modality} extractor '${name}' (it has: ${have.join(', ') || 'none'}); set '${modality === 'video' ? 'features' : 'audioFeatures'}' to one of them`,
    );
  }
  return found;
}

/** Check the dataset's feature dims against dims the config or a checkpoint expects. */
export function checkFeatureDims(ds: Dataset, opts: DataOptions, expected: { videoDim?: number; audioDim?: number }, what: string): { videoDim: number; audioDim: number } {
  const v = extractorOf(ds, 'video', opts.features);
  const a = extractorOf(ds, 'audio', opts.audioFeatures);
  if (expected.videoDim !== undefined && expected.videoDim !== v.dim) {
    throw new ConfigError(`feature dim mismatch: ${what} expects video dim ${expected.videoDim}, dataset ${ds.dir} video/${v.name} has dim ${v.dim}`);
  }
  if (expected.audioDim !== undefined && expected.audioDim !== a.dim) {
    throw new ConfigError(`feature dim mismatch: ${what} expects audio dim ${expected.audioDim}, dataset ${ds.dir} audio/${a.name} has dim ${a.dim}`);
  }
  return { videoDim: v.dim, audioDim: a.dim };
}

const SEG_DEFAULTS = { segments: 10, minSegmentSeconds: 10, jumpSeconds: 1, maxSegmentSeconds: 200, protocol: 'paper' };

/** True when the dataset's segments.csv was planned with the same parameters as `seg`. */
function segmentsMatch(params: Record<string, unknown>, seg: TrainConfig['segmentation'], flowFps: number): boolean {
  const p = { ...SEG_DEFAULTS, ...params } as Record<string, unknown>;
  if (p.planner !== undefined && p.planner !== 'planClipSegments') return false;
  if (p.flowFps !== undefined && p.flowFps !== flowFps) return false;
  if (p.cost !== undefined && p.cost !== 'normal') return false;
  return (
    p.segments === seg.segments &&
    p.minSegmentSeconds === seg.minSegmentSeconds &&
    p.jumpSeconds === seg.jumpSeconds &&
    p.maxSegmentSeconds === seg.maxSegmentSeconds &&
    p.protocol === seg.protocol
  );
}

/**
 * Load the clips of a split with their features and segments. OF-VM-Net and VM-Net use the same clip
 * set (clips with a full S-segment plan), so their evaluations share one gallery. Unusable clips are
 * recorded with a reason, never thrown.
 */
/** Cut one clip's flow the way a training config says (its segmentation section): the planner's options in one place. */
export function planWithConfig(flow: Float32Array, seg: TrainConfig['segmentation'], clip: { flowFps: number; featureLength: number; clipId: string }): ClipPlanResult {
  return planClipSegments(flow, {
    flowFps: clip.flowFps,
    featureLength: clip.featureLength,
    segments: seg.segments,
    minSegmentSeconds: seg.minSegmentSeconds,
    jumpSeconds: seg.jumpSeconds,
    maxSegmentSeconds: seg.maxSegmentSeconds,
    padLength: seg.padLength,
    protocol: seg.protocol,
    clipId: clip.clipId,
  });
}

export function prepareData(ds: Dataset, split: SplitChoice, opts: DataOptions): PreparedData {
  const v = extractorOf(ds, 'video', opts.features);
  const a = extractorOf(ds, 'audio', opts.audioFeatures);
  const seg = opts.segmentation;
  const ids = splitIds(ds, split);
  const m = ds.manifest;
  const csvRows = m.segments && segmentsMatch(m.segments.params, seg, m.flowFps) ? ds.segments() : undefined;
  const byId = new Map((csvRows ?? []).map((r) => [r.vid, r]));
  const csvSkipped = new Map((m.segments?.skipped ?? []).map((s) => [s.id, s.reason]));
  const clips: PreparedClip[] = [];
  const skipped: SkippedClipRecord[] = [];
  for (const id of ids) {
    const entry = ds.clip(id);
    if (entry.kind !== 'video' || !entry.hasAudio) {
      skipped.push({ id, reason: entry.kind !== 'video' ? 'not a video clip' : 'no audio' });
      continue;
    }
    let segments: Array<[number, number]>;
    let ranks: number[];
    if (csvRows) {
      const row = byId.get(id);
      if (!row) {
        skipped.push({ id, reason: csvSkipped.get(id) ?? 'not in segments.csv' });
        continue;
      }
      segments = row.segments.map(([s, e]) => [s, e]);
      ranks = [...row.ranks];
    } else {
      const plan = planWithConfig(ds.flow(id), seg, { flowFps: m.flowFps, featureLength: entry.seconds, clipId: id });
      if (plan.status !== 'ok') {
        skipped.push({ id, reason: `${plan.reason}: ${plan.message}` });
        continue;
      }
      segments = plan.segments.map((s) => [s.start, s.end]);
      ranks = [...plan.ranks];
    }
    if (segments.length !== seg.segments) {
      skipped.push({ id, reason: `segment-dropped: ${seg.segments - segments.length} over-long segment(s) dropped; a batch needs S = ${seg.segments} segments per clip` });
      continue;
    }
    if (segments.some(([s, e]) => e - s > seg.padLength || e > entry.seconds)) {
      skipped.push({ id, reason: `segment longer than padLength ${seg.padLength} or past the clip end` });
      continue;
    }
    const vf = ds.videoFeatures(v.name, id);
    const af = ds.audioFeatures(a.name, id);
    if (af.rows < vf.rows) {
      skipped.push({ id, reason: `audio has ${af.rows} rows, video ${vf.rows}` });
      continue;
    }
    clips.push({ id, seconds: vf.rows, video: vf.data, audio: af.data, segments, ranks });
  }
  return {
    datasetDir: ds.dir,
    datasetName: m.name,
    datasetKind: m.kind,
    synthetic: m.kind === 'synthetic' || v.synthetic || a.synthetic,
    split,
    videoExtractor: v,
    audioExtractor: a,
    videoDim: v.dim,
    audioDim: a.dim,
    clips,
    skipped,
    segmentSource: csvRows ? 'dataset' : 'planned',
  };
}

/** Throw when fewer than `min` clips are usable. */
export function requireClips(data: PreparedData, min: number, role: string): void {
  if (data.clips.length < min) {
    const reasons = data.skipped.slice(0, 3).map((s) => `${s.id}: ${s.reason}`).join('; ');
    throw new InsufficientDataError(
      `${role}: dataset ${data.datasetDir} split '${data.split}' has ${data.clips.length} usable clips, at least ${min} are needed` +
        (data.skipped.length ? ` (${data.skipped.length} skipped, e.g. ${reasons})` : ''),
    );
  }
}

/**
 * An OF-VM-Net batch `[B, S, L, D]` in host memory. With masked-mean pooling L is the longest segment of
 * the batch (exact: padding never enters the computation); with `mean-all` L = padLength, because the
 * pooling averages over every position.
 */
export function segmentBatch(clips: readonly PreparedClip[], dims: { videoDim: number; audioDim: number }, S: number, L: number): SegmentBatch & { ranks: Float32Array } {
  const B = clips.length;
  const { videoDim: Dv, audioDim: Da } = dims;
  const video = new Float32Array(B * S * L * Dv);
  const audio = new Float32Array(B * S * L * Da);
  const mask = new Float32Array(B * S * L);
  const ranks = new Float32Array(B * S);
  clips.forEach((c, b) => {
    c.segments.forEach(([start, end], s) => {
      const row = b * S + s;
      ranks[row] = c.ranks[s];
      for (let t = start; t < end; t++) {
        const tok = row * L + (t - start);
        mask[tok] = 1;
        video.set(c.video.subarray(t * Dv, (t + 1) * Dv), tok * Dv);
        audio.set(c.audio.subarray(t * Da, (t + 1) * Da), tok * Da);
      }
    });
  });
  const shape = (d: number): [number, number, number, number] => [B, S, L, d];
  return { video: { data: video, shape: shape(Dv) } as HostTensor, audio: { data: audio, shape: shape(Da) } as HostTensor, mask, ranks };
}

/** Pad length for a batch: the longest segment (masked-mean) or the configured L (mean-all). */
export function batchPadLength(clips: readonly PreparedClip[], pooling: string, padLength: number): number {
  if (pooling === 'mean-all') return padLength;
  let L = 1;
  for (const c of clips) for (const [s, e] of c.segments) L = Math.max(L, e - s);
  return L;
}

/**
 * VM-Net inputs: each clip's features averaged over the clip's seconds (video over its T rows, audio
 * over the same rows), `[B, Dv]` and `[B, Da]` row-major.
 */
export function clipMeans(clips: readonly PreparedClip[], dims: { videoDim: number; audioDim: number }): { video: Float32Array; audio: Float32Array } {
  const { videoDim: Dv, audioDim: Da } = dims;
  const video = new Float32Array(clips.length * Dv);
  const audio = new Float32Array(clips.length * Da);
  clips.forEach((c, b) => {
    const T = c.seconds;
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < Dv; d++) video[b * Dv + d] += c.video[t * Dv + d];
      for (let d = 0; d < Da; d++) audio[b * Da + d] += c.audio[t * Da + d];
    }
    for (let d = 0; d < Dv; d++) video[b * Dv + d] /= T;
    for (let d = 0; d < Da; d++) audio[b * Da + d] /= T;
  });
  return { video, audio };
}
