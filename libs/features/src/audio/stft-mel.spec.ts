import { Rng } from '@vmr/core';
import { applyFilterbank, hzToMel, melFilterbank, melFrequencies, melToHz, powerToDb } from './mel';
import { hannWindow, powerSpectrogram } from './stft';

describe('STFT', () => {
  it('matches a direct DFT of zero-padded, Hann-windowed frames (librosa centring)', () => {
    const rng = new Rng(1);
    const x = Array.from({ length: 37 }, () => rng.normal());
    const nFft = 16, hop = 4;
    const s = powerSpectrogram(x, { nFft, hop });
    expect(s.frames).toBe(1 + Math.floor(37 / hop));
    expect(s.bins).toBe(9);
    const w = hannWindow(nFft);
    for (const t of [0, 3, s.frames - 1]) {
      for (let f = 0; f < s.bins; f++) {
        let re = 0, im = 0;
        for (let i = 0; i < nFft; i++) {
          const k = t * hop - nFft / 2 + i;
          const v = k >= 0 && k < x.length ? x[k] * w[i] : 0;
          re += v * Math.cos((2 * Math.PI * f * i) / nFft);
          im -= v * Math.sin((2 * Math.PI * f * i) / nFft);
        }
        expect(s.data[t * s.bins + f]).toBeCloseTo(re * re + im * im, 4);
      }
    }
  });
  it('periodic Hann window: w[0] = 0, w[N/2] = 1', () => {
    const w = hannWindow(8);
    expect(w[0]).toBe(0);
    expect(w[4]).toBeCloseTo(1, 15);
    expect(w[2]).toBeCloseTo(0.5, 15);
  });
  it('a pure tone at a bin centre peaks in that bin', () => {
    const sr = 22050, nFft = 2048, bin = 93;
    const f0 = (bin * sr) / nFft;
    const x = Array.from({ length: sr }, (_, i) => Math.sin((2 * Math.PI * f0 * i) / sr));
    const s = powerSpectrogram(x);
    const t = 10;
    let best = 0;
    for (let f = 1; f < s.bins; f++) if (s.data[t * s.bins + f] > s.data[t * s.bins + best]) best = f;
    expect(best).toBe(bin);
  });
  it('rejects a non power-of-two FFT size and non-finite samples', () => {
    expect(() => powerSpectrogram([1, 2, 3], { nFft: 100 })).toThrow(/power of two/);
    expect(() => powerSpectrogram([0, NaN, 0, 0, 0], { nFft: 4, hop: 1 })).toThrow(/sample 1 is NaN/);
  });
});

describe('mel scale (Slaney, librosa defaults; values from the librosa docs)', () => {
  it('hz_to_mel / mel_to_hz', () => {
    expect(hzToMel(60)).toBeCloseTo(0.9, 12);
    expect([110, 220, 440].map((f) => hzToMel(f))).toEqual([expect.closeTo(1.65, 12), expect.closeTo(3.3, 12), expect.closeTo(6.6, 12)]);
    expect(melToHz(3)).toBeCloseTo(200, 12);
    expect(hzToMel(1000)).toBeCloseTo(15, 12); // 1000 / (200/3) = 14.999999999999998 in float64, as in librosa
    for (const f of [30, 999, 1000, 4321, 11025]) expect(melToHz(hzToMel(f))).toBeCloseTo(f, 9);
    expect(hzToMel(1000, true)).toBeCloseTo(999.9855, 3);
  });
  it('mel_frequencies(n_mels=40) at 22.05 kHz', () => {
    const f = melFrequencies(40, 0, 11025);
    const doc = [0, 85.317, 170.635, 255.952, 341.269, 426.586, 511.904, 597.221, 682.538, 767.855, 853.173, 938.49, 1024.856, 1119.114];
    doc.forEach((v, i) => expect(f[i]).toBeCloseTo(v, 2));
    expect(f[39]).toBeCloseTo(11025, 9);
  });
  it('filters.mel(sr=22050, n_fft=2048): shape, the documented [0, 1] weight, Slaney unit area', () => {
    const fb = melFilterbank(22050, 2048);
    expect(fb.nMels).toBe(128);
    expect(fb.bins).toBe(1025);
    expect(fb.weights[0]).toBe(0);
    expect(fb.weights[1]).toBeCloseTo(0.016, 3); // librosa docs: melfb[0, 1] ≈ 0.016
    // area normalisation: Σ_k w[m, k]·Δf ≈ 1 for wide (high) bands
    const df = 22050 / 2048;
    for (const m of [100, 127]) {
      let s = 0;
      for (let k = 0; k < fb.bins; k++) s += fb.weights[m * fb.bins + k];
      expect(s * df).toBeCloseTo(1, 1);
    }
    // applying it to a flat unit spectrum sums each row
    const flat = { frames: 1, bins: 1025, data: new Float32Array(1025).fill(1) };
    const mel = applyFilterbank(flat, fb);
    let row5 = 0;
    for (let k = 0; k < fb.bins; k++) row5 += fb.weights[5 * fb.bins + k];
    expect(mel.data[5]).toBeCloseTo(row5, 6);
  });
  it('power_to_db: ref 1, amin 1e-10, top_db 80', () => {
    const db = powerToDb(Float32Array.from([1, 0.1, 1e-12, 100]));
    expect(Array.from(db)).toEqual([expect.closeTo(0, 6), expect.closeTo(-10, 5), expect.closeTo(-60, 5), expect.closeTo(20, 5)]);
    const noFloor = powerToDb(Float32Array.from([1, 1e-12]), { topDb: null });
    expect(noFloor[1]).toBeCloseTo(-100, 4);
  });
});
