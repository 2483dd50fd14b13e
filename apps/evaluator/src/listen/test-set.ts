import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, InsufficientDataError, InvalidArgumentError, Rng } from '@vmr/core';
import { selectBackend } from '@vmr/core/tf';
import { avAlignFromPeaks, videoPeakTimes } from '@vmr/metrics';
import type { Tracker } from '@vmr/tracking';
import { checkFeatureDims, embedClips, openDataset, prepareData, type SplitChoice } from '@vmr/pipeline';
import { loadTrainedRun, restoreModel } from '../retrieve/trained-run';

/** Systems of a listening test: the two runs' top-1 picks and, optionally, the ground truth. */
export type SystemName = 'A' | 'B' | 'truth';

export interface ListenCandidate {
  /** Gallery clip id whose track is played. */
  track: string;
  /** Systems whose pick this track is (several when they agree, e.g. A = truth). */
  systems: SystemName[];
  /** Media file of the track (the clip's source). */
  source: string;
  /** Similarity of the item's video with this track under each run's model. */
  similarity: { A: number; B: number };
  /** AV-Align (yariv) of the item's video with this track played from the video's start. */
  avAlign: number | null;
}

export interface ListenItem {
  index: number;
  video: string;
  /** The video's media file and duration. */
  source: string;
  durationSec: number;
  candidates: ListenCandidate[];
}

export interface ListeningTest {
  runs: { A: string; B: string };
  experiment: string;
  gallery: { path: string; name: string; split: SplitChoice; size: number };
  truth: boolean;
  seed: number;
  items: ListenItem[];
  /** Videos left out: both runs picked the same track (and truth is off or agrees), or no media. */
  skipped: Array<{ video: string; reason: string }>;
}

export interface BuildTestOptions {
  runs: [string, string];
  gallery: string;
  split?: SplitChoice;
  truth?: boolean;
  /** At most this many items (a seeded sample of the eligible videos, in gallery order). */
  maxItems?: number;
  seed?: number;
}

/**
 * The items of a blind A/B(/truth) listening test: both runs embed the gallery (the dataset's split),
 * each picks its top-1 track per video over the clips both can use; a video whose candidates are all the
 * same track is skipped. Candidates carry both models' similarities and AV-Align for the correlation
 * in `vmr listen report`.
 */
export async function buildListeningTest(tracker: Tracker, o: BuildTestOptions): Promise<ListeningTest> {
  if (o.runs[0] === o.runs[1]) throw new InvalidArgumentError(`--runs: give two different runs, got ${o.runs[0]} twice`);
  const ds = openDataset(o.gallery);
  const split: SplitChoice = o.split ?? (ds.split('test')?.length ? 'test' : 'all');
  const runs = [await loadTrainedRun(tracker, o.runs[0], '--runs'), await loadTrainedRun(tracker, o.runs[1], '--runs')];
  const perRun: Array<{ ids: string[]; video: Float32Array; audio: Float32Array; dim: number }> = [];
  for (const tr of runs) {
    checkFeatureDims(ds, tr.config, { videoDim: tr.checkpoint.config.videoDim, audioDim: tr.checkpoint.config.audioDim }, `--runs ${tr.runId.slice(0, 8)}'s model`);
    const data = prepareData(ds, split, tr.config);
    await selectBackend(tr.config.backend);
    const model = restoreModel(tr);
    try {
      const e = embedClips(model, data.clips, tr.config.segmentation);
      perRun.push({ ids: data.clips.map((c) => c.id), video: e.video, audio: e.audio, dim: e.dim });
    } finally {
      model.dispose();
    }
  }
  const usable = perRun[0].ids.filter((id) => perRun[1].ids.includes(id));
  if (usable.length < 2) throw new InsufficientDataError(`--gallery ${o.gallery}: split '${split}' has ${usable.length} clips both runs can use; a listening test needs at least 2`);
  const index = perRun.map((r) => new Map(r.ids.map((id, i) => [id, i])));
  const sim = (r: number, v: string, m: string): number => {
    const p = perRun[r];
    const vi = index[r].get(v)!;
    const mi = index[r].get(m)!;
    let s = 0;
    for (let d = 0; d < p.dim; d++) s += p.video[vi * p.dim + d] * p.audio[mi * p.dim + d];
    return s;
  };
  const top1 = (r: number, v: string): string => {
    let best = usable[0];
    let bs = -Infinity;
    for (const m of usable) {
      const s = sim(r, v, m);
      if (s > bs) {
        bs = s;
        best = m;
      }
    }
    return best;
  };
  const fps = ds.manifest.flowFps;
  const items: ListenItem[] = [];
  const skipped: ListeningTest['skipped'] = [];
  for (const v of usable) {
    const entry = ds.clip(v);
    const picks: Array<[SystemName, string]> = [
      ['A', top1(0, v)],
      ['B', top1(1, v)],
    ];
    if (o.truth) picks.push(['truth', v]);
    const byTrack = new Map<string, SystemName[]>();
    for (const [s, t] of picks) byTrack.set(t, [...(byTrack.get(t) ?? []), s]);
    if (byTrack.size < 2) {
      skipped.push({ video: v, reason: `every system picks ${picks[0][1]}` });
      continue;
    }
    const src = entry.source?.path;
    if (!src || !fs.existsSync(src)) {
      skipped.push({ video: v, reason: src ? `media ${src} not found` : 'no source media (feature-only dataset)' });
      continue;
    }
    const vPeaks = ds.peaks('yariv', 'video', v) ?? (ds.hasFlow(v) ? Float64Array.from(videoPeakTimes(ds.flow(v), fps, 'yariv')) : undefined);
    const candidates: ListenCandidate[] = [];
    let missing = '';
    for (const [track, systems] of byTrack) {
      const tsrc = ds.clip(track).source?.path;
      if (!tsrc || !fs.existsSync(tsrc)) {
        missing = `track ${track} has no media file`;
        break;
      }
      const aPeaks = ds.peaks('yariv', 'audio', track);
      candidates.push({
        track,
        systems,
        source: tsrc,
        similarity: { A: sim(0, v, track), B: sim(1, v, track) },
        avAlign: aPeaks && vPeaks ? avAlignFromPeaks(Array.from(aPeaks).filter((t) => t <= entry.seconds), vPeaks, fps, 'yariv').score : null,
      });
    }
    if (missing) {
      skipped.push({ video: v, reason: missing });
      continue;
    }
    items.push({ index: 0, video: v, source: src, durationSec: entry.durationSec, candidates });
  }
  let chosen = items;
  if (o.maxItems !== undefined && items.length > o.maxItems) {
    const rng = new Rng(o.seed ?? 0);
    const keep = new Set(rng.permutation(items.length).slice(0, o.maxItems));
    chosen = items.filter((_, i) => keep.has(i));
  }
  if (chosen.length === 0) {
    throw new InsufficientDataError(`--gallery ${o.gallery} split '${split}': no video has two different candidate tracks (${skipped.length} skipped${skipped.length ? `, e.g. ${skipped[0].video}: ${skipped[0].reason}` : ''})`);
  }
  chosen.forEach((it, i) => (it.index = i));
  const experiment = runs[0].run.experimentName;
  if (!experiment) throw new ConfigError(`run ${runs[0].runId} has no experiment`);
  return {
    runs: { A: runs[0].runId, B: runs[1].runId },
    experiment,
    gallery: { path: path.resolve(o.gallery), name: ds.manifest.name, split, size: usable.length },
    truth: !!o.truth,
    seed: o.seed ?? 0,
    items: chosen,
    skipped,
  };
}
