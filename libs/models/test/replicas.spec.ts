import { tf, selectBackend } from '@vmr/core/tf';
import { createOfVmNet, Adam, trainStepOfVmNet, ReplicaPool, mixSeed, type SegmentEmbeddings } from '../src';
import { makeBatch } from './helpers';

const tiny = { videoDim: 6, audioDim: 4, embedDim: 8, heads: 2, layers: 2, ffnDim: 12, maxLen: 7, dropout: 0.2 };
const lengths = [3, 7, 2, 5, 4, 6, 1, 7, 2, 2]; // B = 5 clips × S = 2 segments

/** Hardest-negative hinge over the whole batch (mining couples all shards) + InfoNCE. */
function loss(e: SegmentEmbeddings) {
  const [B, S, E] = e.video.shape;
  const v = tf.reshape(e.video, [B * S, E]);
  const a = tf.reshape(e.audio, [B * S, E]);
  const sim = tf.matMul(v, a, false, true);
  const eye = tf.eye(B * S);
  const diag = tf.sum(tf.mul(sim, eye), 1);
  const hardest = tf.max(tf.sub(sim, tf.mul(eye, 10)), 1);
  const hinge = tf.mean(tf.relu(tf.add(tf.sub(hardest, diag), 0.5)));
  const nce = tf.neg(tf.mean(tf.sub(diag, tf.logSumExp(sim, 1))));
  return { total: tf.add(hinge, nce) as tf.Scalar, terms: { hinge: hinge as tf.Scalar } };
}

describe('ReplicaPool (data-parallel worker threads)', () => {
  jest.setTimeout(120_000);
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('dropout masks do not depend on the split: a shard (clipOffset) gets the full batch rows, with a different number of attention groups', () => {
    const lens = [1, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 7]; // B = 6 × S = 2: clips 0–2 have 6 lengths, clips 3–5 one
    const b = makeBatch(6, 2, 7, 6, 4, lens, 5);
    const m = createOfVmNet({ ...tiny, ffnDim: 1000, maxAttentionGroups: 6 }, 3); // wide FFN: padding costly → several groups
    const full = m.plan(b.mask, 6, 2, 7);
    const tail = m.plan(b.mask.slice(3 * 14), 3, 2, 7);
    expect(full.groups.length).toBeGreaterThan(tail.groups.length);
    tf.tidy(() => {
      const all = m.forward(b, { training: true, dropoutSeed: 9 });
      const shard = m.forward({ video: tf.slice(b.video, [3], [3]), audio: tf.slice(b.audio, [3], [3]), mask: b.mask.slice(3 * 14) }, { training: true, dropoutSeed: 9, clipOffset: 3 });
      const d = tf.max(tf.abs(tf.sub(tf.slice(all.video, [3], [3]), shard.video))).dataSync()[0];
      expect(d).toBeLessThan(1e-6);
      const noOffset = m.forward({ video: tf.slice(b.video, [3], [3]), audio: tf.slice(b.audio, [3], [3]), mask: b.mask.slice(3 * 14) }, { training: true, dropoutSeed: 9 });
      expect(tf.max(tf.abs(tf.sub(noOffset.video, shard.video))).dataSync()[0]).toBeGreaterThan(1e-3); // the offset matters
    });
    m.dispose();
  });

  it('2 and 3 replicas give the one-replica loss and gradients within 1e-5 (dropout on, loss mined over the whole batch)', async () => {
    const b = makeBatch(5, 2, 7, 6, 4, lengths, 3);
    const ref = createOfVmNet(tiny, 21);
    const vars = [...ref.params.trainable.values()];
    const { value, grads } = tf.variableGrads(() => loss(ref.forward(b, { training: true, dropoutSeed: mixSeed(21, 0) })).total, vars);
    const refLoss = value.dataSync()[0];
    const noDrop = tf.tidy(() => loss(ref.forward(b, { training: false })).total.dataSync()[0]);
    expect(Math.abs(noDrop - refLoss)).toBeGreaterThan(1e-3); // dropout changes the loss: masks matter
    for (const n of [2, 3]) {
      const m = createOfVmNet(tiny, 21);
      const pool = await ReplicaPool.create(m, { replicas: n });
      try {
        const r = await pool.gradients(b, loss);
        expect(Math.abs(r.loss - refLoss)).toBeLessThan(1e-5);
        expect(r.grads.size).toBe(ref.params.trainable.size);
        let worst = 0;
        for (const [name, v] of ref.params.trainable) {
          const g1 = grads[v.name].dataSync();
          const g2 = r.grads.get(name)!.dataSync();
          for (let i = 0; i < g1.length; i++) worst = Math.max(worst, Math.abs(g1[i] - g2[i]));
        }
        expect(worst).toBeLessThan(1e-5);
        expect(m.forwardCount).toBe(1);
        tf.dispose([...r.grads.values()]);
      } finally {
        await pool.close();
        m.dispose();
      }
    }
    tf.dispose([value, ...Object.values(grads)]);
    ref.dispose();
  });

  it('a pool step applies the same Adam update as trainStepOfVmNet, step after step', async () => {
    const b = makeBatch(5, 2, 7, 6, 4, lengths, 4);
    const m1 = createOfVmNet(tiny, 5);
    const m2 = createOfVmNet(tiny, 5);
    const o1 = new Adam(m1.params, { lr: 1, eps: 1 });
    const o2 = new Adam(m2.params, { lr: 1, eps: 1 });
    const pool = await ReplicaPool.create(m2, { replicas: 2 });
    try {
      for (let s = 0; s < 2; s++) {
        const r1 = trainStepOfVmNet(m1, o1, b, loss);
        const r2 = await pool.step(o2, b, loss);
        expect(Math.abs(r1.loss - r2.loss)).toBeLessThan(1e-5);
        expect(r2.step).toBe(s + 1);
      }
      for (const [name, v] of m1.params.trainable) {
        const a = v.dataSync();
        const c = m2.params.get(name).dataSync();
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - c[i])).toBeLessThan(1e-5);
      }
    } finally {
      await pool.close();
      [m1, m2].forEach((m) => m.dispose());
      [o1, o2].forEach((o) => o.dispose());
    }
    await expect(pool.gradients(b, loss)).rejects.toThrow(/closed/);
  });

  it('rejects bad replica counts and backends that already use every core or a GPU', async () => {
    const m = createOfVmNet(tiny, 1);
    await expect(ReplicaPool.create(m, { replicas: 0 })).rejects.toThrow(/positive integer/);
    await expect(ReplicaPool.create(m, { replicas: 2, backend: 'webgpu' })).rejects.toThrow(/wasm\/cpu/);
    await expect(ReplicaPool.create(m, { replicas: 2, backend: 'tensorflow-gpu' })).rejects.toThrow(/replicas = 1/);
    m.dispose();
  });
});
