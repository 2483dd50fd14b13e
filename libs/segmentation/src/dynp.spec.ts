import { InvalidArgumentError, Rng } from '@vmr/core';
import { createCost, sumOfCosts, type CostName } from './cost';
import { dynp } from './dynp';
import { pelt } from './pelt';
import { SegmentationTooShortError, isAdmissible, requiredSamples } from './admissibility';
import { toSignal, type Signal } from './signal';

/** A piecewise signal with random regimes (mean and spread). */
function randomSignal(rng: Rng, n: number, d = 1): Signal {
  const rows: number[][] = [];
  while (rows.length < n) {
    const len = rng.int(5, 40);
    const mu = Array.from({ length: d }, () => rng.normal(0, 3));
    const sd = rng.uniform(0.2, 2);
    for (let k = 0; k < len && rows.length < n; k++) rows.push(mu.map((m) => m + sd * rng.normal()));
  }
  return toSignal(d === 1 ? rows.map((r) => r[0]) : rows);
}

/** A uniformly drawn admissible segmentation with K breakpoints on the jump grid (rejection sampling). */
function randomAdmissible(rng: Rng, n: number, K: number, min: number, J: number): number[] {
  const grid: number[] = [];
  for (let b = J; b < n; b += J) grid.push(b);
  for (;;) {
    const pick = new Set<number>();
    while (pick.size < K) pick.add(grid[rng.int(0, grid.length)]);
    const b = [...pick].sort((x, y) => x - y).concat([n]);
    let ok = b[0] >= min;
    for (let i = 1; i < b.length; i++) ok = ok && b[i] - b[i - 1] >= min;
    if (ok) return b;
  }
}

/** Every admissible segmentation (breakpoints on multiples of J, segments ≥ min), K breakpoints. */
function allAdmissible(n: number, K: number, min: number, J: number): number[][] {
  const out: number[][] = [];
  const rec = (prefix: number[], last: number, left: number): void => {
    if (left === 0) {
      if (n - last >= min) out.push([...prefix, n]);
      return;
    }
    for (let b = Math.ceil((last + min) / J) * J; b < n; b += J) rec([...prefix, b], b, left - 1);
  };
  rec([], 0, K);
  return out;
}

describe('dynp', () => {
  test.each([
    ['normal', 1],
    ['normal', 2],
    ['l2', 1],
  ] as [CostName, number][])('exact optimum equals brute force (%s, d=%d)', (costName, d) => {
    const rng = new Rng(`brute-${costName}-${d}`);
    let ran = 0;
    for (let trial = 0; trial < 6; trial++) {
      const n = rng.int(30, 46);
      const min = rng.int(3, 7);
      const J = rng.int(1, 4);
      const K = rng.int(1, 4);
      if (!isAdmissible(n, K, min, J)) continue;
      const sig = randomSignal(rng, n, d);
      const all = allAdmissible(n, K, min, J);
      ran++;
      let best = Infinity;
      let bestB: number[] = [];
      for (const b of all) {
        const c = sumOfCosts(costName, sig, b);
        if (c < best - 1e-9) {
          best = c;
          bestB = b;
        }
      }
      const r = dynp(createCost(costName, sig), { nBkps: K, minSize: min, jump: J });
      expect(Math.abs(r.cost - best)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(best)));
      expect(Math.abs(sumOfCosts(costName, sig, r.breakpoints) - best)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(best)));
      expect(r.breakpoints).toEqual(bestB); // random data: the optimum is unique
    }
    expect(ran).toBeGreaterThanOrEqual(4);
  });

  test('DP cost ≤ the cost of any random admissible segmentation (n = 600, minSize 30, jump 3)', () => {
    const rng = new Rng('random-admissible');
    for (let trial = 0; trial < 3; trial++) {
      const sig = randomSignal(rng, 600);
      const K = 7 + trial;
      const r = dynp(createCost('normal', sig), { nBkps: K, minSize: 30, jump: 3 });
      const opt = sumOfCosts('normal', sig, r.breakpoints);
      for (let s = 0; s < 200; s++) {
        const b = randomAdmissible(rng, 600, K, 30, 3);
        expect(opt).toBeLessThanOrEqual(sumOfCosts('normal', sig, b) + 1e-9);
      }
      // breakpoints on the grid, segments ≥ minSize, last = n
      expect(r.breakpoints).toHaveLength(K + 1);
      expect(r.breakpoints[K]).toBe(600);
      r.breakpoints.slice(0, K).forEach((b) => expect(b % 3).toBe(0));
      r.breakpoints.forEach((b, i) => expect(b - (i ? r.breakpoints[i - 1] : 0)).toBeGreaterThanOrEqual(30));
    }
  });

  test('ties keep the smallest last breakpoint (symmetric 0/1/0 signal)', () => {
    const sig = toSignal([...Array(10).fill(0), ...Array(10).fill(1), ...Array(10).fill(0)]);
    expect(dynp(createCost('normal', sig), { nBkps: 1, minSize: 5, jump: 5 }).breakpoints).toEqual([10, 30]);
    expect(dynp(createCost('l2', sig), { nBkps: 1, minSize: 5, jump: 5 }).breakpoints).toEqual([10, 30]);
  });

  test('exact minimum length forces the equally spaced segmentation; one sample less is an error', () => {
    const rng = new Rng(5);
    const sig = randomSignal(rng, 300);
    expect(dynp(createCost('normal', sig), { nBkps: 9, minSize: 30, jump: 3 }).breakpoints).toEqual([30, 60, 90, 120, 150, 180, 210, 240, 270, 300]);
    const short = toSignal(Array.from(sig.data.subarray(0, 299)));
    let err: unknown;
    try {
      dynp(createCost('normal', short), { nBkps: 9, minSize: 30, jump: 3, input: 'clip42' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SegmentationTooShortError);
    const e = err as SegmentationTooShortError;
    expect([e.needed, e.given, e.code]).toEqual([300, 299, 'INSUFFICIENT_DATA']);
    expect(e.message).toMatch(/clip42: 299 samples are too few for 9 breakpoint\(s\).*at least 300 samples/);
  });

  test('requiredSamples follows ruptures sanity_check (minSize not a multiple of jump)', () => {
    expect(requiredSamples(3, 7, 3)).toBe(3 * 9 + 7);
    expect(isAdmissible(34, 3, 7, 3)).toBe(true);
    expect(isAdmissible(33, 3, 7, 3)).toBe(false);
    expect(isAdmissible(20, 5, 2, 5)).toBe(false); // n_bkps > n // jump
  });

  test('minSize is raised to the cost minimum; bad parameters are typed errors', () => {
    const sig = toSignal([0, 0, 5, 5, 0, 0]);
    expect(dynp(createCost('normal', sig), { nBkps: 2, minSize: 1, jump: 1 }).breakpoints).toEqual([2, 4, 6]);
    expect(() => dynp(createCost('normal', sig), { nBkps: -1, minSize: 2, jump: 1 })).toThrow(InvalidArgumentError);
    expect(() => dynp(createCost('normal', sig), { nBkps: 1, minSize: 2, jump: 0 })).toThrow(/jump must be a positive integer/);
    expect(() => dynp(createCost('normal', sig), { nBkps: 1.5, minSize: 2, jump: 1 })).toThrow(/nBkps/);
  });
});

describe('pelt', () => {
  test('PELT cost = DP cost for the breakpoint count PELT chose', () => {
    const rng = new Rng('pelt-vs-dp');
    for (const [n, min, J, pen, costName] of [
      [400, 30, 3, 20, 'normal'],
      [300, 10, 1, 8, 'normal'],
      [250, 5, 2, 15, 'l2'],
      [200, 7, 3, 4, 'normal'],
    ] as [number, number, number, number, CostName][]) {
      const sig = randomSignal(rng, n);
      const cost = createCost(costName, sig);
      const p = pelt(cost, { penalty: pen, minSize: min, jump: J });
      const d = dynp(cost, { nBkps: p.breakpoints.length - 1, minSize: min, jump: J });
      expect(Math.abs(p.cost - d.cost)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(d.cost)));
      expect(p.penalizedCost).toBeCloseTo(p.cost + pen * p.breakpoints.length, 9);
      // and no other count does better on the penalised objective
      for (let k = 0; isAdmissible(n, k, Math.max(min, cost.minSize), J) && k < 25; k++) {
        const dk = dynp(cost, { nBkps: k, minSize: min, jump: J });
        expect(p.penalizedCost).toBeLessThanOrEqual(dk.cost + pen * (k + 1) + 1e-9 * Math.abs(dk.cost));
      }
    }
  });

  test('a huge penalty gives one segment; errors are typed', () => {
    const sig = randomSignal(new Rng(9), 100);
    expect(pelt(createCost('normal', sig), { penalty: 1e9, minSize: 5, jump: 5 }).breakpoints).toEqual([100]);
    expect(() => pelt(createCost('normal', sig), { penalty: -1 })).toThrow(/penalty must be a finite number/);
    expect(() => pelt(createCost('normal', sig), { penalty: NaN })).toThrow(InvalidArgumentError);
    expect(() => pelt(createCost('normal', sig), { penalty: 1, minSize: 101 })).toThrow(SegmentationTooShortError);
  });
});
