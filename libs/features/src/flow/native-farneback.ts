import { type FeaturesAddon, featuresAddon, featuresAddonError, featuresAddonPath } from '../native-addon';

/**
 * The optional native Farnebäck flow (`libs/features/native/farneback.cc`, in the features addon built
 * at `npm install` by `libs/core/native/build.js` with the system C++ compiler).
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

type Addon = FeaturesAddon;

export interface NativeFlowStatus {
  /** Whether Farnebäck flow runs natively (for supported parameters). */
  enabled: boolean;
  /** Why it is off (when it is). */
  reason?: string;
  /** The addon file. */
  path: string;
}

function load(): Addon | undefined {
  if (process.env.VMR_NATIVE_FLOW === '0') return undefined;
  return featuresAddon();
}

type NativeFlowParams = { pyrScale: number; levels: number; winsize: number; iterations: number; polyN: number; polySigma: number; flags: number };

/** Why the native flow does not implement these parameters (OpenCV.js then runs them), or undefined when it does. */
export function nativeFlowUnsupported(p: NativeFlowParams): string | undefined {
  if (p.flags !== 0 || (p.polyN !== 5 && p.polyN !== 7)) return 'native flow implements flags 0 and poly_n 5 or 7 only';
  if (!(p.pyrScale > 0 && p.pyrScale < 1) || !Number.isInteger(p.levels) || p.levels < 0 || !Number.isInteger(p.winsize) || p.winsize < 1 || !Number.isInteger(p.iterations) || p.iterations < 1) {
    return 'native flow needs 0 < pyr_scale < 1 and integer levels ≥ 0, winsize ≥ 1, iterations ≥ 1';
  }
  return undefined;
}

/** Whether the native flow is available and on, or why not. */
export function nativeFlowStatus(): NativeFlowStatus {
  const a = load();
  if (a) return { enabled: true, path: featuresAddonPath() };
  return { enabled: false, reason: process.env.VMR_NATIVE_FLOW === '0' ? 'off (VMR_NATIVE_FLOW=0)' : featuresAddonError(), path: featuresAddonPath() };
}

/** One native Farnebäck context: its parameters and the cached expansion of the last frame it saw. */
export class NativeFarneback {
  private constructor(
    private readonly addon: Addon,
    private readonly handle: unknown,
  ) {}

  /** A context, or undefined when the addon is off or does not implement these parameters (`nativeFlowUnsupported`). */
  static create(p: NativeFlowParams): NativeFarneback | undefined {
    const a = load();
    if (!a || nativeFlowUnsupported(p)) return undefined;
    return new NativeFarneback(a, a.create(new Float64Array([p.pyrScale, p.levels, p.winsize, p.iterations, p.polyN, p.polySigma])));
  }

  /** Flow from `prev` to `next` (grey, width × height) into `out` (2 floats per pixel). Returns whether prev's expansion was reused. */
  compute(prev: Uint8Array, next: Uint8Array, width: number, height: number, out: Float32Array): boolean {
    return this.addon.flow(this.handle, prev, next, width, height, out) === 1;
  }

  /** Resize (INTER_LINEAR) and grey conversion of a flow frame, as OpenCV.js's cv.resize + cv.cvtColor (the same bytes). */
  prepare(src: Uint8Array, width: number, height: number, channels: number, outWidth: number, outHeight: number, bgr: Uint8Array | null, gray: Uint8Array): void {
    this.addon.prepareFrame(src, width, height, channels, outWidth, outHeight, bgr, gray);
  }

  /** Frames expanded so far, and pairs whose first frame's expansion came from the cache. */
  stats(): { expanded: number; reused: number } {
    return this.addon.stats(this.handle);
  }

  /** Free the native buffers now (idempotent; later calls throw). */
  dispose(): void {
    if (!this.released) {
      this.released = true;
      this.addon.release(this.handle);
    }
  }

  private released = false;
}
