import { Rng, ConfigError, InvalidArgumentError } from '@vmr/core';
import { tf, matMul, swapLastAxes, gatherRows, selectRows } from '@vmr/core/tf';
import type { SegmentEmbeddings } from '@vmr/models';
import { OfLossConfigSchema, type OfLossConfig, type OfLossConfigInput } from './config';
import { topKIndices, bottomKIndices, highLowSegments } from './mining';

/** A mined triplet: flat segment indices (clip·S + segment) and its hinge value at mining time. */
export interface MinedTriplet {
  anchor: number;
  positive: number;
  negative: number;
  value: number;
}

export interface OfLossResult {
  /** Weighted sum of the terms (the scalar to minimise). */
  total: tf.Scalar;
  /** Unweighted terms: `l1`…`l6` (paper) or `gt`, `ofTop`, `ofBottom` (vmr-code). */
  terms: Record<string, tf.Scalar>;
  /** The triplets each term used, for logging and tests. */
  mined: Record<string, MinedTriplet[]>;
}

export interface OfLossOptions {
  /** Random source for the `vmr-code` protocol's random OF triplets (required there). */
  rng?: Rng;
}

export function parseOfLossConfig(config: OfLossConfigInput = {}): OfLossConfig {
  const r = OfLossConfigSchema.safeParse(config);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError(`invalid OF-VM-Net loss config at '${issue.path.join('.')}': ${issue.message}`, {
      details: { path: issue.path.join('.') },
    });
  }
  return r.data;
}

function readRanks(ranks: tf.Tensor | ArrayLike<number>, B: number, S: number): ArrayLike<number> {
  const r = ranks instanceof tf.Tensor ? ranks.dataSync() : ranks;
  if (r.length !== B * S) throw new InvalidArgumentError(`ranks has ${r.length} entries, expected [${B}, ${S}] = ${B * S}`);
  for (let i = 0; i < r.length; i++) {
    if (!Number.isFinite(r[i])) throw new InvalidArgumentError(`ranks[${Math.floor(i / S)}][${i % S}] is ${r[i]}: ranks must be finite`);
  }
  return r;
}

/** Constant 0/1 mask with ones at the given flat indices. */
function maskOf(shape: number[], flat: number[]): tf.Tensor {
  const m = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (const i of flat) m[i] = 1;
  return tf.tensor(m, shape);
}

/**
 * The OF-VM-Net loss on L2-normalised segment embeddings (similarity = dot product).
 * @param emb video/audio `[B, S, E]`
 * @param ranks `[B, S]` flow ranks, 1 = most motion (audio uses the video's ranks)
 */
export function ofVmNetLoss(
  emb: SegmentEmbeddings,
  ranks: tf.Tensor | ArrayLike<number>,
  configInput: OfLossConfigInput | OfLossConfig = {},
  options: OfLossOptions = {},
): OfLossResult {
  const config = parseOfLossConfig(configInput);
  const { video, audio } = emb;
  if (video.rank !== 3 || audio.rank !== 3 || video.shape.some((d, i) => d !== audio.shape[i])) {
    throw new InvalidArgumentError(`embeddings must both be [B, S, E]; got video [${video.shape}], audio [${audio.shape}]`);
  }
  const [B, S, E] = video.shape;
  const r = readRanks(ranks, B, S);
  const V = tf.reshape(video, [B * S, E]) as tf.Tensor2D;
  const M = tf.reshape(audio, [B * S, E]) as tf.Tensor2D;
  return config.protocol === 'vmr-code'
    ? vmrCodeLoss(V, M, B, S, r, config, options)
    : paperLoss(V, M, B, S, r, config);
}

function reduce(t: tf.Tensor, count: number, reduction: 'sum' | 'mean'): tf.Scalar {
  const s = tf.sum(t) as tf.Scalar;
  return reduction === 'mean' && count > 0 ? (tf.div(s, count) as tf.Scalar) : s;
}

function paperLoss(V: tf.Tensor2D, M: tf.Tensor2D, B: number, S: number, ranks: ArrayLike<number>, c: OfLossConfig): OfLossResult {
  const N = B * S;
  const k = c.topK;
  const margin = c.margin;
  const terms: Record<string, tf.Scalar> = {};
  const mined: Record<string, MinedTriplet[]> = {};

  // λ1, λ2: ground-truth pairs vs every other pair (k,l) ≠ (i,j)
  const sim = matMul(V, swapLastAxes(M)) as tf.Tensor2D; // [N, N] v_a · m_n
  const pos = tf.sum(tf.mul(sim, tf.eye(N)), 1, true); // [N, 1] v_a · m_a
  const simT = swapLastAxes(sim); // m_a · v_n
  const simArr = sim.dataSync();
  for (const [name, mat, at] of [
    ['l1', sim, (a: number, n: number) => simArr[a * N + n]],
    ['l2', simT, (a: number, n: number) => simArr[n * N + a]],
  ] as const) {
    const vals = new Float32Array(N * N);
    for (let a = 0; a < N; a++) for (let n = 0; n < N; n++) vals[a * N + n] = margin + at(a, n) - simArr[a * N + a];
    const sel = topKIndices(vals, k, (i) => Math.floor(i / N) !== i % N);
    mined[name] = sel.map((i) => ({ anchor: Math.floor(i / N), positive: Math.floor(i / N), negative: i % N, value: Math.max(0, vals[i]) }));
    const hinge = tf.relu(tf.add(tf.sub(mat, pos), margin));
    terms[name] = reduce(tf.mul(hinge, maskOf([N, N], sel)), sel.length, c.reduction);
  }

  // optical-flow triplets from the clips' highest / lowest flow segments
  const { high, low } = highLowSegments(ranks, B, S);
  const VH = selectRows(V, high);
  const VL = selectRows(V, low);
  const MH = selectRows(M, high);
  const ML = selectRows(M, low);
  // λ3 (v_i,high, m_j,high, m_j,low), λ4 (m_i,high, v_j,high, v_j,low): hinge[i, j]
  for (const [name, A, P, Nn] of [
    ['l3', VH, MH, ML],
    ['l4', MH, VH, VL],
  ] as const) {
    const ap = matMul(A, swapLastAxes(P)); // [B, B] a_i · p_j
    const an = matMul(A, swapLastAxes(Nn)); // [B, B] a_i · n_j
    const hinge = tf.add(tf.sub(an, ap), margin);
    const vals = hinge.dataSync();
    const sel = topKIndices(vals, k);
    mined[name] = sel.map((i) => {
      const a = Math.floor(i / B);
      const j = i % B;
      return { anchor: high[a], positive: high[j], negative: low[j], value: Math.max(0, vals[i]) };
    });
    terms[name] = reduce(tf.mul(tf.relu(hinge), maskOf([B, B], sel)), sel.length, c.reduction);
  }
  // λ5 (v_i,high, v_j,high, v_k,low), λ6 (m_i,high, m_j,high, m_k,low), j ≠ i: hinge[i, j, k]
  for (const [name, H, L] of [
    ['l5', VH, VL],
    ['l6', MH, ML],
  ] as const) {
    const hh = matMul(H, swapLastAxes(H)); // [B, B] h_i · h_j
    const hl = matMul(H, swapLastAxes(L)); // [B, B] h_i · l_k
    const hinge = tf.add(tf.sub(tf.expandDims(hl, 1), tf.expandDims(hh, 2)), margin); // [B, B, B]
    const vals = hinge.dataSync();
    const sel = topKIndices(vals, k, (i) => Math.floor(i / (B * B)) !== Math.floor(i / B) % B);
    mined[name] = sel.map((i) => {
      const a = Math.floor(i / (B * B));
      const j = Math.floor(i / B) % B;
      const kk = i % B;
      return { anchor: high[a], positive: high[j], negative: low[kk], value: Math.max(0, vals[i]) };
    });
    terms[name] = reduce(tf.mul(tf.relu(hinge), maskOf([B, B, B], sel)), sel.length, c.reduction);
  }

  const l = c.lambdas;
  const weights: Record<string, number> = { l1: l.l1, l2: l.l2, l3: l.l3, l4: l.l4, l5: l.l5, l6: l.l6 };
  const total = tf.addN(Object.entries(terms).map(([n, t]) => tf.mul(t, weights[n]))) as tf.Scalar;
  return { total, terms, mined };
}

function vmrCodeLoss(
  V: tf.Tensor2D,
  M: tf.Tensor2D,
  B: number,
  S: number,
  ranks: ArrayLike<number>,
  c: OfLossConfig,
  options: OfLossOptions,
): OfLossResult {
  if (!options.rng) throw new InvalidArgumentError(`the 'vmr-code' loss protocol samples random OF triplets: pass options.rng`);
  const rng = options.rng;
  const N = B * S;
  const vc = c.vmrCode;
  const mined: Record<string, MinedTriplet[]> = {};
  const terms: Record<string, tf.Scalar> = {};

  // GT term: distance = −similarity; hardest k positives (largest distance on the diagonal) against
  // hardest k negatives (smallest off-diagonal distance), all k×k combinations, mean of max(0, pos − neg).
  const sim = matMul(V, swapLastAxes(M)) as tf.Tensor2D;
  const simArr = sim.dataSync();
  const diagIdx = Array.from({ length: N }, (_, i) => i * N + i);
  const posSel = bottomKIndices(diagIdx.map((i) => simArr[i]), vc.gtTopK).map((d) => diagIdx[d]);
  const negSel = topKIndices(simArr, vc.gtTopK, (i) => Math.floor(i / N) !== i % N);
  const flat = tf.reshape(sim, [N * N, 1]) as tf.Tensor2D;
  const posSim = tf.reshape(gatherRows(flat, Int32Array.from(posSel)), [posSel.length, 1]);
  const negSim = tf.reshape(gatherRows(flat, Int32Array.from(negSel)), [1, negSel.length]);
  terms.gt = tf.mean(tf.relu(tf.sub(negSim, posSim))) as tf.Scalar; // (−pos_sim) − (−neg_sim)
  mined.gt = negSel.map((i) => ({ anchor: Math.floor(i / N), positive: Math.floor(i / N), negative: i % N, value: simArr[i] }));

  const { high, low } = highLowSegments(ranks, B, S);
  const triplet = (X: tf.Tensor2D, a: number[], p: number[], n: number[]): tf.Scalar => {
    const xa = selectRows(X, a);
    const dist = (y: tf.Tensor) => tf.sqrt(tf.sum(tf.square(tf.add(tf.sub(xa, y), 1e-6)), 1));
    const per = tf.relu(tf.add(tf.sub(dist(selectRows(X, p)), dist(selectRows(X, n))), vc.margin));
    return tf.sum(per) as tf.Scalar;
  };
  for (const [name, A, Nn] of [
    ['ofTop', high, low],
    ['ofBottom', low, high],
  ] as const) {
    const a: number[] = [];
    const p: number[] = [];
    const n: number[] = [];
    for (let t = 0; t < vc.ofSamples; t++) {
      a.push(A[rng.int(0, B)]);
      p.push(A[rng.int(0, B)]);
      n.push(Nn[rng.int(0, B)]);
    }
    mined[name] = a.map((x, i) => ({ anchor: x, positive: p[i], negative: n[i], value: NaN }));
    terms[name] = tf.add(triplet(V, a, p, n), triplet(M, a, p, n)) as tf.Scalar;
  }
  const [w0, w1, w2] = vc.weights;
  const total = tf.addN([tf.mul(terms.gt, w0), tf.mul(terms.ofTop, w1), tf.mul(terms.ofBottom, w2)]) as tf.Scalar;
  return { total, terms, mined };
}
