import { Rng } from '@vmr/core';
import { tf, matMul, linear, gatherRows, dropout, reluDropout, swapLastAxes } from '@vmr/core/tf';
import { ParamSet, addTorchLinear, uniformInit, mixSeed } from './params';
import type { PackPlan } from './packing';

/** Sizes of one modality's segment encoder. */
export interface EncoderSizes {
  inputDim: number;
  embedDim: number;
  heads: number;
  layers: number;
  ffnDim: number;
  dropout: number;
  maxLen: number;
  layerNormEps: number;
  identicalLayerInit: boolean;
}

/** Sinusoidal positional encodings `[maxLen, E]` (sin on even, cos on odd columns). */
export function sinusoidalPositions(maxLen: number, dim: number): Float32Array {
  const pe = new Float32Array(maxLen * dim);
  for (let pos = 0; pos < maxLen; pos++) {
    for (let i = 0; i < dim; i += 2) {
      const angle = pos * Math.exp(i * -(Math.log(10000) / dim));
      pe[pos * dim + i] = Math.sin(angle);
      if (i + 1 < dim) pe[pos * dim + i + 1] = Math.cos(angle);
    }
  }
  return pe;
}

/**
 * Create the parameters of one segment encoder under `prefix` with PyTorch-default initialisation:
 * Linear layers U(±1/√fan_in); attention in-projection xavier_uniform with zero bias, out-projection
 * bias zero; LayerNorm weight 1, bias 0.
 */
export function initSegmentEncoder(ps: ParamSet, rng: Rng, prefix: string, s: EncoderSizes): void {
  const E = s.embedDim;
  addTorchLinear(ps, rng.fork('input'), `${prefix}.input`, s.inputDim, E);
  for (let l = 0; l < s.layers; l++) {
    const p = `${prefix}.layer${l}`;
    const lr = rng.fork(s.identicalLayerInit ? `${prefix}.layer` : p);
    const xavier = Math.sqrt(6 / (E + 3 * E));
    ps.add(`${p}.attn.in.weight`, uniformInit(lr.fork('attn.in.weight'), [E, 3 * E], xavier));
    ps.add(`${p}.attn.in.bias`, tf.zeros([3 * E]));
    addTorchLinear(ps, lr.fork('attn.out'), `${p}.attn.out`, E, E, true);
    addTorchLinear(ps, lr.fork('ffn1'), `${p}.ffn1`, E, s.ffnDim);
    addTorchLinear(ps, lr.fork('ffn2'), `${p}.ffn2`, s.ffnDim, E);
    ps.add(`${p}.norm1.weight`, tf.ones([E]));
    ps.add(`${p}.norm1.bias`, tf.zeros([E]));
    ps.add(`${p}.norm2.weight`, tf.ones([E]));
    ps.add(`${p}.norm2.bias`, tf.zeros([E]));
  }
  addTorchLinear(ps, rng.fork('output'), `${prefix}.output`, E, E);
}

function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const xc = tf.sub(x, mean);
  const variance = tf.mean(tf.square(xc), -1, true);
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/** Row-wise L2 normalisation (PyTorch F.normalize up to a 1e-24 guard inside the square root). */
export function l2Normalize(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), -1, true), 1e-24)));
}

export interface EncodeOptions {
  training: boolean;
  /** Base seed of this forward pass's dropout masks. */
  dropoutSeed: number;
}

/**
 * Encode N padded sequences into N L2-normalised embeddings.
 * @param tokens `[T, D]` the plan's input tokens (packed layout; `[N·L, D]` when the plan is the identity)
 * @returns `[N, E]`
 */
export function encodeSegments(
  ps: ParamSet,
  prefix: string,
  s: EncoderSizes,
  tokens: tf.Tensor2D,
  plan: PackPlan,
  posTable: Float32Array,
  opts: EncodeOptions,
): tf.Tensor2D {
  const E = s.embedDim;
  const H = s.heads;
  const dh = E / H;
  const rate = opts.training ? s.dropout : 0;
  let site = 0;
  const drop = (t: tf.Tensor): tf.Tensor => (rate > 0 ? dropout(t, rate, mixSeed(opts.dropoutSeed, site++)) : t);
  const P = (n: string) => ps.get(`${prefix}.${n}`);

  const T = plan.tokenIndex.length;
  const pe = new Float32Array(T * E);
  for (let t = 0; t < T; t++) pe.set(posTable.subarray(plan.positions[t] * E, plan.positions[t] * E + E), t * E);
  let h = tf.add(linear(tokens, P('input.weight'), P('input.bias')), tf.tensor2d(pe, [T, E]));

  // attention masks per group: [n, 1, 1, len] additive bias
  const biases = plan.groups.map((g) => {
    const b = new Float32Array(g.keyValid.length);
    for (let i = 0; i < b.length; i++) b[i] = g.keyValid[i] === 1 ? 0 : -1e9;
    return tf.tensor4d(b, [g.seqs.length, 1, 1, g.len]);
  });

  for (let l = 0; l < s.layers; l++) {
    const p = `layer${l}`;
    const qkv = linear(h, P(`${p}.attn.in.weight`), P(`${p}.attn.in.bias`)) as tf.Tensor2D; // [T, 3E]
    const contexts: tf.Tensor[] = [];
    plan.groups.forEach((g, gi) => {
      const n = g.seqs.length;
      const L = g.len;
      const rows = plan.identity ? qkv : gatherRows(qkv, g.padIndex); // [n·L, 3E]
      const heads = tf.transpose(tf.reshape(rows, [n, L, 3 * H, dh]), [0, 2, 1, 3]); // [n, 3H, L, dh]
      const [q, k, v] = tf.split(heads, 3, 1); // [n, H, L, dh]
      const q3 = tf.reshape(tf.mul(q, 1 / Math.sqrt(dh)), [n * H, L, dh]);
      const k3 = tf.reshape(k, [n * H, L, dh]);
      const v3 = tf.reshape(v, [n * H, L, dh]);
      const scores = tf.add(tf.reshape(matMul(q3, swapLastAxes(k3)), [n, H, L, L]), biases[gi]);
      const attn = drop(tf.softmax(scores, -1));
      const ctx = matMul(tf.reshape(attn, [n * H, L, L]), v3); // [nH, L, dh]
      contexts.push(tf.reshape(tf.transpose(tf.reshape(ctx, [n, H, L, dh]), [0, 2, 1, 3]), [n * L, E]));
    });
    const ctxAll = contexts.length === 1 ? contexts[0] : tf.concat(contexts, 0);
    const ctxPacked = plan.identity ? ctxAll : gatherRows(ctxAll as tf.Tensor2D, plan.unpadIndex);
    const attnOut = linear(ctxPacked, P(`${p}.attn.out.weight`), P(`${p}.attn.out.bias`));
    h = layerNorm(tf.add(h, drop(attnOut)), P(`${p}.norm1.weight`), P(`${p}.norm1.bias`), s.layerNormEps);
    const hidden = linear(h, P(`${p}.ffn1.weight`), P(`${p}.ffn1.bias`));
    const act = rate > 0 ? reluDropout(hidden, rate, mixSeed(opts.dropoutSeed, site++)) : tf.relu(hidden);
    const ff = linear(act, P(`${p}.ffn2.weight`), P(`${p}.ffn2.bias`));
    h = layerNorm(tf.add(h, drop(ff)), P(`${p}.norm2.weight`), P(`${p}.norm2.bias`), s.layerNormEps);
  }

  // pooling → [N, E] in original sequence order
  let pooled: tf.Tensor;
  if (plan.pooling === 'mean-all') {
    pooled = tf.mean(tf.reshape(h, [plan.nSeq, plan.seqLen, E]), 1);
  } else {
    const parts = plan.groups.map((g) => {
      const n = g.seqs.length;
      const rows = gatherRows(h as tf.Tensor2D, g.padIndex); // zero rows at padding
      const inv = new Float32Array(n);
      g.seqs.forEach((sq, r) => (inv[r] = 1 / plan.lengths[sq]));
      return tf.mul(tf.sum(tf.reshape(rows, [n, g.len, E]), 1), tf.tensor2d(inv, [n, 1]));
    });
    const cat = (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor2D;
    pooled = gatherRows(cat, plan.seqRowInGroups);
  }
  const out = linear(pooled, P('output.weight'), P('output.bias'));
  return l2Normalize(out) as tf.Tensor2D;
}
