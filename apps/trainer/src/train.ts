import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError, FileFormatError, Rng, createProgress, errorMessage, writeJsonAtomic, type Progress } from '@vmr/core';
import { selectBackend, describeMatmul, type BackendInfo } from '@vmr/core/tf';
import { loadCheckpoint, restoreFromCheckpoint, saveCheckpoint, createModel, ReplicaPool, type Adam, type Model } from '@vmr/models';
import { MetricBuffer, RUN_KIND_TAG, useTracker, type Tracker } from '@vmr/tracking';
import {
  TRAIN_ARTIFACTS,
  checkFeatureDims,
  flattenParams,
  modelConfigFor,
  openDataset,
  parseTrainConfig,
  prepareData,
  requireClips,
  validationRecall,
  type PreparedData,
  type TrainConfig,
  type TrainConfigInput,
} from '@vmr/pipeline';
import { createOptimizer, trainOnBatch } from './model';

export { TRAIN_ARTIFACTS };

/** Tag marking what a run is (`train` or `eval`). */
export { RUN_KIND_TAG };

export interface TrainProgress {
  runId: string;
  epoch: number;
  epochs: number;
  /** Steps done (global) and planned. */
  step: number;
  totalSteps: number;
  loss: number;
  terms: Record<string, number>;
  stepsPerSec: number;
  etaSec: number;
  /** Set after a validation pass. */
  val?: { r1: number; r5: number; r10: number; medianRank: number };
  phase: 'step' | 'validate' | 'checkpoint' | 'done';
}

export interface TrainOptions {
  /** Tracker to log into (default: opened from trackingUri / store and closed at the end). */
  tracker?: Tracker;
  trackingUri?: string;
  store?: string;
  /** Show a progress bar on a TTY (default true; silent anyway when not a TTY). */
  progress?: boolean;
  /** Called after every step, validation and checkpoint. */
  onProgress?: (p: TrainProgress) => void;
  /** Install SIGINT/SIGTERM handlers: checkpoint, mark the run killed, return (default true). */
  handleSignals?: boolean;
  /** Testing aid: raise SIGINT in this process after this many steps (exercises the real handler). */
  interruptAfterSteps?: number;
  /** Parent run (a sweep) and extra tags. */
  parentId?: string;
  tags?: Record<string, string>;
}

export interface TrainResult {
  runId: string;
  status: 'finished' | 'killed';
  epochsDone: number;
  steps: number;
  finalLoss: number;
  val?: { r1: number; r5: number; r10: number; medianRank: number };
  seconds: number;
  config: TrainConfig;
  /** The backend as run, e.g. `wasm+native-gemm (avx2, 2 threads)` (see BackendInfo.label); replicas appended. */
  backend: string;
  /** Set when the run was killed: what to run to continue. */
  resumeHint?: string;
}

interface Position {
  epoch: number;
  batch: number;
  globalStep: number;
}

function epochBatches(config: TrainConfig, n: number, epoch: number): number[][] {
  const order = new Rng(`${config.seed}/epoch/${epoch}`).permutation(n);
  const out: number[][] = [];
  for (let i = 0; i < n; i += config.batchSize) out.push(order.slice(i, i + config.batchSize));
  // a last batch of one clip is dropped (batch norm and triplets need two)
  if (out.length > 0 && out[out.length - 1].length < 2) out.pop();
  return out;
}

function stepsPerEpoch(config: TrainConfig, n: number): number {
  const full = Math.floor(n / config.batchSize);
  return full + (n % config.batchSize >= 2 ? 1 : 0);
}

/** Load everything a run needs before it is started (so bad input writes nothing to the store). */
function prepare(config: TrainConfig): { train: PreparedData; val?: PreparedData } {
  const ds = openDataset(config.dataset);
  const explicit = config.model === 'vm-net' ? config.vmNet : config.ofVmNet;
  checkFeatureDims(ds, config, { videoDim: explicit.videoDim, audioDim: explicit.audioDim }, 'the config');
  const train = prepareData(ds, config.trainSplit, config);
  requireClips(train, 2, 'training');
  let val: PreparedData | undefined;
  if (config.valSplit !== 'none' && config.validateEvery > 0) {
    val = prepareData(ds, config.valSplit, config);
    requireClips(val, 2, 'validation');
  }
  return { train, val };
}

function tmpDir(runId: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `vmr-train-${runId.slice(0, 8)}-`));
}

/**
 * Train one model (DESIGN.md §1.5) and log it as a run: all params, per-step loss terms, per-epoch
 * validation Recall@k, checkpoints as artifacts. Deterministic for a given seed and backend; a killed
 * run resumed with `resumeRun` ends with the same weights and metrics as an uninterrupted one.
 */
export async function trainRun(configInput: TrainConfig | TrainConfigInput, options: TrainOptions = {}): Promise<TrainResult> {
  // parsing is idempotent on a resolved config; a relative dataset path is fixed here so resume works anywhere
  const parsed = parseTrainConfig(configInput);
  const config: TrainConfig = { ...parsed, dataset: path.resolve(parsed.dataset) };
  const data = prepare(config);
  const backend = await selectBackend(config.backend);
  const engine = describeMatmul(backend.backend);
  return useTracker(options, async (tracker) => {
    const dims = { videoDim: data.train.videoDim, audioDim: data.train.audioDim };
    const modelConfig = modelConfigFor(config, dims);
    const run = await tracker.startRun({
      experiment: config.experiment,
      name: config.name ?? `${config.model}/${config.features}/seed${config.seed}`,
      parentId: options.parentId,
      seed: config.seed,
      backend: backend.backend,
      protocol: config.protocol,
      tags: {
        [RUN_KIND_TAG]: 'train',
        model: config.model,
        features: config.features,
        dataset: data.train.datasetName,
        ...(data.train.synthetic ? { synthetic: 'true' } : {}),
        ...options.tags,
      },
    });
    let model: Model | undefined;
    let optimizer: Adam | undefined;
    try {
      await tracker.logParams(run.id, {
        ...flattenParams(config),
        'dataset.name': data.train.datasetName,
        'dataset.kind': data.train.datasetKind,
        'dataset.path': data.train.datasetDir,
        'dataset.synthetic': data.train.synthetic,
        'data.trainClips': data.train.clips.length,
        'data.trainSkipped': data.train.skipped.length,
        'data.valClips': data.val?.clips.length ?? 0,
        'data.valSkipped': data.val?.skipped.length ?? 0,
        'data.segmentSource': data.train.segmentSource,
        'model.config': JSON.stringify(modelConfig),
        'backend.tfjs': backend.tfBackend,
        'backend.package': backend.package,
        // what runs the matrix products (wasm: the native GEMM or XNNPACK; resume requires the same)
        'backend.matmul': engine.matmul,
        'backend.label': engine.label,
        ...(engine.matmulNote ? { 'backend.matmulNote': engine.matmulNote } : {}),
      });
      const dir = tmpDir(run.id);
      const cfgFile = path.join(dir, TRAIN_ARTIFACTS.config);
      writeJsonAtomic(cfgFile, { config, modelConfig, backend: backend.backend, matmul: engine.matmul });
      await tracker.logArtifact(run.id, cfgFile, TRAIN_ARTIFACTS.config);
      model = createModel(modelConfig, config.seed);
      optimizer = createOptimizer(model, config);
      return await loop(tracker, run.id, config, data, model, optimizer, { epoch: 0, batch: 0, globalStep: 0 }, dir, backend, options);
    } catch (e) {
      await tracker.endRun(run.id, 'failed', errorMessage(e)).catch(() => undefined);
      throw e;
    } finally {
      optimizer?.dispose();
      model?.dispose();
    }
  });
}

/**
 * Continue a killed (or failed) training run from its latest checkpoint, in the same run: same run id,
 * metrics continue at the next step.
 */
export async function resumeRun(runIdOrPrefix: string, options: TrainOptions = {}): Promise<TrainResult> {
  return useTracker(options, async (tracker) => {
    const runId = await tracker.resolveRunId(runIdOrPrefix);
    const run = await tracker.getRun(runId);
    if (run.tags[RUN_KIND_TAG] !== 'train') throw new ConflictError(`run ${runId} is not a training run (tag ${RUN_KIND_TAG}=${run.tags[RUN_KIND_TAG] ?? 'missing'})`);
    if (run.status === 'finished') throw new ConflictError(`run ${runId} already finished; nothing to resume`);
    if (run.status === 'running' || run.status === 'queued') throw new ConflictError(`run ${runId} is ${run.status}; only a killed or failed run can be resumed`);
    const ckPath = run.artifacts.find((a) => a.path === TRAIN_ARTIFACTS.latest);
    if (!ckPath) throw new ConflictError(`run ${runId} has no checkpoint (${TRAIN_ARTIFACTS.latest}) to resume from; start a new run`);
    const cfgRaw = JSON.parse(fs.readFileSync(await tracker.artifactFile(runId, TRAIN_ARTIFACTS.config), 'utf8')) as { config: unknown };
    const config = parseTrainConfig(cfgRaw.config, `run ${runId} ${TRAIN_ARTIFACTS.config}`);
    const data = prepare(config);
    const backend = await selectBackend(config.backend);
    if (run.backend && backend.backend !== run.backend) {
      throw new ConflictError(`run ${runId} trained on backend ${run.backend}, this process selected ${backend.backend}: results would not be identical`);
    }
    const engine = describeMatmul(backend.backend);
    const trainedWith = run.params['backend.matmul'];
    if (trainedWith && trainedWith !== engine.matmul) {
      const how = engine.matmul === 'xnnpack'
        ? `build the native GEMM (\`node libs/core/native/build.js\`, needs g++) or unset VMR_NATIVE_GEMM${engine.matmulNote ? `; here: ${engine.matmulNote}` : ''}`
        : 'set VMR_NATIVE_GEMM=0 to use XNNPACK';
      throw new ConflictError(`run ${runId} computed its matrix products with ${trainedWith}, this process with ${engine.matmul}: results would not be identical (${how})`);
    }
    const ck = loadCheckpoint(await tracker.artifactFile(runId, TRAIN_ARTIFACTS.latest));
    const pos = ck.extra.position as Position | undefined;
    if (!pos || typeof pos.epoch !== 'number') throw new FileFormatError(`run ${runId}: checkpoint lacks its training position`);
    const { model, optimizer } = restoreFromCheckpoint(ck);
    if (!optimizer) throw new FileFormatError(`run ${runId}: checkpoint lacks the optimizer state`);
    checkFeatureDims(openDataset(config.dataset), config, { videoDim: model.config.videoDim, audioDim: model.config.audioDim }, `run ${runId}'s checkpoint`);
    await tracker.setStatus(runId, 'running');
    await tracker.setTags(runId, { resumed: String(Number(run.tags.resumed ?? '0') + 1) });
    try {
      return await loop(tracker, runId, config, data, model, optimizer, pos, tmpDir(runId), backend, options);
    } catch (e) {
      await tracker.endRun(runId, 'failed', errorMessage(e)).catch(() => undefined);
      throw e;
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  });
}

const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

async function loop(
  tracker: Tracker,
  runId: string,
  config: TrainConfig,
  data: { train: PreparedData; val?: PreparedData },
  model: Model,
  optimizer: Adam,
  start: Position,
  dir: string,
  backend: BackendInfo,
  options: TrainOptions,
): Promise<TrainResult> {
  const t0 = Date.now();
  const n = data.train.clips.length;
  const perEpoch = stepsPerEpoch(config, n);
  const totalSteps = perEpoch * config.epochs;
  const buffer = new MetricBuffer(tracker, runId, 500, 2000);
  let stop: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    stop = sig;
  };
  const handle = options.handleSignals !== false;
  if (handle) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const bar: Progress = createProgress({ label: `train ${config.model}/${config.features}`, total: totalSteps, unit: 'steps', quiet: options.progress === false });
  bar.update(start.globalStep);
  let pos = { ...start };
  let lastLoss = Number.NaN;
  let lastVal: TrainResult['val'];
  let stepsThisProcess = 0;
  const stepT0 = Date.now();
  const emit = (p: Omit<TrainProgress, 'runId' | 'epochs' | 'totalSteps' | 'stepsPerSec' | 'etaSec'>) => {
    const secs = (Date.now() - stepT0) / 1000;
    const rate = secs > 0 ? stepsThisProcess / secs : 0;
    options.onProgress?.({ runId, epochs: config.epochs, totalSteps, stepsPerSec: rate, etaSec: rate > 0 ? (totalSteps - p.step) / rate : Number.NaN, ...p });
  };
  const checkpoint = async (paths: string[]) => {
    const file = path.join(dir, 'checkpoint.ckpt');
    saveCheckpoint(file, { model, optimizer, step: pos.globalStep, extra: { position: pos, backend: backend.backend } });
    for (const p of paths) await tracker.logArtifact(runId, file, p);
    emit({ epoch: pos.epoch, step: pos.globalStep, loss: lastLoss, terms: {}, phase: 'checkpoint' });
  };
  const pool = config.replicas > 1 && model.kind === 'of-vm-net' ? await ReplicaPool.create(model, { replicas: config.replicas, backend: backend.backend }) : undefined;
  const backendLabel = pool ? `${describeMatmul(backend.backend, { threads: pool.gemmThreads }).label} × ${pool.size} replicas` : describeMatmul(backend.backend).label;
  try {
    for (let epoch = start.epoch; epoch < config.epochs; epoch++) {
      const batches = epochBatches(config, n, epoch);
      for (let b = epoch === start.epoch ? start.batch : 0; b < batches.length; b++) {
        const clips = batches[b].map((i) => data.train.clips[i]);
        const r = await trainOnBatch(model, optimizer, config, clips, pos.globalStep + 1, pool);
        pos = { epoch, batch: b + 1, globalStep: pos.globalStep + 1 };
        stepsThisProcess++;
        lastLoss = r.loss;
        buffer.log('train.loss', r.loss, pos.globalStep);
        buffer.log('train.lr', r.lr, pos.globalStep);
        for (const [k, v] of Object.entries(r.terms)) buffer.log(`train.${k}`, v, pos.globalStep);
        bar.update(pos.globalStep, { epoch: `${epoch + 1}/${config.epochs}`, loss: r.loss, ...roundTerms(r.terms) });
        emit({ epoch: epoch + 1, step: pos.globalStep, loss: r.loss, terms: r.terms, phase: 'step' });
        if (options.interruptAfterSteps !== undefined && stepsThisProcess === options.interruptAfterSteps) process.kill(process.pid, 'SIGINT');
        await yieldToEventLoop();
        if (stop) break;
      }
      if (stop) break;
      pos = { epoch: epoch + 1, batch: 0, globalStep: pos.globalStep };
      const last = epoch + 1 === config.epochs;
      if (data.val && config.validateEvery > 0 && ((epoch + 1) % config.validateEvery === 0 || last)) {
        const v = validationRecall(model, data.val.clips, config.segmentation);
        lastVal = { r1: v.recall[1], r5: v.recall[5], r10: v.recall[10], medianRank: v.medianRank };
        buffer.logMany({ 'val.r1': v.recall[1], 'val.r5': v.recall[5], 'val.r10': v.recall[10], 'val.medianRank': v.medianRank, 'val.meanRank': v.meanRank, 'val.gallerySize': v.gallerySize }, epoch + 1);
        emit({ epoch: epoch + 1, step: pos.globalStep, loss: lastLoss, terms: {}, val: lastVal, phase: 'validate' });
      }
      buffer.log('train.epoch', epoch + 1, pos.globalStep);
      if ((epoch + 1) % config.checkpointEvery === 0 || last) await checkpoint([TRAIN_ARTIFACTS.epoch(epoch + 1), TRAIN_ARTIFACTS.latest, ...(last ? [TRAIN_ARTIFACTS.final] : [])]);
      await yieldToEventLoop();
      if (stop) break;
    }
    bar.stop();
    if (stop && pos.epoch < config.epochs) {
      await checkpoint([TRAIN_ARTIFACTS.latest]);
      await buffer.flush();
      const reason = `interrupted by ${stop} at epoch ${pos.epoch + 1}, step ${pos.globalStep}`;
      await tracker.endRun(runId, 'killed', reason);
      return {
        runId,
        status: 'killed',
        epochsDone: pos.epoch,
        steps: pos.globalStep,
        finalLoss: lastLoss,
        val: lastVal,
        seconds: (Date.now() - t0) / 1000,
        config,
        backend: backendLabel,
        resumeHint: `vmr train --resume ${runId}`,
      };
    }
    buffer.log('train.seconds', (Date.now() - t0) / 1000, pos.globalStep);
    await buffer.flush();
    await tracker.endRun(runId, 'finished');
    emit({ epoch: config.epochs, step: pos.globalStep, loss: lastLoss, terms: {}, val: lastVal, phase: 'done' });
    return { runId, status: 'finished', epochsDone: config.epochs, steps: pos.globalStep, finalLoss: lastLoss, val: lastVal, seconds: (Date.now() - t0) / 1000, config, backend: backendLabel };
  } catch (e) {
    bar.stop();
    await buffer.flush().catch(() => undefined);
    throw e;
  } finally {
    await pool?.close();
    if (handle) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function roundTerms(terms: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, Number(v.toPrecision(3))]));
}
