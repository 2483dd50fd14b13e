import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError, FileFormatError, InvalidArgumentError, createProgress, errorMessage, writeJsonAtomic } from '@vmr/core';
import { describeMatmul, selectBackend } from '@vmr/core/tf';
import { restoreFromCheckpoint } from '@vmr/models';
import { avAlignFromPeaks, fad, retrievalMetrics, videoPeakTimes, type AvAlignVariant, type RetrievalDirection } from '@vmr/metrics';
import { RUN_KIND_TAG, useTracker, type Tracker } from '@vmr/tracking';
import {
  checkFeatureDims,
  embedClips,
  loadTrainedRun,
  openDataset,
  prepareData,
  requireClips,
  similarityMatrix,
  splitIds,
  type PreparedData,
  type SplitChoice,
} from '@vmr/pipeline';
import type { Dataset } from '@vmr/data';

export const EVAL_PROTOCOLS = ['paper', 'vmr-code'] as const;
/** The evaluation's per-query results artifact (ranks, top-1, per-query AV-Align). */
export const PER_QUERY_ARTIFACT = 'retrieval.json';
export type EvalProtocol = (typeof EVAL_PROTOCOLS)[number];

export interface EvalOptions {
  tracker?: Tracker;
  trackingUri?: string;
  store?: string;
  /** `paper` (default): full gallery, FAD on the audio input features, AV-Align `yariv`. `vmr-code`: shuffled batches of 128, FAD on the audio embeddings, AV-Align `vmr` peaks when the dataset has them. */
  protocol?: EvalProtocol;
  /** Split of the dataset to evaluate on (default: `test` when the dataset has a non-empty one, else `all`). */
  split?: SplitChoice;
  direction?: RetrievalDirection;
  /** AV-Align peak variant (default: yariv for paper, vmr for vmr-code when present). */
  avAlignVariant?: AvAlignVariant;
  /** File the evaluation under an explicit table id (tag `table`); default: 1 in-distribution / 2 otherwise. */
  table?: string;
  /**
   * Evaluate even when the split contains clips the model was trained on (`--allow-train-overlap`); the
   * run is then labelled (`eval.trainOverlap` = the number of such clips) in every report. Default: refused.
   */
  allowTrainOverlap?: boolean;
  tags?: Record<string, string>;
  progress?: boolean;
  /** Called at each stage. */
  onProgress?: (stage: string) => void;
}

export interface EvalMetrics {
  avAlignGot?: number;
  avAlign?: number;
  /** Absent for music-to-video (FAD scores retrieved music; there the retrieved items are videos). */
  fad?: number;
  /** R@k is absent when k ≥ the gallery size (every query would be a hit). */
  r1?: number;
  r5?: number;
  r10?: number;
  medianRank: number;
  meanRank: number;
  mAP: number;
  gallerySize: number;
  queries: number;
}

export interface EvalResult {
  evalRunId: string;
  trainRunId: string;
  model: string;
  features: string;
  dataset: { name: string; kind: string; path: string; synthetic: boolean };
  split: SplitChoice;
  protocol: EvalProtocol;
  retrievalProtocol: 'full' | 'batch-128';
  direction: RetrievalDirection;
  metrics: EvalMetrics;
  fadRankDeficient: boolean;
  avAlignVariant: AvAlignVariant;
  /** Why AV-Align was not computed (no peaks of the variant in the dataset). */
  avAlignMissing?: string;
  /** Why FAD was not computed (music-to-video). */
  fadMissing?: string;
  /** Evaluated clips that were training clips of the run (> 0 only with allowTrainOverlap). */
  trainOverlap: number;
  skippedClips: number;
  seconds: number;
}

/** Default split: `test` when non-empty, else `val`, else `all` (refused later when it overlaps training clips). */
function defaultSplit(ds: Dataset): SplitChoice {
  for (const s of ['test', 'val'] as const) {
    const ids = ds.split(s);
    if (ids && ids.length > 0) return s;
  }
  return 'all';
}

/**
 * Top-1 gallery index per query of a row-major `[videos, musics]` similarity matrix, with the same tie
 * policy as Recall@1 (`pessimistic`, the evaluator's: among tied maxima an incorrect item wins, so
 * top-1 is the ground truth exactly when its rank is 1). Query i's ground truth is gallery item i.
 */
export function top1(sim: { rows: number; cols: number; data: ArrayLike<number> }, direction: RetrievalDirection, tiePolicy: 'pessimistic' | 'optimistic' | 'stable' = 'pessimistic'): number[] {
  const out: number[] = [];
  const { rows, cols, data } = sim;
  const nq = direction === 'video-to-music' ? rows : cols;
  const ng = direction === 'video-to-music' ? cols : rows;
  for (let q = 0; q < nq; q++) {
    let best = -Infinity;
    let arg = 0;
    for (let g = 0; g < ng; g++) {
      const v = direction === 'video-to-music' ? data[q * cols + g] : data[g * cols + q];
      if (v > best) {
        best = v;
        arg = g;
      } else if (v === best && tiePolicy !== 'stable') {
        // pessimistic: a tied incorrect item displaces the ground truth; optimistic: the ground truth wins a tie.
        if (tiePolicy === 'pessimistic' ? arg === q : g === q) arg = g;
      }
    }
    out.push(arg);
  }
  return out;
}

/** Clips of the evaluated split that the training run saw (same dataset only: clip ids are per dataset). */
export function trainingOverlap(evalDs: Dataset, evalIds: readonly string[], trainDatasetName: string | undefined, trainSplit: SplitChoice): string[] {
  if (trainDatasetName === undefined || evalDs.manifest.name !== trainDatasetName) return [];
  let train: string[];
  try {
    train = splitIds(evalDs, trainSplit);
  } catch {
    return [];
  }
  const seen = new Set(train);
  return evalIds.filter((id) => seen.has(id));
}

/**
 * The AV-Align variant to compute, named as computed: `vmr` needs the dataset's own `vmr` video peaks
 * (the reference code's second flow pass, written by ingest); without them it is refused (requested) or
 * not chosen (default) — never substituted by another series under its name.
 */
export function chooseAvAlignVariant(ds: Dataset, protocol: EvalProtocol, requested: AvAlignVariant | undefined): AvAlignVariant {
  const vmr = ds.manifest.peaks.vmr;
  if (requested === 'vmr' && !vmr?.video) {
    throw new InvalidArgumentError(
      `--av-align-variant vmr: dataset ${ds.manifest.name} (${ds.dir}) has no 'vmr' video peaks (peaks/vmr/video); ingest writes them with the reference code's flow pass — choose --av-align-variant yariv or re-ingest`,
    );
  }
  return requested ?? (protocol === 'vmr-code' && vmr?.video && vmr.audio ? 'vmr' : 'yariv');
}

/** Stack per-second audio rows of the given clips (repeats allowed) into one `[n, Da]` matrix. */
export function stackAudioRows(data: PreparedData, clipIdx: readonly number[]): { rows: number; cols: number; data: Float32Array } {
  const Da = data.audioDim;
  let rows = 0;
  for (const i of clipIdx) rows += data.clips[i].seconds;
  const out = new Float32Array(rows * Da);
  let off = 0;
  for (const i of clipIdx) {
    const c = data.clips[i];
    out.set(c.audio.subarray(0, c.seconds * Da), off);
    off += c.seconds * Da;
  }
  return { rows, cols: Da, data: out };
}

/**
 * AV-Align over the queries: GOT = each video with its own music, retrieved = each video with its top-1
 * track; audio peaks are cut to the video's duration (the retrieved track is played over the video).
 */
export function avAlignScores(
  ds: Dataset,
  data: PreparedData,
  retrieved: readonly number[],
  variant: AvAlignVariant,
  direction: RetrievalDirection,
): { got: number; retrieved: number; perQueryGot: number[]; perQuery: number[] } | { missing: string } {
  const fps = ds.manifest.flowFps;
  const has = ds.manifest.peaks[variant];
  if (!has || !has.audio) return { missing: `dataset ${ds.manifest.name} has no '${variant}' audio peaks (peaks/${variant}/audio)` };
  // `yariv` video peaks are by definition the local maxima of the flow series; `vmr` video peaks only
  // exist as ingested (chooseAvAlignVariant refuses the variant without them).
  if (variant === 'vmr' && !has.video) return { missing: `dataset ${ds.manifest.name} has no 'vmr' video peaks (peaks/vmr/video)` };
  const audioPeaks = data.clips.map((c) => ds.peaks(variant, 'audio', c.id));
  const missing = audioPeaks.findIndex((p) => p === undefined);
  if (missing >= 0) return { missing: `clip ${data.clips[missing].id} has no '${variant}' audio peaks` };
  const videoPeaks = data.clips.map((c) => {
    const vp = has.video ? ds.peaks(variant, 'video', c.id) : undefined;
    if (variant === 'vmr' && vp === undefined) return undefined;
    return vp ?? Float64Array.from(videoPeakTimes(ds.flow(c.id), fps, variant));
  });
  const noVideo = videoPeaks.findIndex((p) => p === undefined);
  if (noVideo >= 0) return { missing: `clip ${data.clips[noVideo].id} has no '${variant}' video peaks` };
  // The track is played over the video: audio peaks are cut to the video's duration.
  const score = (video: number, audio: number) => avAlignFromPeaks(Array.from(audioPeaks[audio]!).filter((t) => t <= data.clips[video].seconds), videoPeaks[video]!, fps, variant).score;
  const perQueryGot = data.clips.map((_, i) => score(i, i));
  // video-to-music: query video i with its top-1 track; music-to-video: query track j over its top-1 video.
  const perQuery = retrieved.map((r, q) => (direction === 'video-to-music' ? score(q, r) : score(r, q)));
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { got: avg(perQueryGot), retrieved: avg(perQuery), perQueryGot, perQuery };
}

/**
 * Evaluate a finished training run on a dataset (DESIGN.md §1.6): Recall@1/5/10, median/mean rank,
 * FAD of retrieved vs ground-truth tracks, AV-Align with the ground-truth (GOT) and the retrieved
 * track. Logged as a child run of the training run with the dataset's name and kind.
 */
export async function evaluateRun(runIdOrPrefix: string, datasetDir: string, options: EvalOptions = {}): Promise<EvalResult> {
  const protocol = options.protocol ?? 'paper';
  if (!EVAL_PROTOCOLS.includes(protocol)) throw new InvalidArgumentError(`--protocol must be ${EVAL_PROTOCOLS.join(' or ')}, got '${String(protocol)}'`);
  const direction = options.direction ?? 'video-to-music';
  return useTracker(options, async (tracker) => {
    const t0 = Date.now();
    const { runId: trainRunId, run: train, config, checkpoint: ck } = await loadTrainedRun(tracker, runIdOrPrefix);
    const ds = openDataset(datasetDir);
    checkFeatureDims(ds, config, { videoDim: ck.config.videoDim, audioDim: ck.config.audioDim }, `run ${trainRunId.slice(0, 8)}'s model`);
    const split = options.split ?? defaultSplit(ds);
    const data = prepareData(ds, split, config);
    requireClips(data, 2, 'evaluation');
    const overlap = trainingOverlap(ds, data.clips.map((c) => c.id), train.params['dataset.name'], config.trainSplit);
    if (overlap.length > 0 && !options.allowTrainOverlap) {
      throw new ConflictError(
        `split '${split}' of dataset ${data.datasetName} (${datasetDir}) contains ${overlap.length} of run ${trainRunId.slice(0, 8)}'s training clips (e.g. ${overlap.slice(0, 3).join(', ')}): not a held-out evaluation. Choose --split val or test, or pass --allow-train-overlap (the result is then labelled as overlapping training data)`,
      );
    }
    const backend = await selectBackend(config.backend);
    const engine = describeMatmul(backend.backend);
    const variant: AvAlignVariant = chooseAvAlignVariant(ds, protocol, options.avAlignVariant);
    const retrievalProtocol = protocol === 'vmr-code' ? 'batch-128' : 'full';
    const batchSize = Math.min(128, data.clips.length);

    const run = await tracker.startRun({
      experiment: train.experimentName,
      name: `eval/${data.datasetName}/${split}`,
      parentId: trainRunId,
      seed: train.seed ?? undefined,
      backend: backend.backend,
      protocol,
      tags: {
        [RUN_KIND_TAG]: 'eval',
        dataset: data.datasetName,
        datasetKind: data.datasetKind,
        split,
        model: config.model,
        features: config.features,
        ...(data.synthetic ? { synthetic: 'true' } : {}),
        ...(overlap.length ? { trainOverlap: String(overlap.length) } : {}),
        ...(options.table ? { table: options.table } : {}),
        ...options.tags,
      },
    });
    const bar = createProgress({ label: `eval ${config.model}/${config.features} on ${data.datasetName}`, total: 4, unit: 'stages', quiet: options.progress === false });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-eval-'));
    const { model } = restoreFromCheckpoint(ck);
    try {
      await tracker.logParams(run.id, {
        'eval.trainRun': trainRunId,
        'eval.dataset.name': data.datasetName,
        'eval.dataset.kind': data.datasetKind,
        'eval.dataset.path': data.datasetDir,
        'eval.dataset.synthetic': data.synthetic,
        'eval.split': split,
        'eval.protocol': protocol,
        'eval.retrievalProtocol': retrievalProtocol,
        ...(retrievalProtocol === 'batch-128' ? { 'eval.batchSize': batchSize } : {}),
        'eval.direction': direction,
        'eval.tiePolicy': 'pessimistic',
        'eval.top1TiePolicy': 'pessimistic',
        'eval.trainOverlap': overlap.length,
        'eval.fadSpace': direction === 'music-to-video' ? 'not computed (music-to-video)' : protocol === 'vmr-code' ? 'embedding' : `audio-input (${data.audioExtractor.name}, per-second rows)`,
        'eval.avAlignVariant': variant,
        'eval.clips': data.clips.length,
        // what ran the matrix products of the embedding pass (the native GEMM or XNNPACK: last-bit differences)
        'backend.matmul': engine.matmul,
        'backend.label': engine.label,
        'eval.skippedClips': data.skipped.length,
        'eval.segmentSource': data.segmentSource,
        model: config.model,
        features: config.features,
      });
      options.onProgress?.('embed');
      const emb = embedClips(model, data.clips, config.segmentation);
      bar.tick(1, { stage: 'retrieval' });
      options.onProgress?.('retrieval');
      const sim = similarityMatrix(emb);
      const rr = retrievalMetrics(sim, { ks: [1, 5, 10], direction, protocol: retrievalProtocol, batchSize, seed: train.seed ?? 0, tiePolicy: 'pessimistic' });
      const retrieved = top1(sim, direction, 'pessimistic');
      bar.tick(1, { stage: 'FAD' });
      options.onProgress?.('fad');
      const gt = data.clips.map((_, i) => i);
      // FAD compares the retrieved music with the ground-truth music; music-to-video retrieves videos.
      const fadMissing = direction === 'music-to-video' ? 'FAD is not defined for music-to-video (the retrieved items are videos, FAD scores retrieved music)' : undefined;
      const f = fadMissing
        ? undefined
        : protocol === 'vmr-code'
          ? fad(
              { rows: emb.n, cols: emb.dim, data: pickRows(emb.audio, emb.dim, retrieved) },
              { rows: emb.n, cols: emb.dim, data: emb.audio },
              { names: ['retrieved audio embeddings', 'ground-truth audio embeddings'] },
            )
          : fad(stackAudioRows(data, retrieved), stackAudioRows(data, gt), { names: ['retrieved tracks', 'ground-truth tracks'] });
      bar.tick(1, { stage: 'AV-Align' });
      options.onProgress?.('av-align');
      const av = avAlignScores(ds, data, retrieved, variant, direction);
      bar.tick(1);
      bar.stop();
      // R@k with k ≥ the gallery is 1 for every query: not a result, not logged.
      const recallK = (k: 1 | 5 | 10) => (k < rr.gallerySize ? { [`r${k}`]: rr.recall[k] } : {});
      const metrics: EvalMetrics = {
        ...('missing' in av ? {} : { avAlignGot: av.got, avAlign: av.retrieved }),
        ...(f ? { fad: f.fad } : {}),
        ...recallK(1),
        ...recallK(5),
        ...recallK(10),
        medianRank: rr.medianRank,
        meanRank: rr.meanRank,
        mAP: rr.mAP,
        gallerySize: rr.gallerySize,
        queries: rr.queries,
      };
      await tracker.logMetrics(
        run.id,
        Object.entries(metrics).map(([k, value]) => ({ key: `eval.${k}`, value: value as number, step: 0 })),
      );
      await tracker.setTags(run.id, {
        ...(f ? { 'eval.fadRankDeficient': String(f.rankDeficient) } : { 'eval.fadMissing': fadMissing! }),
        ...('missing' in av ? { 'eval.avAlignMissing': av.missing } : {}),
      });
      // Per-query results: any metric but FAD (a set statistic) can be recomputed and bootstrapped from
      // them, and two runs on the same gallery compared query by query (vmr report compare A B).
      const detail = path.join(tmp, PER_QUERY_ARTIFACT);
      writeJsonAtomic(detail, {
        version: 1,
        direction,
        tiePolicy: 'pessimistic',
        retrievalProtocol,
        gallerySize: rr.gallerySize,
        clips: data.clips.map((c) => c.id),
        top1: retrieved.map((i) => data.clips[i].id),
        top1Index: retrieved,
        /** Rank of each query's ground truth; in clip order under `full` (query i = clips[i]), batch order under `batch-128`. */
        ranks: rr.ranks,
        ranksInClipOrder: retrievalProtocol === 'full' && rr.ranks.length === data.clips.length,
        avAlign: 'missing' in av ? null : av.perQuery,
        avAlignGot: 'missing' in av ? null : av.perQueryGot,
        skipped: data.skipped,
      });
      await tracker.logArtifact(run.id, detail, PER_QUERY_ARTIFACT);
      await tracker.endRun(run.id, 'finished');
      return {
        evalRunId: run.id,
        trainRunId,
        model: config.model,
        features: config.features,
        dataset: { name: data.datasetName, kind: data.datasetKind, path: data.datasetDir, synthetic: data.synthetic },
        split,
        protocol,
        retrievalProtocol,
        direction,
        metrics,
        fadRankDeficient: f?.rankDeficient ?? false,
        avAlignVariant: variant,
        ...('missing' in av ? { avAlignMissing: av.missing } : {}),
        ...(fadMissing ? { fadMissing } : {}),
        trainOverlap: overlap.length,
        skippedClips: data.skipped.length,
        seconds: (Date.now() - t0) / 1000,
      };
    } catch (e) {
      bar.stop();
      await tracker.endRun(run.id, 'failed', errorMessage(e)).catch(() => undefined);
      if (e instanceof SyntaxError) throw new FileFormatError(`run ${trainRunId}: ${errorMessage(e)}`, { cause: e });
      throw e;
    } finally {
      model.dispose();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}

function pickRows(m: Float32Array, dim: number, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * dim);
  idx.forEach((i, r) => out.set(m.subarray(i * dim, (i + 1) * dim), r * dim));
  return out;
}
