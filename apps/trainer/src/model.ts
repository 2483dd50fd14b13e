import { tf, Rng } from '@vmr/core';
import {
  Adam,
  clipEmbeddings,
  createModel,
  mixSeed,
  parseOfVmNetConfig,
  parseVmNetConfig,
  trainStep,
  trainStepOfVmNet,
  type ReplicaPool,
  type SegmentEmbeddings,
  type Model,
  type ModelConfig,
  type StepResult,
} from '@vmr/models';
import { ofVmNetLoss, vmNetLoss } from '@vmr/losses';
import { retrievalMetrics, type RetrievalResult } from '@vmr/metrics';
import type { TrainConfig } from './config';
import { batchPadLength, clipMeans, segmentBatch, type PreparedClip } from './data';

/** The full model config of a run: the config's overrides plus the dataset's feature dims. */
export function modelConfigFor(config: TrainConfig, dims: { videoDim: number; audioDim: number }): ModelConfig {
  if (config.model === 'vm-net') {
    return parseVmNetConfig({ ...config.vmNet, videoDim: dims.videoDim, audioDim: dims.audioDim });
  }
  return parseOfVmNetConfig({
    maxLen: config.segmentation.padLength,
    ...config.ofVmNet,
    videoDim: dims.videoDim,
    audioDim: dims.audioDim,
  });
}

export function createOptimizer(model: Model, config: TrainConfig): Adam {
  return new Adam(model.params, { lr: config.lr, decayRate: config.lrDecay.rate, decaySteps: config.lrDecay.steps });
}

/**
 * One optimisation step on a mini-batch of clips. `globalStep` (1-based) seeds the vmr-code loss's
 * random triplets, so a resumed run draws the same ones.
 */
export function trainOnBatch(
  model: Model,
  optimizer: Adam,
  config: TrainConfig,
  clips: readonly PreparedClip[],
  globalStep: number,
  pool?: ReplicaPool,
): StepResult | Promise<StepResult> {
  if (model.kind === 'vm-net') {
    const means = clipMeans(clips, model.config);
    const video = tf.tensor2d(means.video, [clips.length, model.config.videoDim]);
    const audio = tf.tensor2d(means.audio, [clips.length, model.config.audioDim]);
    try {
      return trainStep(model.params, optimizer, () => {
        const emb = model.forward({ video, audio }, { training: true });
        const r = vmNetLoss(emb, { video, audio }, config.vmNetLoss);
        return { total: r.total, terms: r.terms };
      });
    } finally {
      video.dispose();
      audio.dispose();
    }
  }
  const S = config.segmentation.segments;
  const L = batchPadLength(clips, model.config.pooling, config.segmentation.padLength);
  const batch = segmentBatch(clips, model.config, S, L);
  const rng = new Rng(mixSeed(config.seed, globalStep));
  const lossFn = (emb: SegmentEmbeddings) => {
    const r = ofVmNetLoss(emb, batch.ranks, config.loss, { rng });
    return { total: r.total, terms: r.terms };
  };
  if (pool) return pool.step(optimizer, batch, lossFn);
  return trainStepOfVmNet(model, optimizer, batch, lossFn, { chunkClips: config.chunkClips });
}

/** Retrieval embeddings (evaluation mode): video and audio `[n, dim]` row-major. */
export interface ClipEmbeddingSet {
  n: number;
  dim: number;
  video: Float32Array;
  audio: Float32Array;
}

/**
 * Embed clips for retrieval in evaluation mode (no dropout, batch-norm moving statistics). OF-VM-Net: a
 * clip's embedding is the concatenation of its S segment embeddings (S·E); VM-Net: the 512-d branch
 * outputs.
 */
export function embedClips(model: Model, clips: readonly PreparedClip[], segmentation: TrainConfig['segmentation'], chunk = 16): ClipEmbeddingSet {
  const parts: Array<{ v: Float32Array; a: Float32Array }> = [];
  let dim = 0;
  for (let c0 = 0; c0 < clips.length; c0 += chunk) {
    const part = clips.slice(c0, c0 + chunk);
    const out = tf.tidy(() => {
      if (model.kind === 'vm-net') {
        const means = clipMeans(part, model.config);
        const e = model.forward(
          { video: tf.tensor2d(means.video, [part.length, model.config.videoDim]), audio: tf.tensor2d(means.audio, [part.length, model.config.audioDim]) },
          { training: false },
        );
        return [e.video, e.audio];
      }
      const S = segmentation.segments;
      const L = batchPadLength(part, model.config.pooling, segmentation.padLength);
      const e = model.forward(segmentBatch(part, model.config, S, L), { training: false });
      return [clipEmbeddings(e.video), clipEmbeddings(e.audio)];
    });
    dim = out[0].shape[1]!;
    parts.push({ v: out[0].dataSync() as Float32Array, a: out[1].dataSync() as Float32Array });
    tf.dispose(out);
  }
  const n = clips.length;
  const video = new Float32Array(n * dim);
  const audio = new Float32Array(n * dim);
  let off = 0;
  for (const p of parts) {
    video.set(p.v, off);
    audio.set(p.a, off);
    off += p.v.length;
  }
  return { n, dim, video, audio };
}

/** Similarity matrix `[videos, musics]` = video · audioᵀ (dot products of the retrieval embeddings). */
export function similarityMatrix(e: ClipEmbeddingSet): { rows: number; cols: number; data: Float32Array } {
  const s = tf.tidy(() => tf.matMul(tf.tensor2d(e.video, [e.n, e.dim]), tf.tensor2d(e.audio, [e.n, e.dim]), false, true));
  const data = s.dataSync() as Float32Array;
  s.dispose();
  return { rows: e.n, cols: e.n, data };
}

/** Video→music Recall@1/5/10, median and mean rank on the full gallery of these clips. */
export function validationRecall(model: Model, clips: readonly PreparedClip[], segmentation: TrainConfig['segmentation']): RetrievalResult {
  return retrievalMetrics(similarityMatrix(embedClips(model, clips, segmentation)), { ks: [1, 5, 10], direction: 'video-to-music' });
}
