import type { SegmentCost } from './cost';
import { SegmentationTooShortError, checkNonNegativeInt, checkPositiveInt, isAdmissible, requiredSamples } from './admissibility';

export interface DynpOptions {
  /** Number of breakpoints K (K + 1 segments). */
  nBkps: number;
  /** Minimum segment length in samples (raised to the cost's own minimum, as ruptures does). Default 2. */
  minSize?: number;
  /** Breakpoints lie on multiples of `jump`. Default 5 (ruptures' default). */
  jump?: number;
  /** Names the signal in errors. */
  input?: string;
}

/** A segmentation in ruptures' convention. */
export interface Segmentation {
  /** Ascending segment end indices; the last equals n; 0 is not included. */
  breakpoints: number[];
  /** Σ of segment costs (prefix-sum evaluation, summed left to right — the minimised objective). */
  cost: number;
}

/**
 * Exact dynamic programming for a fixed number of breakpoints — the same optimum, admissibility
 * rules and tie-breaking as ruptures `Dynp(min_size, jump).fit(signal).predict(n_bkps)`:
 *
 * - candidate breakpoints are the multiples of `jump` in (0, n); segment ends are those and n;
 * - a last breakpoint b of a k-breakpoint prefix is admissible when `sanity_check(b, k − 1)` holds and
 *   the segment after it has at least `minSize` samples;
 * - ties keep the smallest last breakpoint (Python's `min` keeps the first candidate).
 *
 * Bottom-up over the jump grid: each segment cost is computed once (O(d³) from prefix sums) and
 * reused for every breakpoint count, so the work is O(m²/2 · (cost + K)) with m = n / jump.
 * Throws `SegmentationTooShortError` when the signal is too short.
 */
export function dynp(cost: SegmentCost, options: DynpOptions): Segmentation {
  const K = options.nBkps;
  const J = options.jump ?? 5;
  checkNonNegativeInt('nBkps', K);
  checkPositiveInt('minSize', options.minSize ?? 2);
  checkPositiveInt('jump', J);
  const min = Math.max(options.minSize ?? 2, cost.minSize);
  const n = cost.nSamples;
  if (!isAdmissible(n, K, min, J)) {
    throw new SegmentationTooShortError(options.input ?? 'signal', requiredSamples(K, min, J), n, { nBkps: K, minSize: min, jump: J });
  }
  const one = new Float64Array(1);
  if (K === 0) {
    cost.errorsTo(n, 0, 1, 1, one);
    return { breakpoints: [n], cost: one[0] };
  }

  // Grid g_j = j·J for j = 0..m−1 (all multiples of J below n).
  const m = Math.floor((n - 1) / J) + 1;
  const step = Math.ceil(min / J) * J;
  // jlo[k]: first grid index j such that g_j can be the last breakpoint of a k-breakpoint prefix,
  // i.e. sanity_check(g_j, k − 1): j ≥ k − 1 and g_j ≥ (k − 1)·step + min.
  const jlo = new Int32Array(K + 1);
  for (let k = 1; k <= K; k++) jlo[k] = Math.max(k - 1, Math.ceil(((k - 1) * step + min) / J));
  const jMaxEnd = Math.floor((n - min) / J); // no breakpoint or stored end beyond n − min
  // F[k·m + j] = best cost of [0, g_j) with k breakpoints (k = 0..K−1); arg[k·m + j] its last breakpoint index.
  const F = new Float64Array(m * K).fill(Infinity);
  const arg = new Int32Array(m * K).fill(-1);

  // k = 0: a single segment [0, g_j).
  for (let j = 1; j <= jMaxEnd; j++) {
    if (j * J < min) continue;
    cost.errorsTo(j * J, 0, 1, 1, one);
    F[j] = one[0];
  }

  const col = new Float64Array(m);
  // Prefixes [0, g_i) with 1..K−1 breakpoints: one cost column per end, reused for every k.
  if (K >= 2) {
    const j0 = jlo[1];
    for (let i = j0 + 1; i <= jMaxEnd; i++) {
      const e = i * J;
      const jhi = Math.floor((e - min) / J);
      if (jhi < j0) continue;
      cost.errorsTo(e, j0 * J, J, jhi - j0 + 1, col);
      for (let k = 1; k < K; k++) {
        const ja = jlo[k];
        if (ja > jhi) break;
        const prevRow = (k - 1) * m;
        let bv = Infinity;
        let ba = -1;
        for (let j = ja; j <= jhi; j++) {
          const v = F[prevRow + j] + col[j - j0];
          if (v < bv) {
            bv = v;
            ba = j;
          }
        }
        F[k * m + i] = bv;
        arg[k * m + i] = ba;
      }
    }
  }

  // The whole signal [0, n) with K breakpoints: last breakpoint g_j, j in [jlo[K], jMaxEnd].
  const j0 = jlo[K];
  const count = jMaxEnd - j0 + 1;
  cost.errorsTo(n, j0 * J, J, count, col);
  let best = Infinity;
  let bestJ = -1;
  for (let t = 0; t < count; t++) {
    const v = F[(K - 1) * m + j0 + t] + col[t];
    if (v < best) {
      best = v;
      bestJ = j0 + t;
    }
  }
  const bkps: number[] = [n];
  let j = bestJ;
  for (let k = K - 1; k >= 0; k--) {
    bkps.push(j * J);
    if (k > 0) j = arg[k * m + j];
  }
  bkps.reverse();
  return { breakpoints: bkps, cost: best };
}
