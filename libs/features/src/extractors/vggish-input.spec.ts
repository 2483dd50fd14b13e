import { VGGISH, vggishExamples, vggishLogMel, vggishMelMatrix } from './vggish-input';

/**
 * The published algorithm (tensorflow/models audioset/vggish mel_features.py), recomputed here from its
 * description with a direct O(N²) DFT — independent of the FFT and loops under test.
 */
function referenceLogMelFrame(x: Float32Array, start: number): number[] {
  const N = 400, F = 512, bins = 257;
  const win = Array.from({ length: N }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N)); // periodic Hann
  const mag: number[] = [];
  for (let k = 0; k < bins; k++) {
    let re = 0, im = 0;
    for (let n = 0; n < N; n++) {
      const v = x[start + n] * win[n];
      re += v * Math.cos((2 * Math.PI * k * n) / F);
      im -= v * Math.sin((2 * Math.PI * k * n) / F);
    }
    mag.push(Math.sqrt(re * re + im * im));
  }
  const mel = (f: number): number => 1127 * Math.log(1 + f / 700);
  const edges = Array.from({ length: 66 }, (_, i) => mel(125) + ((mel(7500) - mel(125)) * i) / 65);
  const out: number[] = [];
  for (let b = 0; b < 64; b++) {
    let s = 0;
    for (let k = 1; k < bins; k++) {
      const m = mel((8000 * k) / 256);
      const w = Math.max(0, Math.min((m - edges[b]) / (edges[b + 1] - edges[b]), (edges[b + 2] - m) / (edges[b + 2] - edges[b + 1])));
      s += mag[k] * w;
    }
    out.push(Math.log(s + 0.01));
  }
  return out;
}

describe('VGGish log-mel examples against the published algorithm', () => {
  const sr = 16000;
  const x = new Float32Array(2 * sr);
  for (let i = 0; i < x.length; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / sr);

  it('constants are the published ones', () => {
    expect([VGGISH.windowLength, VGGISH.hopLength, VGGISH.fftLength, VGGISH.melBands, VGGISH.melMinHz, VGGISH.melMaxHz, VGGISH.logOffset, VGGISH.exampleFrames]).toEqual([400, 160, 512, 64, 125, 7500, 0.01, 96]);
  });

  it('a 1 kHz sine: |X| at bin 32 is A/2 · Σ Hann = 50 exactly, and every band matches the direct DFT', () => {
    const lm = vggishLogMel(x);
    expect(lm.frames).toBe(1 + Math.floor((x.length - 400) / 160)); // 198
    // 1000 Hz = bin 32 of a 512 FFT at 16 kHz and exactly 25 cycles in the 400-sample window:
    // X[32] = (A/2)·Σw = 0.25 · 200 = 50 (the negative-frequency image vanishes for a Hann window).
    let re = 0, im = 0;
    for (let n = 0; n < 400; n++) {
      const v = x[n] * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 400));
      re += v * Math.cos((2 * Math.PI * 32 * n) / 512);
      im -= v * Math.sin((2 * Math.PI * 32 * n) / 512);
    }
    expect(Math.hypot(re, im)).toBeCloseTo(50, 5); // float32 samples: |error| ≈ 1e-6
    for (const t of [0, 7, 150]) {
      const ref = referenceLogMelFrame(x, t * 160);
      for (let b = 0; b < 64; b++) expect(lm.data[t * 64 + b]).toBeCloseTo(ref[b], 4);
    }
    // the band holding 1 kHz is the loudest: mel(1000) lies between edges of band argmax
    const row = Array.from(lm.data.subarray(0, 64));
    const top = row.indexOf(Math.max(...row));
    const mel = (f: number): number => 1127 * Math.log(1 + f / 700);
    const step = (mel(7500) - mel(125)) / 65;
    expect(Math.abs(mel(125) + (top + 1) * step - mel(1000))).toBeLessThan(step);
  });

  it('the mel matrix has the DC row zeroed and triangles that peak at 1 on their centre bins', () => {
    const m = vggishMelMatrix();
    for (let b = 0; b < 64; b++) expect(m[b]).toBe(0);
    let maxW = 0;
    for (let i = 0; i < m.length; i++) maxW = Math.max(maxW, m[i]);
    expect(maxW).toBeLessThanOrEqual(1);
    expect(maxW).toBeGreaterThan(0.9);
  });

  it('one 96-frame example per second (hop 100 frames); seconds past the audio are log(0.01)', () => {
    const ex = vggishExamples(x, 3);
    expect(ex.length).toBe(3 * 96 * 64);
    const lm = vggishLogMel(x);
    // example 1, frame 0 = log-mel frame 100
    for (let b = 0; b < 64; b++) expect(ex[96 * 64 + b]).toBeCloseTo(lm.data[100 * 64 + b], 5);
    // second 2 starts at sample 32000 = the end of the audio: zero padding → log(0 + 0.01)
    expect(ex[2 * 96 * 64 + 5 * 64 + 10]).toBeCloseTo(Math.log(0.01), 6);
  });
});
