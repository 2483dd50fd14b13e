import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileFormatError, NotFoundError, Rng } from '@vmr/core';
import { tf, selectBackend } from '@vmr/core/tf';
import {
  createOfVmNet,
  createVmNet,
  Adam,
  trainStep,
  trainStepOfVmNet,
  saveCheckpoint,
  loadCheckpoint,
  restoreFromCheckpoint,
  ParamSet,
  clipEmbeddings,
  type OfVmNet,
} from '../src';
import { makeBatch } from './helpers';

const tiny = { videoDim: 6, audioDim: 4, embedDim: 8, heads: 2, layers: 1, ffnDim: 12, maxLen: 7 };

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('Adam', () => {
  it('matches the PyTorch update by hand for two steps, with step decay', () => {
    const ps = new ParamSet();
    ps.add('p', tf.tensor1d([1, -2]));
    const opt = new Adam(ps, { lr: 0.1, decayRate: 0.5, decaySteps: 1 });
    // step 1: g = (0.5, -1): m = 0.1g, v = 0.001g², m̂ = g, v̂ = g² → p -= 0.1·g/(|g|+1e-8) = ∓0.1
    opt.apply({ p: tf.tensor1d([0.5, -1]) });
    let p = ps.get('p').dataSync();
    expect(p[0]).toBeCloseTo(0.9, 6);
    expect(p[1]).toBeCloseTo(-1.9, 6);
    // step 2 (lr decayed to 0.05), g = (0.5, 1):
    // m = 0.9·0.05 + 0.1·0.5 = 0.095; v = 0.999·0.00025 + 0.001·0.25 = 0.00049975
    // m̂ = 0.095/0.19 = 0.5; v̂ = 0.00049975/0.001999 = 0.25 → p0 -= 0.05·0.5/0.5 = 0.05
    // second: m = 0.9·(-0.1) + 0.1 = 0.01 → m̂ = 0.0526316; v = 0.999·0.001 + 0.001 = 0.001999 → v̂ = 1
    expect(opt.currentLr()).toBeCloseTo(0.05, 10);
    opt.apply({ p: tf.tensor1d([0.5, 1]) });
    p = ps.get('p').dataSync();
    expect(p[0]).toBeCloseTo(0.85, 5);
    expect(p[1]).toBeCloseTo(-1.9 - 0.05 * (0.01 / 0.19) / 1, 5);
    expect(opt.step).toBe(2);
    opt.dispose();
    ps.dispose();
  });
});

function simpleLoss(model: OfVmNet, b: ReturnType<typeof makeBatch>) {
  return () => {
    const e = model.forward(b, { training: true });
    const v = clipEmbeddings(e.video);
    const a = clipEmbeddings(e.audio);
    const sim = tf.matMul(v, a, false, true);
    // InfoNCE-like smooth objective for the checkpoint test
    const total = tf.neg(tf.mean(tf.sub(tf.sum(tf.mul(sim, tf.eye(v.shape[0])), 1), tf.logSumExp(sim, 1)))) as tf.Scalar;
    return { total, terms: { diag: tf.mean(tf.sum(tf.mul(sim, tf.eye(v.shape[0])), 1)) as tf.Scalar } };
  };
}

describe('checkpoints', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-ckpt-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('save → load gives identical outputs and identical continued training', () => {
    const b = makeBatch(3, 2, 7, 6, 4, [3, 7, 2, 5, 4, 6]);
    const model = createOfVmNet({ ...tiny, dropout: 0.1 }, 4);
    const opt = new Adam(model.params, { lr: 1e-2 });
    for (let i = 0; i < 2; i++) trainStep(model.params, opt, simpleLoss(model, b));
    const file = path.join(dir, 'ckpt.vmr');
    saveCheckpoint(file, { model, optimizer: opt, step: 2, extra: { note: 'x' } });
    expect(fs.readdirSync(dir)).toEqual(['ckpt.vmr']); // no temp files left

    const ck = loadCheckpoint(file);
    expect(ck.step).toBe(2);
    expect(ck.extra).toEqual({ note: 'x' });
    expect(ck.config).toEqual(model.config);
    const restored = restoreFromCheckpoint(ck);
    const m2 = restored.model as OfVmNet;
    const o1 = tf.tidy(() => Array.from(model.forward(b, { training: false }).video.dataSync()));
    const o2 = tf.tidy(() => Array.from(m2.forward(b, { training: false }).video.dataSync()));
    expect(o2).toEqual(o1);

    const r1 = [trainStep(model.params, opt, simpleLoss(model, b)), trainStep(model.params, opt, simpleLoss(model, b))];
    const r2 = [trainStep(m2.params, restored.optimizer!, simpleLoss(m2, b)), trainStep(m2.params, restored.optimizer!, simpleLoss(m2, b))];
    expect(r2.map((r) => r.loss)).toEqual(r1.map((r) => r.loss));
    expect(r2[1].step).toBe(4);
    for (const [n, v] of model.params.trainable) expect(Array.from(m2.params.get(n).dataSync())).toEqual(Array.from(v.dataSync()));
    model.dispose();
    m2.dispose();
  });

  it('round-trips VM-Net batch-norm state', () => {
    const m = createVmNet({ videoDim: 5, audioDim: 4, embedDim: 3, audioHidden: [{ units: 4, batchNorm: true }], videoHidden: [] }, 1);
    tf.tidy(() => { m.forward({ video: tf.randomNormal([4, 5], 0, 1, 'float32', 1), audio: tf.randomNormal([4, 4], 0, 1, 'float32', 2) }, { training: true }); });
    const file = path.join(dir, 'vm.ckpt');
    saveCheckpoint(file, { model: m, step: 1 });
    const { model: m2, optimizer } = restoreFromCheckpoint(loadCheckpoint(file));
    expect(optimizer).toBeNull();
    expect(Array.from(m2.params.get('audio.fc0.bn.movingMean').dataSync())).toEqual(Array.from(m.params.get('audio.fc0.bn.movingMean').dataSync()));
    m.dispose();
    m2.dispose();
  });

  it('rejects missing, truncated, corrupt and foreign files with typed errors', () => {
    expect(() => loadCheckpoint(path.join(dir, 'nope'))).toThrow(NotFoundError);
    const m = createOfVmNet(tiny, 1);
    const file = path.join(dir, 'c');
    saveCheckpoint(file, { model: m, step: 0 });
    const buf = fs.readFileSync(file);
    fs.writeFileSync(path.join(dir, 't'), buf.subarray(0, buf.length - 10));
    expect(() => loadCheckpoint(path.join(dir, 't'))).toThrow(/truncated/);
    const bad = Buffer.from(buf);
    bad[bad.length - 3] ^= 0xff;
    fs.writeFileSync(path.join(dir, 'x'), bad);
    expect(() => loadCheckpoint(path.join(dir, 'x'))).toThrow(/checksum mismatch/);
    fs.writeFileSync(path.join(dir, 'f'), 'hello world, not a checkpoint');
    expect(() => loadCheckpoint(path.join(dir, 'f'))).toThrow(FileFormatError);
    m.dispose();
  });
});

function infoNce(e: { video: tf.Tensor3D; audio: tf.Tensor3D }) {
  const v = clipEmbeddings(e.video);
  const a = clipEmbeddings(e.audio);
  const sim = tf.matMul(v, a, false, true);
  const diag = tf.sum(tf.mul(sim, tf.eye(v.shape[0])), 1);
  return { total: tf.neg(tf.mean(tf.sub(diag, tf.logSumExp(sim, 1)))) as tf.Scalar, terms: { diag: tf.mean(diag) as tf.Scalar } };
}

describe('trainStepOfVmNet (chunked recomputation)', () => {
  it('gives the same update as the one-pass step for any chunk size, dropout included (masks per batch segment)', () => {
    const b = makeBatch(5, 2, 7, 6, 4, [3, 7, 2, 5, 4, 6, 1, 7, 2, 2]);
    const results = [undefined, 1, 2, 5].map((chunkClips) => {
      const m = createOfVmNet({ ...tiny, dropout: 0.2 }, 8);
      // eps = 1, lr = 1: the update g/(|g|+1) is smooth in g (no amplification of ~0 gradients such as
      // the attention key bias's, which is exactly 0 in theory), so parameter differences ≈ gradient differences
      const opt = new Adam(m.params, { lr: 1, eps: 1 });
      const r = trainStepOfVmNet(m, opt, b, infoNce, { chunkClips });
      const p = Object.fromEntries([...m.params.trainable].map(([n, v]) => [n, Array.from(v.dataSync())]));
      m.dispose();
      opt.dispose();
      return { r, p };
    });
    for (const { r, p } of results.slice(1)) {
      expect(r.loss).toBeCloseTo(results[0].r.loss, 5);
      expect(r.terms.diag).toBeCloseTo(results[0].r.terms.diag, 5);
      for (const [n, vals] of Object.entries(p)) {
        const ref = results[0].p[n];
        for (let i = 0; i < vals.length; i++) expect(Math.abs(vals[i] - ref[i])).toBeLessThan(1e-5);
      }
    }
  });

  it('is deterministic with dropout, and does not leak tensors', () => {
    const b = makeBatch(4, 2, 7, 6, 4, [3, 7, 2, 5, 4, 6, 1, 7]);
    const run = () => {
      const m = createOfVmNet({ ...tiny, dropout: 0.2 }, 8);
      const opt = new Adam(m.params, { lr: 1e-2 });
      trainStepOfVmNet(m, opt, b, infoNce, { chunkClips: 3 });
      const before = tf.memory().numTensors;
      const r = trainStepOfVmNet(m, opt, b, infoNce, { chunkClips: 3 });
      expect(tf.memory().numTensors).toBe(before);
      const out = Array.from(m.params.get('video.output.weight').dataSync());
      m.dispose();
      opt.dispose();
      return { loss: r.loss, out };
    };
    const a = run();
    const c = run();
    expect(c).toEqual(a);
    expect(Number.isFinite(a.loss)).toBe(true);
  });
});

describe('trainStep', () => {
  it('does not leak tensors across steps', () => {
    const b = makeBatch(3, 2, 7, 6, 4, [3, 7, 2, 5, 4, 6]);
    const model = createOfVmNet(tiny, 4);
    const opt = new Adam(model.params, { lr: 1e-3 });
    trainStep(model.params, opt, simpleLoss(model, b));
    const before = tf.memory().numTensors;
    trainStep(model.params, opt, simpleLoss(model, b));
    trainStep(model.params, opt, simpleLoss(model, b));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    opt.dispose();
  });

  it('model and optimizer free all their tensors on dispose', () => {
    const before = tf.memory().numTensors;
    const m = createOfVmNet(tiny, 1);
    const opt = new Adam(m.params);
    opt.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses to apply a non-finite loss', () => {
    const ps = new ParamSet();
    ps.add('p', tf.tensor1d([1]));
    const opt = new Adam(ps);
    expect(() => trainStep(ps, opt, () => ({ total: tf.div(tf.sum(ps.get('p')), 0) as tf.Scalar, terms: {} }))).toThrow(/loss is Infinity/);
    expect(ps.get('p').dataSync()[0]).toBe(1);
  });
});

export { Rng };
