import { InvalidArgumentError } from '@vmr/core';
import { type OpenCv, loadOpenCv } from './opencv';
import { NativeFarneback, nativeFlowStatus, nativeFlowUnsupported } from './native-farneback';
import type { ImageU8 } from '../media/decode';

/** Farnebäck parameters (OpenCV `calcOpticalFlowFarneback` argument order). */
export interface FarnebackParams {
  pyrScale: number;
  levels: number;
  winsize: number;
  iterations: number;
  polyN: number;
  polySigma: number;
  flags: number;
}

/** DESIGN.md §1.1 / the reference code: (0.5, 3, 15, 3, 5, 1.2, 0). */
export const FARNEBACK_DEFAULTS: Readonly<FarnebackParams> = Object.freeze({
  pyrScale: 0.5,
  levels: 3,
  winsize: 15,
  iterations: 3,
  polyN: 5,
  polySigma: 1.2,
  flags: 0,
});

/** A dense flow field: `data` interleaves (u, v) per pixel, row-major, `[height, width, 2]`. */
export interface FlowField {
  width: number;
  height: number;
  data: Float32Array;
}

/** A grey 8-bit frame (one byte per pixel). */
export interface GrayFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Which code computes Farnebäck flow: `native` (libs/features/native/farneback.cc, bit-identical to
 * OpenCV.js and faster) or `opencv.js` (@techstark/opencv-js, WebAssembly).
 */
export type FlowEngine = 'native' | 'opencv.js';

/** The engine `FarnebackFlow.create` picks for these parameters, and why not native when it is not. */
export function farnebackEngine(params: Partial<FarnebackParams> = {}): { engine: FlowEngine; reason?: string } {
  const p = { ...FARNEBACK_DEFAULTS, ...params };
  const st = nativeFlowStatus();
  if (!st.enabled) return { engine: 'opencv.js', reason: `native flow ${st.reason}` };
  const unsupported = nativeFlowUnsupported(p);
  return unsupported ? { engine: 'opencv.js', reason: unsupported } : { engine: 'native' };
}

/** One line for provenance records: the engine and its library. */
export function flowEngineDescription(engine: FlowEngine): string {
  return engine === 'native'
    ? 'native (libs/features/native/farneback.cc: OpenCV calcOpticalFlowFarneback arithmetic, bit-identical to @techstark/opencv-js 4.10)'
    : '@techstark/opencv-js 4.10 (WebAssembly)';
}

/**
 * Stateful helper for grey-frame preparation (resize INTER_LINEAR + BGR2GRAY) and Farnebäck flow: the
 * native engine when built (the same bytes and floats as OpenCV.js), else OpenCV.js. Call `dispose()`
 * (OpenCV.js's wasm heap is not garbage collected; the native context is freed at once). With the
 * native engine, consecutive pairs (a, b), (b, c) expand b once.
 */
export class FarnebackFlow {
  private readonly flowMat: OpenCv | undefined;
  private disposed = false;

  private constructor(
    private readonly cv: OpenCv | undefined,
    readonly params: FarnebackParams,
    private readonly native: NativeFarneback | undefined,
  ) {
    this.flowMat = cv ? new cv.Mat() : undefined;
  }

  /** `engine`: `auto` (default: native when available for these parameters), or one engine (`native` fails when unavailable). */
  static async create(params: Partial<FarnebackParams> = {}, opts: { engine?: FlowEngine | 'auto' } = {}): Promise<FarnebackFlow> {
    const p = { ...FARNEBACK_DEFAULTS, ...params };
    const want = opts.engine ?? 'auto';
    let native: NativeFarneback | undefined;
    if (want !== 'opencv.js') {
      native = NativeFarneback.create(p);
      if (!native && want === 'native') throw new InvalidArgumentError(`the native Farnebäck flow is unavailable: ${farnebackEngine(p).reason}`);
    }
    // The native engine prepares frames too (the same bytes as OpenCV.js), so OpenCV.js (≈ 1 s to
    // compile its WebAssembly) is loaded only for the OpenCV.js engine.
    return new FarnebackFlow(native ? undefined : await loadOpenCv(), p, native);
  }

  /** The engine computing this helper's flow. */
  get engine(): FlowEngine {
    return this.native ? 'native' : 'opencv.js';
  }

  /** Native engine only: frames expanded and pairs whose first frame's expansion was reused. */
  nativeStats(): { expanded: number; reused: number } | undefined {
    if (this.disposed) throw new InvalidArgumentError('FarnebackFlow used after dispose()');
    return this.native?.stats();
  }

  /**
   * Resize a bgr24 (or grey) image with cv.resize INTER_LINEAR, then convert to grey with
   * COLOR_BGR2GRAY (BT.601 weights, OpenCV's fixed-point rounding) — the reference's order.
   * Returns both the resized colour image (bgr24; undefined for grey input) and the grey frame.
   */
  prepare(img: ImageU8, width: number, height: number): { bgr?: Uint8Array; gray: GrayFrame } {
    if (this.disposed) throw new InvalidArgumentError('FarnebackFlow used after dispose()');
    if (img.channels !== 1 && img.channels !== 3) throw new InvalidArgumentError(`flow frames must be grey or bgr24, got ${img.channels} channels`);
    if (img.data.length !== img.width * img.height * img.channels) {
      throw new InvalidArgumentError(`frame has ${img.data.length} bytes, expected ${img.width}x${img.height}x${img.channels} = ${img.width * img.height * img.channels}`);
    }
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new InvalidArgumentError(`flow frame size must be positive integers, got ${width}x${height}`);
    if (this.native) {
      const gray = new Uint8Array(width * height);
      const bgr = img.channels === 3 ? new Uint8Array(width * height * 3) : undefined;
      this.native.prepare(img.data, img.width, img.height, img.channels, width, height, bgr ?? null, gray);
      return bgr ? { bgr, gray: { width, height, data: gray } } : { gray: { width, height, data: gray } };
    }
    const cv = this.cv!;
    const src = new cv.Mat(img.height, img.width, img.channels === 3 ? cv.CV_8UC3 : cv.CV_8UC1);
    const resized = new cv.Mat();
    const gray = new cv.Mat();
    try {
      src.data.set(img.data);
      if (img.width === width && img.height === height) src.copyTo(resized);
      else cv.resize(src, resized, new cv.Size(width, height), 0, 0, cv.INTER_LINEAR);
      if (img.channels === 3) {
        cv.cvtColor(resized, gray, cv.COLOR_BGR2GRAY);
        return { bgr: new Uint8Array(resized.data), gray: { width, height, data: new Uint8Array(gray.data) } };
      }
      return { gray: { width, height, data: new Uint8Array(resized.data) } };
    } finally {
      src.delete();
      resized.delete();
      gray.delete();
    }
  }

  /** Dense Farnebäck flow from `prev` to `next` (same size). */
  compute(prev: GrayFrame, next: GrayFrame): FlowField {
    if (this.disposed) throw new InvalidArgumentError('FarnebackFlow used after dispose()');
    if (prev.width !== next.width || prev.height !== next.height) {
      throw new InvalidArgumentError(`flow frames differ in size: ${prev.width}x${prev.height} vs ${next.width}x${next.height}`);
    }
    if (prev.data.length !== prev.width * prev.height || next.data.length !== next.width * next.height) {
      throw new InvalidArgumentError(`flow frames must be grey, width×height bytes: got ${prev.data.length} and ${next.data.length} for ${prev.width}x${prev.height}`);
    }
    if (this.native) {
      const out = new Float32Array(prev.width * prev.height * 2);
      this.native.compute(prev.data, next.data, prev.width, prev.height, out);
      return { width: prev.width, height: prev.height, data: out };
    }
    const cv = this.cv!;
    const a = new cv.Mat(prev.height, prev.width, cv.CV_8UC1);
    const b = new cv.Mat(next.height, next.width, cv.CV_8UC1);
    try {
      a.data.set(prev.data);
      b.data.set(next.data);
      const p = this.params;
      cv.calcOpticalFlowFarneback(a, b, this.flowMat, p.pyrScale, p.levels, p.winsize, p.iterations, p.polyN, p.polySigma, p.flags);
      return { width: prev.width, height: prev.height, data: new Float32Array(this.flowMat!.data32F) };
    } finally {
      a.delete();
      b.delete();
    }
  }

  dispose(): void {
    if (!this.disposed) {
      this.flowMat?.delete();
      this.native?.dispose();
      this.disposed = true;
    }
  }
}

/**
 * Mean per-pixel flow magnitude, as `cv2.mean(cv2.magnitude(u, v))[0]`: float32 magnitudes,
 * accumulated in double.
 */
export function meanFlowMagnitude(flow: FlowField): number {
  const d = flow.data;
  const n = d.length / 2;
  if (n === 0) throw new InvalidArgumentError('meanFlowMagnitude: empty flow field');
  let s = 0;
  for (let k = 0; k < d.length; k += 2) s += Math.fround(Math.sqrt(d[k] * d[k] + d[k + 1] * d[k + 1]));
  return s / n;
}

/** Dense flow for one image pair (grey conversion as cv2.cvtColor(BGR2GRAY), no resize). */
export async function flowBetweenImages(a: ImageU8, b: ImageU8, params: Partial<FarnebackParams> = {}): Promise<FlowField> {
  if (a.width !== b.width || a.height !== b.height) {
    throw new InvalidArgumentError(`image sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
  const fb = await FarnebackFlow.create(params);
  try {
    const ga = fb.prepare(a, a.width, a.height).gray;
    const gb = fb.prepare(b, b.width, b.height).gray;
    return fb.compute(ga, gb);
  } finally {
    fb.dispose();
  }
}
