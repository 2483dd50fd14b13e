import * as fs from 'fs';
import * as path from 'path';
import { InsufficientDataError, InvalidArgumentError, createProgress, writeJsonAtomic } from '@vmr/core';
import { selectBackend } from '@vmr/core/tf';
import { listMediaInputs, MANIFEST_FILE, type Dataset } from '@vmr/data';
import { avAlignFromPeaks, videoPeakTimes } from '@vmr/metrics';
import { useTracker, type Tracker } from '@vmr/tracking';
import { checkFeatureDims, embedClips, openDataset, planWithConfig, prepareData, type PreparedClip, type SplitChoice } from '@vmr/pipeline';
import { ingestCached, resolveCacheDir, type IngestedMedia } from './media-cache';
import { checkRunExtractors, loadTrainedRun, restoreModel, type TrainedRun } from './trained-run';
import { writeRetrievePage } from './page';

export interface RetrieveOptions {
  /** Training run id or unique prefix (`--run`). */
  run: string;
  /** Query video files (`VIDEO…`). */
  videos: string[];
  /** A dataset directory, or music/media files and directories of them (`--gallery`). */
  gallery: string[];
  /** Candidates per query (`-k`, default 10). */
  k?: number;
  /** Split of a dataset gallery (default `all`). */
  split?: SplitChoice;
  /** Write previews and a self-contained page here (`--out`). */
  out?: string;
  /** Cache of ingested media and previews (`--cache`; see resolveCacheDir). */
  cacheDir?: string;
  /** Model files of model-file extractors (`--model name=path`). */
  modelPaths?: Record<string, string>;
  tracker?: Tracker;
  trackingUri?: string;
  store?: string;
  progress?: boolean;
}

export interface RetrieveCandidate {
  rank: number;
  /** Gallery track id (dataset clip id, or the music file's name). */
  id: string;
  /** The track's media file when known (dataset clip source, or the given file). */
  source: string | null;
  /** Dot product of the L2-normalised retrieval embeddings (video · music). */
  similarity: number;
  /** AV-Align (yariv) of the query video with this track played from the video's start; null without peaks. */
  avAlign: number | null;
  /** True when this is the query video's own track (same source sha256); false when known not to be. */
  ownTrack: boolean;
  /** True when the gallery is the run's training dataset and this track's clip was in its training split. */
  seenInTraining: boolean;
  /** Preview file (relative to `out`) when `--out` is given and the track has source media. */
  preview?: string;
  previewMissing?: string;
}

export interface RetrieveQuery {
  video: string;
  sha256: string;
  durationSec: number;
  seconds: number;
  /** Ingest came from the content-hash cache. */
  cached: boolean;
  /** OF-VM-Net segments [start, end) in seconds (time order) used for the query (and for music files). */
  segments: Array<[number, number]>;
  /** True when the video is a clip the run was trained on (its own track was a training pair). */
  seenInTraining: boolean;
  /** Gallery rank of the video's own track when the gallery holds it (1 = top), else null. */
  ownTrackRank: number | null;
  top: RetrieveCandidate[];
  /** Preview of the video with its own audio (relative to `out`). */
  original?: string;
}

export interface RetrieveResult {
  runId: string;
  model: string;
  features: string;
  audioFeatures: string;
  gallery: {
    kind: 'dataset' | 'files';
    name: string;
    path: string;
    split: SplitChoice | null;
    size: number;
    synthetic: boolean;
    /** `own-clip`: dataset tracks cut at their own clip's segments (as `vmr eval`); `query-boundaries`: music files cut to the query's duration and segments. */
    segmentation: 'own-clip' | 'query-boundaries' | 'none (vm-net: time-averaged)';
    skipped: Array<{ id: string; reason: string }>;
  };
  k: number;
  avAlignVariant: 'yariv';
  cacheDir: string;
  queries: RetrieveQuery[];
  out: { dir: string; page: string; results: string } | null;
  timing: { ingestSeconds: number; embedSeconds: number; previewSeconds: number; totalSeconds: number };
}

interface GalleryTrack {
  id: string;
  source: string | null;
  sha256: string | null;
  /** `[T, Da]` row-major. */
  audio: Float32Array;
  seconds: number;
  audioPeaks: Float64Array | undefined;
  seenInTraining: boolean;
}

function parseK(k: number | undefined): number {
  const v = k ?? 10;
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`-k must be a positive integer, got ${String(k)}`);
  return v;
}

function isDatasetGallery(gallery: readonly string[]): boolean {
  return gallery.length === 1 && fs.existsSync(path.join(gallery[0], MANIFEST_FILE));
}

/** A query video ingested and cut the way the run's model expects. */
interface PreparedQuery {
  media: IngestedMedia;
  clip: PreparedClip;
  videoPeaks: Float64Array;
  flowFps: number;
}

function prepareQuery(m: IngestedMedia, tr: TrainedRun, role: string): PreparedQuery {
  const { config, checkpoint } = tr;
  const ds = m.dataset;
  const c = m.clip;
  if (c.kind !== 'video') throw new InvalidArgumentError(`${role} ${m.file}: no video stream (a query must be a video; music files go to --gallery)`);
  const Dv = checkpoint.config.videoDim;
  const Da = checkpoint.config.audioDim;
  const vf = ds.videoFeatures(config.features, c.id);
  if (vf.cols !== Dv) throw new InvalidArgumentError(`${role} ${m.file}: video features '${config.features}' have dim ${vf.cols}, the --run model expects ${Dv}`);
  const T = vf.rows;
  let audio = new Float32Array(T * Da);
  if (c.hasAudio) {
    const af = ds.audioFeatures(config.audioFeatures, c.id);
    audio.set(af.data.subarray(0, Math.min(af.rows, T) * Da));
  }
  const flow = ds.flow(c.id);
  const flowFps = ds.manifest.flowFps;
  let segments: Array<[number, number]> = [];
  let ranks: number[] = [];
  if (config.model === 'of-vm-net') {
    const seg = config.segmentation;
    const plan = planWithConfig(flow, seg, { flowFps, featureLength: T, clipId: path.basename(m.file) });
    if (plan.status !== 'ok') throw new InsufficientDataError(`${role} ${m.file}: cannot be cut the way --run ${tr.runId.slice(0, 8)} was trained (${plan.message})`);
    if (plan.segments.length !== seg.segments) {
      throw new InsufficientDataError(`${role} ${m.file}: ${seg.segments - plan.segments.length} segment(s) longer than ${seg.maxSegmentSeconds} s were dropped; --run ${tr.runId.slice(0, 8)} needs S = ${seg.segments}`);
    }
    segments = plan.segments.map((s) => [s.start, s.end]);
    ranks = [...plan.ranks];
  }
  const peaks = ds.peaks('yariv', 'video', c.id) ?? Float64Array.from(videoPeakTimes(flow, flowFps, 'yariv'));
  return { media: m, clip: { id: c.id, seconds: T, video: vf.data.subarray(0, T * Dv), audio, segments, ranks }, videoPeaks: peaks, flowFps };
}

function dot(a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += a[ai * dim + d] * b[bi * dim + d];
  return s;
}

/** Order gallery indices by similarity, highest first; ties keep the gallery order (deterministic). */
export function rankBySimilarity(sims: ArrayLike<number>): number[] {
  return Array.from({ length: sims.length }, (_, i) => i).sort((a, b) => sims[b] - sims[a] || a - b);
}

function avAlignOf(audioPeaks: Float64Array | undefined, q: PreparedQuery): number | null {
  if (!audioPeaks) return null;
  const cut = Array.from(audioPeaks).filter((t) => t <= q.clip.seconds);
  return avAlignFromPeaks(cut, q.videoPeaks, q.flowFps, 'yariv').score;
}

/**
 * `vmr retrieve`: ingest query videos (cached by content hash), embed them with a trained run's final
 * checkpoint, rank a gallery (a dataset directory, or music files ingested the same way) and return the
 * top k per query with similarity, AV-Align and own-track marks; `out` adds previews and a page.
 */
export async function retrieve(o: RetrieveOptions): Promise<RetrieveResult> {
  const t0 = Date.now();
  const k = parseK(o.k);
  if (o.videos.length === 0) throw new InvalidArgumentError('give at least one VIDEO to find music for');
  if (o.gallery.length === 0) throw new InvalidArgumentError('--gallery is empty: give a dataset directory or music files');
  const cacheDir = resolveCacheDir(o.cacheDir);
  const modelPaths = o.modelPaths ?? {};
  return useTracker(o, async (tracker) => {
    const tr = await loadTrainedRun(tracker, o.run, '--run');
    const { config } = tr;
    checkRunExtractors(tr, modelPaths, '--run');
    const Dv = tr.checkpoint.config.videoDim;
    const Da = tr.checkpoint.config.audioDim;
    const cacheOpts = { cacheDir, videoFeatures: [config.features], audioFeatures: [config.audioFeatures], modelPaths };
    const bar = createProgress({ label: 'retrieve: ingest', total: o.videos.length, unit: 'videos', quiet: o.progress === false });
    const tIngest = Date.now();
    const queryMedia: IngestedMedia[] = [];
    try {
      for (const v of o.videos) {
        queryMedia.push(await ingestCached(v, { ...cacheOpts, role: 'VIDEO' }));
        bar.tick(1);
      }
    } finally {
      bar.stop();
    }
    const queries = queryMedia.map((m) => prepareQuery(m, tr, 'VIDEO'));

    // gallery
    let galleryDs: Dataset | undefined;
    let galleryClips: PreparedClip[] = [];
    let tracks: GalleryTrack[];
    let skipped: Array<{ id: string; reason: string }> = [];
    let galleryInfo: Pick<RetrieveResult['gallery'], 'kind' | 'name' | 'path' | 'split' | 'synthetic'>;
    if (isDatasetGallery(o.gallery)) {
      const ds = openDataset(o.gallery[0]);
      galleryDs = ds;
      checkFeatureDims(ds, config, { videoDim: Dv, audioDim: Da }, `--run ${tr.runId.slice(0, 8)}'s model`);
      const split = o.split ?? 'all';
      const data = prepareData(ds, split, config);
      skipped = data.skipped;
      if (data.clips.length === 0) {
        throw new InsufficientDataError(
          `--gallery ${o.gallery[0]}: split '${split}' has no usable tracks` + (skipped.length ? ` (${skipped.length} skipped, e.g. ${skipped[0].id}: ${skipped[0].reason})` : ''),
        );
      }
      galleryClips = data.clips;
      const trained = new Set(path.resolve(config.dataset) === ds.dir ? (config.trainSplit === 'all' ? ds.clipIds : (ds.split(config.trainSplit) ?? [])) : []);
      tracks = data.clips.map((c) => {
        const entry = ds.clip(c.id);
        return { id: c.id, source: entry.source?.path ?? null, sha256: entry.source?.sha256 ?? null, audio: c.audio, seconds: c.seconds, audioPeaks: ds.peaks('yariv', 'audio', c.id), seenInTraining: trained.has(c.id) };
      });
      galleryInfo = { kind: 'dataset', name: data.datasetName, path: data.datasetDir, split, synthetic: data.synthetic };
    } else {
      if (o.split) throw new InvalidArgumentError('--split applies to a dataset --gallery only');
      const { files, leftOut } = await listMediaInputs(o.gallery);
      if (files.length === 0) {
        const why = leftOut.length ? ` (left out: ${leftOut.slice(0, 3).map((l) => `${path.basename(l.path)}: ${l.reason}`).join('; ')})` : '';
        throw new InvalidArgumentError(`--gallery ${o.gallery.join(' ')}: no media files found (an empty gallery)${why}`);
      }
      const gbar = createProgress({ label: 'retrieve: gallery', total: files.length, unit: 'tracks', quiet: o.progress === false });
      tracks = [];
      try {
        for (const f of files) {
          const m = await ingestCached(f, { ...cacheOpts, role: '--gallery' });
          if (!m.clip.hasAudio) throw new InvalidArgumentError(`--gallery ${f}: no audio stream (a gallery track needs music)`);
          const af = m.dataset.audioFeatures(config.audioFeatures, m.clip.id);
          tracks.push({ id: path.basename(f), source: m.file, sha256: m.sha256, audio: af.data, seconds: af.rows, audioPeaks: m.dataset.peaks('yariv', 'audio', m.clip.id), seenInTraining: false });
          gbar.tick(1);
        }
      } finally {
        gbar.stop();
      }
      galleryInfo = { kind: 'files', name: `${files.length} files`, path: o.gallery.length === 1 ? path.resolve(o.gallery[0]) : '(files)', split: null, synthetic: false };
    }
    const ingestSeconds = (Date.now() - tIngest) / 1000;

    // embed and rank
    const tEmbed = Date.now();
    await selectBackend(config.backend);
    const model = restoreModel(tr);
    const results: Array<{ q: PreparedQuery; sims: number[]; usable: boolean[] }> = [];
    try {
      const qEmb = embedClips(model, queries.map((q) => q.clip), config.segmentation);
      if (galleryClips.length) {
        const gEmb = embedClips(model, galleryClips, config.segmentation);
        for (let qi = 0; qi < queries.length; qi++) {
          results.push({ q: queries[qi], sims: galleryClips.map((_, gi) => dot(qEmb.video, qi, gEmb.audio, gi, qEmb.dim)), usable: galleryClips.map(() => true) });
        }
      } else {
        // music files: each track is played over the query video — cut to its length and its segments
        for (let qi = 0; qi < queries.length; qi++) {
          const q = queries[qi];
          const T = q.clip.seconds;
          const usable = tracks.map((t) => t.seconds >= T);
          const clips: PreparedClip[] = [];
          tracks.forEach((t, i) => {
            if (usable[i]) clips.push({ id: t.id, seconds: T, video: new Float32Array(T * Dv), audio: t.audio.subarray(0, T * Da), segments: q.clip.segments, ranks: q.clip.ranks });
          });
          for (let i = 0; i < tracks.length; i++) {
            if (!usable[i]) skipped.push({ id: tracks[i].id, reason: `${tracks[i].seconds} s of audio, shorter than the ${T} s of ${path.basename(q.media.file)}` });
          }
          if (clips.length === 0) throw new InsufficientDataError(`--gallery: no track is at least as long as VIDEO ${q.media.file} (${T} s)`);
          const gEmb = embedClips(model, clips, config.segmentation);
          const sims: number[] = [];
          let j = 0;
          for (let i = 0; i < tracks.length; i++) sims.push(usable[i] ? dot(qEmb.video, qi, gEmb.audio, j++, qEmb.dim) : -Infinity);
          results.push({ q, sims, usable });
        }
      }
    } finally {
      model.dispose();
    }
    const embedSeconds = (Date.now() - tEmbed) / 1000;

    const out: RetrieveQuery[] = results.map(({ q, sims, usable }) => {
      const order = rankBySimilarity(sims).filter((i) => usable[i]);
      const ownIdx = tracks.findIndex((t) => t.sha256 !== null && t.sha256 === q.media.sha256);
      const ownRank = ownIdx >= 0 && usable[ownIdx] ? order.indexOf(ownIdx) + 1 : null;
      return {
        video: q.media.file,
        sha256: q.media.sha256,
        durationSec: q.media.clip.durationSec,
        seconds: q.clip.seconds,
        cached: q.media.cached,
        segments: q.clip.segments,
        ownTrackRank: ownRank,
        seenInTraining: ownIdx >= 0 && tracks[ownIdx].seenInTraining,
        top: order.slice(0, k).map((gi, r) => ({
          rank: r + 1,
          id: tracks[gi].id,
          source: tracks[gi].source,
          similarity: sims[gi],
          avAlign: avAlignOf(tracks[gi].audioPeaks, q),
          ownTrack: gi === ownIdx,
          seenInTraining: tracks[gi].seenInTraining,
        })),
      };
    });
    const result: RetrieveResult = {
      runId: tr.runId,
      model: config.model,
      features: config.features,
      audioFeatures: config.audioFeatures,
      gallery: {
        ...galleryInfo,
        size: tracks.length,
        segmentation: config.model === 'vm-net' ? 'none (vm-net: time-averaged)' : galleryDs ? 'own-clip' : 'query-boundaries',
        skipped,
      },
      k,
      avAlignVariant: 'yariv',
      cacheDir,
      queries: out,
      out: null,
      timing: { ingestSeconds, embedSeconds, previewSeconds: 0, totalSeconds: 0 },
    };
    if (o.out) {
      const tPrev = Date.now();
      result.out = await writeRetrievePage(result, path.resolve(o.out), { quiet: o.progress === false });
      result.timing.previewSeconds = (Date.now() - tPrev) / 1000;
      result.timing.totalSeconds = (Date.now() - t0) / 1000;
      writeJsonAtomic(result.out.results, result);
    }
    result.timing.totalSeconds = (Date.now() - t0) / 1000;
    return result;
  });
}

