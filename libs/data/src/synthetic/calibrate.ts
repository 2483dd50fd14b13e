import { InsufficientDataError, InvalidArgumentError } from '@vmr/core';
import { avAlignFromPeaks } from '@vmr/metrics';
import { segmentSignal } from '@vmr/segmentation';
import type { Dataset } from '../dataset/dataset';
import { flowPeakTimes } from '../peaks/flow-peaks';

/**
 * The statistics the synthetic generator imitates, measured the same way on any dataset directory
 * (ingested real clips or a synthetic dataset), so presets can be set against real music videos.
 */
export interface ClipCalibration {
  id: string;
  seconds: number;
  /** AV-Align (yariv) of the video with its own music (GOT). */
  gotAlign: number;
  /** Mean AV-Align of the video with the OTHER clips' music (chance level of this dataset); NaN with one clip. */
  otherAlign: number;
  /** Audio peaks (onsets) per second. */
  onsetRate: number;
  /** Video peaks (yariv: strict local maxima ≥ 0.1 of the flow) per second. */
  videoPeakRate: number;
  /** Mean flow magnitude (px per frame pair at flowFps). */
  flowMean: number;
  /** Coefficient of variation (std / mean) of the per-second mean flow. */
  flowCv: number;
  /** Lag-1 autocorrelation of the flow trajectory (smoothness at flowFps). */
  flowLag1: number;
  /** Segment lengths (s) from PELT on the flow (see `CALIBRATION_SEGMENTATION`). */
  segmentSeconds: number[];
}

export interface CalibrationSummary {
  dataset: string;
  kind: string;
  clips: number;
  seconds: number;
  /** Per statistic: mean over clips (segment length: mean over all segments) and the clip range. */
  stats: Record<CalibrationStat, { mean: number; min: number; max: number }>;
  perClip: ClipCalibration[];
}

export const CALIBRATION_STATS = ['gotAlign', 'otherAlign', 'onsetRate', 'videoPeakRate', 'flowMean', 'flowCv', 'flowLag1', 'segmentSeconds'] as const;
export type CalibrationStat = (typeof CALIBRATION_STATS)[number];

/**
 * Segmentation used for the segment-length statistic: PELT, Gaussian (normal) cost on the flow
 * trajectory, breakpoints on a 1 s grid, segments ≥ 3 s, penalty 3·ln(n) (BIC for mean + variance +
 * location per segment).
 */
export const CALIBRATION_SEGMENTATION = { method: 'pelt', cost: 'normal', minSeconds: 3, penalty: '3·ln(n)' } as const;

function lag1(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 3) return NaN;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i] / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    den += (x[i] - m) ** 2;
    if (i > 0) num += (x[i] - m) * (x[i - 1] - m);
  }
  return den > 0 ? num / den : NaN;
}

function secondMeans(flow: ArrayLike<number>, fps: number, seconds: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < seconds && (t + 1) * fps <= flow.length; t++) {
    let s = 0;
    for (let j = t * fps; j < (t + 1) * fps; j++) s += flow[j];
    out.push(s / fps);
  }
  return out;
}

function segmentLengths(flow: Float32Array, fps: number, id: string): number[] {
  const minSize = CALIBRATION_SEGMENTATION.minSeconds * fps;
  if (flow.length < 2 * minSize) return [flow.length / fps];
  const r = segmentSignal(Array.from(flow), { method: 'pelt', cost: 'normal', penalty: 3 * Math.log(flow.length), minSize, jump: fps, input: `flow/${id}.npy` });
  return r.breakpoints.map((b, i) => (b - (i === 0 ? 0 : r.breakpoints[i - 1])) / fps);
}

/**
 * Measure the calibration statistics of the video clips (with audio) of `ds`: AV-Align `yariv` from the
 * dataset's peaks (video peaks from the flow when the dataset has none), onset and video-peak rates,
 * flow level, variation and smoothness, PELT segment lengths.
 * @throws InsufficientDataError when the dataset has no video clip with audio, flow and yariv audio peaks.
 */
export function calibrateDataset(ds: Dataset, options: { maxClips?: number } = {}): CalibrationSummary {
  const fps = ds.manifest.flowFps;
  const info = ds.manifest.peaks.yariv;
  if (!info?.audio) {
    throw new InvalidArgumentError(`dataset ${ds.dir} has no 'yariv' audio peaks (peaks/yariv/audio); ingest it with \`vmr ingest\` or generate it with \`vmr synth\``);
  }
  let entries = ds.clips.filter((c) => c.kind === 'video' && c.hasAudio && ds.hasFlow(c.id));
  if (options.maxClips !== undefined) entries = entries.slice(0, options.maxClips);
  if (entries.length === 0) throw new InsufficientDataError(`dataset ${ds.dir} has no video clip with audio and a flow trajectory`);
  const clips = entries.map((c) => {
    const flow = ds.flow(c.id);
    const seconds = c.seconds;
    const video = (info.video ? ds.peaks('yariv', 'video', c.id) : undefined) ?? flowPeakTimes(flow, fps);
    const audio = ds.peaks('yariv', 'audio', c.id);
    if (!audio) throw new InvalidArgumentError(`dataset ${ds.dir}: clip ${c.id} has no yariv audio peaks (peaks/yariv/audio/${c.id}.npy)`);
    return { id: c.id, seconds, flow, video, audio };
  });
  const heard = (audio: Float64Array, seconds: number): number[] => Array.from(audio).filter((t) => t <= seconds);
  const perClip: ClipCalibration[] = clips.map((c, i) => {
    const got = avAlignFromPeaks(heard(c.audio, c.seconds), c.video, fps, 'yariv').score;
    let other = 0;
    for (let j = 0; j < clips.length; j++) if (j !== i) other += avAlignFromPeaks(heard(clips[j].audio, c.seconds), c.video, fps, 'yariv').score;
    const sec = secondMeans(c.flow, fps, c.seconds);
    const m = sec.reduce((s, x) => s + x, 0) / Math.max(1, sec.length);
    const sd = Math.sqrt(sec.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, sec.length));
    let flowSum = 0;
    for (const v of c.flow) flowSum += v;
    return {
      id: c.id,
      seconds: c.seconds,
      gotAlign: got,
      otherAlign: clips.length > 1 ? other / (clips.length - 1) : NaN,
      onsetRate: c.audio.length / c.seconds,
      videoPeakRate: c.video.length / c.seconds,
      flowMean: flowSum / c.flow.length,
      flowCv: m > 0 ? sd / m : NaN,
      flowLag1: lag1(c.flow),
      segmentSeconds: segmentLengths(c.flow, fps, c.id),
    };
  });
  const stats = {} as CalibrationSummary['stats'];
  for (const k of CALIBRATION_STATS) {
    const xs = k === 'segmentSeconds' ? perClip.flatMap((c) => c.segmentSeconds) : perClip.map((c) => c[k] as number).filter(Number.isFinite);
    stats[k] = xs.length ? { mean: xs.reduce((s, x) => s + x, 0) / xs.length, min: Math.min(...xs), max: Math.max(...xs) } : { mean: NaN, min: NaN, max: NaN };
  }
  return { dataset: ds.manifest.name, kind: ds.manifest.kind, clips: perClip.length, seconds: perClip.reduce((s, c) => s + c.seconds, 0), stats, perClip };
}
