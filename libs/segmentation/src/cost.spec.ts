import { InvalidArgumentError, Rng } from '@vmr/core';
import { L2Cost, NormalCost, createCost, directSegmentCost, logAbsDet, sumOfCosts } from './cost';
import { toSignal } from './signal';

const EPS = 1e-6;

describe('NormalCost (ruptures CostNormal semantics)', () => {
  test('1-D uses the population variance: [1,2,3,4] → 4·log(1.25 + 1e-6)', () => {
    const c = new NormalCost(toSignal([1, 2, 3, 4]));
    expect(c.error(0, 4)).toBeCloseTo(4 * Math.log(1.25 + EPS), 12);
    // [2,3] → var 0.25
    expect(c.error(1, 3)).toBeCloseTo(2 * Math.log(0.25 + EPS), 12);
  });

  test('a constant segment costs len·log(1e-6) exactly (ε keeps it finite)', () => {
    const c = new NormalCost(toSignal([7, 7, 7, 7, 7, 9]));
    expect(c.error(0, 5)).toBe(5 * Math.log(EPS));
  });

  test('a single-column 2-D input is 1-D (population variance)', () => {
    const c = new NormalCost(toSignal([[1], [2], [3], [4]]));
    expect(c.error(0, 4)).toBeCloseTo(4 * Math.log(1.25 + EPS), 12);
  });

  test('d > 1 uses the n−1 covariance: unit square corners → diag(1/3, 1/3)', () => {
    const c = new NormalCost(toSignal([[0, 0], [1, 0], [0, 1], [1, 1]]));
    expect(c.error(0, 4)).toBeCloseTo(4 * 2 * Math.log(1 / 3 + EPS), 11);
  });

  test('d > 1 with correlation: closed-form 2×2 determinant', () => {
    const rows = [[0, 0], [1, 2], [2, 3], [4, 4], [3, 7]];
    const n = rows.length;
    const mx = rows.reduce((a, r) => a + r[0], 0) / n;
    const my = rows.reduce((a, r) => a + r[1], 0) / n;
    const sxx = rows.reduce((a, r) => a + (r[0] - mx) ** 2, 0) / (n - 1) + EPS;
    const syy = rows.reduce((a, r) => a + (r[1] - my) ** 2, 0) / (n - 1) + EPS;
    const sxy = rows.reduce((a, r) => a + (r[0] - mx) * (r[1] - my), 0) / (n - 1);
    const expected = n * Math.log(sxx * syy - sxy * sxy);
    expect(new NormalCost(toSignal(rows)).error(0, n)).toBeCloseTo(expected, 10);
  });

  test('prefix-sum costs equal direct two-pass costs on random 3-D data far from zero', () => {
    const rng = new Rng(1);
    const rows = Array.from({ length: 300 }, () => [1000 + rng.normal(), -50 + 3 * rng.normal(), rng.normal() * 0.01]);
    const sig = toSignal(rows);
    const c = new NormalCost(sig);
    for (let t = 0; t < 200; t++) {
      const a = rng.int(0, 290);
      const b = rng.int(a + 5, 301);
      const direct = directSegmentCost('normal', sig, a, b);
      expect(Math.abs(c.error(a, b) - direct)).toBeLessThan(1e-7 * Math.max(1, Math.abs(direct)));
    }
  });

  test('long signals (n = 36,000): compensated prefix sums keep each segment within 1e-10 relative of two-pass', () => {
    const rng = new Rng(11);
    const n = 36000;
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) y[i] = Math.abs(4 + 3 * Math.sin(i / 700) + (0.05 + (i % 5000) / 5000) * rng.normal());
    const sig = toSignal(y);
    const c = new NormalCost(sig);
    for (let t = 0; t < 300; t++) {
      const a = rng.int(n - 6000, n - 30); // late segments: the largest prefix sums
      const b = rng.int(a + 30, Math.min(n, a + 3000) + 1);
      const direct = directSegmentCost('normal', sig, a, b);
      expect(Math.abs(c.error(a, b) - direct)).toBeLessThan(1e-10 * Math.abs(direct) + 1e-12);
    }
  });

  test('errorsTo fills a column identical to error()', () => {
    const rng = new Rng(2);
    const sig = toSignal(Array.from({ length: 60 }, () => rng.normal(3, 2)));
    const c = new NormalCost(sig);
    const out = new Float64Array(10);
    c.errorsTo(60, 3, 5, 10, out);
    for (let t = 0; t < 10; t++) expect(out[t]).toBe(c.error(3 + 5 * t, 60));
  });

  test('segments shorter than 2 samples are rejected', () => {
    const c = new NormalCost(toSignal([1, 2, 3]));
    expect(() => c.error(1, 2)).toThrow(InvalidArgumentError);
    expect(() => c.error(0, 4)).toThrow(/not inside/);
  });
});

describe('L2Cost', () => {
  test('sum of squared deviations: [1,2,3,4] → 5; 2-D sums over columns', () => {
    expect(new L2Cost(toSignal([1, 2, 3, 4])).error(0, 4)).toBeCloseTo(5, 12);
    // columns [0,2] and [0,4]: 2 + 8
    expect(new L2Cost(toSignal([[0, 0], [2, 4]])).error(0, 2)).toBeCloseTo(10, 12);
    expect(new L2Cost(toSignal([5])).error(0, 1)).toBe(0);
  });

  test('matches the direct evaluation', () => {
    const rng = new Rng(3);
    const sig = toSignal(Array.from({ length: 80 }, () => [rng.normal(), rng.normal(10, 3)]));
    const c = createCost('l2', sig);
    expect(c.error(5, 71)).toBeCloseTo(directSegmentCost('l2', sig, 5, 71), 9);
  });
});

describe('logAbsDet', () => {
  test('3×3 with a zero leading pivot (needs pivoting): |det| = 2', () => {
    // [[0,1,2],[1,0,3],[4,-3,8]]: det = 0·(0·8−3·(−3)) − 1·(1·8−3·4) + 2·(1·(−3)−0·4) = 4 − 6 = −2
    const a = Float64Array.from([0, 1, 2, 1, 0, 3, 4, -3, 8]);
    expect(logAbsDet(a, 3)).toBeCloseTo(Math.log(2), 12);
  });
  test('singular → −Infinity; diagonal → Σ log', () => {
    expect(logAbsDet(Float64Array.from([1, 2, 2, 4]), 2)).toBe(-Infinity);
    expect(logAbsDet(Float64Array.from([2, 0, 0, 0, 3, 0, 0, 0, 5]), 3)).toBeCloseTo(Math.log(30), 12);
  });
});

describe('sumOfCosts', () => {
  test('adds the segment costs and checks the last breakpoint is n', () => {
    const sig = toSignal([0, 0, 1, 1, 1, 5]);
    expect(sumOfCosts('l2', sig, [2, 5, 6])).toBeCloseTo(0, 12);
    expect(sumOfCosts('l2', sig, [3, 6])).toBeCloseTo(2 / 3 + 32 / 3, 10) // [0,0,1] → 2/3; [1,1,5] (mean 7/3) → 16/9·2 + 64/9 = 32/3;
    expect(() => sumOfCosts('l2', sig, [3, 5])).toThrow(/end with n = 6/);
  });
});

describe('toSignal', () => {
  test('rejects empty, ragged and non-finite input, naming the input and position', () => {
    expect(() => toSignal([], 'clip7')).toThrow(/clip7: the signal is empty/);
    expect(() => toSignal([[1, 2], [3]], 'f.json')).toThrow(/f.json: row 1 has 1 values, expected 2/);
    expect(() => toSignal([1, NaN, 2], 'x.npy')).toThrow(/x.npy: non-finite value NaN at \[1\]/);
    expect(() => toSignal([[1, 2], [3, Infinity]], 'm')).toThrow(/\[1\]\[1\]/);
    expect(() => toSignal([1, 'a' as unknown as number], 's')).toThrow(/value \[1\] is not a number/);
  });
  test('accepts {rows, cols, data}', () => {
    const s = toSignal({ rows: 2, cols: 3, data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
    expect([s.n, s.d, Array.from(s.data)]).toEqual([2, 3, [1, 2, 3, 4, 5, 6]]);
    expect(() => toSignal({ rows: 2, cols: 2, data: [1, 2, 3] })).toThrow(/does not match/);
  });
});
