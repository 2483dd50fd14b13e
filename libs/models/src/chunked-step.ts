import { InvalidArgumentError, NumericError } from '@vmr/core';
import { tf, phase } from '@vmr/core/tf';
import type { Adam, LossOutput, StepResult } from './adam';
import { trainStep } from './adam';
import { mixSeed } from './params';
import type { OfVmNet, SegmentBatch, SegmentEmbeddings, HostTensor } from './of-vm-net';

export interface OfVmNetStepOptions {
  /**
   * Clips per gradient chunk. Default: the whole batch in one pass (fastest while it fits in memory).
   * With a smaller value the step runs (1) a tape-free forward pass chunk by chunk, (2) the loss and
   * its gradient w.r.t. the embeddings on the whole batch, (3) per chunk, the forward pass again under
   * a tape and the vector–Jacobian product with those embedding gradients, summed over chunks.
   * Exact (the loss couples the whole batch; the encoders do not): peak memory is one chunk's
   * activations, at the cost of one extra forward pass. Dropout masks are drawn per batch segment
   * (`clipOffset`), so a chunked step equals the one-pass step, dropout included.
   */
  chunkClips?: number;
}

function sliceInput(x: tf.Tensor | HostTensor, c0: number, c1: number): tf.Tensor | HostTensor {
  if (x instanceof tf.Tensor) return tf.slice(x, [c0], [c1 - c0]);
  const per = x.shape[1] * x.shape[2] * x.shape[3];
  return { data: x.data.subarray(c0 * per, c1 * per), shape: [c1 - c0, x.shape[1], x.shape[2], x.shape[3]] };
}

function sliceBatch(b: SegmentBatch, c0: number, c1: number): SegmentBatch {
  const [, S, L] = b.video.shape as number[];
  const mask = b.mask instanceof tf.Tensor ? b.mask.dataSync() : b.mask;
  const m = Array.prototype.slice.call(mask, c0 * S * L, c1 * S * L) as number[];
  return { video: sliceInput(b.video, c0, c1), audio: sliceInput(b.audio, c0, c1), mask: m };
}

/**
 * One OF-VM-Net training step (forward, `lossFn` on the batch's segment embeddings, backward, Adam),
 * optionally in memory-bounded chunks of clips (see `OfVmNetStepOptions.chunkClips`).
 */
export function trainStepOfVmNet(
  model: OfVmNet,
  optimizer: Adam,
  batch: SegmentBatch,
  lossFn: (emb: SegmentEmbeddings) => LossOutput,
  options: OfVmNetStepOptions = {},
): StepResult {
  const B = batch.video.shape[0];
  const chunk = options.chunkClips ?? B;
  if (!Number.isInteger(chunk) || chunk < 1) throw new InvalidArgumentError(`chunkClips must be a positive integer, got ${chunk}`);
  if (chunk >= B) {
    return trainStep(model.params, optimizer, () => {
      const emb = model.forward(batch, { training: true });
      return phase('loss, mining', () => lossFn(emb));
    });
  }

  const baseSeed = mixSeed(model.seed, model.forwardCount);
  model.forwardCount += 1;
  const ranges: Array<[number, number]> = [];
  for (let c0 = 0; c0 < B; c0 += chunk) ranges.push([c0, Math.min(B, c0 + chunk)]);

  // (1) tape-free forward, chunk by chunk
  const partsV: tf.Tensor[] = [];
  const partsA: tf.Tensor[] = [];
  ranges.forEach(([c0, c1]) => {
    const e = tf.tidy(() => {
      const out = model.forward(sliceBatch(batch, c0, c1), { training: true, dropoutSeed: baseSeed, clipOffset: c0 });
      return [out.video, out.audio];
    });
    partsV.push(e[0]);
    partsA.push(e[1]);
  });
  const embV = tf.concat(partsV, 0) as tf.Tensor3D;
  const embA = tf.concat(partsA, 0) as tf.Tensor3D;
  tf.dispose([...partsV, ...partsA]);

  // (2) loss and its gradient w.r.t. the embeddings
  let terms: Record<string, number> = {};
  const lr = optimizer.currentLr();
  const { value, grads: embGrads } = tf.valueAndGrads((v: tf.Tensor, a: tf.Tensor) => {
    const out = phase('loss, mining', () => lossFn({ video: v as tf.Tensor3D, audio: a as tf.Tensor3D }));
    terms = Object.fromEntries(Object.entries(out.terms).map(([k, t]) => [k, typeof t === 'number' ? t : t.dataSync()[0]]));
    return out.total;
  })([embV, embA]);
  const loss = value.dataSync()[0];
  tf.dispose([value, embV, embA]);
  const accum = new Map<string, tf.Tensor>();
  try {
    if (!Number.isFinite(loss)) throw new NumericError(`loss is ${loss} at step ${optimizer.step + 1}`, { details: { terms } });
    // (3) per chunk: recompute under a tape, backpropagate the embedding gradients
    const names = [...model.params.trainable.keys()];
    const vars = names.map((n) => model.params.trainable.get(n)!);
    ranges.forEach(([c0, c1]) => {
      const { value: v, grads } = tf.variableGrads(() => {
        const out = model.forward(sliceBatch(batch, c0, c1), { training: true, dropoutSeed: baseSeed, clipOffset: c0 });
        const gv = tf.slice(embGrads[0], [c0], [c1 - c0]);
        const ga = tf.slice(embGrads[1], [c0], [c1 - c0]);
        return tf.add(tf.sum(tf.mul(out.video, gv)), tf.sum(tf.mul(out.audio, ga))) as tf.Scalar;
      }, vars);
      v.dispose();
      for (const n of names) {
        const g = grads[model.params.trainable.get(n)!.name];
        if (!g) continue;
        const prev = accum.get(n);
        if (prev) {
          accum.set(n, tf.add(prev, g));
          prev.dispose();
          g.dispose();
        } else accum.set(n, g);
      }
    });
    const bad = tf.tidy(() => {
      for (const [n, g] of accum) if (!tf.all(tf.isFinite(g)).dataSync()[0]) return n;
      return undefined;
    });
    if (bad) throw new NumericError(`gradient of ${bad} is not finite at step ${optimizer.step + 1}`);
    optimizer.apply(accum);
    return { loss, terms, lr, step: optimizer.step };
  } finally {
    tf.dispose(embGrads);
    for (const g of accum.values()) g.dispose();
  }
}
