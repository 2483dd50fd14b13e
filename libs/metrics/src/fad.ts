/**
 * Fréchet Audio Distance between two embedding sets (DESIGN.md §1.6):
 *   FAD = ‖μ1 − μ2‖² + Tr(Σ1) + Tr(Σ2) − 2·Tr((Σ1Σ2)^½),   Σ with the n−1 denominator.
 *
 * Tr((Σ1Σ2)^½) = Σ √λ_i where λ_i are the eigenvalues of the symmetric PSD matrix Σ1^½·Σ2·Σ1^½
 * (similar to Σ1Σ2). Two symmetric routes, no general `sqrtm`:
 * - `cholesky` (used when one covariance is clearly positive definite): Σ = L·Lᵀ, eigenvalues of Lᵀ·Σ'·L;
 * - `eigen` (any PSD Σ, rank-deficient included): Σ1 = U·Λ·Uᵀ, Z = U_r·Λ_r^½ over the positive
 *   eigenvalues, eigenvalues of Zᵀ·Σ2·Z (an r×r matrix, r = rank);
 * - `gram` (sample space, for n < d): with centred samples X_k, the non-zero eigenvalues of Σ1Σ2 are
 *   those of C·Cᵀ, C = X1·X2ᵀ / √((n1−1)(n2−1)) (n1×n2), so the term is Σ √λ(C·Cᵀ) — no d×d work.
 * Negative eigenvalues (round-off) are clipped at 0. When an eigensolver fails or a value is not finite,
 * the computation is retried once with ε·I added to both covariances (`epsilonAdded: true`).
 */
import { InsufficientDataError, InvalidArgumentError, NumericError, Rng } from '@vmr/core';
import { cholesky, congruenceLower, gemmNT, meanAndCovariance, mirrorUpper, symmetricEigen } from './linalg';
import { type MatrixInput, toDense } from './matrix-input';

/** Mean and n−1 covariance of an embedding set `[n, d]`. */
export interface GaussianStats {
  n: number;
  d: number;
  /** `[d]` */
  mean: Float64Array;
  /** `[d, d]` row-major, symmetric */
  cov: Float64Array;
  /** The centred samples `[n, d]` (kept by `embeddingStats`; enables the `gram` route when n < d). */
  centered?: Float64Array;
}

export type FadMethod = 'auto' | 'eigen' | 'gram';

export interface FadOptions {
  /**
   * `auto` (default): `gram` when a set has fewer samples than dimensions (and samples are at hand), else
   * Cholesky when a covariance is positive definite, else `eigen`. `eigen` / `gram` force that route
   * (`gram` is meant for n < d: with n ≫ d its many exact-zero eigenvalues cost accuracy, ~1e-6 relative).
   */
  method?: FadMethod;
  /** ε for the ε·I fallback (default 1e-6, as the reference code). */
  epsilon?: number;
}

export interface FadComponents {
  meanSqDiff: number;
  traceSigma1: number;
  traceSigma2: number;
  /** Tr((Σ1Σ2)^½) */
  traceSqrtProduct: number;
}

export interface FadResult {
  /** The distance (may be ≈ −1e-12 for identical sets: round-off is not hidden). */
  fad: number;
  /** true when n ≤ d for either set: a covariance is singular and FAD is biased/unstable. */
  rankDeficient: boolean;
  n1: number;
  n2: number;
  d: number;
  components: FadComponents;
  /** Which route computed the trace term. */
  method: 'cholesky' | 'eigen' | 'gram';
  /** true when the ε·I fallback was needed. */
  epsilonAdded: boolean;
}

/** Mean and n−1 covariance of an embedding set. `name` labels errors. */
export function embeddingStats(x: MatrixInput, name = 'embeddings'): GaussianStats {
  const m = toDense(x, name);
  if (m.rows < 2) {
    throw new InsufficientDataError(`${name}: FAD needs at least 2 embeddings (rows) for an n−1 covariance, got ${m.rows}`, {
      details: { rows: m.rows },
    });
  }
  if (m.cols < 1) throw new InvalidArgumentError(`${name}: embeddings have 0 dimensions`);
  const { mean, cov } = meanAndCovariance(m.data, m.rows, m.cols);
  const centered = m.data; // the dense copy is ours: centre it in place
  for (let r = 0; r < m.rows; r++) for (let j = 0; j < m.cols; j++) centered[r * m.cols + j] -= mean[j];
  return { n: m.rows, d: m.cols, mean, cov, centered };
}

function trace(a: Float64Array, d: number): number {
  let t = 0;
  for (let i = 0; i < d; i++) t += a[i * d + i];
  return t;
}

/**
 * Σ √λ over the eigenvalues of a PSD matrix. Eigenvalues below size·ε·λmax are round-off of exact zeros
 * (rank-deficient products) and count as 0: their square roots would otherwise add ~√ε·√λmax each.
 */
function sumSqrtClipped(values: Float64Array): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  const floor = values.length * 2 ** -52 * max;
  let s = 0;
  for (const v of values) if (v > floor) s += Math.sqrt(v);
  return s;
}

/** Tr((S1·S2)^½) through a Cholesky factor of `s1` (null when `s1` is not clearly positive definite). */
function traceSqrtCholesky(s1: Float64Array, s2: Float64Array, d: number): number | null {
  const l = cholesky(s1, d);
  if (!l) return null;
  const m = congruenceLower(l, s2, d);
  return sumSqrtClipped(symmetricEigen(m, d, false).values);
}

/** Tr((S1·S2)^½) through the eigendecomposition of `s1` restricted to its positive eigenvalues. */
function traceSqrtEigen(s1: Float64Array, s2: Float64Array, d: number): number {
  const { values, vectors } = symmetricEigen(s1, d, true);
  const keep: number[] = [];
  for (let i = 0; i < d; i++) if (values[i] > 0) keep.push(i);
  const r = keep.length;
  if (r === 0) return 0;
  // Zᵀ [r, d]: row k = √λ_k · u_k
  const zt = new Float64Array(r * d);
  for (let k = 0; k < r; k++) {
    const i = keep[k];
    const sq = Math.sqrt(values[i]);
    for (let j = 0; j < d; j++) zt[k * d + j] = sq * vectors![i * d + j];
  }
  // M = Zᵀ·S2·Z: (ZᵀS2)[a, j] = Σ_q Zᵀ[a, q]·S2[j, q] (S2 symmetric), then M[a, b] = Σ_j (ZᵀS2)[a, j]·Zᵀ[b, j]
  const zs = gemmNT(zt, s2, r, d, d);
  const m = gemmNT(zs, zt, r, r, d, { upper: true });
  mirrorUpper(m, r);
  return sumSqrtClipped(symmetricEigen(m, r, false).values);
}

/** Tr((Σ1·Σ2)^½) in sample space from centred samples (see the module comment). */
function traceSqrtGram(s1: GaussianStats, s2: GaussianStats): number {
  const [a, b] = s1.n <= s2.n ? [s1, s2] : [s2, s1];
  const d = a.d;
  const c = gemmNT(a.centered!, b.centered!, a.n, b.n, d); // [na, nb]
  const g = gemmNT(c, c, a.n, a.n, b.n, { upper: true }); // C·Cᵀ [na, na]
  const scale = 1 / ((a.n - 1) * (b.n - 1));
  for (let i = 0; i < g.length; i++) g[i] *= scale;
  mirrorUpper(g, a.n);
  return sumSqrtClipped(symmetricEigen(g, a.n, false).values);
}

function addDiagonal(a: Float64Array, d: number, eps: number): Float64Array {
  const b = Float64Array.from(a);
  for (let i = 0; i < d; i++) b[i * d + i] += eps;
  return b;
}

function traceSqrtProduct(
  s1: GaussianStats,
  s2: GaussianStats,
  method: FadMethod,
  eps: number | null,
): { value: number; method: 'cholesky' | 'eigen' | 'gram' } {
  const d = s1.d;
  const haveSamples = s1.centered !== undefined && s2.centered !== undefined;
  // Sample space pays off when a set has fewer samples than dimensions and C = [n1, n2] stays small.
  const gramCheap = Math.min(s1.n, s2.n) < d && s1.n * s2.n <= 16 * d * d;
  if (eps === null && (method === 'gram' || (method === 'auto' && haveSamples && gramCheap))) {
    if (!haveSamples) {
      throw new InvalidArgumentError('FAD: the gram route needs the samples (use fad() / embeddingStats(), not bare mean/covariance)');
    }
    if (s1.n * s2.n > 5e7) {
      throw new InvalidArgumentError(`FAD: the gram route would build a ${s1.n}×${s2.n} matrix; use method auto or eigen`);
    }
    return { value: traceSqrtGram(s1, s2), method: 'gram' };
  }
  const c1 = eps === null ? s1.cov : addDiagonal(s1.cov, d, eps);
  const c2 = eps === null ? s2.cov : addDiagonal(s2.cov, d, eps);
  if (method === 'auto') {
    // Factor the set more likely to be well conditioned first; the trace term is symmetric in 1↔2.
    const order: Array<[Float64Array, Float64Array, number]> =
      s1.n >= s2.n ? [[c1, c2, s1.n], [c2, c1, s2.n]] : [[c2, c1, s2.n], [c1, c2, s1.n]];
    for (const [a, b, n] of order) {
      if (n <= d && eps === null) continue; // singular: Cholesky would only succeed by round-off
      const v = traceSqrtCholesky(a, b, d);
      if (v !== null) return { value: v, method: 'cholesky' };
    }
  }
  // Eigen route: decompose the covariance of the smaller set (lower rank → smaller inner problem).
  const [a, b] = s1.n <= s2.n ? [c1, c2] : [c2, c1];
  return { value: traceSqrtEigen(a, b, d), method: 'eigen' };
}

/** FAD between two Gaussians given by their statistics. */
export function frechetDistance(s1: GaussianStats, s2: GaussianStats, options: FadOptions = {}): FadResult {
  if (s1.d !== s2.d) {
    throw new InvalidArgumentError(`FAD: embedding dimensions differ (set 1 has d = ${s1.d}, set 2 has d = ${s2.d})`);
  }
  const method = options.method ?? 'auto';
  if (method !== 'auto' && method !== 'eigen' && method !== 'gram') {
    throw new InvalidArgumentError(`FAD: unknown method "${String(method)}" (expected auto, eigen or gram)`);
  }
  const eps = options.epsilon ?? 1e-6;
  if (!(eps > 0) || !Number.isFinite(eps)) throw new InvalidArgumentError(`FAD: epsilon must be a positive number, got ${eps}`);
  const d = s1.d;
  let meanSqDiff = 0;
  for (let j = 0; j < d; j++) {
    const t = s1.mean[j] - s2.mean[j];
    meanSqDiff += t * t;
  }
  const traceSigma1 = trace(s1.cov, d);
  const traceSigma2 = trace(s2.cov, d);
  let epsilonAdded = false;
  let ts: { value: number; method: 'cholesky' | 'eigen' | 'gram' };
  try {
    ts = traceSqrtProduct(s1, s2, method, null);
    if (!Number.isFinite(ts.value)) throw new NumericError('non-finite trace term');
  } catch (e) {
    if (!(e instanceof NumericError)) throw e;
    epsilonAdded = true;
    ts = traceSqrtProduct(s1, s2, method, eps);
  }
  const fad = meanSqDiff + traceSigma1 + traceSigma2 - 2 * ts.value;
  if (!Number.isFinite(fad)) {
    throw new NumericError(`FAD is not finite (mean term ${meanSqDiff}, traces ${traceSigma1}, ${traceSigma2}, sqrt term ${ts.value})`);
  }
  return {
    fad,
    rankDeficient: s1.n <= d || s2.n <= d,
    n1: s1.n,
    n2: s2.n,
    d,
    components: { meanSqDiff, traceSigma1, traceSigma2, traceSqrtProduct: ts.value },
    method: ts.method,
    epsilonAdded,
  };
}

/**
 * FAD between two embedding sets `[n1, d]` and `[n2, d]` (rows = embeddings).
 * @throws InsufficientDataError when a set has fewer than 2 rows; InvalidArgumentError on shape mismatch.
 */
export function fad(a: MatrixInput, b: MatrixInput, options: FadOptions & { names?: [string, string] } = {}): FadResult {
  const [na, nb] = options.names ?? ['set a', 'set b'];
  return frechetDistance(embeddingStats(a, na), embeddingStats(b, nb), options);
}

export interface FadInfinityOptions extends FadOptions {
  /** Number of subset sizes (default 25, as fadtk). */
  steps?: number;
  /** Smallest subset size (default 500, as fadtk; clipped to the eval set size). */
  minN?: number;
  /** Seed for the bootstrap draws (default 0). */
  seed?: number | string;
}

export interface FadInfinityResult {
  /** Intercept of the linear fit FAD(n) ≈ fadInf + slope / n. */
  fadInf: number;
  slope: number;
  /** Coefficient of determination of the fit. */
  r2: number;
  /** (n, FAD) per subset size. */
  points: Array<{ n: number; fad: number }>;
  rankDeficient: boolean;
}

/**
 * FAD∞ (Gui et al. 2024, fadtk `score_inf`): FAD of the background set against bootstrap subsets
 * (drawn with replacement) of the eval set for `steps` sizes evenly spaced in [minN, n_eval], then the
 * intercept of a least-squares line in 1/n.
 */
export function fadInfinity(background: MatrixInput, evalSet: MatrixInput, options: FadInfinityOptions = {}): FadInfinityResult {
  const steps = options.steps ?? 25;
  if (!Number.isInteger(steps) || steps < 2) throw new InvalidArgumentError(`FAD∞: steps must be an integer ≥ 2, got ${steps}`);
  const base = embeddingStats(background, 'background set');
  const ev = toDense(evalSet, 'eval set');
  if (ev.cols !== base.d) {
    throw new InvalidArgumentError(`FAD∞: embedding dimensions differ (background d = ${base.d}, eval d = ${ev.cols})`);
  }
  const maxN = ev.rows;
  const minN = Math.min(options.minN ?? 500, maxN);
  if (minN < 2) throw new InsufficientDataError(`FAD∞: the eval set needs at least 2 rows, got ${maxN}`);
  const rng = new Rng(options.seed ?? 0);
  const d = base.d;
  const points: Array<{ n: number; fad: number }> = [];
  let rankDeficient = base.n <= d;
  for (let s = 0; s < steps; s++) {
    const n = Math.floor(minN + ((maxN - minN) * s) / (steps - 1));
    const sub = new Float64Array(n * d);
    for (let r = 0; r < n; r++) {
      const src = rng.int(0, maxN);
      sub.set(ev.data.subarray(src * d, src * d + d), r * d);
    }
    const { mean, cov } = meanAndCovariance(sub, n, d);
    const res = frechetDistance(base, { n, d, mean, cov }, options);
    rankDeficient ||= res.rankDeficient;
    points.push({ n, fad: res.fad });
  }
  // Least squares fad = intercept + slope·(1/n)
  const xs = points.map((p) => 1 / p.n);
  const ys = points.map((p) => p.fad);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
    syy += (ys[i] - my) ** 2;
  }
  if (sxx === 0) throw new InsufficientDataError(`FAD∞: all subset sizes are equal (minN = maxN = ${maxN}); need more eval rows`);
  const slope = sxy / sxx;
  const fadInf = my - slope * mx;
  let ssRes = 0;
  for (let i = 0; i < xs.length; i++) ssRes += (ys[i] - (fadInf + slope * xs[i])) ** 2;
  const r2 = syy === 0 ? 1 : 1 - ssRes / syy;
  return { fadInf, slope, r2, points, rankDeficient };
}
