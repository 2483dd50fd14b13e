import { InvalidArgumentError } from '@vmr/core';
import type { Pooling } from './config';

/** One attention group: sequences padded to a common length `len`, rows `[rowStart, rowStart + seqs.length·len)`. */
export interface AttentionGroup {
  /** Sequence ids (rows of the `[N, L]` mask) in this group. */
  seqs: Int32Array;
  len: number;
  /** First row of this group in the plan's row layout. */
  rowStart: number;
}

/**
 * How the `[N, L]` padded sequences of a batch are laid out for computation: the "group layout".
 * Sequences are sorted by length and cut into groups; each group's sequences are padded to the group's
 * longest, and the groups' rows are concatenated: `rows = Σ_g n_g · len_g`. Every layer (input
 * projection, attention, FFN, norms) runs on this one `[rows, C]` layout, so no per-layer gathers are
 * needed; attention is one batched product per group. Padding rows are computed but never seen by a
 * valid token (keys masked, pooling weight 0): exact, the price is the padding rows' pointwise work,
 * which the grouping minimises.
 * - `masked-mean`: only valid tokens plus the groups' padding rows are computed.
 * - `mean-all` (reference protocol): every position is a token, one group of length L (`identity`).
 */
export interface PackPlan {
  nSeq: number;
  seqLen: number;
  pooling: Pooling;
  /** True when the row layout is exactly the padded `[N·L]` layout. */
  identity: boolean;
  /** Valid tokens per sequence. */
  lengths: Int32Array;
  /** Valid tokens in the batch. */
  tokens: number;
  /** Rows of the group layout. */
  rows: number;
  /** Row → flat index into `[N·L]`, or -1 for a padding row. */
  rowIndex: Int32Array;
  /** Row → position within its sequence (for positional encodings). */
  positions: Int32Array;
  /** Row → 1 for a valid token (a real key), 0 for padding. */
  rowValid: Float32Array;
  groups: AttentionGroup[];
  /** Original sequence i → its index in the concatenation of the groups' sequences. */
  seqRowInGroups: Int32Array;
  /** Rows per sequence in the layout that carry its tokens (its length; L for mean-all). */
  seqRows: Int32Array;
  /** Sequence → its first row. */
  seqFirstRow: Int32Array;
}

/** Cost weights of the grouping objective (in units of one attention score's work). */
export interface GroupingCost {
  /** Pointwise work of one row (projections, FFN, norms) — ≈ 2E + F. */
  perRow: number;
  /** Fixed cost of one more group (per-op overhead of its attention ops). */
  perGroup: number;
}

/**
 * Build the plan from a key-padding mask (`1` = real token).
 * @param mask `[N·L]` row-major
 * @param seqName maps a sequence id to a readable name (e.g. "clip 3, segment 7")
 */
export function planPacking(
  mask: ArrayLike<number>,
  nSeq: number,
  seqLen: number,
  pooling: Pooling,
  maxGroups = 8,
  seqName: (i: number) => string = (i) => `sequence ${i}`,
  cost: GroupingCost = { perRow: 2112, perGroup: 8e5 },
): PackPlan {
  if (mask.length !== nSeq * seqLen) {
    throw new InvalidArgumentError(`mask has ${mask.length} entries, expected ${nSeq}×${seqLen}`);
  }
  const lengths = new Int32Array(nSeq);
  let tokens = 0;
  for (let i = 0; i < nSeq; i++) {
    let c = 0;
    for (let p = 0; p < seqLen; p++) {
      const m = mask[i * seqLen + p];
      if (m !== 0 && m !== 1) {
        throw new InvalidArgumentError(`mask value ${m} at ${seqName(i)}, position ${p}: expected 0 or 1`);
      }
      c += m;
    }
    if (c === 0) {
      throw new InvalidArgumentError(
        `${seqName(i)} is fully padded (mask all zero): every segment needs at least one valid token`,
        { details: { sequence: i } },
      );
    }
    lengths[i] = c;
    tokens += c;
  }

  if (pooling === 'mean-all') {
    const n = nSeq * seqLen;
    const rowIndex = new Int32Array(n);
    const positions = new Int32Array(n);
    const rowValid = new Float32Array(n);
    for (let t = 0; t < n; t++) {
      rowIndex[t] = t;
      positions[t] = t % seqLen;
      rowValid[t] = mask[t];
    }
    const seqs = Int32Array.from({ length: nSeq }, (_, i) => i);
    return {
      nSeq,
      seqLen,
      pooling,
      identity: true,
      lengths,
      tokens,
      rows: n,
      rowIndex,
      positions,
      rowValid,
      groups: [{ seqs, len: seqLen, rowStart: 0 }],
      seqRowInGroups: seqs,
      seqRows: new Int32Array(nSeq).fill(seqLen),
      seqFirstRow: Int32Array.from({ length: nSeq }, (_, i) => i * seqLen),
    };
  }

  // groups: sort by length, optimal contiguous partition minimising
  // Σ_g [n_g·len_g·perRow + n_g·len_g² (attention) + perGroup], at most maxGroups groups
  const order = Array.from({ length: nSeq }, (_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const sorted = order.map((i) => lengths[i]);
  const G = Math.max(1, Math.min(maxGroups, nSeq));
  const INF = Number.POSITIVE_INFINITY;
  const dp: number[][] = Array.from({ length: G + 1 }, () => new Array<number>(nSeq + 1).fill(INF));
  const arg: number[][] = Array.from({ length: G + 1 }, () => new Array<number>(nSeq + 1).fill(-1));
  dp[0][0] = 0;
  for (let g = 1; g <= G; g++) {
    for (let j = 1; j <= nSeq; j++) {
      const len = sorted[j - 1];
      const unit = len * cost.perRow + len * len;
      for (let i = g - 1; i < j; i++) {
        if (dp[g - 1][i] === INF) continue;
        const c = dp[g - 1][i] + (j - i) * unit + cost.perGroup;
        if (c < dp[g][j]) {
          dp[g][j] = c;
          arg[g][j] = i;
        }
      }
    }
  }
  let bestG = 1;
  for (let g = 1; g <= G; g++) if (dp[g][nSeq] < dp[bestG][nSeq]) bestG = g;
  const bounds: Array<[number, number]> = [];
  for (let g = bestG, j = nSeq; g > 0; g--) {
    const i = arg[g][j];
    bounds.unshift([i, j]);
    j = i;
  }

  let rows = 0;
  for (const [i0, i1] of bounds) rows += (i1 - i0) * sorted[i1 - 1];
  const rowIndex = new Int32Array(rows).fill(-1);
  const positions = new Int32Array(rows);
  const rowValid = new Float32Array(rows);
  const groups: AttentionGroup[] = [];
  const seqRowInGroups = new Int32Array(nSeq);
  const seqFirstRow = new Int32Array(nSeq);
  let rowBase = 0;
  let seqRow = 0;
  for (const [i0, i1] of bounds) {
    const seqs = Int32Array.from(order.slice(i0, i1));
    const len = sorted[i1 - 1];
    seqs.forEach((s, r) => {
      seqRowInGroups[s] = seqRow++;
      const first = rowBase + r * len;
      seqFirstRow[s] = first;
      // the k-th valid token of the sequence (at its original position p) goes to row first + k
      let k = 0;
      for (let p = 0; p < seqLen; p++) {
        if (mask[s * seqLen + p] !== 1) continue;
        rowIndex[first + k] = s * seqLen + p;
        positions[first + k] = p;
        rowValid[first + k] = 1;
        k++;
      }
    });
    groups.push({ seqs, len, rowStart: rowBase });
    rowBase += seqs.length * len;
  }
  return {
    nSeq,
    seqLen,
    pooling,
    identity: false,
    lengths,
    tokens,
    rows,
    rowIndex,
    positions,
    rowValid,
    groups,
    seqRowInGroups,
    seqRows: lengths,
    seqFirstRow,
  };
}

/** Valid tokens, computed rows (valid + padding) and attention groups of a plan. */
export function planCost(plan: PackPlan): { tokens: number; rows: number; attentionPositions: number; groups: number } {
  return { tokens: plan.tokens, rows: plan.rows, attentionPositions: plan.rows, groups: plan.groups.length };
}
