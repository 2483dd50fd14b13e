import { Rng, ConfigError, InvalidArgumentError } from '@vmr/core';
import { tf, phase, tensorFilledInPlace } from '@vmr/core/tf';
import { OfVmNetConfigSchema, type OfVmNetConfig, type OfVmNetConfigInput } from './config';
import { ParamSet, mixSeed } from './params';
import { planPacking, type PackPlan } from './packing';
import { initSegmentEncoder, encodeSegments, sinusoidalPositions, type EncoderSizes } from './segment-encoder';

/**
 * A mini-batch of segmented clips.
 * - video `[B, S, L, Dv]`, audio `[B, S, L, Da]`: zero-padded per-second features
 * - mask `[B, S, L]`: 1 = real token, 0 = padding (key-padding mask)
 * - ranks `[B, S]`: flow rank of each segment, 1 = most motion … S = least (used by the losses)
 */
export interface SegmentBatch {
  video: tf.Tensor | HostTensor;
  audio: tf.Tensor | HostTensor;
  mask: tf.Tensor | ArrayLike<number>;
  ranks?: tf.Tensor | ArrayLike<number>;
}

/**
 * A feature array kept in JS memory, `[B, S, L, D]` row-major. Preferred for large batches: with the
 * masked-mean encoder only the valid tokens are copied to the backend (a padded paper batch of ResNet
 * features is 0.5 GB, more than the wasm heap comfortably holds next to the activations).
 */
export interface HostTensor {
  data: Float32Array;
  shape: [number, number, number, number];
}

/** L2-normalised segment embeddings, `[B, S, E]` each. */
export interface SegmentEmbeddings {
  video: tf.Tensor3D;
  audio: tf.Tensor3D;
}

export interface ForwardOptions {
  /** Dropout on (training) or off (evaluation). */
  training: boolean;
  /**
   * Seed of this pass's dropout masks. Default: derived from the model seed and an internal counter
   * (`forwardCount`, saved in checkpoints), so a run is deterministic for a given seed.
   */
  dropoutSeed?: number;
  /**
   * This batch is clips `clipOffset …` of a larger batch (a chunk or a data-parallel replica's shard):
   * dropout masks are drawn per batch segment, so a split batch gets exactly the masks of the whole.
   */
  clipOffset?: number;
}

export interface OfVmNet {
  readonly kind: 'of-vm-net';
  readonly config: OfVmNetConfig;
  readonly seed: number;
  readonly params: ParamSet;
  /** Training forward passes so far (drives default dropout seeds). */
  forwardCount: number;
  /** Embed every segment of the batch. Call inside tf.tidy / variableGrads. */
  forward(batch: SegmentBatch, options: ForwardOptions): SegmentEmbeddings;
  /** The packing plan the forward pass would use for this mask (for inspection and benchmarks). */
  plan(mask: ArrayLike<number>, b: number, s: number, l: number): PackPlan;
  dispose(): void;
}

/** Parse a config with the zod schema, turning failures into a ConfigError naming the key. */
export function parseOfVmNetConfig(config: OfVmNetConfigInput): OfVmNetConfig {
  const r = OfVmNetConfigSchema.safeParse(config);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError(`invalid OF-VM-Net config at '${issue.path.join('.')}': ${issue.message}`, {
      details: { path: issue.path.join('.'), issues: r.error.issues },
    });
  }
  return r.data;
}

function sizes(c: OfVmNetConfig, inputDim: number): EncoderSizes {
  return {
    inputDim,
    embedDim: c.embedDim,
    heads: c.heads,
    layers: c.layers,
    ffnDim: c.ffnDim,
    dropout: c.dropout,
    maxLen: c.maxLen,
    layerNormEps: c.layerNormEps,
    identicalLayerInit: c.identicalLayerInit,
  };
}

/** The plan's input rows `[plan.rows, D]` (group layout; zero rows at padding). Only these are uploaded. */
function rowsOf(x: tf.Tensor | HostTensor, plan: PackPlan, D: number): tf.Tensor2D {
  return phase('host→tensor copies', () => {
    if (x instanceof tf.Tensor) {
      const flat = tf.reshape(x, [-1, D]) as tf.Tensor2D;
      if (plan.identity) return flat;
      const idx = tf.tensor1d(plan.rowIndex.map((v) => Math.max(v, 0)), 'int32');
      return tf.mul(tf.gather(flat, idx), tf.tensor2d(plan.rowValid, [plan.rows, 1])) as tf.Tensor2D;
    }
    if (plan.identity) return tf.tensor2d(x.data, [plan.rows, D]);
    // written in place (wasm: in the heap; no 50 MB JS array, one copy instead of two)
    return tensorFilledInPlace([plan.rows, D], (out) => {
      for (let t = 0; t < plan.rows; t++) {
        const r = plan.rowIndex[t];
        if (r >= 0) out.set(x.data.subarray(r * D, (r + 1) * D), t * D);
        else out.fill(0, t * D, (t + 1) * D);
      }
    }) as tf.Tensor2D;
  });
}

function readArray(x: tf.Tensor | ArrayLike<number>): ArrayLike<number> {
  return x instanceof tf.Tensor ? x.dataSync() : x;
}

/** Create an OF-VM-Net (two segment encoders) with deterministic initialisation from `seed`. */
export function createOfVmNet(configInput: OfVmNetConfigInput, seed: number): OfVmNet {
  const config = parseOfVmNetConfig(configInput);
  if (!Number.isInteger(seed)) throw new InvalidArgumentError(`model seed must be an integer, got ${seed}`);
  const rng = new Rng(seed);
  const params = new ParamSet();
  const vs = sizes(config, config.videoDim);
  const as = sizes(config, config.audioDim);
  initSegmentEncoder(params, rng.fork('video'), 'video', vs);
  initSegmentEncoder(params, rng.fork('audio'), 'audio', as);
  const posTable = sinusoidalPositions(config.maxLen, config.embedDim);
  // grouping objective: a row's pointwise work ≈ (2E + F) attention scores; a group's fixed op cost
  const groupingCost = { perRow: 2 * config.embedDim + config.ffnDim, perGroup: 1e4 };

  const model: OfVmNet = {
    kind: 'of-vm-net',
    config,
    seed,
    params,
    forwardCount: 0,
    plan(mask, b, s, l) {
      return planPacking(mask, b * s, l, config.pooling, config.maxAttentionGroups, (i) => `clip ${Math.floor(i / s)}, segment ${i % s}`, groupingCost);
    },
    forward(batch, options) {
      const { video, audio } = batch;
      for (const [name, t] of [['video', video], ['audio', audio]] as const) {
        if (t.shape.length !== 4) throw new InvalidArgumentError(`batch ${name} must be [B, S, L, D]; got [${t.shape}]`);
        if (!(t instanceof tf.Tensor) && t.data.length !== t.shape.reduce((a, b) => a * b, 1)) {
          throw new InvalidArgumentError(`batch ${name} has ${t.data.length} values, shape [${t.shape}] needs ${t.shape.reduce((a, b) => a * b, 1)}`);
        }
      }
      const [B, S, L, Dv] = video.shape as number[];
      const [Ba, Sa, La, Da] = audio.shape as number[];
      if (Ba !== B || Sa !== S || La !== L) {
        throw new InvalidArgumentError(`batch audio [${audio.shape}] does not match video [${video.shape}] in B, S, L`);
      }
      if (Dv !== config.videoDim) throw new InvalidArgumentError(`batch video dim ${Dv} ≠ model videoDim ${config.videoDim}`);
      if (Da !== config.audioDim) throw new InvalidArgumentError(`batch audio dim ${Da} ≠ model audioDim ${config.audioDim}`);
      if (L > config.maxLen) throw new InvalidArgumentError(`batch segment length L = ${L} exceeds model maxLen ${config.maxLen}`);
      const mask = readArray(batch.mask);
      if (mask.length !== B * S * L) throw new InvalidArgumentError(`batch mask has ${mask.length} entries, expected [${B}, ${S}, ${L}]`);
      const plan = model.plan(mask, B, S, L);
      const clipOffset = options.clipOffset ?? 0;
      if (!Number.isInteger(clipOffset) || clipOffset < 0) throw new InvalidArgumentError(`clipOffset must be a non-negative integer, got ${clipOffset}`);
      const seqOffset = clipOffset * S;
      let dropoutSeed = options.dropoutSeed;
      if (options.training && dropoutSeed === undefined) {
        dropoutSeed = mixSeed(seed, model.forwardCount);
        model.forwardCount += 1;
      }
      const v = encodeSegments(params, 'video', vs, rowsOf(video, plan, Dv), plan, posTable, {
        training: options.training,
        dropoutSeed: mixSeed(dropoutSeed ?? 0, 1),
        seqOffset,
      });
      const a = encodeSegments(params, 'audio', as, rowsOf(audio, plan, Da), plan, posTable, {
        training: options.training,
        dropoutSeed: mixSeed(dropoutSeed ?? 0, 2),
        seqOffset,
      });
      return {
        video: tf.reshape(v, [B, S, config.embedDim]) as tf.Tensor3D,
        audio: tf.reshape(a, [B, S, config.embedDim]) as tf.Tensor3D,
      };
    },
    dispose() {
      params.dispose();
    },
  };
  return model;
}

/** A clip's retrieval embedding: the concatenation of its S segment embeddings, `[B, S·E]`. */
export function clipEmbeddings(segments: tf.Tensor3D): tf.Tensor2D {
  const [B, S, E] = segments.shape;
  return tf.reshape(segments, [B, S * E]) as tf.Tensor2D;
}
