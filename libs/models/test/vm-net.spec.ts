import { InvalidArgumentError } from '@vmr/core';
import { tf, selectBackend } from '@vmr/core/tf';
import { createVmNet } from '../src';
import { gradCheck } from './helpers';

const small = {
  videoDim: 5,
  audioDim: 4,
  embedDim: 3,
  audioHidden: [{ units: 6, batchNorm: true }, { units: 5 }],
  videoHidden: [{ units: 6, batchNorm: true }],
};

describe('VM-Net', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('has the reference layer structure by default', () => {
    const m = createVmNet({ videoDim: 16 }, 1);
    const shapes = Object.fromEntries([...m.params.trainable].map(([n, v]) => [n, v.shape]));
    expect(shapes['audio.fc0.weight']).toEqual([128, 2048]);
    expect(shapes['audio.fc1.weight']).toEqual([2048, 1024]);
    expect(shapes['audio.fc2.weight']).toEqual([1024, 512]);
    expect(shapes['video.fc0.weight']).toEqual([16, 2048]);
    expect(shapes['video.fc1.weight']).toEqual([2048, 512]);
    expect(shapes['audio.fc0.bn.gamma']).toEqual([2048]);
    expect(shapes['audio.fc1.bn.gamma']).toBeUndefined(); // fc 1024 has no BN
    expect(shapes['audio.fc2.bn.gamma']).toEqual([512]);
    expect(m.params.state.get('video.fc1.bn.movingVariance')?.shape).toEqual([512]);
    m.dispose();
  });

  it('training uses batch statistics and updates moving averages by the momentum (hand-computed)', () => {
    tf.tidy(() => {
      const m = createVmNet({ ...small, dropout: 0, batchNormMomentum: 0.9 }, 2);
      const video = tf.tensor2d([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0]]);
      const audio = tf.tensor2d([[1, 2, 3, 4], [0, 0, 0, 0], [2, 2, 2, 2]]);
      // expected batch mean of the first video layer pre-activation = mean(x)·W + b = W rows averaged
      const W = m.params.get('video.fc0.weight');
      const expectedMean = tf.add(tf.matMul(tf.mean(video, 0, true), W), m.params.get('video.fc0.bias')).dataSync();
      m.forward({ video, audio }, { training: true });
      const mm = m.params.get('video.fc0.bn.movingMean').dataSync();
      for (let i = 0; i < 6; i++) expect(mm[i]).toBeCloseTo(0.1 * expectedMean[i], 5);
      const e1 = m.forward({ video, audio }, { training: false });
      const norms = tf.norm(e1.video, 'euclidean', 1).dataSync();
      for (const n of norms) expect(n).toBeCloseTo(1, 5);
      m.dispose();
    });
  });

  it('gradients match finite differences in training mode (batch norm + fixed dropout masks)', () => {
    const m = createVmNet({ ...small, dropout: 0.2 }, 3);
    const video = tf.randomNormal([4, 5], 0, 1, 'float32', 1);
    const audio = tf.randomNormal([4, 4], 0, 1, 'float32', 2);
    const wv = tf.randomNormal([4, 3], 0, 1, 'float32', 3);
    const wa = tf.randomNormal([4, 3], 0, 1, 'float32', 4);
    const f = () => {
      const o = m.forward({ video, audio }, { training: true, dropoutSeed: 9 });
      return tf.add(tf.sum(tf.mul(o.video, wv)), tf.sum(tf.mul(o.audio, wa))) as tf.Scalar;
    };
    const r = gradCheck(m.params, f, { h: 3e-3, atol: 1e-3, rtol: 2e-2, perParam: 4 });
    expect(r.checked).toBeGreaterThan(40);
    if (r.worst > 0) throw new Error(`grad check failed at ${r.worstAt}`);
    m.dispose();
  });

  it('rejects wrong dims and single-clip training batches', () => {
    const m = createVmNet(small, 1);
    expect(() => m.forward({ video: tf.zeros([2, 4]), audio: tf.zeros([2, 4]) }, { training: false })).toThrow(/video dim 4/);
    expect(() => m.forward({ video: tf.zeros([1, 5]), audio: tf.zeros([1, 4]) }, { training: true })).toThrow(InvalidArgumentError);
    m.dispose();
  });
});
