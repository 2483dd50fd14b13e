/**
 * Statistics for reports (DESIGN.md §2.5), pure functions over plain arrays: mean, sample std, the 95 %
 * Student-t interval over seeds, a percentile bootstrap interval over queries for a single run, and a
 * paired bootstrap over queries (and seeds) for the difference of two configurations on one gallery.
 * Deterministic for a given seed (`Rng` from @vmr/core).
 */
import { InvalidArgumentError, Rng } from '@vmr/core';

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
}

/** Sample standard deviation (n − 1); 0 for a single value, NaN for none. */
export function sampleStd(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n === 0) return NaN;
  if (n === 1) return 0;
  const m = mean(xs);
  let v = 0;
  for (let i = 0; i < n; i++) v += (xs[i] - m) * (xs[i] - m);
  return Math.sqrt(v / (n - 1));
}

export function median(xs: ArrayLike<number>): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Two-sided 97.5 % quantiles of Student's t for df = 1…30 (standard tables). */
const T975 = [12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.13145, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.04523, 2.042272];

/** t quantile for a 95 % two-sided interval: the table up to df 30, the Cornish–Fisher expansion above (error < 1e-4). */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new InvalidArgumentError(`t quantile: degrees of freedom must be an integer ≥ 1, got ${df}`);
  if (df <= T975.length) return T975[df - 1];
  const z = 1.959964;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df * df) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3);
}

export interface SeedSummary {
  n: number;
  mean: number;
  /** Sample std (n − 1); 0 for n = 1. */
  std: number;
  /** 95 % t-interval over seeds: mean ± t(n−1)·std/√n; NaN for n < 2 (no interval over one seed). */
  ciLow: number;
  ciHigh: number;
}

/** Mean, sample std and the 95 % Student-t interval over seeds. */
export function seedSummary(xs: readonly number[]): SeedSummary {
  const n = xs.length;
  const m = mean(xs);
  const std = sampleStd(xs);
  if (n < 2) return { n, mean: m, std, ciLow: NaN, ciHigh: NaN };
  const h = (tQuantile975(n - 1) * std) / Math.sqrt(n);
  return { n, mean: m, std, ciLow: m - h, ciHigh: m + h };
}

/** Type-7 quantile of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** How a run's per-query values become the metric: the mean (R@k as 0/1 hits, AV-Align) or the median (median rank). */
export type QueryStatistic = 'mean' | 'median';

function stat(kind: QueryStatistic, xs: Float64Array): number {
  return kind === 'mean' ? mean(xs) : median(xs);
}

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  resamples?: number;
  /** Rng seed (default 0): the same seed gives the same interval. */
  seed?: number | string;
  /** Coverage (default 0.95). */
  level?: number;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
  resamples: number;
  level: number;
}

function checkOpts(o: BootstrapOptions): { B: number; level: number; rng: Rng } {
  const B = o.resamples ?? 2000;
  const level = o.level ?? 0.95;
  if (!Number.isInteger(B) || B < 10) throw new InvalidArgumentError(`bootstrap: resamples must be an integer ≥ 10, got ${B}`);
  if (!(level > 0 && level < 1)) throw new InvalidArgumentError(`bootstrap: level must be in (0, 1), got ${level}`);
  return { B, level, rng: new Rng(o.seed ?? 0) };
}

function percentile(reps: Float64Array, estimate: number, B: number, level: number): Interval {
  reps.sort();
  return { estimate, low: quantileSorted(reps, (1 - level) / 2), high: quantileSorted(reps, 1 - (1 - level) / 2), resamples: B, level };
}

/** Percentile bootstrap interval over queries of one run's metric (queries resampled with replacement). */
export function bootstrapQueries(values: readonly number[], kind: QueryStatistic = 'mean', options: BootstrapOptions = {}): Interval {
  const { B, level, rng } = checkOpts(options);
  const q = values.length;
  if (q === 0) throw new InvalidArgumentError('bootstrap: no per-query values');
  const buf = new Float64Array(q);
  const reps = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < q; i++) buf[i] = values[rng.int(0, q)];
    reps[b] = stat(kind, buf);
  }
  return percentile(reps, stat(kind, Float64Array.from(values)), B, level);
}

export interface PairedInput {
  /** Per-query values of configuration A, one array per seed (run); every array indexes the same queries. */
  a: ReadonlyArray<readonly number[]>;
  b: ReadonlyArray<readonly number[]>;
  /**
   * Seeds of A's and B's runs, same order as `a` / `b`. When both configurations have the same seed set,
   * seeds are resampled as pairs (run of seed s in A with run of seed s in B); otherwise independently.
   */
  seedsA?: readonly number[];
  seedsB?: readonly number[];
}

export interface PairedResult extends Interval {
  /** Seeds resampled as matched pairs (same seed set) or independently. */
  seedPairing: 'paired' | 'independent';
  queries: number;
  nA: number;
  nB: number;
}

/**
 * Paired bootstrap of metric(A) − metric(B) on one gallery: metric(X) = mean over X's seeds of the
 * per-seed statistic over queries. Each resample draws one set of query indices shared by both
 * configurations (pairing by query) and resamples seeds (as pairs when the seed sets match).
 * Identical inputs give exactly [0, 0]; B = A + c gives exactly [−c, −c] for `mean`.
 */
export function pairedBootstrap(input: PairedInput, kind: QueryStatistic = 'mean', options: BootstrapOptions = {}): PairedResult {
  const { B, level, rng } = checkOpts(options);
  const { a, b } = input;
  if (a.length === 0 || b.length === 0) throw new InvalidArgumentError('paired bootstrap: each configuration needs at least one run');
  const q = a[0].length;
  for (const xs of [...a, ...b]) if (xs.length !== q) throw new InvalidArgumentError(`paired bootstrap: runs have different query counts (${q} vs ${xs.length}); the configurations were not evaluated on the same gallery`);
  if (q === 0) throw new InvalidArgumentError('paired bootstrap: no per-query values');
  let order: { a: number[]; b: number[] } | null = null;
  const sa = input.seedsA;
  const sb = input.seedsB;
  if (sa && sb && sa.length === a.length && sb.length === b.length && sa.length === sb.length && new Set(sa).size === sa.length && [...sa].sort().join(',') === [...sb].sort().join(',')) {
    const ia = sa.map((_, i) => i).sort((x, y) => sa[x] - sa[y]);
    const ib = sb.map((_, i) => i).sort((x, y) => sb[x] - sb[y]);
    order = { a: ia, b: ib };
  }
  const estimateOf = (idxA: number[], idxB: number[], qs: Int32Array | null): number => {
    const buf = new Float64Array(q);
    const side = (runs: ReadonlyArray<readonly number[]>, idx: number[]) => {
      let s = 0;
      for (const r of idx) {
        const xs = runs[r];
        for (let i = 0; i < q; i++) buf[i] = xs[qs ? qs[i] : i];
        s += stat(kind, buf);
      }
      return s / idx.length;
    };
    return side(a, idxA) - side(b, idxB);
  };
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  const estimate = estimateOf(all(a.length), all(b.length), null);
  const reps = new Float64Array(B);
  const qs = new Int32Array(q);
  for (let r = 0; r < B; r++) {
    let idxA: number[];
    let idxB: number[];
    if (order) {
      const picks = order.a.map(() => rng.int(0, order!.a.length));
      idxA = picks.map((p) => order!.a[p]);
      idxB = picks.map((p) => order!.b[p]);
    } else {
      idxA = a.map(() => rng.int(0, a.length));
      idxB = b.map(() => rng.int(0, b.length));
    }
    for (let i = 0; i < q; i++) qs[i] = rng.int(0, q);
    reps[r] = estimateOf(idxA, idxB, qs);
  }
  return { ...percentile(reps, estimate, B, level), seedPairing: order ? 'paired' : 'independent', queries: q, nA: a.length, nB: b.length };
}

/**
 * Least-squares slope of y on x and Pearson's r (NaN when x or y is constant).
 */
export function slopeAndCorrelation(x: readonly number[], y: readonly number[]): { slope: number; r: number } {
  const n = x.length;
  if (n !== y.length || n < 2) return { slope: NaN, r: NaN };
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return { slope: sxx > 0 ? sxy / sxx : NaN, r: sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN };
}
