import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError, FileFormatError, InvalidArgumentError, createProgress, errorMessage, selectBackend, writeJsonAtomic } from '@vmr/core';
import { loadCheckpoint, restoreFromCheckpoint } from '@vmr/models';
import { avAlignFromPeaks, fad, retrievalMetrics, videoPeakTimes, type AvAlignVariant, type RetrievalDirection } from '@vmr/metrics';
import { RUN_KIND_TAG, useTracker, type Tracker } from '@vmr/tracking';
import {
  TRAIN_ARTIFACTS,
  checkFeatureDims,
  embedClips,
  openDataset,
  parseTrainConfig,
  prepareData,
  requireClips,
  similarityMatrix,
  type PreparedData,
  type SplitChoice,
  type TrainConfig,
} from '@vmr/trainer';
import type { Dataset } from '@vmr/data';

export const EVAL_PROTOCOLS = ['paper', 'vmr-code'] as const;
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
  tags?: Record<string, string>;
  progress?: boolean;
  /** Called at each stage. */
  onProgress?: (stage: string) => void;
}

export interface EvalMetrics {
  avAlignGot?: number;
  avAlign?: number;
  fad: number;
  r1: number;
  r5: number;
  r10: number;
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
  skippedClips: number;
  seconds: number;
}

function defaultSplit(ds: Dataset): SplitChoice {
  const test = ds.split('test');
  return test && test.length > 0 ? 'test' : 'all';
}

/** Top-1 gallery index per query row of a row-major similarity matrix (first index on ties). */
export function top1(sim: { rows: number; cols: number; data: ArrayLike<number> }, direction: RetrievalDirection): number[] {
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
      }
    }
    out.push(arg);
  }
  return out;
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
): { got: number; retrieved: number } | { missing: string } {
  const fps = ds.manifest.flowFps;
  const has = ds.manifest.peaks[variant];
  if (!has || !has.audio) return { missing: `dataset ${ds.manifest.name} has no '${variant}' audio peaks (peaks/${variant}/audio)` };
  const audioPeaks = data.clips.map((c) => ds.peaks(variant, 'audio', c.id));
  const missing = audioPeaks.findIndex((p) => p === undefined);
  if (missing >= 0) return { missing: `clip ${data.clips[missing].id} has no '${variant}' audio peaks` };
  let got = 0;
  let ret = 0;
  data.clips.forEach((c, i) => {
    const vp = has.video ? ds.peaks(variant, 'video', c.id) : undefined;
    const videoPeaks = vp ?? Float64Array.from(videoPeakTimes(ds.flow(c.id), fps, variant));
    const cut = (p: Float64Array) => Array.from(p).filter((t) => t <= c.seconds);
    got += avAlignFromPeaks(cut(audioPeaks[i]!), videoPeaks, fps, variant).score;
    ret += avAlignFromPeaks(cut(audioPeaks[retrieved[i]]!), videoPeaks, fps, variant).score;
  });
  return { got: got / data.clips.length, retrieved: ret / data.clips.length };
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
    const trainRunId = await tracker.resolveRunId(runIdOrPrefix);
    const train = await tracker.getRun(trainRunId);
    if (train.tags[RUN_KIND_TAG] !== 'train') throw new ConflictError(`run ${trainRunId} is not a training run (tag ${RUN_KIND_TAG}=${train.tags[RUN_KIND_TAG] ?? 'missing'})`);
    if (train.status !== 'finished') throw new ConflictError(`run ${trainRunId} is ${train.status}; only a finished training run can be evaluated${train.status === 'killed' ? ` (resume it: vmr train --resume ${trainRunId.slice(0, 8)})` : ''}`);
    if (!train.artifacts.some((a) => a.path === TRAIN_ARTIFACTS.final)) throw new ConflictError(`run ${trainRunId} has no ${TRAIN_ARTIFACTS.final} artifact`);
    const cfg = JSON.parse(fs.readFileSync(await tracker.artifactFile(trainRunId, TRAIN_ARTIFACTS.config), 'utf8')) as { config: unknown };
    const config: TrainConfig = parseTrainConfig(cfg.config, `run ${trainRunId} ${TRAIN_ARTIFACTS.config}`);
    const ck = loadCheckpoint(await tracker.artifactFile(trainRunId, TRAIN_ARTIFACTS.final));
    const ds = openDataset(datasetDir);
    checkFeatureDims(ds, config, { videoDim: ck.config.videoDim, audioDim: ck.config.audioDim }, `run ${trainRunId.slice(0, 8)}'s model`);
    const split = options.split ?? defaultSplit(ds);
    const data = prepareData(ds, split, config);
    requireClips(data, 2, 'evaluation');
    const backend = await selectBackend(config.backend);
    const variant: AvAlignVariant = options.avAlignVariant ?? (protocol === 'vmr-code' && ds.manifest.peaks.vmr ? 'vmr' : 'yariv');
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
        'eval.fadSpace': protocol === 'vmr-code' ? 'embedding' : `audio-input (${data.audioExtractor.name}, per-second rows)`,
        'eval.avAlignVariant': variant,
        'eval.clips': data.clips.length,
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
      const rr = retrievalMetrics(sim, { ks: [1, 5, 10], direction, protocol: retrievalProtocol, batchSize, seed: train.seed ?? 0 });
      const retrieved = top1(sim, direction);
      bar.tick(1, { stage: 'FAD' });
      options.onProgress?.('fad');
      const gt = data.clips.map((_, i) => i);
      const f =
        protocol === 'vmr-code'
          ? fad(
              { rows: emb.n, cols: emb.dim, data: pickRows(emb.audio, emb.dim, retrieved) },
              { rows: emb.n, cols: emb.dim, data: emb.audio },
              { names: ['retrieved audio embeddings', 'ground-truth audio embeddings'] },
            )
          : fad(stackAudioRows(data, retrieved), stackAudioRows(data, gt), { names: ['retrieved tracks', 'ground-truth tracks'] });
      bar.tick(1, { stage: 'AV-Align' });
      options.onProgress?.('av-align');
      const av = avAlignScores(ds, data, retrieved, variant);
      bar.tick(1);
      bar.stop();
      const metrics: EvalMetrics = {
        ...('missing' in av ? {} : { avAlignGot: av.got, avAlign: av.retrieved }),
        fad: f.fad,
        r1: rr.recall[1],
        r5: rr.recall[5],
        r10: rr.recall[10],
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
        'eval.fadRankDeficient': String(f.rankDeficient),
        ...('missing' in av ? { 'eval.avAlignMissing': av.missing } : {}),
      });
      const detail = path.join(tmp, 'retrieval.json');
      writeJsonAtomic(detail, {
        clips: data.clips.map((c) => c.id),
        top1: retrieved.map((i) => data.clips[i].id),
        ranks: rr.ranks,
        skipped: data.skipped,
      });
      await tracker.logArtifact(run.id, detail, 'retrieval.json');
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
        fadRankDeficient: f.rankDeficient,
        avAlignVariant: variant,
        ...('missing' in av ? { avAlignMissing: av.missing } : {}),
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
