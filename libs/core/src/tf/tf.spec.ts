import { tf, selectBackend, activeBackend, matMul, linear, gatherRows, selectRows, dropoutMask, DropoutStream, BackendNameSchema } from './index';
import { UnsupportedError } from '../errors';

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

function isInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

describe('selectBackend', () => {
  it('selects wasm and cpu explicitly and reports them', async () => {
    const w = await selectBackend('wasm');
    expect(w.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(w.package).toBe('@tensorflow/tfjs-backend-wasm');
    const c = await selectBackend('cpu');
    expect(c.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(activeBackend()?.backend).toBe('cpu');
  });

  it('auto picks the first available of tensorflow-gpu, tensorflow, wasm, cpu and records skipped ones', async () => {
    const info = await selectBackend('auto');
    const order = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
    const expected = isInstalled('@tensorflow/tfjs-node-gpu')
      ? 'tensorflow-gpu'
      : isInstalled('@tensorflow/tfjs-node')
        ? 'tensorflow'
        : 'wasm';
    expect(info.backend).toBe(expected);
    expect(info.attempts.map((a) => a.backend)).toEqual(order.slice(0, order.indexOf(expected) + 1));
    for (const a of info.attempts.slice(0, -1)) expect(a.ok).toBe(false);
  });

  it('an explicit native backend that is not installed is a clear UnsupportedError', async () => {
    if (isInstalled('@tensorflow/tfjs-node-gpu')) return;
    await expect(selectBackend('tensorflow-gpu')).rejects.toThrow(UnsupportedError);
    await expect(selectBackend('tensorflow-gpu')).rejects.toThrow(/@tensorflow\/tfjs-node-gpu/);
  });

  it('webgpu (unverified, behind a flag): auto skips it unless enabled; without a GPU it fails with a clear reason and auto falls back', async () => {
    const plain = await selectBackend('auto', { webgpu: false });
    expect(plain.attempts.map((a) => a.backend)).not.toContain('webgpu');
    let gpu = false;
    try {
      await selectBackend('webgpu');
      gpu = true;
    } catch (e) {
      expect(e).toBeInstanceOf(UnsupportedError);
      // names why: the optional package is missing, or there is no adapter (no GPU / no Vulkan driver)
      expect(String((e as Error).message)).toMatch(/webgpu: .*(not installed|no WebGPU adapter)/);
      expect(String((e as Error).message)).toMatch(/unverified/);
    }
    const info = await selectBackend('auto', { webgpu: true });
    const tried = info.attempts.map((a) => a.backend);
    if (gpu) {
      expect(info.backend).toBe(isInstalled('@tensorflow/tfjs-node-gpu') || isInstalled('@tensorflow/tfjs-node') ? info.backend : 'webgpu');
    } else {
      expect(tried).toContain('webgpu');
      expect(info.attempts.find((a) => a.backend === 'webgpu')?.ok).toBe(false);
      expect(info.backend).toBe(isInstalled('@tensorflow/tfjs-node-gpu') ? 'tensorflow-gpu' : isInstalled('@tensorflow/tfjs-node') ? 'tensorflow' : 'wasm');
    }
  });

  it('rejects unknown names', async () => {
    await expect(selectBackend('gpu' as never)).rejects.toThrow(/unknown backend 'gpu'/);
    expect(BackendNameSchema.options).toEqual(['auto', 'tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu']);
  });
});

describe.each(['wasm', 'cpu'] as const)('fast ops on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it('matMul equals tf.matMul with identical gradients (2-D, batched, weight on rank-3 input)', () => {
    const cases: Array<[number[], number[]]> = [
      [[5, 7], [7, 3]],
      [[2, 4, 6], [2, 6, 3]],
      [[2, 3, 4, 5], [2, 3, 5, 2]],
      [[3, 4, 6], [6, 2]],
    ];
    for (const [sa, sb] of cases) {
      tf.tidy(() => {
        const a = tf.randomNormal(sa, 0, 1, 'float32', 1);
        const b = tf.randomNormal(sb, 0, 1, 'float32', 2);
        const w = tf.randomNormal([...sa.slice(0, -1), sb[sb.length - 1]], 0, 1, 'float32', 3);
        const ref = (x: tf.Tensor, y: tf.Tensor) =>
          y.rank === 2 && x.rank > 2
            ? tf.reshape(tf.matMul(tf.reshape(x, [-1, x.shape[x.rank - 1]]), y), [...x.shape.slice(0, -1), y.shape[1] as number])
            : tf.matMul(x, y);
        expect(maxAbsDiff(matMul(a, b), ref(a, b))).toBeLessThan(1e-5);
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x, y), w)))([a, b]);
        const [ra, rb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(ref(x, y), w)))([a, b]);
        expect(maxAbsDiff(ga, ra)).toBeLessThan(1e-5);
        expect(maxAbsDiff(gb, rb)).toBeLessThan(1e-5);
        // closed form for the 2-D case: dA = W·Bᵀ, dB = Aᵀ·W
        if (a.rank === 2) {
          expect(maxAbsDiff(ga, tf.matMul(w, b, false, true))).toBeLessThan(1e-5);
          expect(maxAbsDiff(gb, tf.matMul(a, w, true, false))).toBeLessThan(1e-5);
        }
      });
    }
  });

  it('matMul rejects mismatched shapes with a clear error', () => {
    expect(() => matMul(tf.zeros([2, 3]), tf.zeros([4, 5]))).toThrow(/inner dims differ/);
    expect(() => matMul(tf.zeros([2, 2, 3]), tf.zeros([3, 3, 5]))).toThrow(/batch dims differ/);
  });

  it('linear (fused, custom gradient) equals x·W + b in value and gradients', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 1);
      const w = tf.randomNormal([4, 3], 0, 1, 'float32', 2);
      const b = tf.randomNormal([3], 0, 1, 'float32', 3);
      const u = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 4);
      const ref = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.add(tf.reshape(tf.matMul(tf.reshape(xx, [10, 4]), ww), [2, 5, 3]), bb);
      expect(maxAbsDiff(linear(x, w, b), ref(x, w, b))).toBeLessThan(1e-5);
      const g1 = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(xx, ww, bb), u)))([x, w, b]);
      const g2 = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(ref(xx, ww, bb), u)))([x, w, b]);
      for (let i = 0; i < 3; i++) expect(maxAbsDiff(g1[i], g2[i])).toBeLessThan(1e-5);
      expect(() => linear(x, w, tf.zeros([4]))).toThrow(/do not fit/);
    });
  });

  it('linear gradients with a wide input (weight gradient computed as (dyᵀ·x)ᵀ) equal the closed form', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([6, 20], 0, 1, 'float32', 11);
      const w = tf.randomNormal([20, 3], 0, 1, 'float32', 12);
      const b = tf.randomNormal([3], 0, 1, 'float32', 13);
      const u = tf.randomNormal([6, 3], 0, 1, 'float32', 14);
      const [gx, gw, gb] = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(xx, ww, bb), u)))([x, w, b]);
      expect(maxAbsDiff(gw, tf.matMul(x, u, true, false))).toBeLessThan(1e-5); // dW = xᵀ·u
      expect(maxAbsDiff(gx, tf.matMul(u, w, false, true))).toBeLessThan(1e-5); // dx = u·Wᵀ
      expect(maxAbsDiff(gb, tf.sum(u, 0))).toBeLessThan(1e-5);
      const [, gw2] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(matMul(xx, ww), u)))([x, w]);
      expect(maxAbsDiff(gw2, tf.matMul(x, u, true, false))).toBeLessThan(1e-5);
    });
  });

  it('linear adds the bias on the last axis', () => {
    const y = linear(tf.tensor2d([[1, 2]]), tf.tensor2d([[1, 0, 1], [0, 1, 1]]), tf.tensor1d([10, 20, 30]));
    expect(Array.from(y.dataSync())).toEqual([11, 22, 33]);
  });

  it('gatherRows selects rows (zero where -1) and its gradient scatters back', () => {
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const idx = Int32Array.from([2, -1, 0]);
    expect(Array.from(gatherRows(x, idx).dataSync())).toEqual([5, 6, 0, 0, 1, 2]);
    const w = tf.tensor2d([[1, 10], [100, 1000], [7, 8]]);
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(gatherRows(xx as tf.Tensor2D, idx), w)))(x);
    expect(Array.from(g.dataSync())).toEqual([7, 8, 0, 0, 1, 10]);
    expect(() => gatherRows(x, Int32Array.from([1, 1]))).toThrow(/injective/);
    expect(() => gatherRows(x, Int32Array.from([3]))).toThrow(/outside/);
  });

  it('selectRows allows repeats and accumulates gradients', () => {
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    expect(Array.from(selectRows(x, [1, 1, 0]).dataSync())).toEqual([3, 4, 3, 4, 1, 2]);
    const g = tf.grad((xx: tf.Tensor) => tf.sum(selectRows(xx as tf.Tensor2D, [1, 1, 0])))(x);
    expect(Array.from(g.dataSync())).toEqual([1, 1, 2, 2]);
  });
});

describe('wasm kernel replacements (Identity, Slice, SplitV) equal the cpu backend', () => {
  it('slices of every rank and axis, splits, clones', async () => {
    const shapes = [[7], [5, 6], [3, 4, 5], [2, 3, 4, 5], [2, 2, 3, 2, 3]];
    const run = () =>
      shapes.flatMap((shape) =>
        tf.tidy(() => {
          const n = shape.reduce((a, b) => a * b, 1);
          const x = tf.reshape(tf.range(0, n), shape);
          const begin = shape.map((d) => Math.min(1, d - 1));
          const size = shape.map((d, i) => (i % 2 === 0 ? d - begin[i] : 1));
          const whole = shape.map(() => -1);
          const outs = [tf.slice(x, begin, size), tf.slice(x, shape.map(() => 0), whole), tf.clone(x)];
          for (let axis = 0; axis < shape.length; axis++) {
            if (shape[axis] >= 2) outs.push(...tf.split(x, [1, shape[axis] - 1], axis));
          }
          return outs.map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
        }),
      );
    await selectBackend('cpu');
    const cpu = run();
    await selectBackend('wasm');
    const wasm = run();
    expect(wasm).toEqual(cpu);
    expect(cpu.length).toBeGreaterThan(30);
    // a clone shares the buffer but disposing one leaves the other intact
    const a = tf.tensor1d([1, 2, 3]);
    const c = tf.clone(a);
    a.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    c.dispose();
  });
});

describe('dropoutMask', () => {
  it('is deterministic per seed, scaled by 1/(1-rate), with about rate zeros', async () => {
    await selectBackend('cpu');
    const a = dropoutMask([100, 100], 0.1, 42).dataSync();
    const b = dropoutMask([100, 100], 0.1, 42).dataSync();
    const c = dropoutMask([100, 100], 0.1, 43).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const zeros = Array.from(a).filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(850);
    expect(zeros).toBeLessThan(1150);
    for (const v of a) expect(v === 0 || Math.abs(v - 1 / 0.9) < 1e-6).toBe(true);
    expect(() => dropoutMask([2], 1, 0)).toThrow(/rate/);
  });
});

describe('dropoutMask on the wasm heap', () => {
  it('equals the cpu backend mask bit for bit (number seed and MaskFill, padding entries 0)', async () => {
    const fill = (out: Float32Array, rate: number) => {
      new DropoutStream(9).fill(out, 10, 3000, rate); // entries 0–9 and the tail stay unwritten
    };
    await selectBackend('cpu');
    const cpuA = dropoutMask([70, 50], 0.2, 123).dataSync().slice();
    const cpuB = dropoutMask([70, 50], 0.2, fill).dataSync().slice();
    await selectBackend('wasm');
    const wasmA = dropoutMask([70, 50], 0.2, 123).dataSync().slice();
    dropoutMask([70, 50], 0.2, 5).dispose(); // a used heap block next: unwritten entries must still read 0
    const wasmB = dropoutMask([70, 50], 0.2, fill).dataSync().slice();
    expect(Buffer.from(wasmA.buffer).equals(Buffer.from(cpuA.buffer))).toBe(true);
    expect(Buffer.from(wasmB.buffer).equals(Buffer.from(cpuB.buffer))).toBe(true);
    expect(Array.from(wasmB.subarray(0, 10))).toEqual(new Array(10).fill(0));
  });
});

describe('reluDropout', () => {
  it('equals dropout(relu(x)) in value and gradient', async () => {
    await selectBackend('wasm');
    const { dropout, reluDropout } = await import('./index');
    tf.tidy(() => {
      const x = tf.randomNormal([50, 40], 0, 1, 'float32', 4);
      const w = tf.randomNormal([50, 40], 0, 1, 'float32', 5);
      const a = reluDropout(x, 0.3, 17);
      const b = dropout(tf.relu(x), 0.3, 17);
      expect(maxAbsDiff(a, b)).toBe(0);
      const ga = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(reluDropout(t, 0.3, 17), w)))(x);
      const gb = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(dropout(tf.relu(t), 0.3, 17), w)))(x);
      expect(maxAbsDiff(ga, gb)).toBe(0); // the heap-fused backward computes the same float32 products
      expect(tf.sum(tf.abs(ga)).dataSync()[0]).toBeGreaterThan(0);
    });
  });
});
