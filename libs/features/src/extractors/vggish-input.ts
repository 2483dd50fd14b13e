import FFT from 'fft.js';
import { InvalidArgumentError } from '@vmr/core';

/**
 * VGGish input features, as the published algorithm (tensorflow/models research/audioset/vggish:
 * vggish_params.py, mel_features.py, vggish_input.py — the code v-iashin/video_features wraps):
 * 16 kHz mono; |STFT| with a 25 ms periodic-Hann window (400 samples), 10 ms hop (160), FFT 512, no
 * centre padding; 64 HTK-mel bands 125–7500 Hz (triangles on the mel scale, DC bin zeroed);
 * log(mel + 0.01); examples of 96 frames (0.96 s).
 */
export const VGGISH = Object.freeze({
  sampleRate: 16000,
  windowSeconds: 0.025,
  hopSeconds: 0.01,
  windowLength: 400,
  hopLength: 160,
  fftLength: 512,
  melBands: 64,
  melMinHz: 125,
  melMaxHz: 7500,
  logOffset: 0.01,
  exampleFrames: 96,
  /** Reference example hop (0.96 s, no overlap). */
  referenceExampleHopFrames: 96,
  /** Ours: one example per second (100 frames), so rows are per second like every dataset feature. */
  exampleHopFrames: 100,
  embeddingSize: 128,
});

/** HTK mel: 1127 · ln(1 + f / 700) (mel_features.hertz_to_mel). */
export function vggishHzToMel(f: number): number {
  return 1127 * Math.log(1 + f / 700);
}

/**
 * The `[bins, bands]` matrix of mel_features.spectrogram_to_mel_matrix: bins at linspace(0, sr/2, bins),
 * band edges at linspace(mel(lo), mel(hi), bands + 2), weight = max(0, min(rising, falling)) on the mel
 * axis, row 0 (DC) zero. Stored `[bins * bands]`, bin-major.
 */
export function vggishMelMatrix(bins = VGGISH.fftLength / 2 + 1, sr = VGGISH.sampleRate, bands = VGGISH.melBands, lo = VGGISH.melMinHz, hi = VGGISH.melMaxHz): Float64Array {
  const nyq = sr / 2;
  const mLo = vggishHzToMel(lo);
  const mHi = vggishHzToMel(hi);
  const edges = new Float64Array(bands + 2);
  for (let i = 0; i < bands + 2; i++) edges[i] = mLo + ((mHi - mLo) * i) / (bands + 1);
  const m = new Float64Array(bins * bands);
  for (let k = 1; k < bins; k++) {
    const mel = vggishHzToMel((nyq * k) / (bins - 1));
    for (let b = 0; b < bands; b++) {
      const lower = (mel - edges[b]) / (edges[b + 1] - edges[b]);
      const upper = (edges[b + 2] - mel) / (edges[b + 2] - edges[b + 1]);
      m[k * bands + b] = Math.max(0, Math.min(lower, upper));
    }
  }
  return m;
}

/** log(mel(|STFT|) + 0.01) of 16 kHz mono audio: `[frames, 64]`, frames = 1 + ⌊(n − 400) / 160⌋. */
export function vggishLogMel(samples: Float32Array): { frames: number; data: Float32Array } {
  const V = VGGISH;
  if (samples.length < V.windowLength) return { frames: 0, data: new Float32Array(0) };
  for (let i = 0; i < samples.length; i++) if (!Number.isFinite(samples[i])) throw new InvalidArgumentError(`vggish: sample ${i} is not finite`);
  const frames = 1 + Math.floor((samples.length - V.windowLength) / V.hopLength);
  const bins = V.fftLength / 2 + 1;
  const win = new Float64Array(V.windowLength);
  for (let i = 0; i < V.windowLength; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / V.windowLength);
  const mel = vggishMelMatrix();
  const fft = new FFT(V.fftLength);
  const frame = new Array<number>(V.fftLength).fill(0);
  const spec = fft.createComplexArray() as number[];
  const mag = new Float64Array(bins);
  const out = new Float32Array(frames * V.melBands);
  for (let t = 0; t < frames; t++) {
    const s0 = t * V.hopLength;
    for (let i = 0; i < V.windowLength; i++) frame[i] = samples[s0 + i] * win[i];
    fft.realTransform(spec, frame);
    for (let k = 0; k < bins; k++) mag[k] = Math.hypot(spec[2 * k], spec[2 * k + 1]);
    for (let b = 0; b < V.melBands; b++) {
      let acc = 0;
      for (let k = 1; k < bins; k++) acc += mag[k] * mel[k * V.melBands + b];
      out[t * V.melBands + b] = Math.log(acc + V.logOffset);
    }
  }
  return { frames, data: out };
}

/**
 * VGGish examples, one per second: example s = log-mel frames [100·s, 100·s + 96) → `[seconds, 96, 64]`.
 * The audio is zero-padded at the end so every second has a full example (a second past the end of
 * the audio is log(0.01) everywhere). The reference frames examples every 0.96 s instead; see
 * libs/features/README.md.
 */
export function vggishExamples(samples16k: Float32Array, seconds: number): Float32Array {
  const V = VGGISH;
  if (!Number.isInteger(seconds) || seconds < 1) throw new InvalidArgumentError(`vggish: seconds must be a positive integer, got ${seconds}`);
  const needFrames = V.exampleHopFrames * (seconds - 1) + V.exampleFrames;
  const needSamples = V.windowLength + V.hopLength * (needFrames - 1);
  let x = samples16k;
  if (x.length < needSamples) {
    x = new Float32Array(needSamples);
    x.set(samples16k);
  }
  const lm = vggishLogMel(x.length > needSamples ? x.subarray(0, needSamples) : x);
  const per = V.exampleFrames * V.melBands;
  const out = new Float32Array(seconds * per);
  for (let s = 0; s < seconds; s++) out.set(lm.data.subarray(s * V.exampleHopFrames * V.melBands, s * V.exampleHopFrames * V.melBands + per), s * per);
  return out;
}
