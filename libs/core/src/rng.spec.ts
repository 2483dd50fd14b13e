import { Rng } from './rng';

describe('Rng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xa);
    expect(xa.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('normal() has mean ≈ 0 and variance ≈ 1 (n = 20,000, tolerance 4 standard errors)', () => {
    const r = new Rng('normal');
    const n = 20000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
  });

  it('permutation is a permutation; fork is reproducible and independent of the parent stream', () => {
    const r = new Rng(1);
    const p = r.permutation(100);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const f1 = new Rng(1).fork('a').next();
    const parent = new Rng(1);
    parent.next();
    expect(parent.fork('a').next()).toBe(f1);
    expect(new Rng(1).fork('b').next()).not.toBe(f1);
  });

  it('int() stays in range and rejects empty ranges', () => {
    const r = new Rng(3);
    for (let i = 0; i < 1000; i++) {
      const v = r.int(-2, 3);
      expect(v).toBeGreaterThanOrEqual(-2);
      expect(v).toBeLessThan(3);
    }
    expect(() => r.int(2, 2)).toThrow(/hi > lo/);
  });
});
