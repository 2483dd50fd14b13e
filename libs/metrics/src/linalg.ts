/**
 * Dense float64 linear algebra used by FAD: covariance, Cholesky, products and a symmetric eigensolver
 * (Householder tridiagonalisation + implicit QL, the classic tred2/tql2 scheme), all on flat row-major
 * `Float64Array`s. Written for speed on the JS JIT: inner loops run over contiguous memory.
 */
import { NumericError } from '@vmr/core';

/** A dense row-major matrix `[rows, cols]`. */
export interface DenseMatrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/**
 * `C = A·Bᵀ` for row-major `A` `[m, K]` and `B` `[n, K]` (every entry a dot product of two contiguous
 * rows), in 4×2 register blocks: the JS JIT keeps the 8 accumulators in registers, ≈ 2–3 GFLOP/s.
 * - `upper`: only blocks touching the upper triangle (j ≥ i) are computed (the caller mirrors);
 * - `triA`: row i of `A` is zero before column i (an upper-triangular `A`, e.g. `Lᵀ`), so sums start at i.
 */
export function gemmNT(
  a: Float64Array,
  b: Float64Array,
  m: number,
  n: number,
  K: number,
  opts: { upper?: boolean; triA?: boolean } = {},
): Float64Array {
  const c = new Float64Array(m * n);
  const upper = opts.upper === true;
  const triA = opts.triA === true;
  const m4 = m - (m % 4);
  const n2 = n - (n % 2);
  for (let i = 0; i < m4; i += 4) {
    const a0 = i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
    const k0 = triA ? i : 0;
    const jStart = upper ? i - (i % 2) : 0;
    for (let j = jStart; j < n2; j += 2) {
      const b0 = j * K, b1 = b0 + K;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let k = k0; k < K; k++) {
        const v0 = b[b0 + k], v1 = b[b1 + k];
        const u0 = a[a0 + k];
        s00 += u0 * v0;
        s01 += u0 * v1;
        const u1 = a[a1 + k];
        s10 += u1 * v0;
        s11 += u1 * v1;
        const u2 = a[a2 + k];
        s20 += u2 * v0;
        s21 += u2 * v1;
        const u3 = a[a3 + k];
        s30 += u3 * v0;
        s31 += u3 * v1;
      }
      const r0 = i * n + j, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
      c[r0] = s00; c[r0 + 1] = s01;
      c[r1] = s10; c[r1 + 1] = s11;
      c[r2] = s20; c[r2 + 1] = s21;
      c[r3] = s30; c[r3 + 1] = s31;
    }
  }
  // Remainders: the last n % 2 columns for the blocked rows, then the last m % 4 rows.
  for (let i = 0; i < m; i++) {
    const j0 = i < m4 ? n2 : upper ? Math.max(0, i) : 0;
    const ai = i * K;
    const k0 = triA ? i : 0;
    for (let j = j0; j < n; j++) {
      const bj = j * K;
      let s = 0;
      for (let k = k0; k < K; k++) s += a[ai + k] * b[bj + k];
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Copy the upper triangle onto the lower one (in place). */
export function mirrorUpper(a: Float64Array, d: number): void {
  for (let r = 0; r < d; r++) for (let c = r + 1; c < d; c++) a[c * d + r] = a[r * d + c];
}

/** Transpose of a row-major `[m, n]` matrix. */
export function transpose(a: Float64Array, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  return t;
}

/**
 * Column means and the unbiased (n−1) covariance of `x` `[n, d]` (row-major).
 * Returns `mean` `[d]` and `cov` `[d, d]` (symmetric, both triangles filled).
 */
export function meanAndCovariance(x: Float64Array, n: number, d: number): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) mean[j] += x[o + j];
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  if (n < 2) return { mean, cov: new Float64Array(d * d) };
  // Centred, transposed copy [d, n]: covariance entries are dot products of contiguous rows.
  const xt = new Float64Array(d * n);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) xt[j * n + r] = x[o + j] - mean[j];
  }
  const cov = gemmNT(xt, xt, d, d, n, { upper: true });
  const inv = 1 / (n - 1);
  for (let i = 0; i < cov.length; i++) cov[i] *= inv;
  mirrorUpper(cov, d);
  return { mean, cov };
}

/**
 * Lower Cholesky factor `L` (`A = L·Lᵀ`) of a symmetric matrix, or `null` when a pivot is not clearly
 * positive (≤ `relTol` × the largest diagonal entry): the caller then takes the eigen route.
 */
export function cholesky(a: Float64Array, d: number, relTol = 1e-10): Float64Array | null {
  let maxDiag = 0;
  for (let i = 0; i < d; i++) maxDiag = Math.max(maxDiag, a[i * d + i]);
  if (!(maxDiag > 0)) return null;
  const floor = relTol * maxDiag;
  const l = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const rj = j * d;
    let s = a[rj + j];
    for (let k = 0; k < j; k++) s -= l[rj + k] * l[rj + k];
    if (!(s > floor)) return null;
    const ljj = Math.sqrt(s);
    l[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < d; i++) {
      const ri = i * d;
      let t = a[ri + j];
      for (let k = 0; k < j; k++) t -= l[ri + k] * l[rj + k];
      l[ri + j] = t * inv;
    }
  }
  return l;
}

/** `Lᵀ·S·L` for lower-triangular `L` and symmetric `S` (both `[d, d]`), exploiting the triangle. */
export function congruenceLower(l: Float64Array, s: Float64Array, d: number): Float64Array {
  const lt = transpose(l, d, d); // upper triangular: row i is zero before column i
  // Tᵀ[j, i] = Σ_q Lᵀ[j, q]·S[i, q]  (S symmetric)
  const tt = gemmNT(lt, s, d, d, d, { triA: true });
  // M[i, j] = Σ_p Lᵀ[i, p]·Tᵀ[j, p]
  const m = gemmNT(lt, tt, d, d, d, { triA: true, upper: true });
  mirrorUpper(m, d);
  return m;
}

export interface SymmetricEigen {
  /** Eigenvalues in ascending order. */
  values: Float64Array;
  /**
   * Eigenvectors as ROWS of a `[d, d]` row-major matrix (row i is the unit eigenvector of values[i]),
   * present when requested.
   */
  vectors?: Float64Array;
}

const EPS = 2 ** -52;
const MAX_QL_ITERATIONS = 60;

/**
 * Eigendecomposition of a real symmetric matrix `a` `[d, d]` (not modified). Householder reduction to
 * tridiagonal form then the implicit QL algorithm with Wilkinson-style shifts. Values only skips the
 * accumulation of transformations (about 3× cheaper).
 * @throws NumericError on non-finite input or when QL fails to converge.
 */
export function symmetricEigen(a: Float64Array, d: number, withVectors = false): SymmetricEigen {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new NumericError(`symmetric eigendecomposition: matrix has a non-finite entry at index ${i}`);
  }
  // W holds Vᵀ of the textbook formulation (V[r][c] = W[c*d + r]) so the hot loops are contiguous.
  const w = Float64Array.from(a);
  const diag = new Float64Array(d);
  const off = new Float64Array(d);
  tridiagonalize(w, diag, off, d, withVectors);
  qlImplicit(diag, off, withVectors ? w : null, d);
  // Sort ascending (selection sort on values, swapping vector rows).
  const order = Array.from({ length: d }, (_, i) => i).sort((p, q) => diag[p] - diag[q]);
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = diag[order[i]];
  if (!withVectors) return { values };
  // Column c of V (eigenvector c) is row c of W.
  const vectors = new Float64Array(d * d);
  for (let i = 0; i < d; i++) vectors.set(w.subarray(order[i] * d, order[i] * d + d), i * d);
  return { values, vectors };
}

/** Householder tridiagonalisation (tred2). `w` stores Vᵀ; on exit diag/off hold the tridiagonal form. */
function tridiagonalize(w: Float64Array, dg: Float64Array, e: Float64Array, n: number, accumulate: boolean): void {
  // V[r][c] ≡ w[c*n + r]
  for (let j = 0; j < n; j++) dg[j] = w[j * n + (n - 1)];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(dg[k]);
    if (scale === 0) {
      e[i] = dg[i - 1];
      for (let j = 0; j < i; j++) {
        dg[j] = w[j * n + (i - 1)];
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        dg[k] /= scale;
        h += dg[k] * dg[k];
      }
      let f = dg[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      dg[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = dg[j];
        const cj = j * n; // column j of V
        w[i * n + j] = f; // V[j][i] = f
        g = e[j] + w[cj + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const vkj = w[cj + k];
          g += vkj * dg[k];
          e[k] += vkj * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * dg[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * dg[j];
      for (let j = 0; j < i; j++) {
        f = dg[j];
        g = e[j];
        const cj = j * n;
        for (let k = j; k <= i - 1; k++) w[cj + k] -= f * e[k] + g * dg[k];
        dg[j] = w[cj + (i - 1)];
        w[cj + i] = 0; // V[i][j] = 0
      }
    }
    dg[i] = h;
  }
  if (accumulate) {
    for (let i = 0; i < n - 1; i++) {
      const ci = i * n;
      const ci1 = (i + 1) * n;
      w[ci + (n - 1)] = w[ci + i]; // V[n-1][i] = V[i][i]
      w[ci + i] = 1;
      const h = dg[i + 1];
      if (h !== 0) {
        for (let k = 0; k <= i; k++) dg[k] = w[ci1 + k] / h;
        for (let j = 0; j <= i; j++) {
          const cj = j * n;
          let g = 0;
          for (let k = 0; k <= i; k++) g += w[ci1 + k] * w[cj + k];
          for (let k = 0; k <= i; k++) w[cj + k] -= g * dg[k];
        }
      }
      for (let k = 0; k <= i; k++) w[ci1 + k] = 0;
    }
    for (let j = 0; j < n; j++) {
      dg[j] = w[j * n + (n - 1)];
      w[j * n + (n - 1)] = 0;
    }
    w[(n - 1) * n + (n - 1)] = 1;
  } else {
    // Diagonal of the tridiagonal form without accumulating: d[j] = V[j][j] after the sweep.
    for (let j = 0; j < n; j++) dg[j] = w[j * n + j];
  }
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (tql2). `w` (Vᵀ) is rotated when given. */
function qlImplicit(dg: Float64Array, e: Float64Array, w: Float64Array | null, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(dg[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= EPS * tst1) break;
      m++;
    }
    if (m === n) m = n - 1;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > MAX_QL_ITERATIONS) {
          throw new NumericError(`symmetric eigendecomposition did not converge (eigenvalue ${l} of ${n})`);
        }
        let g = dg[l];
        let p = (dg[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        dg[l] = e[l] / (p + r);
        dg[l + 1] = e[l] * (p + r);
        const dl1 = dg[l + 1];
        let h = g - dg[l];
        for (let i = l + 2; i < n; i++) dg[i] -= h;
        f += h;
        p = dg[m];
        let c = 1, c2 = 1, c3 = 1;
        const el1 = e[l + 1];
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * dg[i] - s * g;
          dg[i + 1] = h + s * (c * g + s * dg[i]);
          if (w) {
            const ci = i * n;
            const ci1 = ci + n;
            for (let k = 0; k < n; k++) {
              const hk = w[ci1 + k];
              const vk = w[ci + k];
              w[ci1 + k] = s * vk + c * hk;
              w[ci + k] = c * vk - s * hk;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        dg[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    dg[l] = dg[l] + f;
    e[l] = 0;
  }
}
