/**
 * Onset strength and onset detection with librosa's defaults (`librosa.onset.onset_strength` and
 * `onset_detect`, librosa 0.10):
 * - strength: log-power mel spectrogram (nFft 2048, hop 512, 128 Slaney mels, power_to_db with ref 1,
 *   amin 1e-10, top_db 80), first-order difference over time (lag 1, no reference max-filter), negative
 *   changes dropped, mean over mel bands, then shifted right by lag + nFft/(2·hop) frames (zero padded)
 *   and trimmed to the frame count, so frame t is centred on sample t·hop;
 * - detection: envelope normalised to [0, 1] (minus min, over max + tiny), then `peak_pick` with
 *   pre_max = ⌊0.03·sr/hop⌋, post_max = ⌊0·sr/hop⌋ + 1, pre_avg = ⌊0.10·sr/hop⌋,
 *   post_avg = ⌊0.10·sr/hop⌋ + 1, wait = ⌊0.03·sr/hop⌋, delta = 0.07
 *   (at 22,050 Hz / hop 512: 1, 1, 4, 5, 1, 0.07); onset time = frame·hop/sr.
 * The analysis runs at the signal's own sample rate: resample to 22,050 Hz first (`resample`) to match
 * `librosa.load`'s default.
 */
import { InvalidArgumentError } from '@vmr/core';
import { applyFilterbank, melFilterbank, powerToDb } from './mel';
import { type Spectrogram, powerSpectrogram } from './stft';

export const LIBROSA_SR = 22050;

export interface OnsetStrengthOptions {
  nFft?: number;
  hop?: number;
  nMels?: number;
  fmax?: number;
  /** Time lag of the difference (frames, default 1). */
  lag?: number;
  /** Centre frames (default true; also shifts the envelope as librosa). */
  center?: boolean;
  /**
   * The power (|X|²) STFT of `signal` with these nFft / hop / center, when the caller already computed
   * it (e.g. `vmr ingest` shares one STFT between builtin-audio and the onset peaks); skips the STFT.
   */
  spectrogram?: Spectrogram;
}

/**
 * Spectral-flux onset strength envelope (one value per STFT frame).
 * @param signal mono samples at `sr` Hz
 */
export function onsetStrength(signal: ArrayLike<number>, sr: number, options: OnsetStrengthOptions = {}): Float32Array {
  const nFft = options.nFft ?? 2048;
  const hop = options.hop ?? 512;
  const lag = options.lag ?? 1;
  const center = options.center ?? true;
  if (!(sr > 0)) throw new InvalidArgumentError(`onset strength: sample rate must be positive, got ${sr}`);
  if (!Number.isInteger(lag) || lag < 1) throw new InvalidArgumentError(`onset strength: lag must be an integer ≥ 1, got ${lag}`);
  let spec = options.spectrogram;
  if (spec) {
    const frames = 1 + Math.floor((signal.length + (center ? 2 * (nFft >> 1) : 0) - nFft) / hop);
    if (spec.bins !== (nFft >> 1) + 1 || spec.frames !== frames) {
      throw new InvalidArgumentError(`onset strength: the given spectrogram is ${spec.frames}×${spec.bins}, expected ${frames}×${(nFft >> 1) + 1} for nFft ${nFft}, hop ${hop}`);
    }
  } else spec = powerSpectrogram(signal, { nFft, hop, center, power: 2 });
  const fb = melFilterbank(sr, nFft, { nMels: options.nMels ?? 128, fmax: options.fmax });
  const mel = applyFilterbank(spec, fb);
  const db = powerToDb(mel.data);
  const frames = mel.frames;
  const nm = mel.bins;
  const pad = lag + (center ? Math.floor(nFft / (2 * hop)) : 0);
  const env = new Float32Array(frames);
  // diff frame d (d = 0 … frames−lag−1) = S[d+lag] − S[d], placed at index d + pad
  for (let d = 0; d + lag < frames; d++) {
    const idx = d + pad;
    if (idx >= frames) break;
    let s = 0;
    const a = (d + lag) * nm;
    const b = d * nm;
    for (let m = 0; m < nm; m++) {
      const v = db[a + m] - db[b + m];
      if (v > 0) s += v;
    }
    env[idx] = s / nm;
  }
  return env;
}

export interface PeakPickOptions {
  preMax: number;
  postMax: number;
  preAvg: number;
  postAvg: number;
  delta: number;
  wait: number;
}

/** librosa's `onset_detect` peak-picking parameters for a sample rate and hop. */
export function librosaPeakPickDefaults(sr: number, hop = 512): PeakPickOptions {
  const f = (sec: number) => Math.floor((sec * sr) / hop);
  return { preMax: f(0.03), postMax: f(0) + 1, preAvg: f(0.1), postAvg: f(0.1) + 1, delta: 0.07, wait: f(0.03) };
}

/**
 * librosa.util.peak_pick: sample n is a peak when x[n] = max(x[n−preMax : n+postMax]) and
 * x[n] ≥ mean(x[n−preAvg : n+postAvg]) + delta (windows truncated at the edges); after a peak the next
 * `wait` samples are skipped.
 */
export function peakPick(x: ArrayLike<number>, o: PeakPickOptions): number[] {
  for (const k of ['preMax', 'postMax', 'preAvg', 'postAvg', 'wait'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 0) throw new InvalidArgumentError(`peak_pick: ${k} must be a non-negative integer, got ${o[k]}`);
  }
  if (o.postMax < 1 || o.postAvg < 1) throw new InvalidArgumentError('peak_pick: postMax and postAvg must be ≥ 1');
  if (!(o.delta >= 0)) throw new InvalidArgumentError(`peak_pick: delta must be ≥ 0, got ${o.delta}`);
  const n = x.length;
  const peaks: number[] = [];
  let i = 0;
  while (i < n) {
    const v = x[i];
    let isMax = true;
    const m0 = Math.max(0, i - o.preMax);
    const m1 = Math.min(n, i + o.postMax);
    for (let k = m0; k < m1; k++) {
      if (x[k] > v) {
        isMax = false;
        break;
      }
    }
    if (isMax) {
      const a0 = Math.max(0, i - o.preAvg);
      const a1 = Math.min(n, i + o.postAvg);
      let s = 0;
      for (let k = a0; k < a1; k++) s += x[k];
      if (v >= s / (a1 - a0) + o.delta) {
        peaks.push(i);
        i += o.wait + 1;
        continue;
      }
    }
    i++;
  }
  return peaks;
}

export interface OnsetDetectOptions extends OnsetStrengthOptions {
  /** Normalise the envelope to [0, 1] before peak picking (default true). */
  normalize?: boolean;
  /** Override individual peak-picking parameters (defaults from `librosaPeakPickDefaults`). */
  peakPick?: Partial<PeakPickOptions>;
  /** A precomputed onset envelope (skips the strength computation; `signal` may then be empty). */
  envelope?: Float32Array;
}

export interface OnsetDetection {
  /** Onset frame indices. */
  frames: number[];
  /** Onset times in seconds (frame · hop / sr). */
  times: number[];
  /** The onset strength envelope used (before normalisation). */
  envelope: Float32Array;
  sampleRate: number;
  hop: number;
}

const TINY_F32 = 1.1754943508222875e-38; // np.finfo(np.float32).tiny (librosa's envelope is float32)

/** librosa.onset.onset_detect(y, sr) with its defaults (see the module comment). */
export function onsetDetect(signal: ArrayLike<number>, sr: number, options: OnsetDetectOptions = {}): OnsetDetection {
  const hop = options.hop ?? 512;
  const envelope = options.envelope ?? onsetStrength(signal, sr, options);
  const base = { envelope, sampleRate: sr, hop };
  let any = false;
  for (let i = 0; i < envelope.length; i++) if (envelope[i] !== 0) any = true;
  if (!any) return { frames: [], times: [], ...base };
  let x: Float32Array | Float64Array = envelope;
  if (options.normalize ?? true) {
    let min = Infinity, max = -Infinity;
    for (const v of envelope) min = Math.min(min, v);
    const y = new Float64Array(envelope.length);
    for (let i = 0; i < y.length; i++) {
      y[i] = envelope[i] - min;
      max = Math.max(max, y[i]);
    }
    for (let i = 0; i < y.length; i++) y[i] /= max + TINY_F32;
    x = y;
  }
  const pp = { ...librosaPeakPickDefaults(sr, hop), ...(options.peakPick ?? {}) };
  const frames = peakPick(x, pp);
  return { frames, times: frames.map((f) => (f * hop) / sr), ...base };
}
