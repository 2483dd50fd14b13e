import { Rng } from '@vmr/core';
import { tf, matMul, linear, gatherRows, dropout, reluDropout, phase, DropoutStream, type MaskFill } from '@vmr/core/tf';
import { ParamSet, addTorchLinear, uniformInit, mixSeed } from './params';
import type { PackPlan, AttentionGroup } from './packing';

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
  /**
   * Sequence i of the plan is sequence `seqOffset + i` of the whole batch: dropout masks are drawn
   * per (site, batch sequence), so they do not depend on how the batch is split into chunks or
   * replicas, nor on the attention grouping.
   */
  seqOffset?: number;
}

/** Per-sequence mask fills for the token rows `[rows, C]` and the attention probabilities of one group. */
function maskFills(plan: PackPlan, seed: number, seqOffset: number, heads: number) {
  const stream = (s: number) => new DropoutStream(mixSeed(seed, seqOffset + s));
  const rows = (width: number): MaskFill => (out, rate) => {
    for (let s = 0; s < plan.nSeq; s++) stream(s).fill(out, plan.seqFirstRow[s] * width, plan.seqRows[s] * width, rate);
  };
  // attention [n, H, len, len]: sequence s's valid block [H, Q, Q] (Q = its rows), padding entries 0
  const attention = (g: AttentionGroup): MaskFill => (out, rate) => {
    const L = g.len;
    g.seqs.forEach((s, r) => {
      const q = plan.seqRows[s];
      const st = stream(s);
      for (let h = 0; h < heads; h++) st.fillRows(out, (r * heads + h) * L * L, q, q, L, rate); // rows i < q, L apart
    });
  };
  return { rows, attention };
}

/**
 * Encode N padded sequences into N L2-normalised embeddings.
 * @param rows `[plan.rows, D]` the plan's input rows (group layout, zero rows at padding)
 * @returns `[N, E]`
 */
export function encodeSegments(
  ps: ParamSet,
  prefix: string,
  s: EncoderSizes,
  rows: tf.Tensor2D,
  plan: PackPlan,
  posTable: Float32Array,
  opts: EncodeOptions,
): tf.Tensor2D {
  const E = s.embedDim;
  const H = s.heads;
  const dh = E / H;
  const rate = opts.training ? s.dropout : 0;
  const seqOffset = opts.seqOffset ?? 0;
  let site = 0;
  const fills = () => maskFills(plan, mixSeed(opts.dropoutSeed, site++), seqOffset, H);
  const drop = (t: tf.Tensor): tf.Tensor => (rate > 0 ? dropout(t, rate, fills().rows(t.shape[1] as number)) : t);
  const P = (n: string) => ps.get(`${prefix}.${n}`);

  const R = plan.rows;
  let h = phase('input projection', () => {
    const pe = new Float32Array(R * E);
    for (let t = 0; t < R; t++) pe.set(posTable.subarray(plan.positions[t] * E, plan.positions[t] * E + E), t * E);
    return tf.add(linear(rows, P('input.weight'), P('input.bias')), tf.tensor2d(pe, [R, E]));
  });

  // attention masks per group: [n, 1, 1, len] additive bias (padding keys −1e9)
  const biases = plan.groups.map((g) => {
    const n = g.seqs.length;
    const b = new Float32Array(n * g.len);
    for (let i = 0; i < b.length; i++) b[i] = plan.rowValid[g.rowStart + i] === 1 ? 0 : -1e9;
    return tf.tensor4d(b, [n, 1, 1, g.len]);
  });

  for (let l = 0; l < s.layers; l++) {
    const p = `layer${l}`;
    // q, k, v projections with column blocks of the in-projection (no split of a [R, 3E] product)
    const [q2, k2, v2] = phase('attention: projections', () => {
      const W = P(`${p}.attn.in.weight`);
      const b = P(`${p}.attn.in.bias`);
      return [0, 1, 2].map((i) => linear(h, tf.slice(W, [0, i * E], [E, E]), tf.slice(b, [i * E], [E])) as tf.Tensor2D);
    });
    const ctxAll = phase('attention', () => {
      const sizes = plan.groups.map((g) => g.seqs.length * g.len);
      const split = (t: tf.Tensor2D) => (plan.groups.length === 1 ? [t] : tf.split(t, sizes, 0));
      const [qs, ks, vs] = [split(tf.mul(q2, 1 / Math.sqrt(dh)) as tf.Tensor2D), split(k2), split(v2)];
      // one dropout site for the layer's attention, whatever the number of groups (a shard of the
      // batch may have fewer groups: the site numbering must not depend on it)
      const attnFill = rate > 0 ? fills() : undefined;
      const contexts = plan.groups.map((g, gi) => {
        const n = g.seqs.length;
        const L = g.len;
        const q3 = tf.reshape(tf.transpose(tf.reshape(qs[gi], [n, L, H, dh]), [0, 2, 1, 3]), [n * H, L, dh]);
        const kT = tf.reshape(tf.transpose(tf.reshape(ks[gi], [n, L, H, dh]), [0, 2, 3, 1]), [n * H, dh, L]);
        const v3 = tf.reshape(tf.transpose(tf.reshape(vs[gi], [n, L, H, dh]), [0, 2, 1, 3]), [n * H, L, dh]);
        const scores = tf.add(tf.reshape(matMul(q3, kT), [n, H, L, L]), biases[gi]);
        const probs = tf.softmax(scores, -1);
        const attn = attnFill ? dropout(probs, rate, attnFill.attention(g)) : probs;
        const ctx = matMul(tf.reshape(attn, [n * H, L, L]), v3); // [nH, L, dh]
        return tf.reshape(tf.transpose(tf.reshape(ctx, [n, H, L, dh]), [0, 2, 1, 3]), [n * L, E]);
      });
      return contexts.length === 1 ? contexts[0] : tf.concat(contexts, 0);
    });
    const attnOut = phase('attention: projections', () => linear(ctxAll, P(`${p}.attn.out.weight`), P(`${p}.attn.out.bias`)));
    h = phase('norms, residuals', () => layerNorm(tf.add(h, drop(attnOut)), P(`${p}.norm1.weight`), P(`${p}.norm1.bias`), s.layerNormEps));
    const ff = phase('ffn', () => {
      const hidden = linear(h, P(`${p}.ffn1.weight`), P(`${p}.ffn1.bias`));
      const act = rate > 0 ? reluDropout(hidden, rate, fills().rows(s.ffnDim)) : tf.relu(hidden);
      return linear(act, P(`${p}.ffn2.weight`), P(`${p}.ffn2.bias`));
    });
    h = phase('norms, residuals', () => layerNorm(tf.add(h, drop(ff)), P(`${p}.norm2.weight`), P(`${p}.norm2.bias`), s.layerNormEps));
  }

  return phase('pooling, output', () => {
    // pooling → [N, E] in original sequence order
    let pooled: tf.Tensor;
    if (plan.pooling === 'mean-all') {
      pooled = tf.mean(tf.reshape(h, [plan.nSeq, plan.seqLen, E]), 1);
    } else {
      // masked mean: weight 1/length on valid rows, 0 on padding rows, summed per sequence
      const w = new Float32Array(R);
      for (const g of plan.groups) {
        g.seqs.forEach((sq, r) => w.fill(1 / plan.lengths[sq], g.rowStart + r * g.len, g.rowStart + r * g.len + plan.lengths[sq]));
      }
      const weighted = tf.mul(h, tf.tensor2d(w, [R, 1]));
      const parts = plan.groups.length === 1 ? [weighted] : tf.split(weighted, plan.groups.map((g) => g.seqs.length * g.len), 0);
      const sums = plan.groups.map((g, gi) => tf.sum(tf.reshape(parts[gi], [g.seqs.length, g.len, E]), 1));
      const cat = (sums.length === 1 ? sums[0] : tf.concat(sums, 0)) as tf.Tensor2D;
      pooled = gatherRows(cat, plan.seqRowInGroups);
    }
    const out = linear(pooled, P('output.weight'), P('output.bias'));
    return l2Normalize(out) as tf.Tensor2D;
  });
}
