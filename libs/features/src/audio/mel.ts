/**
 * Mel scale and mel filterbank as librosa's defaults (`librosa.filters.mel`: Slaney's auditory-toolbox
 * scale — linear below 1 kHz at 200/3 Hz per mel, logarithmic above with step ln(6.4)/27 — and
 * `norm="slaney"` area normalisation), plus `power_to_db`.
 */
import { InvalidArgumentError } from '@vmr/core';
import type { Spectrogram } from './stft';

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP; // 15
const LOG_STEP = Math.log(6.4) / 27;

/** Hz → mel (Slaney by default; `htk` = 2595·log10(1 + f/700)). */
export function hzToMel(f: number, htk = false): number {
  if (htk) return 2595 * Math.log10(1 + f / 700);
  return f >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(f / MIN_LOG_HZ) / LOG_STEP : f / F_SP;
}

/** mel → Hz (inverse of `hzToMel`). */
export function melToHz(m: number, htk = false): number {
  if (htk) return 700 * (10 ** (m / 2595) - 1);
  return m >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (m - MIN_LOG_MEL)) : F_SP * m;
}

/** `n` frequencies evenly spaced on the mel scale from fmin to fmax (inclusive). */
export function melFrequencies(n: number, fmin = 0, fmax = 11025, htk = false): Float64Array {
  const lo = hzToMel(fmin, htk);
  const hi = hzToMel(fmax, htk);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = melToHz(n === 1 ? lo : lo + ((hi - lo) * i) / (n - 1), htk);
  return out;
}

export interface MelOptions {
  nMels?: number;
  fmin?: number;
  /** default sr / 2 */
  fmax?: number;
  htk?: boolean;
  /** `slaney` (default): each triangle scaled by 2 / (its bandwidth in Hz); `none`: peak 1. */
  norm?: 'slaney' | 'none';
}

/** A mel filterbank `[nMels, bins]` stored sparsely: band m covers bins [start[m], end[m]). */
export interface MelFilterbank {
  nMels: number;
  bins: number;
  /** dense `[nMels, bins]` weights */
  weights: Float32Array;
  start: Int32Array;
  end: Int32Array;
}

/** librosa.filters.mel(sr, n_fft, n_mels=128, fmin=0, fmax=sr/2, htk=False, norm="slaney"). */
export function melFilterbank(sr: number, nFft: number, options: MelOptions = {}): MelFilterbank {
  const nMels = options.nMels ?? 128;
  const fmin = options.fmin ?? 0;
  const fmax = options.fmax ?? sr / 2;
  const htk = options.htk ?? false;
  const norm = options.norm ?? 'slaney';
  if (!(sr > 0)) throw new InvalidArgumentError(`mel filterbank: sample rate must be positive, got ${sr}`);
  if (!Number.isInteger(nMels) || nMels < 1) throw new InvalidArgumentError(`mel filterbank: nMels must be a positive integer, got ${nMels}`);
  if (!(fmin >= 0 && fmax > fmin && fmax <= sr / 2 + 1e-9)) {
    throw new InvalidArgumentError(`mel filterbank: need 0 ≤ fmin < fmax ≤ sr/2, got fmin ${fmin}, fmax ${fmax}, sr ${sr}`);
  }
  const bins = 1 + Math.floor(nFft / 2);
  const fftFreqs = new Float64Array(bins);
  for (let k = 0; k < bins; k++) fftFreqs[k] = (k * sr) / nFft; // np.fft.rfftfreq(nFft, 1/sr)
  const melF = melFrequencies(nMels + 2, fmin, fmax, htk);
  const weights = new Float32Array(nMels * bins);
  const start = new Int32Array(nMels);
  const end = new Int32Array(nMels);
  for (let m = 0; m < nMels; m++) {
    const lo = melF[m], mid = melF[m + 1], hi = melF[m + 2];
    const enorm = norm === 'slaney' ? 2 / (hi - lo) : 1;
    let s = -1, e = -1;
    for (let k = 0; k < bins; k++) {
      const lower = (fftFreqs[k] - lo) / (mid - lo);
      const upper = (hi - fftFreqs[k]) / (hi - mid);
      const w = Math.max(0, Math.min(lower, upper));
      if (w > 0) {
        weights[m * bins + k] = w * enorm;
        if (s < 0) s = k;
        e = k + 1;
      }
    }
    start[m] = Math.max(0, s);
    end[m] = Math.max(0, e);
  }
  return { nMels, bins, weights, start, end };
}

/** Apply a filterbank to a power spectrogram: `[frames, bins]` → `[frames, nMels]`. */
export function applyFilterbank(spec: Spectrogram, fb: MelFilterbank): Spectrogram {
  if (spec.bins !== fb.bins) {
    throw new InvalidArgumentError(`mel: spectrogram has ${spec.bins} bins, the filterbank expects ${fb.bins}`);
  }
  const out = new Float32Array(spec.frames * fb.nMels);
  for (let t = 0; t < spec.frames; t++) {
    const so = t * spec.bins;
    for (let m = 0; m < fb.nMels; m++) {
      const wo = m * fb.bins;
      let s = 0;
      for (let k = fb.start[m]; k < fb.end[m]; k++) s += fb.weights[wo + k] * spec.data[so + k];
      out[t * fb.nMels + m] = s;
    }
  }
  return { frames: spec.frames, bins: fb.nMels, data: out };
}

export interface PowerToDbOptions {
  ref?: number;
  amin?: number;
  /** Floor at (max − topDb); `null` disables (default 80). */
  topDb?: number | null;
}

/** librosa.power_to_db: 10·log10(max(amin, S)) − 10·log10(max(amin, ref)), floored at max − topDb. */
export function powerToDb(x: Float32Array, options: PowerToDbOptions = {}): Float32Array {
  const ref = options.ref ?? 1;
  const amin = options.amin ?? 1e-10;
  const topDb = options.topDb === undefined ? 80 : options.topDb;
  if (!(amin > 0)) throw new InvalidArgumentError(`power_to_db: amin must be positive, got ${amin}`);
  const refDb = 10 * Math.log10(Math.max(amin, ref));
  const out = new Float32Array(x.length);
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = 10 * Math.log10(Math.max(amin, x[i])) - refDb;
    out[i] = v;
    if (v > max) max = v;
  }
  if (topDb !== null) {
    if (!(topDb >= 0)) throw new InvalidArgumentError(`power_to_db: topDb must be non-negative, got ${topDb}`);
    const floor = max - topDb;
    for (let i = 0; i < out.length; i++) if (out[i] < floor) out[i] = floor;
  }
  return out;
}
