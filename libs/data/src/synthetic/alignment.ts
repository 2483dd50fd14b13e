import { avAlignFromPeaks } from '@vmr/metrics';

/** What the alignment ground truth needs of one clip. */
export interface AlignmentClip {
  id: string;
  /** Gallery the clip is retrieved from (its split). */
  gallery: string;
  /** Seconds of the video (feature rows): a track's onsets after this are not heard over the video. */
  seconds: number;
  /** AV-Align `yariv` video peaks (s). */
  videoPeaks: ArrayLike<number>;
  /** The clip's music onsets (s) = its audio peaks. */
  audioPeaks: ArrayLike<number>;
}

/** The alignment answer for one clip: how well its own track fits and which tracks fit better. */
export interface AlignmentTruth {
  /** AV-Align (yariv) of the video with its own music (GOT). */
  got: number;
  /** Best AV-Align over the clip's gallery (its own track included) and the track that reaches it. */
  best: number;
  bestId: string;
  /** Ids of the gallery tracks strictly better aligned with this video than its own track, best first. */
  betterAligned: string[];
}

/**
 * Alignment ground truth of a synthetic dataset: for each clip, AV-Align (`yariv`, DESIGN §1.6, the
 * evaluator's rule: the track's onsets cut to the video's length) of its video with every track of its
 * gallery (the clips of the same split). O(N²) per gallery.
 */
export function alignmentTruth(clips: readonly AlignmentClip[], flowFps: number): AlignmentTruth[] {
  const byGallery = new Map<string, number[]>();
  clips.forEach((c, i) => byGallery.set(c.gallery, [...(byGallery.get(c.gallery) ?? []), i]));
  return clips.map((c, i) => {
    const members = byGallery.get(c.gallery)!;
    const heard = (j: number): number[] => Array.from(clips[j].audioPeaks).filter((t) => t <= c.seconds);
    const scores = members.map((j) => ({ j, s: avAlignFromPeaks(heard(j), c.videoPeaks, flowFps, 'yariv').score }));
    const got = scores.find((x) => x.j === i)!.s;
    const sorted = [...scores].sort((a, b) => b.s - a.s || a.j - b.j);
    return {
      got,
      best: sorted[0].s,
      bestId: clips[sorted[0].j].id,
      betterAligned: sorted.filter((x) => x.s > got).map((x) => clips[x.j].id),
    };
  });
}
