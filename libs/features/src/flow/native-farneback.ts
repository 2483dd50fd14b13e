import * as fs from 'fs';
import * as path from 'path';

/**
 * The optional native Farnebäck flow (`libs/features/native/farneback.cc`, built at `npm install` by
 * `libs/core/native/build.js` with the system C++ compiler).
 *
 * It follows OpenCV's `calcOpticalFlowFarneback` (flags 0) operation for operation in the same
 * precisions, so its flow is bit-identical to OpenCV.js's (checked in native-farneback.spec.ts on
 * real frames and the Middlebury pairs). It is faster for two reasons: native code, and a flow
 * trajectory expands each frame once — the previous pair's second frame is kept (pyramid and
 * polynomial expansion) and reused when the next pair starts with the same bytes.
 *
 * Off when the addon is not built (no compiler at install, not x86-64), for parameters it does not
 * implement (flags ≠ 0, poly_n ∉ {5, 7}), or with `VMR_NATIVE_FLOW=0`; OpenCV.js then computes flow.
 */

interface Addon {
  create(params: Float64Array): unknown;
  flow(handle: unknown, prev: Uint8Array, next: Uint8Array, width: number, height: number, out: Float32Array): number;
  stats(handle: unknown): { expanded: number; reused: number };
}

export interface NativeFlowStatus {
  /** Whether Farnebäck flow runs natively (for supported parameters). */
  enabled: boolean;
  /** Why it is off (when it is). */
  reason?: string;
  /** The addon file. */
  path: string;
}

/** `libs/features/native/build/vmr_flow.node`, found from this source file or from the `@vmr/features` package. */
export function nativeFlowPath(): string {
  const rel = path.join('native', 'build', 'vmr_flow.node');
  const direct = path.resolve(__dirname, '..', '..', rel); // libs/features/src/flow → libs/features
  if (fs.existsSync(direct)) return direct;
  try {
    // bundled builds (dist/<id>/…): the workspace package resolves through node_modules
    return path.join(path.dirname(require.resolve('@vmr/features/package.json')), rel);
  } catch {
    return direct;
  }
}

let addon: Addon | undefined;
let loadError: string | undefined;
let loaded = false;

function load(): Addon | undefined {
  if (loaded) return addon;
  loaded = true;
  if (process.env.VMR_NATIVE_FLOW === '0') {
    loadError = 'off (VMR_NATIVE_FLOW=0)';
    return undefined;
  }
  const file = nativeFlowPath();
  if (!fs.existsSync(file)) {
    loadError = `not built (${file} missing: no C++ compiler at install? run \`node libs/core/native/build.js\`)`;
    return undefined;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require(file) as Addon;
  } catch (e) {
    loadError = `failed to load ${file}: ${(e as Error).message.split('\n')[0]}`;
  }
  return addon;
}

/** Whether the native flow is available and on, or why not. */
export function nativeFlowStatus(): NativeFlowStatus {
  const a = load();
  return a ? { enabled: true, path: nativeFlowPath() } : { enabled: false, reason: loadError, path: nativeFlowPath() };
}

/** One native Farnebäck context: its parameters and the cached expansion of the last frame it saw. */
export class NativeFarneback {
  private constructor(
    private readonly addon: Addon,
    private readonly handle: unknown,
  ) {}

  /** A context, or undefined when the addon is off or does not implement these parameters. */
  static create(p: { pyrScale: number; levels: number; winsize: number; iterations: number; polyN: number; polySigma: number; flags: number }): NativeFarneback | undefined {
    const a = load();
    if (!a || p.flags !== 0 || (p.polyN !== 5 && p.polyN !== 7)) return undefined;
    if (!(p.pyrScale > 0 && p.pyrScale < 1) || !Number.isInteger(p.levels) || p.levels < 0 || !Number.isInteger(p.winsize) || p.winsize < 1 || !Number.isInteger(p.iterations) || p.iterations < 1) return undefined;
    return new NativeFarneback(a, a.create(new Float64Array([p.pyrScale, p.levels, p.winsize, p.iterations, p.polyN, p.polySigma])));
  }

  /** Flow from `prev` to `next` (grey, width × height) into `out` (2 floats per pixel). Returns whether prev's expansion was reused. */
  compute(prev: Uint8Array, next: Uint8Array, width: number, height: number, out: Float32Array): boolean {
    return this.addon.flow(this.handle, prev, next, width, height, out) === 1;
  }

  /** Frames expanded so far, and pairs whose first frame's expansion came from the cache. */
  stats(): { expanded: number; reused: number } {
    return this.addon.stats(this.handle);
  }
}
