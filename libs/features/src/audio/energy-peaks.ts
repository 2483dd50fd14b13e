/**
 * Audio peaks of the `vmr` AV-Align variant (the reference code's `detect_audio_peaks`): short-time
 * energy (mean of squares) on 25 ms frames with a 10 ms hop (lengths ⌊0.025·sr⌋ and ⌊0.010·sr⌋ samples,
 * only whole frames, no padding), min–max normalised with +1e-6 in the denominator, strict local maxima
 * above 0.3; peak time = frame index · hop / sr. Runs at the file's native rate (torchaudio.load does
 * not resample).
 */
import { InvalidArgumentError } from '@vmr/core';

export interface EnergyPeakOptions {
  frameSeconds?: number;
  hopSeconds?: number;
  /** Peaks must exceed this normalised energy (strict, default 0.3). */
  threshold?: number;
}

/** Short-time energy per frame (mean of squared samples). */
export function shortTimeEnergy(signal: ArrayLike<number>, frameLength: number, hop: number): Float64Array {
  if (!Number.isInteger(frameLength) || frameLength < 1 || !Number.isInteger(hop) || hop < 1) {
    throw new InvalidArgumentError(`short-time energy: frame length and hop must be positive integers, got ${frameLength}, ${hop}`);
  }
  const n = signal.length;
  const frames = n >= frameLength ? Math.floor((n - frameLength) / hop) + 1 : 0;
  const e = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    let s = 0;
    const o = t * hop;
    for (let i = 0; i < frameLength; i++) {
      const v = signal[o + i];
      s += v * v;
    }
    e[t] = s / frameLength;
  }
  return e;
}

/** `vmr`-variant audio peak times in seconds. */
export function energyPeakTimes(signal: ArrayLike<number>, sr: number, options: EnergyPeakOptions = {}): number[] {
  if (!(sr > 0)) throw new InvalidArgumentError(`energy peaks: sample rate must be positive, got ${sr}`);
  const frameLength = Math.floor((options.frameSeconds ?? 0.025) * sr);
  const hop = Math.floor((options.hopSeconds ?? 0.01) * sr);
  const threshold = options.threshold ?? 0.3;
  for (let i = 0; i < signal.length; i++) {
    if (!Number.isFinite(signal[i])) throw new InvalidArgumentError(`energy peaks: sample ${i} is ${signal[i]} (must be finite)`);
  }
  const e = shortTimeEnergy(signal, frameLength, hop);
  if (e.length < 3) return [];
  let min = Infinity, max = -Infinity;
  for (const v of e) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const scale = max - min + 1e-6;
  const norm = Array.from(e, (v) => (v - min) / scale);
  const times: number[] = [];
  for (let t = 1; t < norm.length - 1; t++) {
    if (norm[t] > norm[t - 1] && norm[t] > norm[t + 1] && norm[t] > threshold) times.push((t * hop) / sr);
  }
  return times;
}
