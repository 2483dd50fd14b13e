import { InvalidArgumentError } from '@vmr/core';

/**
 * Image pre-processing of the reference pipeline (torchvision transforms on PIL images), in plain
 * TypeScript so it can be checked by hand:
 * `Resize(shorter side → S)` → `CenterCrop(C)` → `ToTensor` (÷255) → `Normalize(mean, std)` → CHW.
 */
export type ResampleFilter = 'bilinear' | 'bicubic';

export interface ImagePreprocessing {
  /** Shorter side after resizing (torchvision `Resize(int)`; the longer side is truncated: int(S·long/short)). */
  resizeShorter: number;
  /** Square centre crop (torchvision `CenterCrop`: top = round((h − C)/2), left = round((w − C)/2)). */
  crop: number;
  /** PIL's antialiased resampling filter (bicubic a = −0.5; bilinear = triangle). */
  filter: ResampleFilter;
  /** Per-channel RGB mean and std, applied to values in [0, 1]. */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** CLIP's `_transform(224)`: Resize(224, BICUBIC), CenterCrop(224), ToTensor, Normalize(CLIP stats) (openai/CLIP clip/clip.py). */
export const CLIP_PREPROCESSING: Readonly<ImagePreprocessing> = Object.freeze({
  resizeShorter: 224,
  crop: 224,
  filter: 'bicubic',
  mean: [0.48145466, 0.4578275, 0.40821073] as const,
  std: [0.26862954, 0.26130258, 0.27577711] as const,
});

/** torchvision ImageNet evaluation transform used by v-iashin's ResNet: Resize(256) (bilinear), CenterCrop(224), ImageNet stats. */
export const RESNET_PREPROCESSING: Readonly<ImagePreprocessing> = Object.freeze({
  resizeShorter: 256,
  crop: 224,
  filter: 'bilinear',
  mean: [0.485, 0.456, 0.406] as const,
  std: [0.229, 0.224, 0.225] as const,
});

function filterFn(f: ResampleFilter): { support: number; fn: (x: number) => number } {
  if (f === 'bilinear') return { support: 1, fn: (x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0) };
  const a = -0.5;
  return {
    support: 2,
    fn: (x) => {
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  };
}

/**
 * PIL's resampling coefficients for one axis (`ImagingResample`, antialiased: the filter is widened by
 * the downscale factor): output pixel i reads inputs [first[i], first[i] + weights[i].length).
 */
export function resampleCoefficients(inSize: number, outSize: number, filter: ResampleFilter): { first: Int32Array; weights: Float64Array[] } {
  const { support, fn } = filterFn(filter);
  const scale = inSize / outSize;
  const fscale = Math.max(scale, 1);
  const sup = support * fscale;
  const first = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - sup + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + sup + 0.5), inSize);
    const w = new Float64Array(xmax - xmin);
    let sum = 0;
    for (let x = xmin; x < xmax; x++) {
      w[x - xmin] = fn((x - center + 0.5) / fscale);
      sum += w[x - xmin];
    }
    if (sum !== 0) for (let k = 0; k < w.length; k++) w[k] /= sum;
    first[i] = xmin;
    weights.push(w);
  }
  return { first, weights };
}

const clip8 = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/**
 * Resize an interleaved RGB uint8 image to `W×H` the way PIL does (horizontal pass, then vertical,
 * each rounded and clipped to 8 bits). PIL uses 22-bit fixed-point weights: results agree to ±1.
 */
export function resizeRgb(rgb: Uint8Array, w: number, h: number, W: number, H: number, filter: ResampleFilter): Uint8Array {
  if (rgb.length !== w * h * 3) throw new InvalidArgumentError(`resizeRgb: expected ${w * h * 3} bytes for ${w}x${h} RGB, got ${rgb.length}`);
  // horizontal pass: h lines (rows) of w → W pixels; vertical pass: W' lines (columns) of h → H pixels
  const horizontal = W !== w ? resampleAxis(rgb, h, w, W, { inLine: w, inPos: 1, outLine: W, outPos: 1 }, filter) : rgb;
  const sw = W;
  if (H === h) return horizontal === rgb ? rgb.slice() : horizontal;
  return resampleAxis(horizontal, sw, h, H, { inLine: 1, inPos: sw, outLine: 1, outPos: sw }, filter);
}

/**
 * One resampling pass along an axis of an interleaved RGB image: `lines` lines of `inLen` pixels become
 * `outLen` pixels each; strides (in pixels) say where pixel `pos` of line `line` is in the input and output.
 */
function resampleAxis(src: Uint8Array, lines: number, inLen: number, outLen: number, st: { inLine: number; inPos: number; outLine: number; outPos: number }, filter: ResampleFilter): Uint8Array {
  const c = resampleCoefficients(inLen, outLen, filter);
  const out = new Uint8Array(lines * outLen * 3);
  for (let line = 0; line < lines; line++) {
    for (let i = 0; i < outLen; i++) {
      const wt = c.weights[i];
      const p0 = c.first[i];
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < wt.length; k++) {
        const o = (line * st.inLine + (p0 + k) * st.inPos) * 3;
        r += wt[k] * src[o];
        g += wt[k] * src[o + 1];
        b += wt[k] * src[o + 2];
      }
      const o = (line * st.outLine + i * st.outPos) * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return out;
}

/** torchvision `Resize(int)` output size: the shorter side becomes `s`, the longer int(s·long/short). */
export function resizeShorterSize(w: number, h: number, s: number): { width: number; height: number } {
  if (w <= h) return { width: s, height: Math.trunc((s * h) / w) };
  return { width: Math.trunc((s * w) / h), height: s };
}

/** torchvision `CenterCrop` offsets (round half to even, as Python's round). */
export function centerCropOffsets(w: number, h: number, c: number): { left: number; top: number } {
  const pyRound = (x: number): number => {
    const f = Math.floor(x);
    const d = x - f;
    if (d > 0.5) return f + 1;
    if (d < 0.5) return f;
    return f % 2 === 0 ? f : f + 1;
  };
  return { left: pyRound((w - c) / 2), top: pyRound((h - c) / 2) };
}

/**
 * Resize (shorter side), centre-crop, scale to [0, 1] and normalise an interleaved RGB uint8 image;
 * writes CHW float32 `[3, C, C]` into `out` at `offset` (a batch `[N, 3, C, C]` is filled image by image).
 */
export function preprocessRgbImage(rgb: Uint8Array, w: number, h: number, p: ImagePreprocessing, out: Float32Array = new Float32Array(3 * p.crop * p.crop), offset = 0): Float32Array {
  const { width: rw, height: rh } = resizeShorterSize(w, h, p.resizeShorter);
  if (rw < p.crop || rh < p.crop) throw new InvalidArgumentError(`pre-processing: resize to ${rw}x${rh} is smaller than the ${p.crop} crop`);
  const img = resizeRgb(rgb, w, h, rw, rh, p.filter);
  const { left, top } = centerCropOffsets(rw, rh, p.crop);
  const C = p.crop;
  for (let ch = 0; ch < 3; ch++) {
    const m = p.mean[ch];
    const s = p.std[ch];
    const base = offset + ch * C * C;
    for (let y = 0; y < C; y++) {
      const row = ((top + y) * rw + left) * 3 + ch;
      for (let x = 0; x < C; x++) out[base + y * C + x] = (img[row + x * 3] / 255 - m) / s;
    }
  }
  return out;
}

/** BGR → RGB (OpenCV/ffmpeg bgr24 frames to the RGB the models expect). */
export function bgrToRgb(bgr: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(bgr.length);
  for (let i = 0; i < bgr.length; i += 3) {
    rgb[i] = bgr[i + 2];
    rgb[i + 1] = bgr[i + 1];
    rgb[i + 2] = bgr[i];
  }
  return rgb;
}
