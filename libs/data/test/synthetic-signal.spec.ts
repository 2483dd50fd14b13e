/**
 * The synthetic benchmark carries the signals it claims (issue 6 "must show"), checked with the
 * metrics library: style retrieval far above chance (and at chance once pairs are shuffled), AV-Align of
 * a clip's own peaks far above a random other clip's.
 */
import { Rng } from '@vmr/core';
import { avAlignFromPeaks, retrievalMetrics } from '@vmr/metrics';
import { createSyntheticGenerator } from '../src/synthetic/generate';

function cosineMatrix(a: Float32Array[], b: Float32Array[]): number[][] {
  const norm = (x: Float32Array): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0));
  const na = a.map(norm);
  const nb = b.map(norm);
  return a.map((x, i) =>
    b.map((y, j) => {
      let s = 0;
      for (let d = 0; d < x.length; d++) s += x[d] * y[d];
      return s / (na[i] * nb[j]);
    }),
  );
}

describe('synthetic benchmark signal', () => {
  const gen = createSyntheticGenerator({ preset: 'himv-like', seed: 3 });
  const N = 300;
  const clips = Array.from({ length: N }, (_, i) => gen.clip(i));

  it('nearest neighbour on the true style vectors: high Recall@1; shuffled pairs: chance level', () => {
    const v = clips.map((c) => c.truth.videoStyle);
    const m = clips.map((c) => c.truth.musicStyle);
    const paired = retrievalMetrics(cosineMatrix(v, m));
    // k = 16, pair noise 0.5 per side, clustered styles: the correct track is usually the nearest of 300.
    // Measured on this seed: R@1 = 0.80, R@5 = 0.97 (chance 0.0033).
    expect(paired.recall[1]).toBeGreaterThan(0.7);
    expect(paired.recall[5]).toBeGreaterThan(0.9);
    const perm = new Rng('shuffle').permutation(N);
    const shuffled = retrievalMetrics(cosineMatrix(v, perm.map((j) => m[j])));
    // Chance: R@1 = 1/300, R@10 = 10/300 ≈ 0.033; median rank ≈ 150.
    expect(shuffled.recall[1]).toBeLessThan(0.03);
    expect(shuffled.recall[10]).toBeLessThan(0.09);
    expect(shuffled.medianRank).toBeGreaterThan(100);
  });

  it('a stronger pair noise lowers the achievable Recall@1 (the knob works)', () => {
    const noisy = createSyntheticGenerator({ preset: 'himv-like', seed: 3, overrides: { pairNoise: 2 } });
    const c = Array.from({ length: 150 }, (_, i) => noisy.clip(i).truth);
    const clean = clips.slice(0, 150).map((x) => x.truth);
    const r = (t: typeof c): number => retrievalMetrics(cosineMatrix(t.map((x) => x.videoStyle), t.map((x) => x.musicStyle))).recall[1];
    expect(r(c)).toBeLessThan(r(clean) - 0.3);
  });

  /** Mean AV-Align (yariv) of each clip's video with its own music and with a random other clip's music. */
  function ownVsOther(cs: typeof clips, fps: number): { own: number; other: number } {
    const rng = new Rng('pairs');
    const n = cs.length;
    let own = 0;
    let other = 0;
    for (let i = 0; i < n; i++) {
      let j = rng.int(0, n - 1);
      if (j >= i) j++;
      own += avAlignFromPeaks(cs[i].audioPeaks, cs[i].videoPeaks, fps, 'yariv').score / n;
      other += avAlignFromPeaks(cs[j].audioPeaks, cs[i].videoPeaks, fps, 'yariv').score / n;
    }
    return { own, other };
  }

  it('clean pairs (every track cut to its video): AV-Align with the own audio peaks is far above a random other clip', () => {
    const clean = createSyntheticGenerator({
      preset: 'himv-like',
      seed: 3,
      overrides: { unsyncedShare: 0, coupling: 1, restShare: 0, syncRate: 0.8, flowNoise: 0.1, flowSmoothing: 0, onsetRateMin: 0.4, onsetRateMax: 2.5 },
    });
    const { own, other } = ownVsOther(Array.from({ length: 150 }, (_, i) => clean.clip(i)), clean.config.flowFps);
    // Measured on this seed: own 0.61, other 0.34.
    expect(own).toBeGreaterThan(0.5);
    expect(own - other).toBeGreaterThan(0.15);
  });

  it('the himv-like preset (half the pairs not cut to the video, calibrated on real clips): own pairs only slightly above chance', () => {
    const { own, other } = ownVsOther(clips, gen.config.flowFps);
    // Real music videos (libs/data/README.md): GOT 0.23, other clips 0.14. Measured on this seed (60–400 s
    // clips): own 0.22, other 0.13 — versus 0.61 / 0.34 for the clean pairs above.
    expect(own).toBeGreaterThan(0.15);
    expect(own).toBeLessThan(0.35);
    expect(own - other).toBeGreaterThan(0.03);
    expect(own - other).toBeLessThan(0.15);
  });
});
