import * as path from 'path';
import { ConflictError, InvalidArgumentError, createProgress, errorMessage, sha256File } from '@vmr/core';
import { ORACLE_DESCRIPTIONS, ORACLE_KINDS, SYNTH_TRUTH_FILE, oracleSimilarity, readSyntheticTruth, type OracleKind } from '@vmr/data';
import { fad, retrievalMetrics, videoPeakTimes, type RetrievalDirection } from '@vmr/metrics';
import { RUN_KIND_TAG, useTracker, type Tracker } from '@vmr/tracking';
import { SegmentationConfigSchema, openDataset, prepareData, requireClips, type SplitChoice, type TrainConfig } from '@vmr/pipeline';
import { avAlignScores, stackAudioRows, top1, type EvalMetrics, type EvalResult } from './evaluate';

/** Tag that marks a reference row (not a trained model): value `oracle` for the oracle retrievers. */
export const REFERENCE_TAG = 'vmr.reference';
/** Model name of an oracle's evaluation run (`model` tag and param). */
export const oracleModelName = (kind: OracleKind): string => `oracle-${kind}`;

export interface OracleEvalOptions {
  tracker?: Tracker;
  trackingUri?: string;
  store?: string;
  /** Experiment to log the reference row in (default `oracles`); use the experiment whose tables it joins. */
  experiment?: string;
  /** Split (default: test when the dataset has a non-empty one, else all). */
  split?: SplitChoice;
  direction?: RetrievalDirection;
  table?: string;
  /**
   * Segmentation that decides the clip set (clips with a full S-segment plan, like the models' gallery);
   * default: the parameters of the dataset's segments.csv.
   */
  segmentation?: Partial<TrainConfig['segmentation']>;
  /** Reuse a finished oracle run of the same experiment, dataset (truth file sha256), split and direction (default true). */
  reuse?: boolean;
  tags?: Record<string, string>;
  progress?: boolean;
}

export interface OracleEvalResult extends Omit<EvalResult, 'trainRunId'> {
  oracle: OracleKind;
  reused: boolean;
}


/**
 * Evaluate an oracle retriever (`style` or `motion`, see @vmr/data ORACLE_KINDS) on a synthetic dataset
 * with the evaluator's metric code (Recall@k, ranks, FAD on the audio input rows, AV-Align yariv GOT and
 * retrieved) and log it as an evaluation run tagged `vmr.kind=eval`, `vmr.reference=oracle`,
 * `model=oracle-<kind>`, `features=ground-truth` — a reference row, never a trained model. The metric
 * keys are the model evaluations' (`eval.r1`, `eval.avAlign`, …).
 */
export async function evaluateOracle(kind: OracleKind, datasetDir: string, options: OracleEvalOptions = {}): Promise<OracleEvalResult> {
  if (!ORACLE_KINDS.includes(kind)) throw new InvalidArgumentError(`--oracle must be ${ORACLE_KINDS.join(' or ')}, got '${String(kind)}'`);
  const direction = options.direction ?? 'video-to-music';
  const t0 = Date.now();
  const ds = openDataset(datasetDir);
  if (ds.manifest.kind !== 'synthetic') {
    throw new ConflictError(`dataset ${datasetDir} is ${ds.manifest.kind}, not synthetic: oracle retrievers need a synthetic dataset's ground truth (${SYNTH_TRUTH_FILE})`);
  }
  const truthFile = path.join(ds.dir, SYNTH_TRUTH_FILE);
  const truth = readSyntheticTruth(ds.dir);
  const truthSha = sha256File(truthFile);
  const split: SplitChoice = options.split ?? ((ds.split('test')?.length ?? 0) > 0 ? 'test' : 'all');
  const csvParams = (ds.manifest.segments?.params ?? {}) as Record<string, unknown>;
  const pick = (k: string) => (typeof csvParams[k] === 'number' || typeof csvParams[k] === 'string' ? csvParams[k] : undefined);
  const segmentation = SegmentationConfigSchema.parse({
    segments: pick('segments'),
    minSegmentSeconds: pick('minSegmentSeconds'),
    jumpSeconds: pick('jumpSeconds'),
    maxSegmentSeconds: pick('maxSegmentSeconds'),
    ...options.segmentation,
  });
  const seg = { ...segmentation, protocol: segmentation.protocol ?? ((pick('protocol') as TrainConfig['segmentation']['protocol']) ?? 'paper') };
  if (seg.padLength < seg.maxSegmentSeconds) seg.padLength = Math.ceil(seg.maxSegmentSeconds);
  const video = ds.manifest.extractors.find((e) => e.modality === 'video');
  const audio = ds.manifest.extractors.find((e) => e.modality === 'audio');
  if (!video || !audio) throw new ConflictError(`dataset ${datasetDir} needs a video and an audio extractor`);
  const data = prepareData(ds, split, { features: video.name, audioFeatures: audio.name, model: 'of-vm-net', segmentation: seg });
  requireClips(data, 2, 'oracle evaluation');
  const experiment = options.experiment ?? 'oracles';
  const model = oracleModelName(kind);

  return useTracker(options, async (tracker) => {
    const keyParams = { 'eval.dataset.path': data.datasetDir, 'oracle.truthSha256': truthSha, 'eval.split': split, 'eval.direction': direction };
    if (options.reuse !== false) {
      const prev = await tracker.searchRuns({ experiment, status: 'finished', tags: { [REFERENCE_TAG]: 'oracle', model }, params: keyParams, limit: 1 });
      if (prev.length) {
        const latest = await tracker.latestMetrics(prev[0].id);
        const m = Object.fromEntries(Object.entries(latest).filter(([k]) => k.startsWith('eval.')).map(([k, v]) => [k.slice(5), v.value])) as unknown as EvalMetrics;
        const detail = await tracker.getRun(prev[0].id);
        return resultOf(prev[0].id, true, m, detail.tags['eval.fadRankDeficient'] === 'true' ? 1 : 0);
      }
    }
    const run = await tracker.startRun({
      experiment,
      name: `${model}/${data.datasetName}/${split}`,
      protocol: 'paper',
      tags: {
        [RUN_KIND_TAG]: 'eval',
        [REFERENCE_TAG]: 'oracle',
        oracle: kind,
        model,
        features: 'ground-truth',
        dataset: data.datasetName,
        datasetKind: data.datasetKind,
        split,
        synthetic: 'true',
        ...(options.table ? { table: options.table } : {}),
        ...options.tags,
      },
    });
    const bar = createProgress({ label: `${model} on ${data.datasetName}`, total: 3, unit: 'stages', quiet: options.progress === false });
    try {
      await tracker.logParams(run.id, {
        ...keyParams,
        'eval.dataset.name': data.datasetName,
        'eval.dataset.kind': data.datasetKind,
        'eval.dataset.synthetic': true,
        'eval.protocol': 'paper',
        'eval.retrievalProtocol': 'full',
        'eval.tiePolicy': 'pessimistic',
        'eval.fadSpace': `audio-input (${data.audioExtractor.name}, per-second rows)`,
        'eval.avAlignVariant': 'yariv',
        'eval.clips': data.clips.length,
        'eval.skippedClips': data.skipped.length,
        'eval.segmentSource': data.segmentSource,
        'oracle.kind': kind,
        'oracle.description': ORACLE_DESCRIPTIONS[kind],
        model,
        features: 'ground-truth',
      });
      const fps = ds.manifest.flowFps;
      const clips = data.clips.map((c) => {
        const t = truth.get(c.id);
        if (!t) throw new ConflictError(`${truthFile} has no line for clip ${c.id}`);
        return {
          id: c.id,
          seconds: c.seconds,
          videoStyle: t.videoStyle,
          musicStyle: t.musicStyle,
          videoPeaks: ds.peaks('yariv', 'video', c.id) ?? Float64Array.from(videoPeakTimes(ds.flow(c.id), fps, 'yariv')),
          audioPeaks: ds.peaks('yariv', 'audio', c.id) ?? new Float64Array(0),
        };
      });
      const sim = oracleSimilarity(kind, clips, fps);
      bar.tick(1, { stage: 'retrieval' });
      const rr = retrievalMetrics(sim, { ks: [1, 5, 10], direction, protocol: 'full' });
      const retrieved = top1(sim, direction);
      const f = fad(stackAudioRows(data, retrieved), stackAudioRows(data, data.clips.map((_, i) => i)), { names: ['retrieved tracks', 'ground-truth tracks'] });
      bar.tick(1, { stage: 'AV-Align' });
      const av = avAlignScores(ds, data, retrieved, 'yariv', direction);
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
      await tracker.logMetrics(run.id, Object.entries(metrics).map(([k, value]) => ({ key: `eval.${k}`, value: value as number, step: 0 })));
      await tracker.setTags(run.id, { 'eval.fadRankDeficient': String(f.rankDeficient), ...('missing' in av ? { 'eval.avAlignMissing': av.missing } : {}) });
      await tracker.endRun(run.id, 'finished');
      return resultOf(run.id, false, metrics, f.rankDeficient ? 1 : 0);
    } catch (e) {
      bar.stop();
      await tracker.endRun(run.id, 'failed', errorMessage(e)).catch(() => undefined);
      throw e;
    }
  });

  function resultOf(evalRunId: string, reused: boolean, metrics: EvalMetrics, rankDeficient: number): OracleEvalResult {
    return {
      evalRunId,
      oracle: kind,
      reused,
      trainOverlap: 0, // no model, no training clips
      model: oracleModelName(kind),
      features: 'ground-truth',
      dataset: { name: data.datasetName, kind: data.datasetKind, path: data.datasetDir, synthetic: true },
      split,
      protocol: 'paper',
      retrievalProtocol: 'full',
      direction,
      metrics,
      fadRankDeficient: rankDeficient > 0,
      avAlignVariant: 'yariv',
      skippedClips: data.skipped.length,
      seconds: (Date.now() - t0) / 1000,
    };
  }
}

/** Human summary of an oracle evaluation (a reference row). */
export function formatOracleResult(r: OracleEvalResult): string {
  const m = r.metrics;
  const f3 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(3));
  return [
    `reference run ${r.evalRunId}${r.reused ? ' (reused)' : ''}: ${r.model} (${ORACLE_DESCRIPTIONS[r.oracle]}) on ${r.dataset.name} (SYNTHETIC), split ${r.split}`,
    `AV-ALIGN (GOT) ${f3(m.avAlignGot)}  AV-ALIGN ${f3(m.avAlign)}  FAD ${f3(m.fad)}${r.fadRankDeficient ? ' (rank-deficient covariance)' : ''}  R@1 ${f3(m.r1)}  R@5 ${f3(m.r5)}  R@10 ${f3(m.r10)}  median rank ${m.medianRank}`,
    `gallery ${m.gallerySize} clips (full), ${m.queries} queries, ${r.direction}, AV-Align yariv; a reference row (ground truth, no learning)${r.skippedClips ? `; ${r.skippedClips} clips skipped (no full segmentation)` : ''}`,
  ].join('\n');
}
