/**
 * Indices of the k largest values (ties: lower index first), computed on plain arrays outside the
 * gradient path. Candidates where `allowed(i)` is false are skipped.
 */
export function topKIndices(values: ArrayLike<number>, k: number, allowed: (i: number) => boolean = () => true): number[] {
  const idx: number[] = [];
  for (let i = 0; i < values.length; i++) if (allowed(i)) idx.push(i);
  idx.sort((a, b) => values[b] - values[a] || a - b);
  return idx.slice(0, Math.min(k, idx.length));
}

/** Indices of the k smallest values (ties: lower index first). */
export function bottomKIndices(values: ArrayLike<number>, k: number, allowed: (i: number) => boolean = () => true): number[] {
  const idx: number[] = [];
  for (let i = 0; i < values.length; i++) if (allowed(i)) idx.push(i);
  idx.sort((a, b) => values[a] - values[b] || a - b);
  return idx.slice(0, Math.min(k, idx.length));
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
