/**
 * Short-time Fourier transform magnitudes on the signal's own sample rate (no resampling), with
 * librosa's conventions: periodic Hann window of length nFft, `center = true` pads nFft/2 zeros on both
 * sides (librosa ≥ 0.10 `pad_mode="constant"`), frame t starts at t·hop of the padded signal, so there
 * are 1 + ⌊n / hop⌋ frames. FFTs by `fft.js` (radix-4, nFft a power of two).
 */
import FFT from 'fft.js';
import { InvalidArgumentError } from '@vmr/core';

/** A spectrogram stored frame-major: `data[t * bins + f]`, `[frames, bins]`. */
export interface Spectrogram {
  frames: number;
  bins: number;
  data: Float32Array;
}

export interface StftOptions {
  /** FFT size, a power of two ≥ 4 (default 2048). */
  nFft?: number;
  /** Hop in samples (default 512). */
  hop?: number;
  /** Pad nFft/2 zeros on both sides so frame t is centred on sample t·hop (default true). */
  center?: boolean;
  /** 2 = power (default), 1 = magnitude. */
  power?: 1 | 2;
}

/** Periodic (`fftbins=True`) or symmetric Hann window. */
export function hannWindow(n: number, periodic = true): Float64Array {
  const w = new Float64Array(n);
  const denom = periodic ? n : n - 1;
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / denom);
  return w;
}

/** |STFT|^power of a mono signal, `[frames, 1 + nFft/2]`. */
export function powerSpectrogram(signal: ArrayLike<number>, options: StftOptions = {}): Spectrogram {
  const nFft = options.nFft ?? 2048;
  const hop = options.hop ?? 512;
  const center = options.center ?? true;
  const power = options.power ?? 2;
  if (!Number.isInteger(nFft) || nFft < 4 || (nFft & (nFft - 1)) !== 0) {
    throw new InvalidArgumentError(`STFT: nFft must be a power of two ≥ 4, got ${nFft}`);
  }
  if (!Number.isInteger(hop) || hop < 1) throw new InvalidArgumentError(`STFT: hop must be a positive integer, got ${hop}`);
  if (power !== 1 && power !== 2) throw new InvalidArgumentError(`STFT: power must be 1 or 2, got ${power}`);
  const n = signal.length;
  const pad = center ? nFft >> 1 : 0;
  const padded = n + 2 * pad;
  if (padded < nFft) {
    throw new InvalidArgumentError(`STFT: signal of ${n} samples is shorter than nFft = ${nFft}${center ? ' (after centre padding)' : ''}`);
  }
  const frames = 1 + Math.floor((padded - nFft) / hop);
  const bins = (nFft >> 1) + 1;
  const win = hannWindow(nFft, true);
  const fft = new FFT(nFft);
  const frame = new Array<number>(nFft);
  const out = fft.createComplexArray() as number[];
  const data = new Float32Array(frames * bins);
  for (let t = 0; t < frames; t++) {
    const start = t * hop - pad; // index into the unpadded signal
    for (let i = 0; i < nFft; i++) {
      const s = start + i;
      const v = s >= 0 && s < n ? signal[s] : 0;
      if (!Number.isFinite(v)) throw new InvalidArgumentError(`STFT: sample ${s} is ${v} (must be finite)`);
      frame[i] = v * win[i];
    }
    fft.realTransform(out, frame);
    const o = t * bins;
    for (let f = 0; f < bins; f++) {
      const re = out[2 * f];
      const im = out[2 * f + 1];
      const p = re * re + im * im;
      data[o + f] = power === 2 ? p : Math.sqrt(p);
    }
  }
  return { frames, bins, data };
}
