import { InvalidArgumentError } from '@vmr/core';
import { type CostName, COST_NAMES, createCost } from './cost';
import { dynp } from './dynp';
import { requiredSamples } from './admissibility';

/** `paper`: a segment longer than maxSegmentSeconds is dropped; `vmr-code`: the whole clip is. */
export type SegmentProtocol = 'paper' | 'vmr-code';
export const SEGMENT_PROTOCOLS: readonly SegmentProtocol[] = ['paper', 'vmr-code'];

export interface ClipPlanOptions {
  /** Samples per second of the flow trajectory (DESIGN §1.1: min(3, native fps)). */
  flowFps: number;
  /** T: rows (seconds) of the clip's 1-fps feature matrices. */
  featureLength: number;
  /** S, segments per clip (paper: 10). */
  segments?: number;
  /** Minimum segment length in seconds (paper: 10 s = 30 samples at 3 fps). */
  minSegmentSeconds?: number;
  /** Breakpoint grid in seconds (paper: 1 s = 3 samples at 3 fps). */
  jumpSeconds?: number;
  /** Segments longer than this (seconds) are dropped (paper) or drop the clip (`vmr-code`). Default 200. */
  maxSegmentSeconds?: number;
  /** L, tokens per padded segment (default 200); must be ≥ maxSegmentSeconds. */
  padLength?: number;
  protocol?: SegmentProtocol;
  /** Change-point cost (default `normal`, ruptures CostNormal). */
  cost?: CostName;
  /** Names the clip in skip reasons and errors. */
  clipId?: string;
}

/** One segment of a planned clip. */
export interface PlannedSegment {
  /** Position among the S segments found by the DP (0-based, time order). */
  position: number;
  /** Trajectory samples [startSample, endSample). */
  startSample: number;
  endSample: number;
  /** Feature rows (whole seconds) [start, end). */
  start: number;
  end: number;
  /** Mean flow magnitude over the segment's trajectory samples. */
  meanFlow: number;
}

export interface RankedSegment extends PlannedSegment {
  /** 1 = most motion among the kept segments; ties: the earlier segment ranks first. */
  rank: number;
}

export interface ClipSegmentPlan {
  status: 'ok';
  clipId: string;
  protocol: SegmentProtocol;
  /** Change points on the trajectory (ruptures convention: ascending ends, last = n). */
  breakpoints: number[];
  /** Kept segments in time order, ranked. Their count S' ≤ S (paper protocol may drop some). */
  segments: RankedSegment[];
  /** Segments removed for exceeding maxSegmentSeconds (paper protocol). */
  dropped: PlannedSegment[];
  /** ranks[i] = rank of segments[i]. */
  ranks: number[];
  /** The rank-1 (most motion) and rank-S' (least motion) segments. */
  top: RankedSegment;
  bottom: RankedSegment;
  /** Requested S and pad length L: the shapes of the arrays below. */
  S: number;
  L: number;
  /** [S, L] row-major: feature row index of token l of kept segment s (0 where padded). */
  index: Int32Array;
  /** [S, L]: 1 for a real token, 0 for padding (key-padding mask). */
  mask: Uint8Array;
  /** [S]: 1 for a kept segment row, 0 for an empty row. */
  segmentMask: Uint8Array;
}

export type SkipReason =
  | 'empty-flow'
  | 'non-finite-flow'
  | 'too-short'
  | 'features-too-short'
  | 'segment-too-long'
  | 'all-segments-too-long';

/** A clip that cannot be planned: recorded with its reason, never thrown (a batch goes on). */
export interface SkippedClip {
  status: 'skipped';
  clipId: string;
  reason: SkipReason;
  message: string;
  details: Record<string, unknown>;
}

export type ClipPlanResult = ClipSegmentPlan | SkippedClip;

interface Resolved {
  flowFps: number;
  featureLength: number;
  S: number;
  L: number;
  minSize: number;
  jump: number;
  maxSegmentSeconds: number;
  protocol: SegmentProtocol;
  cost: CostName;
  clipId: string;
}

function resolve(o: ClipPlanOptions): Resolved {
  const clipId = o.clipId ?? 'clip';
  const fail = (m: string): never => {
    throw new InvalidArgumentError(`segment planning (${clipId}): ${m}`, { details: { clipId } });
  };
  if (!(Number.isFinite(o.flowFps) && o.flowFps > 0)) fail(`flowFps must be a positive number, got ${o.flowFps}`);
  if (!(Number.isInteger(o.featureLength) && o.featureLength >= 0)) fail(`featureLength must be a non-negative integer, got ${o.featureLength}`);
  const S = o.segments ?? 10;
  if (!(Number.isInteger(S) && S >= 1)) fail(`segments must be a positive integer, got ${S}`);
  const minSec = o.minSegmentSeconds ?? 10;
  const jumpSec = o.jumpSeconds ?? 1;
  if (!(Number.isFinite(minSec) && minSec > 0)) fail(`minSegmentSeconds must be > 0, got ${minSec}`);
  if (!(Number.isFinite(jumpSec) && jumpSec > 0)) fail(`jumpSeconds must be > 0, got ${jumpSec}`);
  const L = o.padLength ?? 200;
  if (!(Number.isInteger(L) && L >= 1)) fail(`padLength must be a positive integer, got ${L}`);
  const maxSeg = o.maxSegmentSeconds ?? 200;
  if (!(maxSeg > 0)) fail(`maxSegmentSeconds must be > 0, got ${maxSeg}`);
  if (maxSeg > L) fail(`maxSegmentSeconds (${maxSeg}) exceeds padLength L = ${L}: a kept segment would not fit`);
  const protocol = o.protocol ?? 'paper';
  if (!SEGMENT_PROTOCOLS.includes(protocol)) fail(`unknown protocol "${String(protocol)}"; expected ${SEGMENT_PROTOCOLS.join(' or ')}`);
  const cost = o.cost ?? 'normal';
  if (!COST_NAMES.includes(cost)) fail(`unknown cost "${String(cost)}"; expected one of ${COST_NAMES.join(', ')}`);
  return {
    flowFps: o.flowFps,
    featureLength: o.featureLength,
    S,
    L,
    minSize: Math.max(1, Math.round(minSec * o.flowFps)),
    jump: Math.max(1, Math.round(jumpSec * o.flowFps)),
    maxSegmentSeconds: maxSeg,
    protocol,
    cost,
    clipId,
  };
}

/**
 * Ranks by descending mean flow: rank 1 = most motion; equal means rank the earlier item first.
 * @returns ranks[i] ∈ 1..n for item i.
 */
export function rankByMeanFlow(meanFlows: readonly number[]): number[] {
  const order = meanFlows.map((_, i) => i).sort((a, b) => meanFlows[b] - meanFlows[a] || a - b);
  const ranks = new Array<number>(meanFlows.length);
  order.forEach((i, r) => (ranks[i] = r + 1));
  return ranks;
}

/**
 * Padded `[S, L]` feature-row index and key-padding mask for segments given in whole seconds
 * (row s ← segment s; rows beyond the segment count are all padding).
 */
export function segmentIndexArrays(
  segments: readonly { start: number; end: number }[],
  S: number,
  L: number,
): { index: Int32Array; mask: Uint8Array; segmentMask: Uint8Array } {
  if (segments.length > S) throw new InvalidArgumentError(`${segments.length} segments do not fit S = ${S} rows`);
  const index = new Int32Array(S * L);
  const mask = new Uint8Array(S * L);
  const segmentMask = new Uint8Array(S);
  segments.forEach((seg, s) => {
    const len = seg.end - seg.start;
    if (!(Number.isInteger(seg.start) && Number.isInteger(seg.end) && seg.start >= 0 && len >= 1 && len <= L)) {
      throw new InvalidArgumentError(`segment ${s} [${seg.start}, ${seg.end}) must be 1..${L} whole seconds`);
    }
    segmentMask[s] = 1;
    for (let l = 0; l < len; l++) {
      index[s * L + l] = seg.start + l;
      mask[s * L + l] = 1;
    }
  });
  return { index, mask, segmentMask };
}

function skip(clipId: string, reason: SkipReason, message: string, details: Record<string, unknown> = {}): SkippedClip {
  return { status: 'skipped', clipId, reason, message: `${clipId}: ${message}`, details: { clipId, ...details } };
}

/**
 * Plan a clip's segments (DESIGN §1.2): exact DP on the flow trajectory for S − 1 breakpoints with
 * minSize = minSegmentSeconds·flowFps samples on a jumpSeconds·flowFps grid; boundaries converted to
 * whole seconds (round(b / flowFps); the last segment ends at featureLength); ranks by mean flow;
 * the maxSegmentSeconds rule of the protocol; padded [S, L] index/mask arrays.
 *
 * Data problems (empty / non-finite / too short trajectory, features too short for the boundaries,
 * over-long segments) return a `SkippedClip` with the reason; invalid options throw.
 *
 * @param flow `[n]` flow magnitudes at flowFps.
 */
export function planClipSegments(flow: ArrayLike<number>, options: ClipPlanOptions): ClipPlanResult {
  const o = resolve(options);
  const { clipId, S, L, minSize, jump, flowFps, featureLength } = o;
  const n = flow.length;
  if (n === 0) return skip(clipId, 'empty-flow', 'the flow trajectory is empty');
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = flow[i];
    if (!Number.isFinite(v)) {
      return skip(clipId, 'non-finite-flow', `flow sample ${i} is ${v}`, { index: i });
    }
    y[i] = v;
  }
  const needed = requiredSamples(S - 1, minSize, jump);
  if (n < needed) {
    return skip(
      clipId,
      'too-short',
      `${n} flow samples (${(n / flowFps).toFixed(1)} s) are too few for ${S} segments of at least ${minSize} samples ` +
        `on a ${jump}-sample grid: ${needed} samples (${(needed / flowFps).toFixed(1)} s) are needed`,
      { needed, given: n, segments: S, minSize, jump },
    );
  }
  const signal = { n, d: 1, data: y };
  const breakpoints = dynp(createCost(o.cost, signal), { nBkps: S - 1, minSize, jump, input: clipId }).breakpoints;

  const all: PlannedSegment[] = [];
  let startSample = 0;
  let start = 0;
  for (let p = 0; p < S; p++) {
    const endSample = breakpoints[p];
    const end = p === S - 1 ? featureLength : Math.round(endSample / flowFps);
    if (end <= start || end > featureLength) {
      return skip(
        clipId,
        'features-too-short',
        `segment ${p} ends at ${p === S - 1 ? 'the feature end' : `sample ${endSample}`} → second ${end}, but the features ` +
          `have ${featureLength} rows and the segment starts at second ${start}`,
        { featureLength, segment: p, start, end, breakpoints },
      );
    }
    let sum = 0;
    for (let i = startSample; i < endSample; i++) sum += y[i];
    all.push({ position: p, startSample, endSample, start, end, meanFlow: sum / (endSample - startSample) });
    startSample = endSample;
    start = end;
  }

  const tooLong = all.filter((s) => s.end - s.start > o.maxSegmentSeconds);
  if (tooLong.length > 0 && o.protocol === 'vmr-code') {
    return skip(
      clipId,
      'segment-too-long',
      `segment ${tooLong[0].position} lasts ${tooLong[0].end - tooLong[0].start} s > maxSegmentSeconds ${o.maxSegmentSeconds} ` +
        `(protocol vmr-code drops the clip)`,
      { segments: tooLong.map((s) => [s.start, s.end]), maxSegmentSeconds: o.maxSegmentSeconds },
    );
  }
  const kept = all.filter((s) => s.end - s.start <= o.maxSegmentSeconds);
  if (kept.length === 0) {
    return skip(clipId, 'all-segments-too-long', `every segment is longer than ${o.maxSegmentSeconds} s`, {
      segments: all.map((s) => [s.start, s.end]),
    });
  }
  const ranks = rankByMeanFlow(kept.map((s) => s.meanFlow));
  const segments: RankedSegment[] = kept.map((s, i) => ({ ...s, rank: ranks[i] }));
  const top = segments[ranks.indexOf(1)];
  const bottom = segments[ranks.indexOf(segments.length)];
  const arrays = segmentIndexArrays(segments, S, L);
  return {
    status: 'ok',
    clipId,
    protocol: o.protocol,
    breakpoints,
    segments,
    dropped: tooLong,
    ranks,
    top,
    bottom,
    S,
    L,
    ...arrays,
  };
}
