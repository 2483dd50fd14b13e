import * as fs from 'fs';
import * as path from 'path';
import { FileFormatError, NotFoundError } from '@vmr/core';
import { avAlignFromPeaks } from '@vmr/metrics';
import { SYNTH_TRUTH_FILE } from './write';

/**
 * Oracle retrievers of a synthetic dataset: rankings computed from the ground truth, no learning.
 * - `style`: tracks ranked by the distance between the video's style and each track's style
 *   (−‖videoStyle − musicStyle‖², the latent the features are made from) — the answer for recall.
 * - `motion`: tracks ranked by how well their onsets align with the video's motion peaks
 *   (AV-Align `yariv` against the ground-truth peaks, the track cut to the video's length) — the
 *   answer for alignment (`alignment.betterAligned` in synthetic-truth.jsonl, over any gallery).
 * Their Recall@k and AV-Align are reference rows: what retrieval by style alone / by motion alone reaches.
 */
export const ORACLE_KINDS = ['style', 'motion'] as const;
export type OracleKind = (typeof ORACLE_KINDS)[number];

export const ORACLE_DESCRIPTIONS: Record<OracleKind, string> = {
  style: 'oracle by style: tracks ranked by −‖videoStyle − musicStyle‖² of the synthetic ground truth (no learning)',
  motion: 'oracle by motion: tracks ranked by AV-Align (yariv) of their onsets with the video\'s ground-truth motion peaks (no learning)',
};

/** What an oracle needs of one clip (a query video and, with the same index, its gallery track). */
export interface OracleClip {
  id: string;
  /** Seconds of the video: a track's onsets after this are not heard over it. */
  seconds: number;
  videoStyle: ArrayLike<number>;
  musicStyle: ArrayLike<number>;
  videoPeaks: ArrayLike<number>;
  audioPeaks: ArrayLike<number>;
}

/** `[N, N]` row-major similarity of video i (row) with track j (column) under an oracle. */
export function oracleSimilarity(kind: OracleKind, clips: readonly OracleClip[], flowFps: number): { rows: number; cols: number; data: Float64Array } {
  const n = clips.length;
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const q = clips[i];
    for (let j = 0; j < n; j++) {
      const g = clips[j];
      if (kind === 'style') {
        let d = 0;
        for (let k = 0; k < q.videoStyle.length; k++) d += (q.videoStyle[k] - g.musicStyle[k]) ** 2;
        data[i * n + j] = -d;
      } else {
        const heard = Array.from(g.audioPeaks).filter((t) => t <= q.seconds);
        data[i * n + j] = avAlignFromPeaks(heard, q.videoPeaks, flowFps, 'yariv').score;
      }
    }
  }
  return { rows: n, cols: n, data };
}

/** One line of synthetic-truth.jsonl as read back (the fields the oracles and reports use). */
export interface SyntheticTruthRecord {
  id: string;
  split: string;
  duration: number;
  styleCluster: number;
  videoStyle: number[];
  musicStyle: number[];
  pairing?: string;
  musicDriver?: string | null;
  alignment?: { got: number; best: number; bestId: string; betterAligned: string[] };
}

/**
 * Read a synthetic dataset's ground truth (`synthetic-truth.jsonl`), keyed by clip id.
 * @throws NotFoundError when the file is absent (not a synthetic dataset); FileFormatError naming the line.
 */
export function readSyntheticTruth(datasetDir: string): Map<string, SyntheticTruthRecord> {
  const file = path.join(datasetDir, SYNTH_TRUTH_FILE);
  if (!fs.existsSync(file)) {
    throw new NotFoundError(`${file} does not exist: oracle retrievers need a synthetic dataset's ground truth (generate one with \`vmr synth\`)`);
  }
  const out = new Map<string, SyntheticTruthRecord>();
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let r: SyntheticTruthRecord;
      try {
        r = JSON.parse(line) as SyntheticTruthRecord;
      } catch (e) {
        throw new FileFormatError(`${file}:${i + 1}: not JSON (${(e as Error).message})`, { cause: e });
      }
      if (typeof r.id !== 'string' || !Array.isArray(r.videoStyle) || !Array.isArray(r.musicStyle)) {
        throw new FileFormatError(`${file}:${i + 1}: a truth line needs id, videoStyle and musicStyle`);
      }
      out.set(r.id, r);
    });
  return out;
}
