import { InvalidArgumentError } from '@vmr/core';
import type { SegmentCost } from './cost';
import type { Segmentation } from './dynp';
import { SegmentationTooShortError, checkPositiveInt } from './admissibility';

export interface PeltOptions {
  /** Penalty per segment (≥ 0); larger → fewer breakpoints. */
  penalty: number;
  /** Minimum segment length (raised to the cost's own minimum). Default 2. */
  minSize?: number;
  /** Breakpoints on multiples of `jump`. Default 5 (ruptures' default). */
  jump?: number;
  input?: string;
}

export interface PenalizedSegmentation extends Segmentation {
  /** cost + penalty · (number of segments) — PELT's objective. */
  penalizedCost: number;
}

/**
 * PELT (Killick et al. 2012) with the exact candidate grid, pruning rule and tie-breaking of
 * ruptures `Pelt(min_size, jump).fit(signal).predict(pen)`:
 * ends are the multiples of `jump` that are ≥ minSize, then n; at each end the newest admissible
 * start is ⌊(end − minSize)/jump⌋·jump (skipped when no partition of [0, start) exists); the first
 * minimal candidate wins; a start t is kept while F(t) + c(t, end) + pen ≤ F(end) + pen.
 */
export function pelt(cost: SegmentCost, options: PeltOptions): PenalizedSegmentation {
  const pen = options.penalty;
  if (!(typeof pen === 'number' && Number.isFinite(pen) && pen >= 0)) {
    throw new InvalidArgumentError(`penalty must be a finite number ≥ 0, got ${pen}`);
  }
  const J = options.jump ?? 5;
  checkPositiveInt('minSize', options.minSize ?? 2);
  checkPositiveInt('jump', J);
  const min = Math.max(options.minSize ?? 2, cost.minSize);
  const n = cost.nSamples;
  if (min > n) {
    throw new SegmentationTooShortError(options.input ?? 'signal', min, n, { nBkps: 0, minSize: min, jump: J });
  }
  const F = new Float64Array(n + 1).fill(NaN); // NaN: no partition of [0, t) exists
  const prev = new Int32Array(n + 1).fill(-1);
  F[0] = 0;
  const one = new Float64Array(1);
  let admissible: number[] = [];
  let vals: number[] = [];
  const ends: number[] = [];
  for (let k = 0; k < n; k += J) if (k >= min) ends.push(k);
  ends.push(n);
  for (const end of ends) {
    const t = Math.floor((end - min) / J) * J;
    if (!Number.isNaN(F[t])) admissible.push(t);
    vals = new Array<number>(admissible.length);
    let best = Infinity;
    let bestT = -1;
    for (let a = 0; a < admissible.length; a++) {
      const s = admissible[a];
      cost.errorsTo(end, s, 1, 1, one);
      const v = F[s] + (one[0] + pen);
      vals[a] = v;
      if (v < best) {
        best = v;
        bestT = s;
      }
    }
    F[end] = best;
    prev[end] = bestT;
    const limit = best + pen;
    admissible = admissible.filter((_, a) => vals[a] <= limit);
  }
  const bkps: number[] = [];
  for (let e = n; e > 0; e = prev[e]) bkps.push(e);
  bkps.reverse();
  let total = 0;
  let start = 0;
  for (const e of bkps) {
    cost.errorsTo(e, start, 1, 1, one);
    total += one[0];
    start = e;
  }
  return { breakpoints: bkps, cost: total, penalizedCost: F[n] };
}
