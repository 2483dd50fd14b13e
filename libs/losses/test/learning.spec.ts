import { Rng } from '@vmr/core';
import { tf, selectBackend } from '@vmr/core/tf';
import { createOfVmNet, Adam, trainStep, clipEmbeddings } from '@vmr/models';
import { ofVmNetLoss } from '../src';

/**
 * Tiny synthetic retrieval task: every segment has a latent z ∈ R⁴; its video tokens are A_v·z + noise
 * and its audio tokens A_a·z + noise (random fixed A); the flow ranks follow z[0] ("motion"), so the
 * optical-flow terms agree with the content. Held-out clips are never trained on. (With ranks unrelated
 * to the content, λ3…λ6 are noise and held-out Recall@1 stays near 0.3 in this budget.)
 */
function makeTask(nClips: number, S: number, L: number, Dv: number, Da: number, seed: number) {
  const rng = new Rng(seed);
  const world = new Rng(0); // the same projections for train and test
  const Av = Array.from({ length: Dv * 4 }, () => world.normal());
  const Aa = Array.from({ length: Da * 4 }, () => world.normal());
  const video = new Float32Array(nClips * S * L * Dv);
  const audio = new Float32Array(nClips * S * L * Da);
  const mask = new Float32Array(nClips * S * L);
  const ranks = new Float32Array(nClips * S);
  for (let c = 0; c < nClips; c++) {
    const zs = Array.from({ length: S }, () => [0, 1, 2, 3].map(() => rng.normal()));
    // "motion" = z[0]: rank 1 = the segment with the largest z[0], as the flow ranks would be
    const order = Array.from({ length: S }, (_, s) => s).sort((a, b) => zs[b][0] - zs[a][0]);
    order.forEach((s, r) => (ranks[c * S + s] = r + 1));
    for (let s = 0; s < S; s++) {
      const z = zs[s];
      const len = rng.int(2, L + 1);
      for (let t = 0; t < len; t++) {
        const row = (c * S + s) * L + t;
        mask[row] = 1;
        for (let d = 0; d < Dv; d++) video[row * Dv + d] = z.reduce((a, zk, k) => a + Av[d * 4 + k] * zk, 0) + 0.3 * rng.normal();
        for (let d = 0; d < Da; d++) audio[row * Da + d] = z.reduce((a, zk, k) => a + Aa[d * 4 + k] * zk, 0) + 0.3 * rng.normal();
      }
    }
  }
  return { video, audio, mask, ranks, nClips, S, L, Dv, Da };
}

function slice(task: ReturnType<typeof makeTask>, clips: number[]) {
  const { S, L, Dv, Da } = task;
  const pick = (src: Float32Array, per: number) => {
    const out = new Float32Array(clips.length * per);
    clips.forEach((c, i) => out.set(src.subarray(c * per, (c + 1) * per), i * per));
    return out;
  };
  return {
    video: tf.tensor4d(pick(task.video, S * L * Dv), [clips.length, S, L, Dv]),
    audio: tf.tensor4d(pick(task.audio, S * L * Da), [clips.length, S, L, Da]),
    mask: pick(task.mask, S * L),
    ranks: pick(task.ranks, S),
  };
}

/** Video→music Recall@1 over clip embeddings (concatenated segments), ties counted as misses. */
function recallAt1(v: tf.Tensor2D, a: tf.Tensor2D): number {
  const sim = tf.matMul(v, a, false, true).arraySync() as number[][];
  let hits = 0;
  sim.forEach((row, i) => {
    if (row.every((x, j) => j === i || x < row[i])) hits++;
  });
  return hits / sim.length;
}

describe('learning', () => {
  it('a few hundred steps on a tiny synthetic task raise held-out Recall@1 far above chance', async () => {
    await selectBackend('wasm');
    const task = makeTask(80, 2, 6, 12, 8, 1);
    const model = createOfVmNet({ videoDim: 12, audioDim: 8, embedDim: 16, heads: 2, layers: 1, ffnDim: 32, maxLen: 6, dropout: 0.1 }, 3);
    const opt = new Adam(model.params, { lr: 1e-3 });
    const test = slice(task, Array.from({ length: 16 }, (_, i) => 64 + i));
    const evalRecall = () =>
      tf.tidy(() => {
        const e = model.forward(test, { training: false });
        return recallAt1(clipEmbeddings(e.video), clipEmbeddings(e.audio));
      });
    const before = evalRecall();
    const rng = new Rng(5);
    const batches: ReturnType<typeof slice>[] = [];
    for (let k = 0; k < 4; k++) batches.push(slice(task, Array.from({ length: 16 }, (_, i) => k * 16 + i)));
    let last = { loss: NaN, terms: {} as Record<string, number> };
    for (let step = 0; step < 300; step++) {
      const b = batches[rng.int(0, batches.length)];
      last = trainStep(model.params, opt, () => ofVmNetLoss(model.forward(b, { training: true }), b.ranks, { topK: 40, margin: 0.5 }));
    }
    const after = evalRecall();
    // chance = 1/16 = 0.0625; measured 0.63–0.69 for model seeds 3 and 4 (0 before training)
    expect(after).toBeGreaterThanOrEqual(0.4);
    expect(after).toBeGreaterThan(before + 0.25);
    expect(Object.keys(last.terms).sort()).toEqual(['l1', 'l2', 'l3', 'l4', 'l5', 'l6']);
    model.dispose();
  });
});
