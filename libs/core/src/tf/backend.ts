import * as path from 'path';
import { tf } from './tfjs';
import { UnsupportedError, errorMessage } from '../errors';
import { BackendNameSchema, type BackendName, type ConcreteBackend } from '../backend-name';
import { installWasmFastKernels } from './fast-kernels';
import { installNativeGemm, nativeGemmActive, nativeGemmStatus } from './native-gemm';

export { BackendNameSchema, type BackendName, type ConcreteBackend };

export interface BackendAttempt {
  backend: ConcreteBackend;
  ok: boolean;
  error?: string;
}

/** What `selectBackend` chose; log it with every run (`backend` is the run's `backend` column). */
export interface BackendInfo {
  requested: BackendName;
  backend: ConcreteBackend;
  /** Name of the registered tfjs backend (`tensorflow`, `webgpu`, `wasm`, `cpu`). */
  tfBackend: string;
  /** npm package providing the backend. */
  package: string;
  /** tfjs-core version. */
  tfjsVersion: string;
  /** Every backend tried, in order, with the reason it was skipped. */
  attempts: BackendAttempt[];
  /**
   * What runs the matrix products: `native-gemm` (wasm with the optional native GEMM,
   * libs/core/native), `xnnpack` (stock wasm; `matmulNote` says why not native), or the backend's
   * own (`tfjs-<backend>`). Native and XNNPACK products differ in the last bits, so a run resumes only
   * on the same engine; the thread count does not change results.
   */
  matmul: string;
  /** Why the native GEMM is not in use on wasm (not built, off, CPU), when it is not. */
  matmulNote?: string;
  /** The backend as users see it: `wasm+native-gemm (avx2, 2 threads)`, `wasm`, `cpu`, … */
  label: string;
}

/** `matmul`, `matmulNote` and `label` of a backend, read now (the engine can be switched, threads changed). */
export function describeMatmul(backend: ConcreteBackend, options: { threads?: number } = {}): Pick<BackendInfo, 'matmul' | 'matmulNote' | 'label'> {
  if (backend !== 'wasm') return { matmul: `tfjs-${backend}`, label: backend };
  const st = nativeGemmStatus();
  if (!st.enabled) return { matmul: 'xnnpack', matmulNote: `native GEMM ${st.reason}`, label: 'wasm' };
  if (!nativeGemmActive()) return { matmul: 'xnnpack', matmulNote: 'native GEMM switched off in this process', label: 'wasm' };
  const threads = options.threads ?? st.threads;
  // one identity for both kernel widths: AVX2 and AVX-512 give the same bits (tested)
  return { matmul: 'native-gemm', label: `wasm+native-gemm (${st.isa}, ${threads} thread${threads > 1 ? 's' : ''})` };
}

const PACKAGES: Record<ConcreteBackend, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

let active: BackendInfo | undefined;
let activeOrder = '';

/**
 * WebGPU through Dawn (`webgpu` npm package + `@tensorflow/tfjs-backend-webgpu`) is UNVERIFIED: it
 * has never run a training step on a real GPU in this project's CI. It is tried by `auto` only when
 * `VMR_WEBGPU=1` (or `selectBackend(..., { webgpu: true })`); `--backend webgpu` always tries it.
 */
export function webgpuEnabled(): boolean {
  return process.env.VMR_WEBGPU === '1';
}

function autoOrder(webgpu: boolean): ConcreteBackend[] {
  return webgpu ? ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] : ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
}

function requireOptional(pkg: string, what: string): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(pkg);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error(`${pkg} is not installed (${what}; it is an optional dependency: npm install ${pkg})`);
    }
    throw e;
  }
}

/** Dawn's WebGPU in Node: install `navigator.gpu` and the WebGPU globals, check for an adapter. */
async function initDawn(): Promise<void> {
  type Dawn = { create(flags: string[]): { requestAdapter(): Promise<unknown> }; globals: object };
  let dawn: Dawn;
  try {
    dawn = requireOptional('webgpu', 'Dawn WebGPU for Node') as Dawn;
  } catch (e) {
    if (/not installed/.test(errorMessage(e))) throw e;
    // the package is an ES module; where require(esm) is unavailable (jest, Node < 20.19) load its
    // native addon directly (the file the package's index.js loads)
    const dir = path.dirname(require.resolve('webgpu'));
    const arch = process.platform === 'darwin' ? 'universal' : process.arch;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    dawn = require(path.join(dir, 'dist', `${process.platform}-${arch}`, 'dawn.node')) as Dawn;
  }
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new Error('no WebGPU adapter: no GPU, or no Vulkan driver (libvulkan.so.1) for Dawn to use');
  }
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
}

/** The backend chosen by the last successful `selectBackend` call (undefined before). */
export function activeBackend(): BackendInfo | undefined {
  return active;
}

async function tryBackend(name: ConcreteBackend): Promise<string> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      // Loaded lazily: these packages need libtensorflow, which cannot be installed everywhere
      // (tfjs-node-gpu is an optionalDependency). Both register the tfjs backend named 'tensorflow'.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      requireOptional(PACKAGES[name], name === 'tensorflow-gpu' ? 'it needs libtensorflow with CUDA 11 + cuDNN 8' : 'it needs libtensorflow');
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`backend 'tensorflow' failed to initialise`);
      return 'tensorflow';
    }
    case 'webgpu': {
      await initDawn();
      requireOptional(PACKAGES.webgpu, 'the tfjs WebGPU backend');
      if (!(await tf.setBackend('webgpu'))) throw new Error(`backend 'webgpu' failed to initialise`);
      return 'webgpu';
    }
    case 'wasm': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-backend-wasm');
      // The emscripten module adds process handlers that re-throw every uncaught error (printing the
      // whole minified module as the "source line"); remove the ones it adds.
      const before = {
        uncaughtException: process.listeners('uncaughtException'),
        unhandledRejection: process.listeners('unhandledRejection'),
      };
      try {
        if (!(await tf.setBackend('wasm'))) throw new Error(`backend 'wasm' failed to initialise`);
      } finally {
        for (const l of process.listeners('uncaughtException')) {
          if (!before.uncaughtException.includes(l)) process.removeListener('uncaughtException', l);
        }
        for (const l of process.listeners('unhandledRejection')) {
          if (!before.unhandledRejection.includes(l)) process.removeListener('unhandledRejection', l);
        }
      }
      installWasmFastKernels();
      installNativeGemm();
      return 'wasm';
    }
    case 'cpu': {
      if (!(await tf.setBackend('cpu'))) throw new Error(`backend 'cpu' failed to initialise`);
      // silence the one-time "install tfjs-node" banner: the choice is logged by selectBackend
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      return 'cpu';
    }
  }
}

/**
 * Select and initialise the TensorFlow.js backend. `auto` takes the first that loads of
 * tensorflow-gpu, tensorflow, wasm, cpu; an explicit name that cannot load throws `UnsupportedError`
 * naming the package and the reason. Idempotent: asking again for the active backend is free.
 */
export async function selectBackend(
  requested: BackendName = 'auto',
  options: { log?: (message: string) => void; webgpu?: boolean } = {},
): Promise<BackendInfo> {
  const parsed = BackendNameSchema.safeParse(requested);
  if (!parsed.success) {
    throw new UnsupportedError(
      `unknown backend '${String(requested)}': expected one of ${BackendNameSchema.options.join(', ')}`,
      { details: { backend: requested } },
    );
  }
  const order = requested === 'auto' ? autoOrder(options.webgpu ?? webgpuEnabled()) : [requested];
  if (
    active &&
    (requested === active.backend || (requested === active.requested && order.join() === activeOrder)) &&
    tf.getBackend() === active.tfBackend
  ) {
    return active;
  }
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    try {
      const tfBackend = await tryBackend(name);
      await tf.ready();
      attempts.push({ backend: name, ok: true });
      activeOrder = order.join();
      active = {
        requested,
        backend: name,
        tfBackend,
        package: PACKAGES[name],
        tfjsVersion: tf.version_core,
        attempts,
        ...describeMatmul(name),
      };
      options.log?.(
        `backend: ${active.label} (${PACKAGES[name]}, tfjs-core ${tf.version_core})` +
          (attempts.length > 1
            ? `; skipped ${attempts.filter((a) => !a.ok).map((a) => `${a.backend} (${a.error})`).join(', ')}`
            : ''),
      );
      return active;
    } catch (e) {
      attempts.push({ backend: name, ok: false, error: firstLine(errorMessage(e)) });
    }
  }
  throw new UnsupportedError(
    `backend '${requested}' is not available: ${attempts.map((a) => `${a.backend}: ${a.error}`).join('; ')}` +
      (requested === 'tensorflow-gpu' || requested === 'tensorflow'
        ? ` (install ${PACKAGES[requested]}; it needs libtensorflow${requested === 'tensorflow-gpu' ? ' and the CUDA 11 + cuDNN 8 runtime, see README "Backends"' : ''})`
        : requested === 'webgpu'
          ? ' (the WebGPU path is unverified; it needs the optional packages webgpu and @tensorflow/tfjs-backend-webgpu and a GPU with a Vulkan driver)'
          : ''),
    { details: { backend: requested, attempts } },
  );
}

function firstLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
