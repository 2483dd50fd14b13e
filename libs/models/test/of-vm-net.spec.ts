import { InvalidArgumentError, ConfigError, UnsupportedError } from '@vmr/core';
import { tf, selectBackend } from '@vmr/core/tf';
import { createOfVmNet, sinusoidalPositions, type OfVmNet, type ParamSet } from '../src';
import { makeBatch, gradCheck } from './helpers';

/** Straightforward padded reference encoder (no packing, tf.matMul with flags), same parameters. */
function referenceEncode(ps: ParamSet, prefix: string, x: tf.Tensor, mask: Float32Array, c: OfVmNet['config'], pooling: string): tf.Tensor {
  const [N, L, D] = x.shape;
  const E = c.embedDim;
  const H = c.heads;
  const dh = E / H;
  const P = (n: string) => ps.get(`${prefix}.${n}`);
  const lin = (t: tf.Tensor, n: string) => tf.add(tf.reshape(tf.matMul(tf.reshape(t, [-1, t.shape[t.rank - 1]]), P(`${n}.weight`)), [N, L, -1]), P(`${n}.bias`));
  const ln = (t: tf.Tensor, n: string) => {
    const { mean, variance } = tf.moments(t, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, c.layerNormEps))), P(`${n}.weight`)), P(`${n}.bias`));
  };
  const pe = tf.tensor2d(sinusoidalPositions(c.maxLen, E).slice(0, L * E), [L, E]);
  const m = tf.tensor2d(mask, [N, L]);
  const bias = tf.reshape(tf.mul(tf.sub(1, m), -1e9), [N, 1, 1, L]);
  let h = tf.add(lin(tf.reshape(x, [N, L, D]), 'input'), pe);
  for (let l = 0; l < c.layers; l++) {
    const qkv = lin(h, `layer${l}.attn.in`);
    const split = (i: number) => tf.transpose(tf.reshape(tf.slice(qkv, [0, 0, i * E], [N, L, E]), [N, L, H, dh]), [0, 2, 1, 3]);
    const scores = tf.add(tf.div(tf.matMul(split(0), split(1), false, true), Math.sqrt(dh)), bias);
    const ctx = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), split(2)), [0, 2, 1, 3]), [N, L, E]);
    h = ln(tf.add(h, lin(ctx, `layer${l}.attn.out`)), `layer${l}.norm1`);
    h = ln(tf.add(h, lin(tf.relu(lin(h, `layer${l}.ffn1`)), `layer${l}.ffn2`)), `layer${l}.norm2`);
  }
  const pooled =
    pooling === 'mean-all'
      ? tf.mean(h, 1)
      : tf.div(tf.sum(tf.mul(h, tf.expandDims(m, 2)), 1), tf.sum(m, 1, true));
  const out = tf.add(tf.matMul(pooled, P('output.weight')), P('output.bias'));
  return tf.div(out, tf.norm(out, 'euclidean', -1, true));
}

const tiny = { videoDim: 6, audioDim: 4, embedDim: 8, heads: 2, layers: 2, ffnDim: 12, maxLen: 7, dropout: 0.1 };
const lengths = [3, 7, 1, 5, 2, 6]; // B = 2 clips × S = 3 segments

describe.each(['wasm', 'cpu'] as const)('OF-VM-Net on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it.each(['masked-mean', 'mean-all'] as const)('%s forward equals a plain padded reference implementation', (pooling) => {
    tf.tidy(() => {
      const model = createOfVmNet({ ...tiny, pooling, maxAttentionGroups: 3 }, 11);
      const b = makeBatch(2, 3, 7, 6, 4, lengths);
      const out = model.forward(b, { training: false });
      expect(out.video.shape).toEqual([2, 3, 8]);
      for (const [mod, x] of [['video', b.video], ['audio', b.audio]] as const) {
        const ref = referenceEncode(model.params, mod, tf.reshape(x, [6, 7, -1]), b.mask, model.config, pooling);
        const got = tf.reshape(out[mod], [6, 8]);
        expect(tf.max(tf.abs(tf.sub(got, ref))).dataSync()[0]).toBeLessThan(2e-5);
        // unit norm
        const norms = tf.norm(got, 'euclidean', 1).dataSync();
        for (const n of norms) expect(Math.abs(n - 1)).toBeLessThan(1e-5);
      }
      model.dispose();
    });
  });

  it('masked-mean embeddings ignore padded positions; mean-all does not', () => {
    tf.tidy(() => {
      const b = makeBatch(2, 3, 7, 6, 4, lengths);
      const junk = (t: tf.Tensor) => tf.add(t, tf.mul(tf.randomNormal(t.shape, 0, 5, 'float32', 3), tf.sub(1, tf.reshape(tf.tensor(b.mask), [2, 3, 7, 1]))));
      const noisy = { ...b, video: junk(b.video), audio: junk(b.audio) };
      const mm = createOfVmNet({ ...tiny, pooling: 'masked-mean' }, 3);
      const a1 = mm.forward(b, { training: false });
      const a2 = mm.forward(noisy, { training: false });
      expect(tf.max(tf.abs(tf.sub(a1.video, a2.video))).dataSync()[0]).toBeLessThan(1e-6);
      expect(tf.max(tf.abs(tf.sub(a1.audio, a2.audio))).dataSync()[0]).toBeLessThan(1e-6);
      const ma = createOfVmNet({ ...tiny, pooling: 'mean-all' }, 3);
      const b1 = ma.forward(b, { training: false });
      const b2 = ma.forward(noisy, { training: false });
      expect(tf.max(tf.abs(tf.sub(b1.video, b2.video))).dataSync()[0]).toBeGreaterThan(1e-3);
      mm.dispose();
      ma.dispose();
    });
  });

  it('gradients match central finite differences (eval mode and training mode with fixed dropout masks)', () => {
    // cpu: one mode, fewer entries (the cpu backend is slow per op); wasm: both modes
    for (const training of backend === 'cpu' ? [true] : [false, true]) {
      const model = createOfVmNet({ ...tiny, maxAttentionGroups: 2 }, 5);
      const b = makeBatch(2, 3, 7, 6, 4, lengths, 2);
      const wv = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 8);
      const wa = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 9);
      const f = () => {
        const o = model.forward(b, { training, dropoutSeed: 123 });
        return tf.add(tf.sum(tf.mul(o.video, wv)), tf.sum(tf.mul(o.audio, wa))) as tf.Scalar;
      };
      // float32 differences: h = 3e-3 keeps rounding error (~3e-5 on an O(1) objective) and truncation error O(h²) small
      const r = gradCheck(model.params, f, { h: 3e-3, atol: 1e-3, rtol: 2e-2, perParam: backend === 'cpu' ? 1 : 2 });
      expect(r.checked).toBeGreaterThanOrEqual(56);
      if (r.worst > 0) throw new Error(`grad check (training=${training}) failed at ${r.worstAt}`);
      model.dispose();
    }
  });
});

describe('OF-VM-Net behaviour', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it.each(['masked-mean', 'mean-all'] as const)('%s: host-array inputs give the same embeddings as tensors', (pooling) => {
    tf.tidy(() => {
      const m = createOfVmNet({ ...tiny, pooling }, 2);
      const b = makeBatch(2, 3, 7, 6, 4, lengths);
      const host = {
        ...b,
        video: { data: b.video.dataSync() as Float32Array, shape: [2, 3, 7, 6] as [number, number, number, number] },
        audio: { data: b.audio.dataSync() as Float32Array, shape: [2, 3, 7, 4] as [number, number, number, number] },
      };
      const e1 = m.forward(b, { training: false });
      const e2 = m.forward(host, { training: false });
      expect(Array.from(e2.video.dataSync())).toEqual(Array.from(e1.video.dataSync()));
      expect(Array.from(e2.audio.dataSync())).toEqual(Array.from(e1.audio.dataSync()));
      expect(() => m.forward({ ...host, video: { data: new Float32Array(5), shape: [2, 3, 7, 6] } }, { training: false })).toThrow(/has 5 values/);
      m.dispose();
    });
  });

  it('rejects a fully padded segment with a clear error (not NaN)', () => {
    const model = createOfVmNet(tiny, 1);
    const b = makeBatch(2, 3, 7, 6, 4, [3, 7, 1, 5, 0, 6]);
    expect(() => model.forward(b, { training: false })).toThrow(InvalidArgumentError);
    expect(() => model.forward(b, { training: false })).toThrow(/clip 1, segment 1 is fully padded/);
    model.dispose();
  });

  it('validates shapes and config', () => {
    const model = createOfVmNet(tiny, 1);
    const b = makeBatch(2, 3, 7, 5, 4, lengths);
    expect(() => model.forward(b, { training: false })).toThrow(/video dim 5 ≠ model videoDim 6/);
    model.dispose();
    expect(() => createOfVmNet({ ...tiny, heads: 3 }, 1)).toThrow(ConfigError);
    expect(() => createOfVmNet({ ...tiny, heads: 3 }, 1)).toThrow(/embedDim must be divisible by heads/);
    expect(() => createOfVmNet({ ...tiny, pooling: 'max' as never }, 1)).toThrow(/pooling/);
  });

  it('is deterministic from the seed; eval has no dropout; training dropout follows the dropout seed', () => {
    tf.tidy(() => {
      const b = makeBatch(2, 3, 7, 6, 4, lengths);
      const m1 = createOfVmNet(tiny, 42);
      const m2 = createOfVmNet(tiny, 42);
      const m3 = createOfVmNet(tiny, 43);
      const e1 = m1.forward(b, { training: false }).video.dataSync();
      expect(Array.from(m2.forward(b, { training: false }).video.dataSync())).toEqual(Array.from(e1));
      expect(Array.from(m3.forward(b, { training: false }).video.dataSync())).not.toEqual(Array.from(e1));
      expect(Array.from(m1.forward(b, { training: false }).video.dataSync())).toEqual(Array.from(e1));
      const t1 = m1.forward(b, { training: true, dropoutSeed: 5 }).video.dataSync();
      const t2 = m1.forward(b, { training: true, dropoutSeed: 5 }).video.dataSync();
      const t3 = m1.forward(b, { training: true, dropoutSeed: 6 }).video.dataSync();
      expect(Array.from(t2)).toEqual(Array.from(t1));
      expect(Array.from(t3)).not.toEqual(Array.from(t1));
      expect(Array.from(t1)).not.toEqual(Array.from(e1));
      // default dropout seeds advance a counter
      expect(m1.forwardCount).toBe(0);
      m1.forward(b, { training: true });
      expect(m1.forwardCount).toBe(1);
      [m1, m2, m3].forEach((m) => m.dispose());
    });
  });

  it('initialises like PyTorch: Linear U(±1/√fan_in), zero attention biases, identical layers by default', () => {
    const m = createOfVmNet({ ...tiny, layers: 3 }, 9);
    const w = m.params.get('video.input.weight').dataSync();
    const bound = 1 / Math.sqrt(6);
    expect(Math.max(...Array.from(w).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(w).map(Math.abs))).toBeGreaterThan(0.8 * bound);
    expect(Array.from(m.params.get('video.layer0.attn.in.bias').dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(m.params.get('video.layer0.attn.out.bias').dataSync()).every((v) => v === 0)).toBe(true);
    const l0 = Array.from(m.params.get('video.layer0.ffn1.weight').dataSync());
    expect(Array.from(m.params.get('video.layer2.ffn1.weight').dataSync())).toEqual(l0);
    const xavier = Math.sqrt(6 / (8 + 24));
    expect(Math.max(...Array.from(m.params.get('audio.layer1.attn.in.weight').dataSync()).map(Math.abs))).toBeLessThanOrEqual(xavier);
    const ind = createOfVmNet({ ...tiny, layers: 3, identicalLayerInit: false }, 9);
    expect(Array.from(ind.params.get('video.layer2.ffn1.weight').dataSync())).not.toEqual(l0);
    m.dispose();
    ind.dispose();
  });

  it('packing computes only valid tokens and groups sequences by length', () => {
    const m = createOfVmNet({ ...tiny, maxAttentionGroups: 2 }, 1);
    const mask = makeBatch(2, 3, 7, 6, 4, lengths).mask;
    const plan = m.plan(mask, 2, 3, 7);
    expect(plan.tokens).toBe(3 + 7 + 1 + 5 + 2 + 6);
    expect(plan.rows).toBeGreaterThanOrEqual(plan.tokens);
    expect(plan.groups.length).toBeLessThanOrEqual(2);
    const covered = plan.groups.flatMap((g) => Array.from(g.seqs)).sort();
    expect(covered).toEqual([0, 1, 2, 3, 4, 5]);
    for (const g of plan.groups) for (const s of g.seqs) expect(plan.lengths[s]).toBeLessThanOrEqual(g.len);
    m.dispose();
  });
});

describe('optional accelerated backends (tensorflow-gpu, tensorflow, webgpu)', () => {
  // Each one that loads here runs the model's op suite (forward = padded reference, gradients = the
  // cpu backend's); each one that does not load must say why (package missing, no GPU/driver).
  it('run the OF-VM-Net op suite where they load, and fail with a clear reason where they do not', async () => {
    const b = makeBatch(2, 3, 7, 6, 4, lengths, 2);
    const gradsOn = async (backend: 'cpu' | 'tensorflow-gpu' | 'tensorflow' | 'webgpu') => {
      await selectBackend(backend);
      const model = createOfVmNet({ ...tiny, maxAttentionGroups: 2 }, 5);
      const vars = [...model.params.trainable.values()];
      const { value, grads } = tf.variableGrads(() => {
        const o = model.forward(b, { training: true, dropoutSeed: 77 });
        return tf.add(tf.sum(tf.square(o.video)), tf.sum(tf.mul(o.video, o.audio))) as tf.Scalar;
      }, vars);
      const out = { loss: value.dataSync()[0], grads: vars.map((v) => Array.from(grads[v.name].dataSync())) };
      const ref = tf.tidy(() => {
        const o = model.forward(b, { training: false });
        const r = referenceEncode(model.params, 'video', tf.reshape(b.video, [6, 7, -1]), b.mask, model.config, 'masked-mean');
        return tf.max(tf.abs(tf.sub(tf.reshape(o.video, [6, 8]), r))).dataSync()[0];
      });
      model.dispose();
      return { ...out, refDiff: ref };
    };
    const cpu = await gradsOn('cpu');
    const report: string[] = [];
    for (const backend of ['tensorflow-gpu', 'tensorflow', 'webgpu'] as const) {
      let r: Awaited<ReturnType<typeof gradsOn>> | undefined;
      try {
        r = await gradsOn(backend);
      } catch (e) {
        expect(e).toBeInstanceOf(UnsupportedError);
        expect((e as Error).message).toMatch(backend === 'webgpu' ? /not installed|no WebGPU adapter/ : /not installed|libtensorflow|tfjs-node/);
        report.push(`${backend}: unavailable (${(e as Error).message.slice(0, 120)})`);
        continue;
      }
      expect(r.refDiff).toBeLessThan(1e-4);
      expect(Math.abs(r.loss - cpu.loss)).toBeLessThan(1e-4);
      r.grads.forEach((g, i) => g.forEach((x, j) => expect(Math.abs(x - cpu.grads[i][j])).toBeLessThan(1e-3)));
      report.push(`${backend}: op suite passed`);
    }
    expect(report).toHaveLength(3);
    await selectBackend('wasm');
  });
});
