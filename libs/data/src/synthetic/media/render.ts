import { Rng } from '@vmr/core';
import type { SyntheticClipTruth } from '../clip';

/** Video rendering parameters of the media-level generator. */
export interface MediaVideoOptions {
  width: number;
  height: number;
  /** Native frame rate of the rendered video. */
  fps: number;
  /** Moving shapes per clip. */
  shapes: number;
  /** Shape speed (px/s) at the lowest and at the highest motion level (log-linear between). */
  speedMin: number;
  speedMax: number;
  /** Extra jump (px) of every shape on the frame at or after an onset (the visual hit on the beat). */
  hitPixels: number;
}

export const DEFAULT_MEDIA_VIDEO: MediaVideoOptions = {
  width: 320,
  height: 240,
  fps: 12,
  shapes: 5,
  speedMin: 6,
  speedMax: 36,
  hitPixels: 7,
};

interface Shape {
  x: number;
  y: number;
  dx: number;
  dy: number;
  w: number;
  h: number;
  /** Texture phase and spatial periods (a smooth pattern that moves with the shape). */
  px: number;
  py: number;
  fx: number;
  fy: number;
  base: number;
}

/**
 * The motion of one media clip: per-frame shape speed (px/s) from the regime levels, and the frame
 * indices carrying a beat hit (the first frame at or after each onset).
 */
export interface MediaMotionPlan {
  frames: number;
  /** [frames] speed in px/s at each frame. */
  speed: Float64Array;
  /** [frames] extra displacement (px) applied on the step into frame f. */
  hit: Float64Array;
}

export function mediaMotionPlan(truth: SyntheticClipTruth, levelMin: number, levelMax: number, o: MediaVideoOptions): MediaMotionPlan {
  const frames = Math.round(truth.duration * o.fps);
  const speed = new Float64Array(frames);
  const hit = new Float64Array(frames);
  const la = Math.log(levelMin);
  const lb = Math.log(levelMax);
  let r = 0;
  for (let f = 0; f < frames; f++) {
    const t = f / o.fps;
    while (r < truth.regimes.length - 1 && t >= truth.regimes[r].end) r++;
    const u = (Math.log(truth.regimes[r].level) - la) / (lb - la);
    speed[f] = o.speedMin * Math.pow(o.speedMax / o.speedMin, u);
  }
  for (const t of truth.onsets) {
    const f = Math.ceil(t * o.fps - 1e-9);
    if (f >= 1 && f < frames) hit[f] += o.hitPixels;
  }
  return { frames, speed, hit };
}

/**
 * Render grey frames (`width·height` bytes each, row-major) of textured shapes bouncing over a static
 * textured background; the shapes' speed follows the motion plan and they jump on every beat hit.
 * Deterministic in `seed`. Yields one frame at a time (frames are reused: copy before keeping).
 */
export function* renderFrames(plan: MediaMotionPlan, o: MediaVideoOptions, seed: string): Generator<Uint8Array> {
  const rng = new Rng(seed);
  const W = o.width;
  const H = o.height;
  const background = new Uint8Array(W * H);
  const bfx = rng.uniform(0.03, 0.07);
  const bfy = rng.uniform(0.03, 0.07);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      background[y * W + x] = Math.round(70 + 25 * Math.sin(x * bfx + 1.3 * Math.sin(y * bfy)) + 15 * Math.cos(y * bfy * 1.7));
    }
  }
  const shapes: Shape[] = [];
  for (let i = 0; i < o.shapes; i++) {
    const w = rng.int(Math.round(W * 0.12), Math.round(W * 0.2));
    const h = rng.int(Math.round(H * 0.15), Math.round(H * 0.25));
    const a = rng.uniform(0, 2 * Math.PI);
    shapes.push({
      x: rng.uniform(0, W - w),
      y: rng.uniform(0, H - h),
      dx: Math.cos(a),
      dy: Math.sin(a),
      w,
      h,
      px: rng.uniform(0, 6),
      py: rng.uniform(0, 6),
      fx: rng.uniform(0.25, 0.5),
      fy: rng.uniform(0.25, 0.5),
      base: rng.uniform(150, 200),
    });
  }
  const frame = new Uint8Array(W * H);
  for (let f = 0; f < plan.frames; f++) {
    if (f > 0) {
      const step = plan.speed[f] / o.fps + plan.hit[f];
      for (const s of shapes) move(s, step, W, H);
    }
    frame.set(background);
    for (const s of shapes) draw(frame, s, W, H);
    yield frame;
  }
}

/** Advance a shape by `step` px along its direction, bouncing off the frame borders. */
function move(s: Shape, step: number, W: number, H: number): void {
  s.x += s.dx * step;
  s.y += s.dy * step;
  if (s.x < 0) {
    s.x = -s.x;
    s.dx = Math.abs(s.dx);
  }
  if (s.x > W - s.w) {
    s.x = 2 * (W - s.w) - s.x;
    s.dx = -Math.abs(s.dx);
  }
  if (s.y < 0) {
    s.y = -s.y;
    s.dy = Math.abs(s.dy);
  }
  if (s.y > H - s.h) {
    s.y = 2 * (H - s.h) - s.y;
    s.dy = -Math.abs(s.dy);
  }
}

/** Draw a shape with a smooth texture attached to it (sub-pixel position honoured by the texture). */
function draw(frame: Uint8Array, s: Shape, W: number, H: number): void {
  const x0 = Math.max(0, Math.floor(s.x));
  const y0 = Math.max(0, Math.floor(s.y));
  const x1 = Math.min(W, Math.ceil(s.x + s.w));
  const y1 = Math.min(H, Math.ceil(s.y + s.h));
  for (let y = y0; y < y1; y++) {
    const ly = y - s.y;
    const ty = Math.sin(ly * s.fy + s.py);
    for (let x = x0; x < x1; x++) {
      const lx = x - s.x;
      const v = s.base + 45 * Math.sin(lx * s.fx + s.px) * ty;
      frame[y * W + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}
