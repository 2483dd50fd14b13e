import { InvalidArgumentError } from '@vmr/core';
import { type OnsetDetection, type Spectrogram, applyFilterbank, melFilterbank, onsetDetect, powerSpectrogram } from '../audio';

/** Sample rate the builtin-audio descriptor is computed at (librosa's default). */
export const BUILTIN_AUDIO_SR = 22050;
export const BUILTIN_AUDIO_DIM = 128;
const N_FFT = 2048;
const HOP = 512;
const N_MELS = 64;
const LOG_FLOOR = -10; // log10 power floor (−100 dB)

/**
 * The STFT builtin-audio uses — librosa's onset_strength STFT too — so one spectrogram serves both
 * (`builtinAudioFeatures(…, { spectrogram, onset })`).
 */
export const BUILTIN_AUDIO_STFT = Object.freeze({ nFft: N_FFT, hop: HOP, center: true, power: 2 as const });

/**
 * `builtin-audio`: a weight-free 128-d per-second audio descriptor (same width as VGGish) from the
 * log-mel spectrogram and onset statistics, at 22.05 kHz (STFT 2048 / hop 512, 64 Slaney mel bands).
 * Frames are assigned to second ⌊t·hop/sr⌋. Columns:
 * - 0–63: mean log10 mel power per band over the second (floored at −10);
 * - 64–95: std of log10 mel power over the second, band pairs (2m, 2m+1) averaged;
 * - 96–111: mean positive log-mel flux (onset strength per band group of 4);
 * - 112: mean onset strength (librosa spectral flux), 113: its std, 114: its max;
 * - 115: onsets per second (librosa onset_detect defaults over the whole track);
 * - 116–118: frame log10 energy mean, std, max; 119: fraction of near-silent frames (log10 energy < −6);
 * - 120–121: spectral centroid mean, std (fraction of Nyquist); 122: 85 % roll-off mean (fraction of Nyquist);
 * - 123: spectral flatness mean; 124: zero-crossing rate; 125: log-mel dynamic range / 10;
 * - 126: second's onset strength / track mean onset strength; 127: mean log10 mel power over all bands.
 * Seconds past the end of the audio are rows of silence (floor values, zeros).
 */
export function builtinAudioFeatures(
  samples: Float32Array,
  sampleRate: number,
  seconds: number,
  /**
   * Work the caller already did on these samples: `powerSpectrogram(samples, BUILTIN_AUDIO_STFT)` and/or
   * `onsetDetect(samples, sampleRate)` (librosa defaults) — e.g. `vmr ingest` also needs the onsets
   * for AV-Align peaks; computed here when absent.
   */
  shared: { spectrogram?: Spectrogram; onset?: OnsetDetection } = {},
): Float32Array {
  if (sampleRate !== BUILTIN_AUDIO_SR) throw new InvalidArgumentError(`builtin-audio needs ${BUILTIN_AUDIO_SR} Hz audio, got ${sampleRate}`);
  if (!Number.isInteger(seconds) || seconds < 1) throw new InvalidArgumentError(`builtin-audio: seconds must be a positive integer, got ${seconds}`);
  for (let i = 0; i < samples.length; i++) if (!Number.isFinite(samples[i])) throw new InvalidArgumentError(`builtin-audio: sample ${i} is not finite`);
  const D = BUILTIN_AUDIO_DIM;
  const out = new Float32Array(seconds * D);
  for (let s = 0; s < seconds; s++) {
    for (let m = 0; m < N_MELS; m++) out[s * D + m] = LOG_FLOOR;
    out[s * D + 116] = LOG_FLOOR;
    out[s * D + 118] = LOG_FLOOR;
    out[s * D + 119] = 1;
    out[s * D + 127] = LOG_FLOOR;
  }
  if (samples.length < N_FFT) return out;
  const spec = shared.spectrogram ?? powerSpectrogram(samples, BUILTIN_AUDIO_STFT);
  const expectFrames = 1 + Math.floor(samples.length / HOP);
  if (spec.bins !== N_FFT / 2 + 1 || spec.frames !== expectFrames) {
    throw new InvalidArgumentError(`builtin-audio: the given spectrogram is ${spec.frames}×${spec.bins}, expected ${expectFrames}×${N_FFT / 2 + 1}`);
  }
  const fb = melFilterbank(sampleRate, N_FFT, { nMels: N_MELS });
  const mel = applyFilterbank(spec, fb);
  const T = mel.frames;
  const logMel = new Float32Array(mel.data.length);
  for (let i = 0; i < logMel.length; i++) logMel[i] = Math.max(LOG_FLOOR, Math.log10(Math.max(1e-30, mel.data[i])));
  const onset = shared.onset ?? onsetDetect(samples, sampleRate, { spectrogram: spec });
  if (onset.sampleRate !== sampleRate || onset.hop !== HOP || onset.envelope.length !== spec.frames) {
    throw new InvalidArgumentError(`builtin-audio: the given onsets are not librosa's defaults on these samples (${onset.envelope.length} frames at hop ${onset.hop}, ${onset.sampleRate} Hz)`);
  }
  const env = onset.envelope;
  let envMean = 0;
  for (const v of env) envMean += v;
  envMean /= Math.max(1, env.length);
  const bins = spec.bins;
  const secOf = (t: number): number => Math.floor((t * HOP) / sampleRate);
  // per-frame scalars
  const energy = new Float64Array(T);
  const centroid = new Float64Array(T);
  const rolloff = new Float64Array(T);
  const flatness = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const row = spec.data.subarray(t * bins, (t + 1) * bins);
    let sum = 0, wsum = 0, logSum = 0;
    for (let k = 0; k < bins; k++) {
      sum += row[k];
      wsum += k * row[k];
      logSum += Math.log(row[k] + 1e-12);
    }
    energy[t] = Math.max(LOG_FLOOR, Math.log10(sum / bins + 1e-30));
    centroid[t] = sum > 0 ? wsum / sum / (bins - 1) : 0;
    let acc = 0;
    let k85 = 0;
    for (let k = 0; k < bins; k++) {
      acc += row[k];
      if (acc >= 0.85 * sum) { k85 = k; break; }
    }
    rolloff[t] = sum > 0 ? k85 / (bins - 1) : 0;
    flatness[t] = sum > 0 ? Math.exp(logSum / bins) / (sum / bins + 1e-12) : 0;
  }
  const onsetsPerSec = new Float64Array(seconds);
  for (const time of onset.times) {
    const s = Math.floor(time);
    if (s >= 0 && s < seconds) onsetsPerSec[s]++;
  }
  // frame ranges per second
  let t0 = 0;
  for (let s = 0; s < seconds; s++) {
    let t1 = t0;
    while (t1 < T && secOf(t1) <= s) t1++;
    const n = t1 - t0;
    const o = s * D;
    if (n > 0) {
      for (let m = 0; m < N_MELS; m++) {
        let a = 0, a2 = 0;
        for (let t = t0; t < t1; t++) {
          const x = logMel[t * N_MELS + m];
          a += x; a2 += x * x;
        }
        const mean = a / n;
        out[o + m] = mean;
        out[o + 64 + (m >> 1)] += Math.sqrt(Math.max(0, a2 / n - mean * mean)) / 2;
      }
      for (let g = 0; g < 16; g++) {
        let fl = 0;
        for (let t = Math.max(t0, 1); t < t1; t++) {
          for (let m = g * 4; m < g * 4 + 4; m++) fl += Math.max(0, logMel[t * N_MELS + m] - logMel[(t - 1) * N_MELS + m]);
        }
        out[o + 96 + g] = fl / (4 * n);
      }
      let e = 0, e2 = 0, emax = -Infinity, sm = 0, sm2 = 0, smax = 0, silent = 0, c = 0, c2 = 0, ro = 0, fla = 0, lmMin = Infinity, lmMax = -Infinity, lmAll = 0;
      for (let t = t0; t < t1; t++) {
        const ev = t < env.length ? env[t] : 0;
        sm += ev; sm2 += ev * ev; smax = Math.max(smax, ev);
        e += energy[t]; e2 += energy[t] * energy[t]; emax = Math.max(emax, energy[t]);
        if (energy[t] < -6) silent++;
        c += centroid[t]; c2 += centroid[t] * centroid[t];
        ro += rolloff[t];
        fla += flatness[t];
        for (let m = 0; m < N_MELS; m++) {
          const x = logMel[t * N_MELS + m];
          lmMin = Math.min(lmMin, x); lmMax = Math.max(lmMax, x); lmAll += x;
        }
      }
      const sd = (a: number, a2: number): number => Math.sqrt(Math.max(0, a2 / n - (a / n) ** 2));
      out[o + 112] = sm / n;
      out[o + 113] = sd(sm, sm2);
      out[o + 114] = smax;
      out[o + 115] = onsetsPerSec[s];
      out[o + 116] = e / n;
      out[o + 117] = sd(e, e2);
      out[o + 118] = emax;
      out[o + 119] = silent / n;
      out[o + 120] = c / n;
      out[o + 121] = sd(c, c2);
      out[o + 122] = ro / n;
      out[o + 123] = fla / n;
      out[o + 125] = (lmMax - lmMin) / 10;
      out[o + 126] = envMean > 0 ? sm / n / envMean : 0;
      out[o + 127] = lmAll / (n * N_MELS);
    }
    // zero-crossing rate over the second's samples
    const a = s * sampleRate;
    const b = Math.min(samples.length, (s + 1) * sampleRate);
    if (b - a > 1) {
      let z = 0;
      for (let i = a + 1; i < b; i++) if ((samples[i] >= 0) !== (samples[i - 1] >= 0)) z++;
      out[o + 124] = z / (b - a - 1);
    }
    t0 = t1;
  }
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw new InvalidArgumentError(`builtin-audio: produced a non-finite value at ${i}`);
  return out;
}
