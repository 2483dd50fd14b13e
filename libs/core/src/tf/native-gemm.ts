import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from './tfjs';
import { packageFile } from '../package-file';

/**
 * Optional native matrix products for the tfjs wasm backend.
 *
 * `libs/core/native/gemm.cc` (built at `npm install` by `libs/core/native/build.js` with the system
 * C++ compiler) is a cache-blocked AVX2/FMA SGEMM that works IN PLACE on the wasm heap: the wasm
 * backend's `BatchMatMul` and `_FusedMatMul` kernels hand it the byte offsets of their tensors in the
 * backend's WebAssembly.Memory, so nothing is copied. Transposes and batch broadcast are strides.
 * Results are bit-identical for any thread count (fixed accumulation order), but differ from
 * XNNPACK's in the last bits — the engine is part of the backend's identity (`BackendInfo.label`).
 *
 * Off when the addon is not built (no compiler at install), the CPU lacks AVX2/FMA, or
 * `VMR_NATIVE_GEMM=0`. Threads: `VMR_GEMM_THREADS` (default: 2 when the machine has ≥ 2 cores), or
 * `setNativeGemmThreads` (the trainer uses 1 when it shares the machine with other trials).
 */

interface Addon {
  gemm(heap: ArrayBuffer, params: Float64Array): void;
  dropoutFill(out: Float32Array, offset: number, n: number, state: number, thr: number, keep: number, count?: number, stride?: number): number;
  info(): { isa: string; hardwareThreads: number };
}

export interface NativeGemmStatus {
  /** Whether the wasm backend's matrix products run in the native GEMM. */
  enabled: boolean;
  /** Instruction set of the native kernel (`avx2`), when enabled. */
  isa?: string;
  /** Threads one product may use (results do not depend on it). */
  threads: number;
  /** Why it is off (when it is). */
  reason?: string;
  /** The addon file. */
  path: string;
}

/** `libs/core/native/build/vmr_gemm.node`, found from this source file or from the `@vmr/core` package. */
export function nativeGemmPath(): string {
  const rel = path.join('native', 'build', 'vmr_gemm.node');
  return packageFile(path.resolve(__dirname, '..', '..', rel), '@vmr/core', rel); // libs/core/src/tf → libs/core
}

let addon: Addon | undefined;
let loadError: string | undefined;
let loaded = false;
let threads = defaultThreads();
/** `VMR_GEMM_ISA=avx2`: the AVX2 kernel even where AVX-512 exists (results are the same bits). */
let forceAvx2 = process.env.VMR_GEMM_ISA === 'avx2';

function defaultThreads(): number {
  const env = process.env.VMR_GEMM_THREADS;
  if (env && /^\d+$/.test(env) && Number(env) >= 1) return Math.min(Number(env), 64);
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(2, cores));
}

function load(): Addon | undefined {
  if (loaded) return addon;
  loaded = true;
  if (process.env.VMR_NATIVE_GEMM === '0') {
    loadError = 'off (VMR_NATIVE_GEMM=0)';
    return undefined;
  }
  const file = nativeGemmPath();
  if (!fs.existsSync(file)) {
    loadError = `not built (${file} missing: no C++ compiler at install? run \`node libs/core/native/build.js\`)`;
    return undefined;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const a = require(file) as Addon;
    const info = a.info();
    if (info.isa !== 'avx2' && info.isa !== 'avx512') {
      loadError = 'this CPU lacks AVX2/FMA';
      return undefined;
    }
    addon = a;
  } catch (e) {
    loadError = `failed to load ${file}: ${(e as Error).message.split('\n')[0]}`;
  }
  return addon;
}

/** Whether the native GEMM is available and on, with its thread count or the reason it is off. */
export function nativeGemmStatus(): NativeGemmStatus {
  const a = load();
  return a
    ? { enabled: true, isa: forceAvx2 ? 'avx2' : a.info().isa, threads, path: nativeGemmPath() }
    : { enabled: false, threads: 1, reason: loadError, path: nativeGemmPath() };
}

/**
 * The native twin of `DropoutStream.fill` (bit-identical: same generator, same byte rule), `count`
 * fills of `n` entries `stride` apart, or undefined without the addon. Returns the stream's new state.
 */
export function nativeDropoutFill(out: Float32Array, offset: number, n: number, state: number, thr: number, keep: number, count = 1, stride = 0): number | undefined {
  const a = load();
  return a ? a.dropoutFill(out, offset, n, state >>> 0, thr, keep, count, stride) : undefined;
}

/** Use the AVX2 kernel even where AVX-512 exists (`true`), or the widest (`false`); returns the previous setting. */
export function setNativeGemmAvx2Only(on: boolean): boolean {
  const prev = forceAvx2;
  forceAvx2 = on;
  return prev;
}

/** Threads per native product from now on (≥ 1); returns the previous value. */
export function setNativeGemmThreads(n: number): number {
  const prev = threads;
  threads = Math.max(1, Math.floor(n));
  return prev;
}

interface HeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(id: unknown): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, sigmoid: 4, elu: 5 };
const params = new Float64Array(16);
/** `VMR_GEMM_TRACE=1`: at exit, process CPU ms, calls and GFLOP/s per product shape on stderr (profiling aid). */
const TRACE: Map<string, { ms: number; calls: number; flop: number }> | undefined = process.env.VMR_GEMM_TRACE ? new Map() : undefined;
if (TRACE) {
  process.on('exit', () => {
    const rows = [...TRACE].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40);
    for (const [k, e] of rows) process.stderr.write(`${e.ms.toFixed(0).padStart(7)} ms ${String(e.calls).padStart(5)} calls ${(e.flop / e.ms / 1e6).toFixed(1).padStart(6)} GF/s  ${k}\n`);
  });
}

/**
 * `act(op(a) · op(b) + bias)` on the native GEMM, or `undefined` when this product is not for it
 * (non-float32, general batch broadcast, prelu): the caller then runs the stock kernel.
 */
function nativeProduct(
  backend: HeapBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias?: tf.TensorInfo,
  activation = 'linear',
  alpha = 0,
): tf.TensorInfo | undefined {
  const g = addon;
  if (!g || !active || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const act = ACTIVATIONS[activation];
  if (act === undefined) return undefined;
  if (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1)) return undefined;
  const ar = a.shape.length;
  const br = b.shape.length;
  const m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const n = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  if (k !== kb) return undefined; // the stock kernel raises tfjs's own error
  if (bias && bias.shape[0] !== n) return undefined;
  const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  // one-sided broadcast only (a batch of 1 reused); anything else goes to the stock kernel
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  // every size (also the tiny products of tests): one engine per run, so its results are reproducible
  const batch = Math.max(batchA, batchB);
  let outBatch: number[];
  try {
    outBatch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return undefined;
  }
  if (outBatch.reduce((x, y) => x * y, 1) !== batch) return undefined;
  const out = backend.makeOutput([...outBatch, m, n], 'float32'); // allocate first: growing the heap moves the buffer
  params[0] = backend.dataIdMap.get(a.dataId).memoryOffset;
  params[1] = backend.dataIdMap.get(b.dataId).memoryOffset;
  params[2] = backend.dataIdMap.get(out.dataId).memoryOffset;
  params[3] = bias ? backend.dataIdMap.get(bias.dataId).memoryOffset : -1;
  params[4] = batch;
  params[5] = m;
  params[6] = n;
  params[7] = k;
  params[8] = transposeA ? 1 : 0;
  params[9] = transposeB ? 1 : 0;
  params[10] = batchA === 1 && batch > 1 ? 0 : m * k;
  params[11] = batchB === 1 && batch > 1 ? 0 : k * n;
  params[12] = act;
  params[13] = alpha;
  params[14] = threads;
  params[15] = forceAvx2 ? 1 : 0;
  if (TRACE) {
    const c0 = process.cpuUsage(); // process CPU time: robust to other load (1 GEMM thread: the product's own)
    g.gemm(backend.wasm.HEAPU8.buffer as ArrayBuffer, params);
    const c1 = process.cpuUsage(c0);
    const key = `b${batch} m${m} n${n} k${k} ta${+transposeA} tb${+transposeB}${bias ? ' bias' : ''}`;
    const e = TRACE.get(key) ?? { ms: 0, calls: 0, flop: 0 };
    e.ms += (c1.user + c1.system) / 1000;
    e.calls++;
    e.flop += 2 * batch * m * n * k;
    TRACE.set(key, e);
    return out;
  }
  g.gemm(backend.wasm.HEAPU8.buffer as ArrayBuffer, params);
  return out;
}

let installedOn: string | undefined;
let active = true;

/**
 * Route the wasm backend's `BatchMatMul` and `_FusedMatMul` through the native GEMM (where it is
 * available; no-op otherwise). Products it does not cover fall back to the stock kernels.
 * Returns whether it is active.
 */
export function installNativeGemm(): boolean {
  if (!load()) return false;
  if (installedOn === 'wasm') return true;
  installedOn = 'wasm';
  const stockBmm = tf.getKernel(tf.BatchMatMul, 'wasm');
  const stockFused = tf.getKernel(tf._FusedMatMul, 'wasm');
  if (!stockBmm || !stockFused) throw new Error('native GEMM: the wasm backend has no BatchMatMul/_FusedMatMul kernel to replace');
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  tf.registerKernel({
    kernelName: tf.BatchMatMul,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      return nativeProduct(args.backend as unknown as HeapBackend, a, b, !!transposeA, !!transposeB) ?? stockBmm.kernelFunc(args);
    },
  });
  tf.unregisterKernel(tf._FusedMatMul, 'wasm');
  tf.registerKernel({
    kernelName: tf._FusedMatMul,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { a, b, bias, preluActivationWeights } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
      const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as unknown as {
        transposeA: boolean;
        transposeB: boolean;
        activation: string;
        leakyreluAlpha?: number;
      };
      const r = preluActivationWeights
        ? undefined
        : nativeProduct(args.backend as unknown as HeapBackend, a, b, !!transposeA, !!transposeB, bias ?? undefined, activation ?? 'linear', leakyreluAlpha ?? 0);
      return r ?? stockFused.kernelFunc(args);
    },
  });
  return true;
}

/**
 * Switch the installed native kernels on or off for this process (off: every product takes the stock
 * XNNPACK kernel); returns the previous setting. For same-process comparisons (tests, the bench).
 */
export function setNativeGemmActive(on: boolean): boolean {
  const prev = active;
  active = on;
  return prev;
}

/** Whether products currently run natively (installed, available and not switched off). */
export function nativeGemmActive(): boolean {
  return active && installedOn === 'wasm' && addon !== undefined;
}
