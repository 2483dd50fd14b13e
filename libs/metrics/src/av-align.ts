/**
 * AV-Align (Yariv et al. 2024) from peak times, and the video-side peak pickers on a flow-magnitude
 * series (DESIGN.md §1.6). Audio peaks come from `@vmr/features` (`onsetDetect` for `yariv`,
 * `energyPeakTimes` for `vmr`) or from precomputed `peaks/<variant>/audio/<id>.npy` files.
 *
 * Matching: audio peaks in ascending time order, each takes the first unused video peak (ascending time)
 * within the window w = 1/fps (one-to-one, greedy). Score = matches / (|A| + |V| − matches), 0 when both
 * sets are empty.
 * - `yariv`: strict window, |t_v − t_a| < w;
 * - `vmr` (reference code): inclusive window, |t_v − t_a| ≤ w.
 *
 * Floating point: peak times are frame indices divided by a rate, so |Δ| often lands on w up to
 * round-off (1.04 − 1.0 = 0.04000000000000004 vs w = 1/25 = 0.04). A distance within `TIME_EPSILON`
 * (1e-9 s, far below any frame period) of w counts as exactly on the window edge: excluded by `yariv`,
 * included by `vmr`. So 1.04 vs 1.0 at 25 fps behaves like the exact 1.0625 vs 1.0 at 16 fps.
 */
import { InvalidArgumentError } from '@vmr/core';

export type AvAlignVariant = 'yariv' | 'vmr';

/** Distances within this many seconds of the window are treated as on the window edge. */
export const TIME_EPSILON = 1e-9;

export interface PeakMatch {
  /** Audio peak time (s). */
  audio: number;
  /** Video peak time (s). */
  video: number;
}

export interface AvAlignResult {
  score: number;
  variant: AvAlignVariant;
  /** Video peak times used (s, ascending). */
  videoPeaks: number[];
  /** Audio peak times used (s, ascending). */
  audioPeaks: number[];
  /** One-to-one matched pairs. */
  matches: PeakMatch[];
  /** Window half-width w = 1/fps (s). */
  window: number;
  inclusive: boolean;
}

function checkSeries(x: ArrayLike<number>, name: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new InvalidArgumentError(`${name}: value ${i} is ${x[i]} (must be finite)`);
  }
}

function checkFps(fps: number, name = 'fps'): void {
  if (!(fps > 0) || !Number.isFinite(fps)) throw new InvalidArgumentError(`AV-Align: ${name} must be a positive number, got ${fps}`);
}

/**
 * Indices of strict local maxima `x[i−1] < x[i] > x[i+1]` with `x[i] ≥ threshold` (Yariv's
 * `find_local_max_indexes`; the first and last samples are never peaks).
 */
export function localMaxima(x: ArrayLike<number>, threshold = 0.1): number[] {
  checkSeries(x, 'flow series');
  const out: number[] = [];
  for (let i = 1; i < x.length - 1; i++) {
    if (x[i - 1] < x[i] && x[i] > x[i + 1] && x[i] >= threshold) out.push(i);
  }
  return out;
}

export interface FindPeaksOptions {
  /** Minimum peak height (inclusive). */
  height?: number;
  /** Minimum distance between peaks in samples (≥ 1; rounded up, as SciPy). */
  distance?: number;
}

/**
 * `scipy.signal.find_peaks(x, height, distance)`: local maxima including flat plateaus (the plateau's
 * middle sample, rounded down), filtered by height, then thinned by distance keeping higher peaks first
 * (equal heights: the later peak wins, as NumPy's argsort on short arrays).
 */
export function findPeaks(x: ArrayLike<number>, options: FindPeaksOptions = {}): number[] {
  checkSeries(x, 'series');
  let peaks: number[] = [];
  const iMax = x.length - 1;
  let i = 1;
  while (i < iMax) {
    if (x[i - 1] < x[i]) {
      let ahead = i + 1;
      while (ahead < iMax && x[ahead] === x[i]) ahead++;
      if (x[ahead] < x[i]) {
        peaks.push(Math.floor((i + ahead - 1) / 2));
        i = ahead;
      }
    }
    i++;
  }
  if (options.height !== undefined) {
    const h = options.height;
    peaks = peaks.filter((p) => x[p] >= h);
  }
  if (options.distance !== undefined) {
    if (!(options.distance >= 1)) throw new InvalidArgumentError(`findPeaks: distance must be ≥ 1 sample, got ${options.distance}`);
    const dist = Math.ceil(options.distance);
    const keep = peaks.map(() => true);
    const order = peaks.map((_, k) => k).sort((a, b) => x[peaks[a]] - x[peaks[b]] || a - b);
    for (let r = order.length - 1; r >= 0; r--) {
      const j = order[r];
      if (!keep[j]) continue;
      for (let k = j - 1; k >= 0 && peaks[j] - peaks[k] < dist; k--) keep[k] = false;
      for (let k = j + 1; k < peaks.length && peaks[k] - peaks[j] < dist; k++) keep[k] = false;
    }
    peaks = peaks.filter((_, k) => keep[k]);
  }
  return peaks;
}

export interface VideoPeakOptions {
  /** `yariv`: minimum peak value (default 0.1). `vmr`: minimum height (default 1). */
  threshold?: number;
  /** `vmr` only: minimum peak spacing in seconds (default 3). */
  minSpacingSeconds?: number;
}

/**
 * Video peak times (s) from a flow-magnitude series sampled at `fps` (sample i at time i/fps).
 * `yariv`: strict local maxima ≥ 0.1. `vmr`: SciPy find_peaks with height ≥ 1 and distance 3·fps samples
 * (the reference code samples every 5th frame at half resolution: pass that series and fps = native/5).
 */
export function videoPeakTimes(flow: ArrayLike<number>, fps: number, variant: AvAlignVariant, options: VideoPeakOptions = {}): number[] {
  checkFps(fps);
  if (variant === 'yariv') return localMaxima(flow, options.threshold ?? 0.1).map((i) => i / fps);
  if (variant === 'vmr') {
    const distance = Math.max(1, (options.minSpacingSeconds ?? 3) * fps);
    return findPeaks(flow, { height: options.threshold ?? 1, distance }).map((i) => i / fps);
  }
  throw new InvalidArgumentError(`AV-Align: unknown variant "${String(variant)}" (expected yariv or vmr)`);
}

/** Whether |a − v| is inside the window, with the edge decided as documented above. */
export function withinWindow(a: number, v: number, window: number, inclusive: boolean): boolean {
  const dist = Math.abs(a - v);
  return inclusive ? dist <= window + TIME_EPSILON : dist < window - TIME_EPSILON;
}

function sortedTimes(t: ArrayLike<number>, name: string): number[] {
  checkSeries(t, name);
  return Array.from(t).sort((a, b) => a - b);
}

/** One-to-one greedy matching of audio to video peaks (see the module comment). */
export function matchPeaks(audioPeaks: ArrayLike<number>, videoPeaks: ArrayLike<number>, window: number, inclusive: boolean): PeakMatch[] {
  const a = sortedTimes(audioPeaks, 'audio peaks');
  const v = sortedTimes(videoPeaks, 'video peaks');
  const used = new Uint8Array(v.length);
  const matches: PeakMatch[] = [];
  for (const ta of a) {
    for (let j = 0; j < v.length; j++) {
      if (!used[j] && withinWindow(ta, v[j], window, inclusive)) {
        used[j] = 1;
        matches.push({ audio: ta, video: v[j] });
        break;
      }
    }
  }
  return matches;
}

/**
 * AV-Align from peak times. `fps` is the rate of the flow series the video peaks came from; the window
 * is 1/fps.
 */
export function avAlignFromPeaks(
  audioPeaks: ArrayLike<number>,
  videoPeaks: ArrayLike<number>,
  fps: number,
  variant: AvAlignVariant = 'yariv',
): AvAlignResult {
  checkFps(fps);
  if (variant !== 'yariv' && variant !== 'vmr') {
    throw new InvalidArgumentError(`AV-Align: unknown variant "${String(variant)}" (expected yariv or vmr)`);
  }
  const a = sortedTimes(audioPeaks, 'audio peaks');
  const v = sortedTimes(videoPeaks, 'video peaks');
  const window = 1 / fps;
  const inclusive = variant === 'vmr';
  const matches = matchPeaks(a, v, window, inclusive);
  const union = a.length + v.length - matches.length;
  return { score: union === 0 ? 0 : matches.length / union, variant, videoPeaks: v, audioPeaks: a, matches, window, inclusive };
}

/**
 * AV-Align from a flow-magnitude series at `fps` and audio peak times: video peaks are picked per
 * variant (`videoPeakTimes`), then matched.
 */
export function avAlign(
  flow: ArrayLike<number>,
  fps: number,
  audioPeaks: ArrayLike<number>,
  variant: AvAlignVariant = 'yariv',
  options: VideoPeakOptions = {},
): AvAlignResult {
  return avAlignFromPeaks(audioPeaks, videoPeakTimes(flow, fps, variant, options), fps, variant);
}
