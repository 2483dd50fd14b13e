import { InvalidArgumentError } from '@vmr/core';
import type { Pooling } from './config';

/** One attention group: sequences padded to a common length `len`. */
export interface AttentionGroup {
  /** Sequence ids (rows of the `[N, L]` mask) in this group. */
  seqs: Int32Array;
  len: number;
  /** `[seqs.length · len]` → packed token index, or -1 for padding. */
  padIndex: Int32Array;
  /** `[seqs.length · len]` 1 = real key, 0 = padding. */
  keyValid: Float32Array;
}

/**
 * How the `[N, L]` padded sequences of a batch are laid out for computation.
 * - `masked-mean`: only valid tokens are computed ("packed" `[T, ·]` layout); attention runs per group of
 *   similar-length sequences padded to the group maximum. Exact: valid tokens never see padding.
 * - `mean-all` (reference protocol): every position is a token, one group of length L.
 */
export interface PackPlan {
  nSeq: number;
  seqLen: number;
  pooling: Pooling;
  /** True when the packed layout is exactly the padded `[N·L]` layout. */
  identity: boolean;
  /** Valid tokens per sequence. */
  lengths: Int32Array;
  /** Packed token → flat index into `[N·L]`. */
  tokenIndex: Int32Array;
  /** Packed token → its position within its sequence (for positional encodings). */
  positions: Int32Array;
  groups: AttentionGroup[];
  /** Concatenated padded group rows → packed token (injective; inverse of the group layout). */
  unpadIndex: Int32Array;
  /** Original sequence i → its row in the concatenation of the groups' sequences. */
  seqRowInGroups: Int32Array;
}

/**
 * Build the plan from a key-padding mask (`1` = real token).
 * @param mask `[N·L]` row-major
 * @param label names the input in error messages (e.g. "batch mask")
 * @param seqName maps a sequence id to a readable name (e.g. "clip 3, segment 7")
 */
export function planPacking(
  mask: ArrayLike<number>,
  nSeq: number,
  seqLen: number,
  pooling: Pooling,
  maxGroups = 8,
  seqName: (i: number) => string = (i) => `sequence ${i}`,
): PackPlan {
  if (mask.length !== nSeq * seqLen) {
    throw new InvalidArgumentError(`mask has ${mask.length} entries, expected ${nSeq}×${seqLen}`);
  }
  const lengths = new Int32Array(nSeq);
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
  }

  if (pooling === 'mean-all') {
    const n = nSeq * seqLen;
    const ident = new Int32Array(n);
    const positions = new Int32Array(n);
    const keyValid = new Float32Array(n);
    for (let t = 0; t < n; t++) {
      ident[t] = t;
      positions[t] = t % seqLen;
      keyValid[t] = mask[t];
    }
    const seqs = Int32Array.from({ length: nSeq }, (_, i) => i);
    return {
      nSeq,
      seqLen,
      pooling,
      identity: true,
      lengths,
      tokenIndex: ident,
      positions,
      groups: [{ seqs, len: seqLen, padIndex: ident, keyValid }],
      unpadIndex: ident,
      seqRowInGroups: seqs,
    };
  }

  // packed tokens, sequence-major
  let total = 0;
  for (let i = 0; i < nSeq; i++) total += lengths[i];
  const tokenIndex = new Int32Array(total);
  const positions = new Int32Array(total);
  const firstToken = new Int32Array(nSeq);
  let t = 0;
  for (let i = 0; i < nSeq; i++) {
    firstToken[i] = t;
    for (let p = 0; p < seqLen; p++) {
      if (mask[i * seqLen + p] === 1) {
        tokenIndex[t] = i * seqLen + p;
        positions[t] = p;
        t++;
      }
    }
  }

  // groups: sort by length, optimal contiguous partition minimising Σ n_g·len_g² (attention work)
  // plus a per-group overhead, with at most maxGroups groups.
  const order = Array.from({ length: nSeq }, (_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const sorted = order.map((i) => lengths[i]);
  const overhead = seqLen * seqLen; // ≈ one extra full-length sequence per group
  const G = Math.max(1, Math.min(maxGroups, nSeq));
  // dp[g][j] = best cost for the first j sequences in g groups
  const INF = Number.POSITIVE_INFINITY;
  const dp: number[][] = Array.from({ length: G + 1 }, () => new Array<number>(nSeq + 1).fill(INF));
  const arg: number[][] = Array.from({ length: G + 1 }, () => new Array<number>(nSeq + 1).fill(-1));
  dp[0][0] = 0;
  for (let g = 1; g <= G; g++) {
    for (let j = 1; j <= nSeq; j++) {
      const len = sorted[j - 1];
      for (let i = g - 1; i < j; i++) {
        if (dp[g - 1][i] === INF) continue;
        const c = dp[g - 1][i] + (j - i) * len * len + overhead;
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

  const groups: AttentionGroup[] = [];
  const unpadIndex = new Int32Array(total);
  const seqRowInGroups = new Int32Array(nSeq);
  let rowBase = 0;
  let seqRow = 0;
  for (const [i0, i1] of bounds) {
    const seqs = Int32Array.from(order.slice(i0, i1));
    const len = sorted[i1 - 1];
    const padIndex = new Int32Array(seqs.length * len).fill(-1);
    const keyValid = new Float32Array(seqs.length * len);
    seqs.forEach((s, r) => {
      seqRowInGroups[s] = seqRow++;
      for (let k = 0; k < lengths[s]; k++) {
        const tok = firstToken[s] + k;
        padIndex[r * len + k] = tok;
        keyValid[r * len + k] = 1;
        unpadIndex[tok] = rowBase + r * len + k;
      }
    });
    rowBase += seqs.length * len;
    groups.push({ seqs, len, padIndex, keyValid });
  }
  return {
    nSeq,
    seqLen,
    pooling,
    identity: false,
    lengths,
    tokenIndex,
    positions,
    groups,
    unpadIndex,
    seqRowInGroups,
  };
}

/** Tokens the plan computes per layer (pointwise work) and padded attention positions. */
export function planCost(plan: PackPlan): { tokens: number; attentionPositions: number; groups: number } {
  let att = 0;
  for (const g of plan.groups) att += g.seqs.length * g.len;
  return { tokens: plan.tokenIndex.length, attentionPositions: att, groups: plan.groups.length };
}
