import { ConfigError, InvalidArgumentError } from '@vmr/core';
import { tf, matMul, swapLastAxes } from '@vmr/core/tf';
import { l2Normalize, type ClipEmbeddings } from '@vmr/models';
import { VmNetLossConfigSchema, type VmNetLossConfig, type VmNetLossConfigInput } from './config';
import { topKIndices } from './mining';

export interface VmNetLossResult {
  total: tf.Scalar;
  /** `mv` = L(m→v) (music anchors), `vm` = L(v→m), `sm` = S(m), `sv` = S(v), all unweighted. */
  terms: Record<'mv' | 'vm' | 'sm' | 'sv', tf.Scalar>;
}

export function parseVmNetLossConfig(config: VmNetLossConfigInput = {}): VmNetLossConfig {
  const r = VmNetLossConfigSchema.safeParse(config);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError(`invalid VM-Net loss config at '${issue.path.join('.')}': ${issue.message}`, {
      details: { path: issue.path.join('.') },
    });
  }
  return r.data;
}

/**
 * Cross-modal triplet term with the K hardest negatives per anchor row of `sim` (anchor i, positive
 * i, negatives j ≠ i with the largest similarity): mean over rows and K of max(0, margin − s_ii + s_ij).
 */
function crossTerm(sim: tf.Tensor2D, K: number, margin: number): tf.Scalar {
  const B = sim.shape[0];
  const k = Math.min(K, B - 1);
  const vals = sim.dataSync();
  const mask = new Float32Array(B * B);
  for (let i = 0; i < B; i++) {
    const row = vals.subarray(i * B, (i + 1) * B);
    for (const j of topKIndices(row, k, (j) => j !== i)) mask[i * B + j] = 1;
  }
  const pos = tf.sum(tf.mul(sim, tf.eye(B)), 1, true);
  const hinge = tf.relu(tf.add(tf.sub(sim, pos), margin));
  return tf.div(tf.sum(tf.mul(hinge, tf.tensor2d(mask, [B, B]))), B * k) as tf.Scalar;
}

/**
 * Soft intra-modal structure term: over the first K samples, compare neighbour order j vs j+1 in the
 * raw-feature cosine distances and the embedding distances; flips are penalised by
 * coeff·(d_emb[i,j+1] − d_emb[i,j]), coeff = sign(Δd_raw) − sign(Δd_emb) (a constant); mean.
 */
function structureTerm(raw: tf.Tensor2D, embed: tf.Tensor2D, K: number): tf.Scalar {
  const k = Math.min(K, raw.shape[0]);
  const r = tf.slice(raw, [0, 0], [k, -1]);
  const e = tf.slice(embed, [0, 0], [k, -1]);
  const lowN = l2Normalize(r);
  const dl = tf.neg(matMul(lowN, swapLastAxes(lowN))).dataSync();
  const de = tf.neg(matMul(e, swapLastAxes(e))); // [k, k]
  const deArr = de.dataSync();
  const coeff = new Float32Array(k * (k - 1));
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k - 1; j++) {
      coeff[i * (k - 1) + j] = Math.sign(dl[i * k + j] - dl[i * k + j + 1]) - Math.sign(deArr[i * k + j] - deArr[i * k + j + 1]);
    }
  }
  const d1 = tf.slice(de, [0, 0], [k, k - 1]);
  const d2 = tf.slice(de, [0, 1], [k, k - 1]);
  return tf.mean(tf.mul(tf.tensor2d(coeff, [k, k - 1]), tf.sub(d2, d1))) as tf.Scalar;
}

/**
 * VM-Net loss (reference code): 3·L(m→v) + 1·L(v→m) + 0.2·S(m) + 0.2·S(v) by default.
 * @param emb L2-normalised embeddings video/audio `[B, D]`
 * @param raw the model inputs (time-averaged features) video `[B, Dv]`, audio `[B, Da]`
 */
export function vmNetLoss(emb: ClipEmbeddings, raw: { video: tf.Tensor; audio: tf.Tensor }, configInput: VmNetLossConfigInput | VmNetLossConfig = {}): VmNetLossResult {
  const c = parseVmNetLossConfig(configInput);
  const B = emb.video.shape[0];
  if (B < 2) throw new InvalidArgumentError(`VM-Net loss needs at least 2 clips in the batch, got ${B}`);
  if (emb.audio.shape[0] !== B || raw.video.shape[0] !== B || raw.audio.shape[0] !== B) {
    throw new InvalidArgumentError('VM-Net loss: embeddings and raw features must have the same batch size');
  }
  const sim = matMul(emb.audio, swapLastAxes(emb.video)) as tf.Tensor2D; // music i · video j
  const terms = {
    mv: crossTerm(sim, c.topK, c.margin),
    vm: crossTerm(swapLastAxes(sim) as tf.Tensor2D, c.topK, c.margin),
    sm: structureTerm(raw.audio as tf.Tensor2D, emb.audio, c.structureK),
    sv: structureTerm(raw.video as tf.Tensor2D, emb.video, c.structureK),
  };
  const w = c.weights;
  const total = tf.addN([tf.mul(terms.mv, w.mv), tf.mul(terms.vm, w.vm), tf.mul(terms.sm, w.sm), tf.mul(terms.sv, w.sv)]) as tf.Scalar;
  return { total, terms };
}
