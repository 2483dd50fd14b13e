import { z } from 'zod';
import { tf } from './tfjs';
import { UnsupportedError, errorMessage } from '../errors';
import { installWasmFastKernels } from './fast-kernels';

/** `--backend` values. `auto` tries tensorflow-gpu → tensorflow → wasm → cpu. */
export const BackendNameSchema = z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof BackendNameSchema>;
export type ConcreteBackend = Exclude<BackendName, 'auto'>;

export interface BackendAttempt {
  backend: ConcreteBackend;
  ok: boolean;
  error?: string;
}

/** What `selectBackend` chose; log it with every run (`backend` is the run's `backend` column). */
export interface BackendInfo {
  requested: BackendName;
  backend: ConcreteBackend;
  /** Name of the registered tfjs backend (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  /** npm package providing the backend. */
  package: string;
  /** tfjs-core version. */
  tfjsVersion: string;
  /** Every backend tried, in order, with the reason it was skipped. */
  attempts: BackendAttempt[];
}

const AUTO_ORDER: ConcreteBackend[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
const PACKAGES: Record<ConcreteBackend, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

let active: BackendInfo | undefined;

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
      require(PACKAGES[name]);
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`backend 'tensorflow' failed to initialise`);
      return 'tensorflow';
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
  options: { log?: (message: string) => void } = {},
): Promise<BackendInfo> {
  const parsed = BackendNameSchema.safeParse(requested);
  if (!parsed.success) {
    throw new UnsupportedError(
      `unknown backend '${String(requested)}': expected one of ${BackendNameSchema.options.join(', ')}`,
      { details: { backend: requested } },
    );
  }
  if (active && (requested === active.requested || requested === active.backend) && tf.getBackend() === active.tfBackend) {
    return active;
  }
  const order = requested === 'auto' ? AUTO_ORDER : [requested];
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    try {
      const tfBackend = await tryBackend(name);
      await tf.ready();
      attempts.push({ backend: name, ok: true });
      active = {
        requested,
        backend: name,
        tfBackend,
        package: PACKAGES[name],
        tfjsVersion: tf.version_core,
        attempts,
      };
      options.log?.(
        `backend: ${name} (${PACKAGES[name]}, tfjs-core ${tf.version_core})` +
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
        ? ` (install ${PACKAGES[requested]}; it needs libtensorflow)`
        : ''),
    { details: { backend: requested, attempts } },
  );
}

function firstLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
