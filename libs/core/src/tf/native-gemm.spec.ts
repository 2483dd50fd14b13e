import * as fs from 'fs';
import { tf, selectBackend, nativeGemmStatus, nativeGemmActive, setNativeGemmActive, setNativeGemmThreads, setNativeGemmAvx2Only, describeMatmul } from './index';
import { Rng } from '../rng';

/**
 * The optional native GEMM (libs/core/native) must equal a plain triple loop. It is built by
 * `npm install` wherever a C++ compiler exists (CI has g++); when it is not built these tests FAIL
 * with the reason, they never pass silently. `VMR_NATIVE_GEMM=0` runs are the only exception: then
 * the suite checks that the stock kernels are in use instead.
 */
const off = process.env.VMR_NATIVE_GEMM === '0';

/** Relative tolerance on |native − reference| / (|reference| summed magnitude): fp32 rounding over K terms. */
const REL_TOL = 1e-5;

function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.next() * 2 - 1;
  return a;
}

/** C[b] = op(A[b]) · op(B[b]) by the definition, in float64; batch 1 on a side broadcasts. */
function reference(a: Float32Array, b: Float32Array, batchA: number, batchB: number, m: number, k: number, n: number, ta: boolean, tb: boolean) {
  const batch = Math.max(batchA, batchB);
  const c = new Float64Array(batch * m * n);
  const mag = new Float64Array(batch * m * n); // Σ|a·b|: the scale of the rounding error
  for (let t = 0; t < batch; t++) {
    const ao = (batchA === 1 ? 0 : t) * m * k;
    const bo = (batchB === 1 ? 0 : t) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        let g = 0;
        for (let p = 0; p < k; p++) {
          const x = a[ao + (ta ? p * m + i : i * k + p)] * b[bo + (tb ? j * k + p : p * n + j)];
          s += x;
          g += Math.abs(x);
        }
        c[t * m * n + i * n + j] = s;
        mag[t * m * n + i * n + j] = g;
      }
  }
  return { c, mag };
}

function worstRelError(got: Float32Array | Int32Array | Uint8Array, ref: { c: Float64Array; mag: Float64Array }): number {
  let worst = 0;
  for (let i = 0; i < ref.c.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref.c[i]) / Math.max(ref.mag[i], 1e-30));
  return worst;
}

beforeAll(async () => {
  await selectBackend('wasm');
});

afterEach(() => {
  setNativeGemmActive(true);
  setNativeGemmThreads(2);
});

describe('native GEMM on the wasm backend', () => {
  it('is built and active (or off only through VMR_NATIVE_GEMM=0), and the backend label says which', () => {
    const st = nativeGemmStatus();
    if (off) {
      expect(st.enabled).toBe(false);
      expect(describeMatmul('wasm')).toEqual({ matmul: 'xnnpack', matmulNote: 'native GEMM off (VMR_NATIVE_GEMM=0)', label: 'wasm' });
      return;
    }
    if (!st.enabled) {
      throw new Error(`the native GEMM is not available: ${st.reason}. Build it with \`node libs/core/native/build.js --strict\` (needs g++ or clang++ and Node's headers)`);
    }
    expect(fs.existsSync(st.path)).toBe(true);
    expect(['avx2', 'avx512']).toContain(st.isa);
    expect(nativeGemmActive()).toBe(true);
    expect(describeMatmul('wasm').label).toMatch(/^wasm\+native-gemm \(avx(2|512), \d+ threads?\)$/);
    expect(describeMatmul('cpu')).toEqual({ matmul: 'tfjs-cpu', label: 'cpu' });
  });

  // odd sizes exercise every edge of the 6×16 micro-kernel and of the 256-deep K blocks
  const cases: Array<[string, number, number, number, number, number]> = [
    // name, batchA, batchB, M, K, N
    ['odd 2-D', 1, 1, 37, 29, 53],
    ['K across blocks', 1, 1, 13, 517, 19],
    ['wide N (2 threads split the columns)', 1, 1, 13, 1100, 1100],
    ['tall M (2 threads split the rows)', 1, 1, 1201, 330, 41],
    ['one output row (row-vector path)', 1, 1, 1, 700, 45],
    ['one output row (2 threads above 3e7 flops: not split)', 1, 1, 1, 3000, 2100],
    ['batched', 5, 5, 9, 17, 11],
    ['batched (2 threads split the batch)', 3, 3, 40, 400, 330],
    ['batch broadcast of b', 4, 1, 10, 23, 31],
    ['batch broadcast of a', 1, 3, 6, 16, 17],
  ];
  for (const [name, batchA, batchB, m, k, n] of cases) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      it(`${name}: [${batchA}×${m}×${k}]·[${batchB}×${k}×${n}], transposeA=${ta}, transposeB=${tb}, equals the triple loop within ${REL_TOL} relative`, () => {
        if (!off && !nativeGemmStatus().enabled) throw new Error(`native GEMM not available: ${nativeGemmStatus().reason}`);
        const rng = new Rng(`gemm/${name}/${ta}/${tb}`);
        const a = randn(rng, batchA * m * k);
        const b = randn(rng, batchB * k * n);
        const ref = reference(a, b, batchA, batchB, m, k, n, ta, tb);
        const shapeA = ta ? [batchA, k, m] : [batchA, m, k];
        const shapeB = tb ? [batchB, n, k] : [batchB, k, n];
        let first: Float32Array | undefined;
        for (const [threads, avx2Only] of [[1, false], [2, false], [1, true]] as const) {
          setNativeGemmThreads(threads);
          setNativeGemmAvx2Only(avx2Only);
          const got = tf.tidy(() => tf.matMul(tf.tensor3d(a, shapeA as [number, number, number]), tf.tensor3d(b, shapeB as [number, number, number]), ta, tb));
          expect(got.shape).toEqual([Math.max(batchA, batchB), m, n]);
          const v = got.dataSync() as Float32Array;
          expect(worstRelError(v, ref)).toBeLessThan(REL_TOL);
          // threads and kernel width (AVX-512 / AVX2) never change a bit
          if (first) expect(Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(first.buffer))).toBe(true);
          else first = v.slice();
          got.dispose();
        }
        setNativeGemmAvx2Only(false);
      });
    }
  }

  it('gives bit-identical results with 1 and 2 threads (a fixed accumulation order)', () => {
    const rng = new Rng('gemm/threads');
    const a = tf.tensor2d(randn(rng, 500 * 300), [500, 300]);
    const b = tf.tensor2d(randn(rng, 300 * 200), [300, 200]);
    setNativeGemmThreads(1);
    const one = tf.matMul(a, b).dataSync().slice();
    setNativeGemmThreads(2);
    const two = tf.matMul(a, b).dataSync().slice();
    expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
    tf.dispose([a, b]);
  });

  it('fuses bias and relu like tf.fused.matMul, and falls back to XNNPACK for prelu', () => {
    const rng = new Rng('gemm/fused');
    const [m, k, n] = [23, 41, 37];
    const a = randn(rng, m * k);
    const b = randn(rng, k * n);
    const bias = randn(rng, n);
    const ref = reference(a, b, 1, 1, m, k, n, false, false);
    const expected = new Float64Array(m * n);
    for (let i = 0; i < m * n; i++) expected[i] = Math.max(0, ref.c[i] + bias[i % n]);
    const out = tf.tidy(() =>
      tf.fused.matMul({ a: tf.tensor2d(a, [m, k]), b: tf.tensor2d(b, [k, n]), bias: tf.tensor1d(bias), activation: 'relu' }).dataSync(),
    );
    let worst = 0;
    for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(out[i] - expected[i]) / (ref.mag[i] + Math.abs(bias[i % n])));
    expect(worst).toBeLessThan(REL_TOL);
    expect(Math.min(...out)).toBe(0); // relu clipped something
    const alpha = tf.fill([n], 0.1);
    const prelu = tf.tidy(() => tf.fused.matMul({ a: tf.tensor2d(a, [m, k]), b: tf.tensor2d(b, [k, n]), activation: 'prelu', preluActivationWeights: alpha }).dataSync());
    for (let i = 0; i < m * n; i++) {
      const v = ref.c[i] > 0 ? ref.c[i] : 0.1 * ref.c[i];
      expect(Math.abs(prelu[i] - v)).toBeLessThan(1e-4 * (ref.mag[i] + 1));
    }
    alpha.dispose();
  });

  it('is a different engine from XNNPACK: both agree within tolerance, and switching off routes to XNNPACK', () => {
    if (off) return; // nothing to compare: only the stock kernels are in use
    const rng = new Rng('gemm/engines');
    const a = tf.tensor2d(randn(rng, 300 * 700), [300, 700]);
    const b = tf.tensor2d(randn(rng, 700 * 90), [700, 90]);
    const native = tf.matMul(a, b).dataSync().slice();
    setNativeGemmActive(false);
    expect(nativeGemmActive()).toBe(false);
    const stock = tf.matMul(a, b).dataSync().slice();
    let worst = 0;
    let differ = 0;
    for (let i = 0; i < native.length; i++) {
      worst = Math.max(worst, Math.abs(native[i] - stock[i]) / (Math.abs(stock[i]) + 1));
      if (native[i] !== stock[i]) differ++;
    }
    expect(worst).toBeLessThan(1e-4);
    expect(differ).toBeGreaterThan(0); // really two engines (else this test would prove nothing)
    tf.dispose([a, b]);
  });
});

describe('native DropoutStream fill', () => {
  /** The stream's definition (mulberry32, four bytes per draw, tie byte resolved by one more draw), in plain JS. */
  function referenceFills(seed: number, lengths: number[], rate: number): Float32Array {
    let a = seed >>> 0;
    const next = () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    };
    const out = new Float32Array(lengths.reduce((x, y) => x + y, 0));
    const thr = Math.round(rate * 65536);
    let i = 0;
    for (const n of lengths) {
      const end = i + n;
      while (i < end) {
        const t = next();
        for (let sh = 0; sh < 32 && i < end; sh += 8, i++) {
          const b = (t >>> sh) & 255;
          out[i] = b < thr >>> 8 ? 0 : b > thr >>> 8 ? 1 / (1 - rate) : (next() & 255) < (thr & 255) ? 0 : 1 / (1 - rate);
        }
      }
    }
    return out;
  }

  it('gives the same masks as the JS stream, bit for bit, across native and JS fills of one stream', async () => {
    const { DropoutStream } = await import('./dropout');
    if (!off && !nativeGemmStatus().enabled) throw new Error(`native addon not available: ${nativeGemmStatus().reason}`);
    for (const rate of [0.1, 0.5, 0.3333]) {
      const lengths = [5003, 700, 37, 2048, 511, 9];
      const st = new DropoutStream(0xdeadbeef);
      const got = new Float32Array(lengths.reduce((x, y) => x + y, 0));
      let o = 0;
      for (const n of lengths) {
        st.fill(got, o, n, rate);
        o += n;
      }
      const want = referenceFills(0xdeadbeef, lengths, rate);
      expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      // fillRows: 40 fills of 30 entries, 50 apart (the attention rows) = 40 fill calls
      const rows = new Float32Array(40 * 50);
      new DropoutStream(7).fillRows(rows, 0, 40, 30, 50, rate);
      const one = new Float32Array(40 * 50);
      const st1 = new DropoutStream(7);
      for (let c = 0; c < 40; c++) st1.fill(one, c * 50, 30, rate); // each below the native threshold: the JS loop
      expect(Buffer.from(rows.buffer).equals(Buffer.from(one.buffer))).toBe(true);
      expect(rows[35]).toBe(0); // gaps untouched
      const dropped = got.filter((v) => v === 0).length / got.length;
      expect(Math.abs(dropped - rate)).toBeLessThan(0.02);
    }
  });
});
