import { InvalidArgumentError } from '@vmr/core';
import { centerCropOffsets, resizeRgb, resizeShorterSize } from './image-preprocess';

/**
 * I3D input, after v-iashin/video_features `models/i3d` (docs/models/i3d.md and its transforms):
 * frames at 25 fps, RGB resized so the shorter side is 256 (bilinear), centre-cropped to 224, scaled
 * to [−1, 1]; optical flow between consecutive frames on the resized frames, cropped to 224, clamped
 * to [−20, 20], quantised to uint8 (round(128 + 255/40 · f)) and scaled to [−1, 1]; stacks of 64 frames.
 * One row per second: the stack for second s starts at frame 25·s (clamped so it stays inside the
 * video); rows are flow ‖ rgb (1024 + 1024).
 */
export const I3D = Object.freeze({
  fps: 25,
  stack: 64,
  resizeShorter: 256,
  crop: 224,
  flowClamp: 20,
  streamDim: 1024,
});

/** Start frame of the stack for second `s` given `total` frames at 25 fps (clamped into the video). */
export function i3dStackStart(s: number, total: number): number {
  return Math.max(0, Math.min(I3D.fps * s, total - I3D.stack));
}

/** Frame index (at 25 fps) → decoded frame index at the native rate: the frame shown at time k / 25. */
export function i3dSourceFrame(k: number, nativeFps: number): number {
  return Math.floor((k * nativeFps) / I3D.fps + 1e-9);
}

/** Resize (shorter side 256, bilinear) an RGB frame; returns the resized RGB and its grey (BT.601, OpenCV rounding). */
export function i3dResize(rgb: Uint8Array, w: number, h: number): { rgb: Uint8Array; gray: Uint8Array; width: number; height: number } {
  const { width, height } = resizeShorterSize(w, h, I3D.resizeShorter);
  const r = resizeRgb(rgb, w, h, width, height, 'bilinear');
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < gray.length; i++) gray[i] = (r[3 * i] * 4899 + r[3 * i + 1] * 9617 + r[3 * i + 2] * 1868 + 8192) >> 14;
  return { rgb: r, gray, width, height };
}

/** Centre-crop an interleaved image of `channels` values per pixel to 224×224. */
export function i3dCrop<T extends Uint8Array | Float32Array>(img: T, w: number, h: number, channels: number): T {
  const C = I3D.crop;
  if (w < C || h < C) throw new InvalidArgumentError(`i3d: frame ${w}x${h} is smaller than the ${C} crop`);
  const { left, top } = centerCropOffsets(w, h, C);
  const out = new (img.constructor as { new (n: number): T })(C * C * channels);
  for (let y = 0; y < C; y++) out.set(img.subarray(((top + y) * w + left) * channels, ((top + y) * w + left + C) * channels) as never, y * C * channels);
  return out;
}

/** RGB uint8 value → I3D input in [−1, 1]. */
export function i3dRgbValue(v: number): number {
  return (2 * v) / 255 - 1;
}

/** Flow (pixels) → I3D input: clamp ±20, quantise to uint8, scale to [−1, 1]. */
export function i3dFlowValue(f: number): number {
  const c = Math.max(-I3D.flowClamp, Math.min(I3D.flowClamp, f));
  const q = Math.min(255, Math.max(0, Math.round(128 + (255 / (2 * I3D.flowClamp)) * c)));
  return (2 * q) / 255 - 1;
}

/** Pack `stack` RGB frames (224×224×3 uint8) into `[1, 3, T, 224, 224]` (CTHW). */
export function i3dPackRgb(frames: readonly Uint8Array[]): Float32Array {
  const C = I3D.crop;
  const T = frames.length;
  const hw = C * C;
  const out = new Float32Array(3 * T * hw);
  for (let t = 0; t < T; t++) {
    const f = frames[t];
    for (let p = 0; p < hw; p++) for (let c = 0; c < 3; c++) out[c * T * hw + t * hw + p] = i3dRgbValue(f[p * 3 + c]);
  }
  return out;
}

/** Pack `stack` flow fields (224×224×2 float, (u, v) interleaved) into `[1, 2, T, 224, 224]`. */
export function i3dPackFlow(flows: readonly Float32Array[]): Float32Array {
  const C = I3D.crop;
  const T = flows.length;
  const hw = C * C;
  const out = new Float32Array(2 * T * hw);
  for (let t = 0; t < T; t++) {
    const f = flows[t];
    for (let p = 0; p < hw; p++) for (let c = 0; c < 2; c++) out[c * T * hw + t * hw + p] = i3dFlowValue(f[p * 2 + c]);
  }
  return out;
}
