import { InvalidArgumentError } from '@vmr/core';
import { BUILTIN_VIDEO_DIM, BuiltinVideoAccumulator, builtinVideoFrameVector, gradientOrientationBin } from './builtin-video';
import { BUILTIN_AUDIO_SR, BUILTIN_AUDIO_STFT, builtinAudioFeatures } from './builtin-audio';
import { onsetDetect, powerSpectrogram } from '../audio';
import { resolveExtractors, getExtractor } from './registry';
import type { PreparedFrame } from '../flow/trajectory';

function frame(t: number, fill: (x: number, y: number) => [number, number, number], flow?: [number, number]): PreparedFrame {
  const w = 8, h = 6;
  const bgr = new Uint8Array(w * h * 3);
  const gray = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const [b, g, r] = fill(x, y);
    const i = y * w + x;
    bgr.set([b, g, r], i * 3);
    gray[i] = Math.round(0.114 * b + 0.587 * g + 0.299 * r);
  }
  const f: PreparedFrame = { sampleIndex: 0, decodeIndex: 0, timeSec: t, bgr, gray: { width: w, height: h, data: gray } };
  if (flow) {
    const d = new Float32Array(w * h * 2);
    for (let i = 0; i < w * h; i++) d.set(flow, i * 2);
    f.flowFromPrev = { width: w, height: h, data: d };
  }
  return f;
}

describe('builtin-video', () => {
  it('hand values on a flat red frame moving 3 px right and 4 px down', () => {
    const v = builtinVideoFrameVector(frame(0, () => [0, 0, 255], [3, 4]));
    expect(v).toHaveLength(BUILTIN_VIDEO_DIM);
    expect([v[0], v[1], v[2]]).toEqual([1, 0, 0]); // mean r, g, b
    expect(v[3]).toBe(0); // no variation
    expect(v[6]).toBe(1); // fully saturated
    expect(v[8 + (76 >> 5)]).toBe(1); // grey 76 → bin 2
    expect(v[16]).toBe(0); // flat: no gradient
    expect(v[22]).toBeCloseTo(5, 6); // |(3,4)| = 5
    expect(v[23]).toBeCloseTo(0, 6);
    expect(v[24]).toBe(1);
    expect([v[25], v[26]]).toEqual([3, 4]);
    expect(v[28]).toBe(1); // |v| > |u|, v > 0: "down"
  });

  it('averages frames per second, duplicates frame 1 flow into frame 0, carries gaps forward', () => {
    const acc = new BuiltinVideoAccumulator();
    acc.addFrame(frame(0, () => [0, 0, 0]));
    acc.addFrame(frame(0.5, () => [0, 0, 0], [2, 0]));
    acc.addFrame(frame(1.2, () => [255, 255, 255], [0, 0]));
    const out = acc.finish(3);
    const D = BUILTIN_VIDEO_DIM;
    expect(out[0 * D + 22]).toBeCloseTo(2, 6); // second 0: frames 0 (copied 2) and 1 (2)
    expect(out[1 * D + 0]).toBe(1); // second 1: white
    expect(out[1 * D + 31]).toBe(1); // black → white frame difference
    expect(Array.from(out.subarray(2 * D, 3 * D))).toEqual(Array.from(out.subarray(D, 2 * D))); // no frame in second 2
  });
});

describe('builtin-video gradient orientation bins', () => {
  it('equal round(atan2 folded to [0, π) / (π/4)) mod 4 for every central difference of 8-bit images', () => {
    // The descriptor's original rule, kept here as the reference for the atan2-free bins.
    const reference = (dx: number, dy: number): number => {
      let a = Math.atan2(dy / 2, dx / 2);
      if (a < 0) a += Math.PI;
      return Math.round(a / (Math.PI / 4)) % 4;
    };
    let differ = 0;
    const seen = [0, 0, 0, 0];
    for (let dx = -255; dx <= 255; dx++) {
      for (let dy = -255; dy <= 255; dy++) {
        if (dx === 0 && dy === 0) continue;
        const b = gradientOrientationBin(dx, dy);
        if (b !== reference(dx, dy)) differ++;
        seen[b]++;
      }
    }
    expect(differ).toBe(0);
    expect(seen.every((c) => c > 10_000)).toBe(true);
    expect([gradientOrientationBin(5, 0), gradientOrientationBin(-5, 0), gradientOrientationBin(3, 3), gradientOrientationBin(0, -7), gradientOrientationBin(-3, 3)]).toEqual([0, 0, 1, 2, 3]);
  });
});

describe('builtin-audio', () => {
  it('is 128-d per second, finite, and sees a 440 Hz tone in the right mel band', () => {
    const sr = BUILTIN_AUDIO_SR;
    const x = new Float32Array(2 * sr);
    for (let i = 0; i < sr; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / sr); // second 0: tone, second 1: silence
    const f = builtinAudioFeatures(x, sr, 3);
    expect(f).toHaveLength(3 * 128);
    const bands = Array.from(f.subarray(0, 64));
    const top = bands.indexOf(Math.max(...bands));
    // Slaney mel of 440 Hz = 6.6 mel units... band centres are evenly spaced on the mel scale up to 11025 Hz;
    // the tone must land in a low band (≤ 10 of 64) and stand far above silence.
    expect(top).toBeLessThanOrEqual(10);
    expect(f[top]).toBeGreaterThan(f[128 + top] + 3); // > 30 dB louder than the silent second
    expect(f[128 + 119]).toBeGreaterThan(0.5); // silent second: mostly near-silent frames
    expect(f[2 * 128 + 0]).toBe(-10); // past the end: silence row
    expect(f[124]).toBeCloseTo((2 * 440) / sr, 3); // zero-crossing rate of a 440 Hz sine
  });

  it('gives the same numbers from a shared STFT and onset detection (as vmr ingest passes them), and refuses mismatched ones', () => {
    const sr = BUILTIN_AUDIO_SR;
    const x = new Float32Array(Math.round(2.5 * sr));
    let seed = 7;
    for (let i = 0; i < x.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const click = i % 5000 < 200 ? 0.6 : 0; // onsets every ~0.23 s
      x[i] = click * Math.sin(i / 3) + 0.05 * (seed / 2147483648 - 0.5);
    }
    const spectrogram = powerSpectrogram(x, BUILTIN_AUDIO_STFT);
    const onset = onsetDetect(x, sr, { spectrogram });
    expect(onset.times).toEqual(onsetDetect(x, sr).times); // the onset's own STFT is the same one
    expect(onset.times.length).toBeGreaterThan(5);
    expect(Array.from(builtinAudioFeatures(x, sr, 3, { spectrogram, onset }))).toEqual(Array.from(builtinAudioFeatures(x, sr, 3)));
    const other = powerSpectrogram(x.subarray(0, sr), BUILTIN_AUDIO_STFT);
    expect(() => builtinAudioFeatures(x, sr, 3, { spectrogram: other })).toThrow(/spectrogram is 44×1025, expected 108×1025/);
    expect(() => onsetDetect(x, sr, { spectrogram: other })).toThrow(InvalidArgumentError);
  });
});

describe('extractor registry', () => {
  it('knows dims, and checks names and model sources up front', () => {
    expect(getExtractor('resnet').dim).toBe(2048);
    expect(getExtractor('clip').dim).toBe(512);
    expect(getExtractor('i3d').dim).toBe(2048);
    expect(getExtractor('vggish')).toMatchObject({ dim: 128, modality: 'audio', kind: 'pretrained' });
    expect(resolveExtractors(['builtin-video'], 'video').map((e) => e.dim)).toEqual([32]);
    expect(() => resolveExtractors(['nope'], 'video')).toThrow(/unknown video extractor "nope"/);
    // clip and resnet have default downloads; vggish and i3d need --model
    expect(resolveExtractors(['clip', 'resnet'], 'video').map((e) => e.kind)).toEqual(['pretrained', 'pretrained']);
    expect(() => resolveExtractors(['vggish'], 'audio')).toThrow(InvalidArgumentError);
    expect(() => resolveExtractors(['i3d'], 'video')).toThrow(/pass --model i3d=<URL, Hugging Face repo or local folder with i3d_rgb.onnx and i3d_flow.onnx>/);
    expect(resolveExtractors(['vggish'], 'audio', { vggish: 'models/vggish.onnx' })[0].name).toBe('vggish');
    expect(() => resolveExtractors(['builtin-video'], 'video', { 'builtin-video': 'x' })).toThrow(/takes no model/);
    expect(() => resolveExtractors(['clip', 'clip'], 'video')).toThrow(/listed twice/);
    expect(resolveExtractors(['mobilenetv2'], 'video')[0].dim).toBe(1280);
    expect(() => resolveExtractors(['builtin-audio'], 'video')).toThrow(/unknown video extractor/);
  });
});
