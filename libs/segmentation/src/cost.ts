import { InvalidArgumentError, NumericError } from '@vmr/core';
import type { Signal } from './signal';

/** Regularisation added to the covariance diagonal (ruptures CostNormal `add_small_diag=True`). */
export const NORMAL_COST_EPS = 1e-6;

export type CostName = 'normal' | 'l2';
export const COST_NAMES: readonly CostName[] = ['normal', 'l2'];

/**
 * A segment cost `c(y[start:end])` on a fitted signal, evaluated from prefix sums in O(d³)
 * (normal) or O(d) (l2) per segment, independent of the segment length.
 */
export interface SegmentCost {
  readonly name: CostName;
  /** The model's own minimum segment length (ruptures: normal 2, l2 1). */
  readonly minSize: number;
  readonly nSamples: number;
  readonly nDims: number;
  /** Cost of samples [start, end). */
  error(start: number, end: number): number;
  /**
   * Costs of the segments ending at `end` that start at `firstStart + t * step`, t = 0..count-1,
   * written to `out[0..count)`. The hot loop of the dynamic programme.
   */
  errorsTo(end: number, firstStart: number, step: number, count: number, out: Float64Array): void;
}

/**
 * Prefix sums of the signal in double-double precision (hi + lo, TwoSum accumulation), shifted per
 * dimension by the rounded global mean. The shift keeps integer-valued data integer (so symmetric
 * segments get bit-identical costs, as in ruptures) and removes most of the cancellation in
 * Σy² − (Σy)²/n; the compensation keeps a segment's sums accurate to its own magnitude, not the
 * magnitude of the whole prefix (which matters for n in the tens of thousands).
 * A segment's sum is `(hi[e] − hi[b]) + (lo[e] − lo[b])`.
 */
class Prefix {
  readonly n: number;
  readonly d: number;
  /** [n+1, d]: S[i] = Σ_{t<i} y_t */
  readonly s: Float64Array;
  readonly sLo: Float64Array;
  /** [n+1, d, d]: Σ_{t<i} y_t y_tᵀ */
  readonly ss: Float64Array;
  readonly ssLo: Float64Array;

  constructor(sig: Signal) {
    const { n, d, data } = sig;
    this.n = n;
    this.d = d;
    const shift = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += data[i * d + j];
      shift[j] = Math.round(m / n);
    }
    const dd = d * d;
    const s = new Float64Array((n + 1) * d);
    const sLo = new Float64Array((n + 1) * d);
    const ss = new Float64Array((n + 1) * dd);
    const ssLo = new Float64Array((n + 1) * dd);
    const y = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        y[j] = data[i * d + j] - shift[j];
        twoSumInto(s, sLo, i * d + j, (i + 1) * d + j, y[j]);
      }
      for (let a = 0; a < d; a++) {
        for (let b = 0; b < d; b++) twoSumInto(ss, ssLo, i * dd + a * d + b, (i + 1) * dd + a * d + b, y[a] * y[b]);
      }
    }
    this.s = s;
    this.sLo = sLo;
    this.ss = ss;
    this.ssLo = ssLo;
  }
}

/** hi[to] + lo[to] = hi[from] + lo[from] + x, with the rounding error of the addition kept in lo. */
function twoSumInto(hi: Float64Array, lo: Float64Array, from: number, to: number, x: number): void {
  const a = hi[from];
  const t = a + x;
  const bp = t - a;
  const err = a - (t - bp) + (x - bp);
  hi[to] = t;
  lo[to] = lo[from] + err;
}

function checkRange(cost: SegmentCost, start: number, end: number): void {
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= cost.nSamples && end > start)) {
    throw new InvalidArgumentError(`${cost.name} cost: segment [${start}, ${end}) is not inside [0, ${cost.nSamples})`);
  }
  if (end - start < cost.minSize) {
    throw new InvalidArgumentError(
      `${cost.name} cost: segment [${start}, ${end}) has ${end - start} samples, the cost needs at least ${cost.minSize}`,
    );
  }
}

/**
 * log |det A| of a d×d matrix (row-major, overwritten) by LU with partial pivoting — the quantity
 * numpy's `slogdet(...)[1]` returns. −Infinity for an exactly singular matrix.
 */
export function logAbsDet(a: Float64Array, d: number): number {
  let logdet = 0;
  for (let c = 0; c < d; c++) {
    let p = c;
    let best = Math.abs(a[c * d + c]);
    for (let r = c + 1; r < d; r++) {
      const v = Math.abs(a[r * d + c]);
      if (v > best) {
        best = v;
        p = r;
      }
    }
    if (best === 0) return -Infinity;
    if (p !== c) {
      for (let k = 0; k < d; k++) {
        const t = a[c * d + k];
        a[c * d + k] = a[p * d + k];
        a[p * d + k] = t;
      }
    }
    const piv = a[c * d + c];
    logdet += Math.log(Math.abs(piv));
    for (let r = c + 1; r < d; r++) {
      const f = a[r * d + c] / piv;
      if (f === 0) continue;
      for (let k = c + 1; k < d; k++) a[r * d + k] -= f * a[c * d + k];
    }
  }
  return logdet;
}

/**
 * Gaussian (mean + covariance) cost, ruptures `CostNormal` semantics:
 * `c = |I| · log det(Σ̂_I + ε·Id)`, ε = 1e-6; 1-D: Σ̂ = population variance; d > 1: Σ̂ = the n−1 covariance.
 */
export class NormalCost implements SegmentCost {
  readonly name = 'normal' as const;
  readonly minSize = 2;
  readonly nSamples: number;
  readonly nDims: number;
  private readonly p: Prefix;
  private readonly scratch: Float64Array;
  /** invLen[l] = 1 / l (multiplications instead of divisions in the hot loop). */
  private readonly invLen: Float64Array;

  constructor(signal: Signal) {
    this.p = new Prefix(signal);
    this.nSamples = signal.n;
    this.nDims = signal.d;
    this.scratch = new Float64Array(signal.d * signal.d);
    this.invLen = new Float64Array(signal.n + 1);
    for (let l = 1; l <= signal.n; l++) this.invLen[l] = 1 / l;
  }

  error(start: number, end: number): number {
    checkRange(this, start, end);
    const out = new Float64Array(1);
    this.errorsTo(end, start, 1, 1, out);
    return out[0];
  }

  errorsTo(end: number, firstStart: number, step: number, count: number, out: Float64Array): void {
    const d = this.nDims;
    const { s, sLo, ss, ssLo } = this.p;
    if (d === 1) {
      const se = s[end];
      const seLo = sLo[end];
      const sse = ss[end];
      const sseLo = ssLo[end];
      const inv = this.invLen;
      for (let t = 0, b = firstStart; t < count; t++, b += step) {
        const len = end - b;
        const il = inv[len];
        const sum = se - s[b] + (seLo - sLo[b]);
        const sq = sse - ss[b] + (sseLo - ssLo[b]);
        const v = (sq - sum * sum * il) * il;
        out[t] = len * Math.log(v > 0 ? v + NORMAL_COST_EPS : NORMAL_COST_EPS);
      }
      return;
    }
    const dd = d * d;
    const a = this.scratch;
    for (let t = 0, b = firstStart; t < count; t++, b += step) {
      const len = end - b;
      for (let i = 0; i < d; i++) {
        const si = s[end * d + i] - s[b * d + i] + (sLo[end * d + i] - sLo[b * d + i]);
        for (let j = i; j < d; j++) {
          const sj = s[end * d + j] - s[b * d + j] + (sLo[end * d + j] - sLo[b * d + j]);
          const q = i * d + j;
          const sxy = ss[end * dd + q] - ss[b * dd + q] + (ssLo[end * dd + q] - ssLo[b * dd + q]);
          let c = (sxy - (si * sj) / len) / (len - 1);
          if (i === j) {
            if (c < 0) c = 0;
            c += NORMAL_COST_EPS;
          }
          a[i * d + j] = c;
          a[j * d + i] = c;
        }
      }
      out[t] = len * logAbsDet(a, d);
    }
  }
}

/** L2 cost: the sum of squared deviations from the segment mean (ruptures `CostL2`). */
export class L2Cost implements SegmentCost {
  readonly name = 'l2' as const;
  readonly minSize = 1;
  readonly nSamples: number;
  readonly nDims: number;
  private readonly p: Prefix;

  constructor(signal: Signal) {
    this.p = new Prefix(signal);
    this.nSamples = signal.n;
    this.nDims = signal.d;
  }

  error(start: number, end: number): number {
    checkRange(this, start, end);
    const out = new Float64Array(1);
    this.errorsTo(end, start, 1, 1, out);
    return out[0];
  }

  errorsTo(end: number, firstStart: number, step: number, count: number, out: Float64Array): void {
    const d = this.nDims;
    const dd = d * d;
    const { s, sLo, ss, ssLo } = this.p;
    for (let t = 0, b = firstStart; t < count; t++, b += step) {
      const len = end - b;
      let total = 0;
      for (let j = 0; j < d; j++) {
        const sum = s[end * d + j] - s[b * d + j] + (sLo[end * d + j] - sLo[b * d + j]);
        const q = j * d + j;
        const v = ss[end * dd + q] - ss[b * dd + q] + (ssLo[end * dd + q] - ssLo[b * dd + q]) - (sum * sum) / len;
        total += v > 0 ? v : 0;
      }
      out[t] = total;
    }
  }
}

/** Build the named cost on a signal. */
export function createCost(name: CostName, signal: Signal): SegmentCost {
  switch (name) {
    case 'normal':
      return new NormalCost(signal);
    case 'l2':
      return new L2Cost(signal);
    default:
      throw new InvalidArgumentError(`unknown cost "${String(name)}"; expected one of ${COST_NAMES.join(', ')}`);
  }
}

/**
 * Direct (two-pass, per-segment) evaluation of a segment cost — the way ruptures computes it with
 * numpy. O(|I|·d²); used to report the total cost of a chosen segmentation, and in tests.
 */
export function directSegmentCost(name: CostName, signal: Signal, start: number, end: number): number {
  const { n, d, data } = signal;
  const len = end - start;
  const minSize = name === 'normal' ? 2 : 1;
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= n && len >= minSize)) {
    throw new InvalidArgumentError(`${name} cost: segment [${start}, ${end}) is not a valid segment of ${n} samples (min ${minSize})`);
  }
  const mean = new Float64Array(d);
  for (let i = start; i < end; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= len;
  if (name === 'l2' || d === 1) {
    // l2: Σ_j Σ_i (y_ij − mean_j)²; normal 1-D: population variance (numpy's two-pass `var()`).
    let total = 0;
    for (let j = 0; j < d; j++) {
      let acc = 0;
      for (let i = start; i < end; i++) {
        const z = data[i * d + j] - mean[j];
        acc += z * z;
      }
      total += acc;
    }
    return name === 'l2' ? total : len * Math.log(total / len + NORMAL_COST_EPS);
  }
  const a = new Float64Array(d * d);
  for (let i = start; i < end; i++) {
    for (let p = 0; p < d; p++) {
      const zp = data[i * d + p] - mean[p];
      for (let q = p; q < d; q++) a[p * d + q] += zp * (data[i * d + q] - mean[q]);
    }
  }
  for (let p = 0; p < d; p++) {
    for (let q = p; q < d; q++) {
      const c = a[p * d + q] / (len - 1) + (p === q ? NORMAL_COST_EPS : 0);
      a[p * d + q] = c;
      a[q * d + p] = c;
    }
  }
  const v = len * logAbsDet(a, d);
  if (Number.isNaN(v)) throw new NumericError(`normal cost of segment [${start}, ${end}) is NaN`);
  return v;
}

/**
 * Total cost of a segmentation given in ruptures' convention (ascending end indices, last = n),
 * evaluated directly segment by segment and summed left to right.
 */
export function sumOfCosts(name: CostName, signal: Signal, breakpoints: readonly number[]): number {
  let total = 0;
  let start = 0;
  for (const end of breakpoints) {
    total += directSegmentCost(name, signal, start, end);
    start = end;
  }
  if (start !== signal.n) {
    throw new InvalidArgumentError(`breakpoints must end with n = ${signal.n}, got [${breakpoints.join(', ')}]`);
  }
  return total;
}
