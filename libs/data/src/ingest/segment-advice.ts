import { requiredSamples } from '@vmr/segmentation';

/** One segmentation that would fit more clips, as the flags of `vmr segment-dataset`. */
export interface SegmentProposal {
  segments: number;
  minSegmentSeconds: number;
  /** Clips whose flow trajectory is long enough for it. */
  fits: number;
  /** The flags to pass, e.g. `--segments 3` or `--min-segment-seconds 2`. */
  flags: string;
}

export interface SegmentAdvice {
  /** Video clips too short for the configured segmentation. */
  tooShort: number;
  /** Video clips considered (those with a flow trajectory). */
  total: number;
  segments: number;
  minSegmentSeconds: number;
  /** Seconds a clip needs for the configured segmentation. */
  neededSeconds: number;
  /** Share of clips a proposal must fit ("most of them"). */
  share: number;
  /** Largest `--segments` at the configured minimum length, and largest `--min-segment-seconds` at the configured S. */
  proposals: SegmentProposal[];
  /** One paragraph for the summary, naming the command and its flags. */
  message: string;
}

function fitsCount(lengths: readonly number[], S: number, minSec: number, jumpSec: number, flowFps: number): number {
  const minSize = Math.max(1, Math.round(minSec * flowFps));
  const jump = Math.max(1, Math.round(jumpSec * flowFps));
  const need = requiredSamples(S - 1, minSize, jump);
  return lengths.filter((n) => n >= need).length;
}

/**
 * When clips are too short for `segments` × `minSegmentSeconds` (DESIGN.md §1.2), propose the largest
 * `--segments` (same minimum length) and the largest whole `--min-segment-seconds` (same S) that fit at
 * least `share` of the clips, given their flow-trajectory lengths. Undefined when every clip fits.
 */
export function adviseSegmentation(
  flowLengths: readonly number[],
  o: { segments?: number; minSegmentSeconds?: number; jumpSeconds?: number; flowFps: number; dataset?: string },
  share = 0.8,
): SegmentAdvice | undefined {
  const S = o.segments ?? 10;
  const m = o.minSegmentSeconds ?? 10;
  const j = o.jumpSeconds ?? 1;
  const total = flowLengths.length;
  if (total === 0) return undefined;
  const fits = fitsCount(flowLengths, S, m, j, o.flowFps);
  if (fits === total) return undefined;
  const needSamples = requiredSamples(S - 1, Math.max(1, Math.round(m * o.flowFps)), Math.max(1, Math.round(j * o.flowFps)));
  const want = Math.ceil(share * total);
  const proposals: SegmentProposal[] = [];
  for (let s = S - 1; s >= 1; s--) {
    const f = fitsCount(flowLengths, s, m, j, o.flowFps);
    if (f >= want) {
      proposals.push({ segments: s, minSegmentSeconds: m, fits: f, flags: `--segments ${s}` });
      break;
    }
  }
  for (let mm = Math.ceil(m) - 1; mm >= 1; mm--) {
    const f = fitsCount(flowLengths, S, mm, Math.min(j, mm), o.flowFps);
    if (f >= want) {
      proposals.push({ segments: S, minSegmentSeconds: mm, fits: f, flags: `--min-segment-seconds ${mm}${j > mm ? ` --jump-seconds ${mm}` : ''}` });
      break;
    }
  }
  const dir = o.dataset ?? 'DATASET';
  const head =
    `${total - fits} of ${total} video clips are too short for --segments ${S} × --min-segment-seconds ${m} ` +
    `(a clip needs ≥ ${(needSamples / o.flowFps).toFixed(0)} s), so they have no row in segments.csv.`;
  const tail =
    proposals.length === 0
      ? ` Even --segments 1 --min-segment-seconds 1 fits fewer than ${Math.round(share * 100)} % of them.`
      : ` To segment most of them (≥ ${Math.round(share * 100)} %) without re-ingesting: ` +
        proposals.map((p) => `\`vmr segment-dataset ${dir} ${p.flags}\` (fits ${p.fits} of ${total})`).join(' or ') +
        '.';
  return { tooShort: total - fits, total, segments: S, minSegmentSeconds: m, neededSeconds: needSamples / o.flowFps, share, proposals, message: head + tail };
}
