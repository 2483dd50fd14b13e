import { Rng } from '@vmr/core';
import { tf } from '@vmr/core/tf';
import {
  Adam,
  mixSeed,
  trainStep,
  trainStepOfVmNet,
  type ReplicaPool,
  type SegmentEmbeddings,
  type Model,
  type StepResult,
} from '@vmr/models';
import { ofVmNetLoss, vmNetLoss } from '@vmr/losses';
import { batchPadLength, clipMeans, segmentBatch, type PreparedClip, type TrainConfig } from '@vmr/pipeline';

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
