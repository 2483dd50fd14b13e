import { InvalidArgumentError, Rng } from '@vmr/core';
import { FastRandom, NOISE_MEAN, NOISE_SCALE } from './fast-random';

describe('FastRandom', () => {
  it('reproduces the xoshiro128** reference outputs for the state (1, 2, 3, 4)', () => {
    // Reference: xoshiro128** (Blackman & Vigna), first outputs from s = {1, 2, 3, 4} are
    // 11520, 0, 5927040, 70819200 (no outputs discarded).
    const raw = new FastRandom([1, 2, 3, 4], 0);
    expect([raw.nextUint32(), raw.nextUint32(), raw.nextUint32(), raw.nextUint32()]).toEqual([11520, 0, 5927040, 70819200]);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = FastRandom.fromRng(new Rng(5));
    const b = FastRandom.fromRng(new Rng(5));
    const c = FastRandom.fromRng(new Rng(6));
    const xa = Array.from({ length: 20 }, () => a.nextUint32());
    const xb = Array.from({ length: 20 }, () => b.nextUint32());
    const xc = Array.from({ length: 20 }, () => c.nextUint32());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
  });

  it('rejects the all-zero state', () => {
    expect(() => new FastRandom([0, 0, 0, 0])).toThrow(InvalidArgumentError);
  });

  it('noise() has mean 0, variance 1 and the Irwin–Hall bound', () => {
    // Sum of four uniform bytes: mean 510, variance 4·(256²−1)/12 = 21845 → scale 1/147.80.
    expect(NOISE_MEAN).toBe(510);
    expect(NOISE_SCALE).toBeCloseTo(1 / Math.sqrt(21845), 12);
    const f = FastRandom.fromRng(new Rng('noise'));
    const n = 400_000;
    let s = 0;
    let s2 = 0;
    let s4 = 0;
    let mx = 0;
    for (let i = 0; i < n; i++) {
      const x = f.noise();
      s += x;
      s2 += x * x;
      s4 += x * x * x * x;
      mx = Math.max(mx, Math.abs(x));
    }
    // std of the sample mean = 1/sqrt(n) ≈ 0.0016; of the sample variance ≈ sqrt(2/n) ≈ 0.0022.
    expect(Math.abs(s / n)).toBeLessThan(0.008);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.012);
    // Irwin–Hall(4) excess kurtosis is −1.2/4 = −0.3 → fourth moment 2.7 (a normal has 3).
    expect(s4 / n).toBeGreaterThan(2.6);
    expect(s4 / n).toBeLessThan(2.8);
    expect(mx).toBeLessThanOrEqual(510 * NOISE_SCALE + 1e-12);
  });

  it('addNoise and fillRow use the same stream as noise()', () => {
    const ref = FastRandom.fromRng(new Rng(9));
    const expected = Array.from({ length: 7 }, () => ref.noise());
    const f1 = FastRandom.fromRng(new Rng(9));
    const out = new Float32Array(9).fill(1);
    f1.addNoise(out, 1, 7, 2);
    expect(out[0]).toBe(1);
    expect(out[8]).toBe(1);
    for (let i = 0; i < 7; i++) expect(out[i + 1]).toBeCloseTo(1 + 2 * expected[i], 5);

    const f2 = FastRandom.fromRng(new Rng(9));
    const row = new Float32Array(8);
    const base = Float64Array.from([1, 2, 3]);
    const q = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    f2.fillRow(row, 2, base, q, 10, 20, 30, 0.5);
    expect(Array.from(row.subarray(2, 5))).toEqual(
      [1 + 10, 2 + 20, 3 + 30].map((v, i) => Math.fround(v + 0.5 * expected[i])),
    );
    expect(row[0]).toBe(0);
    expect(row[5]).toBe(0);
  });
});
