/**
 * Retrieval metrics from a similarity matrix (DESIGN.md §1.6): Recall@k, median / mean rank (1-based),
 * mAP, with declared tie policy, direction, gallery size and protocol.
 *
 * The matrix is `[videos, musics]` (rows = videos, columns = music tracks); `direction` picks which side
 * queries. By default query i's only correct item is gallery item i (the diagonal); `positives` gives
 * several correct items per video (multi-positive).
 *
 * Tie policies (items with exactly equal similarity):
 * - `optimistic`: correct items are ranked before tied incorrect ones;
 * - `pessimistic` (default): tied incorrect items are ranked before the correct ones;
 * - `stable`: ties keep gallery order (lower index first), as a stable sort by descending score.
 * A query's rank is the 1-based position of its best-ranked correct item.
 */
import { InsufficientDataError, InvalidArgumentError, Rng } from '@vmr/core';
import { type MatrixInput, toDense } from './matrix-input';

export type TiePolicy = 'optimistic' | 'pessimistic' | 'stable';
export type RetrievalDirection = 'video-to-music' | 'music-to-video';
export type RetrievalProtocol = 'full' | 'batch-128';

export interface RetrievalOptions {
  /** Cut-offs for Recall@k (default [1, 5, 10]); k larger than the gallery counts every query as a hit. */
  ks?: number[];
  tiePolicy?: TiePolicy;
  direction?: RetrievalDirection;
  /**
   * Correct gallery columns per video row (multi-positive). Default: the diagonal (needs a square matrix).
   * For `music-to-video` the relation is transposed.
   */
  positives?: ReadonlyArray<ReadonlyArray<number>>;
  /**
   * `full` (default): every query against the whole gallery. `batch-128`: the reference OF-VM-Net
   * evaluation — a seeded shuffle, consecutive batches of `batchSize` (128) clips, each batch ranked
   * against itself; an incomplete last batch is dropped (the reference code reshapes to a full batch).
   */
  protocol?: RetrievalProtocol;
  /** Seed of the `batch-128` shuffle (default 0). */
  seed?: number | string;
  /** Batch size for `batch-128` (default 128; configurable for small test sets). */
  batchSize?: number;
}

export interface RetrievalResult {
  /** Recall@k per k, as a fraction in [0, 1]. */
  recall: Record<number, number>;
  /** Median of the 1-based ranks (mean of the two middle values for an even count). */
  medianRank: number;
  meanRank: number;
  /** Mean average precision over queries. */
  mAP: number;
  /** Number of queries scored (queries without any correct item are skipped and counted separately). */
  queries: number;
  queriesWithoutPositives: number;
  /** Items each query was ranked against (the batch size under `batch-128`). */
  gallerySize: number;
  direction: RetrievalDirection;
  tiePolicy: TiePolicy;
  protocol: RetrievalProtocol;
  /** `batch-128` only: number of batches and clips dropped from the incomplete last batch. */
  batches?: number;
  droppedClips?: number;
  /** Rank (1-based) of the best correct item per scored query, in query order. */
  ranks: number[];
}

const TIE_POLICIES: readonly TiePolicy[] = ['optimistic', 'pessimistic', 'stable'];

/**
 * Rank positions (1-based, ascending) of all correct items of one query under a tie policy.
 * `scores` is the query's row; `isPos` marks correct gallery items.
 */
export function positiveRanks(scores: ArrayLike<number>, posIdx: readonly number[], tiePolicy: TiePolicy): number[] {
  const n = scores.length;
  const isPos = new Uint8Array(n);
  for (const p of posIdx) isPos[p] = 1;
  const ranks: number[] = [];
  for (const p of posIdx) {
    const sp = scores[p];
    let before = 0;
    for (let j = 0; j < n; j++) {
      if (j === p) continue;
      const sj = scores[j];
      if (sj > sp) before++;
      else if (sj === sp) {
        // tie: does j come before p?
        if (tiePolicy === 'stable') {
          if (j < p) before++;
        } else if (isPos[j]) {
          if (j < p) before++; // correct items among themselves keep gallery order
        } else if (tiePolicy === 'pessimistic') {
          before++;
        }
      }
    }
    ranks.push(before + 1);
  }
  return ranks.sort((a, b) => a - b);
}

function validateOptions(o: RetrievalOptions): Required<Pick<RetrievalOptions, 'ks' | 'tiePolicy' | 'direction' | 'protocol'>> {
  const ks = o.ks ?? [1, 5, 10];
  if (!Array.isArray(ks) || ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new InvalidArgumentError(`retrieval: ks must be a non-empty list of integers ≥ 1, got ${JSON.stringify(ks)}`);
  }
  const tiePolicy = o.tiePolicy ?? 'pessimistic';
  if (!TIE_POLICIES.includes(tiePolicy)) {
    throw new InvalidArgumentError(`retrieval: unknown tie policy "${String(tiePolicy)}" (expected ${TIE_POLICIES.join(', ')})`);
  }
  const direction = o.direction ?? 'video-to-music';
  if (direction !== 'video-to-music' && direction !== 'music-to-video') {
    throw new InvalidArgumentError(`retrieval: unknown direction "${String(direction)}" (expected video-to-music or music-to-video)`);
  }
  const protocol = o.protocol ?? 'full';
  if (protocol !== 'full' && protocol !== 'batch-128') {
    throw new InvalidArgumentError(`retrieval: unknown protocol "${String(protocol)}" (expected full or batch-128)`);
  }
  return { ks, tiePolicy, direction, protocol };
}

function median(sorted: number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/** Per-query correct-item lists (video rows → music columns) from options, validated. */
function buildPositives(rows: number, cols: number, positives: RetrievalOptions['positives']): number[][] {
  if (!positives) {
    if (rows !== cols) {
      throw new InvalidArgumentError(
        `retrieval: the similarity matrix is ${rows}×${cols}; without explicit positives it must be square (query i ↔ item i)`,
      );
    }
    return Array.from({ length: rows }, (_, i) => [i]);
  }
  if (positives.length !== rows) {
    throw new InvalidArgumentError(`retrieval: positives has ${positives.length} entries, the matrix has ${rows} video rows`);
  }
  return positives.map((list, r) => {
    const seen = new Set<number>();
    for (const c of list) {
      if (!Number.isInteger(c) || c < 0 || c >= cols) {
        throw new InvalidArgumentError(`retrieval: positives[${r}] contains ${c}, not a column index in [0, ${cols})`);
      }
      seen.add(c);
    }
    return [...seen].sort((a, b) => a - b);
  });
}

interface QueryScores {
  ranks: number[];
  aps: number[];
  skipped: number;
}

/** Score the queries of a dense `[rows, cols]` block; `pos[r]` = correct columns of video row r. */
function scoreBlock(
  data: Float64Array,
  rows: number,
  cols: number,
  pos: number[][],
  direction: RetrievalDirection,
  tiePolicy: TiePolicy,
): QueryScores {
  const out: QueryScores = { ranks: [], aps: [], skipped: 0 };
  if (direction === 'video-to-music') {
    for (let r = 0; r < rows; r++) {
      if (pos[r].length === 0) {
        out.skipped++;
        continue;
      }
      const pr = positiveRanks(data.subarray(r * cols, r * cols + cols), pos[r], tiePolicy);
      pushQuery(out, pr);
    }
  } else {
    const inv: number[][] = Array.from({ length: cols }, () => []);
    for (let r = 0; r < rows; r++) for (const c of pos[r]) inv[c].push(r);
    const col = new Float64Array(rows);
    for (let c = 0; c < cols; c++) {
      if (inv[c].length === 0) {
        out.skipped++;
        continue;
      }
      for (let r = 0; r < rows; r++) col[r] = data[r * cols + c];
      pushQuery(out, positiveRanks(col, inv[c], tiePolicy));
    }
  }
  return out;
}

function pushQuery(out: QueryScores, sortedRanks: number[]): void {
  out.ranks.push(sortedRanks[0]);
  let ap = 0;
  for (let i = 0; i < sortedRanks.length; i++) ap += (i + 1) / sortedRanks[i];
  out.aps.push(ap / sortedRanks.length);
}

/**
 * Recall@k, median/mean rank and mAP from a similarity matrix `[videos, musics]` (higher = more similar).
 * @throws InvalidArgumentError on a non-finite similarity, bad options or a non-square matrix without positives.
 */
export function retrievalMetrics(similarity: MatrixInput, options: RetrievalOptions = {}): RetrievalResult {
  const { ks, tiePolicy, direction, protocol } = validateOptions(options);
  const m = toDense(similarity, 'similarity matrix');
  const pos = buildPositives(m.rows, m.cols, options.positives);
  let scores: QueryScores;
  let gallerySize: number;
  let batches: number | undefined;
  let droppedClips: number | undefined;
  if (protocol === 'full') {
    scores = scoreBlock(m.data, m.rows, m.cols, pos, direction, tiePolicy);
    gallerySize = direction === 'video-to-music' ? m.cols : m.rows;
  } else {
    if (m.rows !== m.cols) {
      throw new InvalidArgumentError(`retrieval: protocol batch-128 needs a square video×music matrix (clip i = video i = music i), got ${m.rows}×${m.cols}`);
    }
    const bs = options.batchSize ?? 128;
    if (!Number.isInteger(bs) || bs < 2) throw new InvalidArgumentError(`retrieval: batchSize must be an integer ≥ 2, got ${bs}`);
    const n = m.rows;
    batches = Math.floor(n / bs);
    if (batches === 0) {
      throw new InsufficientDataError(`retrieval: protocol batch-128 needs at least one full batch of ${bs} clips, got ${n}`);
    }
    droppedClips = n - batches * bs;
    const perm = new Rng(options.seed ?? 0).permutation(n);
    scores = { ranks: [], aps: [], skipped: 0 };
    const block = new Float64Array(bs * bs);
    for (let b = 0; b < batches; b++) {
      const idx = perm.slice(b * bs, (b + 1) * bs);
      const where = new Map<number, number>();
      idx.forEach((g, local) => where.set(g, local));
      for (let i = 0; i < bs; i++) for (let j = 0; j < bs; j++) block[i * bs + j] = m.data[idx[i] * n + idx[j]];
      // correct items restricted to the batch (local indices)
      const bpos = idx.map((g) => pos[g].filter((c) => where.has(c)).map((c) => where.get(c)!).sort((a, c) => a - c));
      const s = scoreBlock(block, bs, bs, bpos, direction, tiePolicy);
      scores.ranks.push(...s.ranks);
      scores.aps.push(...s.aps);
      scores.skipped += s.skipped;
    }
    gallerySize = bs;
  }
  const q = scores.ranks.length;
  if (q === 0) throw new InsufficientDataError('retrieval: no query has a correct item in its gallery; nothing to score');
  const recall: Record<number, number> = {};
  for (const k of ks) recall[k] = scores.ranks.filter((r) => r <= k).length / q;
  const sorted = [...scores.ranks].sort((a, b) => a - b);
  return {
    recall,
    medianRank: median(sorted),
    meanRank: scores.ranks.reduce((a, b) => a + b, 0) / q,
    mAP: scores.aps.reduce((a, b) => a + b, 0) / q,
    queries: q,
    queriesWithoutPositives: scores.skipped,
    gallerySize,
    direction,
    tiePolicy,
    protocol,
    ...(batches !== undefined ? { batches, droppedClips } : {}),
    ranks: scores.ranks,
  };
}
