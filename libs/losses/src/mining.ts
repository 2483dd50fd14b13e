/**
 * The k best candidates under `better(a, b)` (a strict total order), in order, by one pass keeping a
 * sorted buffer of k: O(n·k) instead of sorting all n (mining runs on N² = 100k candidates per step).
 */
/** Above this k a full sort of the candidates beats the O(n·k) insertion pass. */
const SORT_ABOVE_K = 32;

function selectK(n: number, k: number, allowed: (i: number) => boolean, better: (a: number, b: number) => boolean): number[] {
  const kk = Math.max(0, Math.floor(k));
  const buf: number[] = [];
  if (kk === 0) return buf;
  if (kk > SORT_ABOVE_K) {
    // Large k (e.g. topK ≥ every triplet, the quickstart's all-triplet loss): the insertion pass would be
    // O(n·k) — 5.6 s per step at n = 33k — so sort the allowed candidates instead (same order: `better`
    // is a strict total order).
    for (let i = 0; i < n; i++) if (allowed(i)) buf.push(i);
    buf.sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
    if (buf.length > kk) buf.length = kk;
    return buf;
  }
  for (let i = 0; i < n; i++) {
    if (!allowed(i)) continue;
    if (buf.length === kk && !better(i, buf[kk - 1])) continue;
    let j = buf.length < kk ? buf.length : kk - 1;
    if (buf.length < kk) buf.push(i);
    while (j > 0 && better(i, buf[j - 1])) {
      buf[j] = buf[j - 1];
      j--;
    }
    buf[j] = i;
  }
  return buf;
}

const key = (v: number) => (Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v);

/**
 * Indices of the k largest values (ties: lower index first; NaN ranks lowest), computed on plain
 * arrays outside the gradient path. Candidates where `allowed(i)` is false are skipped.
 */
export function topKIndices(values: ArrayLike<number>, k: number, allowed: (i: number) => boolean = () => true): number[] {
  return selectK(values.length, k, allowed, (a, b) => key(values[a]) > key(values[b]) || (key(values[a]) === key(values[b]) && a < b));
}

/** Indices of the k smallest values (ties: lower index first; NaN ranks lowest, i.e. last here too). */
export function bottomKIndices(values: ArrayLike<number>, k: number, allowed: (i: number) => boolean = () => true): number[] {
  const kb = (v: number) => (Number.isNaN(v) ? Number.POSITIVE_INFINITY : v);
  return selectK(values.length, k, allowed, (a, b) => kb(values[a]) < kb(values[b]) || (kb(values[a]) === kb(values[b]) && a < b));
}

/** Highest-flow (rank 1 = min rank) and lowest-flow (max rank) segment of each clip; ties: earlier segment. */
export function highLowSegments(ranks: ArrayLike<number>, clips: number, segments: number): { high: number[]; low: number[] } {
  const high: number[] = [];
  const low: number[] = [];
  for (let b = 0; b < clips; b++) {
    let hi = 0;
    let lo = 0;
    for (let s = 1; s < segments; s++) {
      const r = ranks[b * segments + s];
      if (r < ranks[b * segments + hi]) hi = s;
      if (r > ranks[b * segments + lo]) lo = s;
    }
    high.push(b * segments + hi);
    low.push(b * segments + lo);
  }
  return { high, low };
}
