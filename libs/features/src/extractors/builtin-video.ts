import { InvalidArgumentError } from '@vmr/core';
import type { PreparedFrame } from '../flow/trajectory';
import { featuresAddon } from '../native-addon';

/**
 * `builtin-video`: a weight-free per-second video descriptor (32-d) computed from the same 320×240
 * frames and Farnebäck fields as the flow trajectory (flowFps samples per second). Each sampled frame
 * gives one 32-d vector; a second's row is the mean over the sampled frames whose time lies in
 * [t, t+1). Flow columns of frame 0 copy frame 1's (the trajectory's duplication convention); a
 * second with no sampled frame repeats the previous row. Layout (all roughly in [0, 1] or pixels):
 */
export const BUILTIN_VIDEO_COLUMNS = [
  'mean_r', 'mean_g', 'mean_b', // 0-2: channel means / 255
  'std_r', 'std_g', 'std_b', // 3-5: channel standard deviations / 255
  'mean_saturation', // 6: mean HSV saturation (max−min)/max
  'gray_std', // 7: grey contrast / 255
  'gray_hist_0', 'gray_hist_1', 'gray_hist_2', 'gray_hist_3', 'gray_hist_4', 'gray_hist_5', 'gray_hist_6', 'gray_hist_7', // 8-15: 8-bin grey histogram (fractions)
  'grad_mean', // 16: mean |∇I| / 255 (central differences)
  'edge_density', // 17: fraction of pixels with |∇I| > 32
  'grad_orient_0', 'grad_orient_45', 'grad_orient_90', 'grad_orient_135', // 18-21: magnitude-weighted unsigned orientation histogram
  'flow_mean', // 22: mean flow magnitude (px per sampled frame) = the trajectory value
  'flow_std', // 23: std of the flow magnitude
  'flow_moving_fraction', // 24: fraction of pixels moving > 1 px
  'flow_mean_u', 'flow_mean_v', // 25-26: mean flow vector (camera pan)
  'flow_dir_right', 'flow_dir_down', 'flow_dir_left', 'flow_dir_up', // 27-30: magnitude-weighted direction histogram
  'frame_diff', // 31: mean |I_t − I_{t−1}| / 255
] as const;
export const BUILTIN_VIDEO_DIM = BUILTIN_VIDEO_COLUMNS.length;
const FLOW_COLS = [22, 23, 24, 25, 26, 27, 28, 29, 30, 31];

let SATURATION: Float64Array | undefined;

/** (max − min) / max for every (max, min) pair of 8-bit channel values, index (max << 8) | min (the same doubles as dividing). */
function saturationTable(): Float64Array {
  if (!SATURATION) {
    SATURATION = new Float64Array(1 << 16);
    for (let mx = 1; mx < 256; mx++) for (let mn = 0; mn <= mx; mn++) SATURATION[(mx << 8) | mn] = (mx - mn) / mx;
  }
  return SATURATION;
}

const TAN_PI_8 = Math.SQRT2 - 1; // tan(π/8)
const TAN_3PI_8 = Math.SQRT2 + 1; // tan(3π/8)

/**
 * Unsigned gradient orientation bin of integer central differences (dx, dy) ≠ (0, 0):
 * `round(θ / (π/4)) mod 4` with θ = atan2(dy, dx) folded into [0, π) — 0 ≈ horizontal gradient, 1 ≈ 45°,
 * 2 ≈ vertical, 3 ≈ 135° — by comparing |dy| with tan(π/8)·|dx| and tan(3π/8)·|dx| instead of calling
 * atan2 (a ratio of integers never equals those irrational tangents, so the bins are identical; the
 * spec checks every (dx, dy) of 8-bit images).
 */
export function gradientOrientationBin(dx: number, dy: number): number {
  if (dy < 0) {
    dx = -dx;
    dy = -dy;
  }
  const ax = dx < 0 ? -dx : dx;
  if (dy < TAN_PI_8 * ax) return 0;
  if (dy > TAN_3PI_8 * ax) return 2;
  return dx > 0 ? 1 : 3;
}

/**
 * The per-frame sums the descriptor is made of (layout of `frameSums` in
 * libs/features/native/frame_stats.cc): 0–8 colour and grey sums and squares and the saturation sum,
 * 9–16 grey histogram, 17–23 gradient sums, 24–32 flow sums, 33 frame-difference sum.
 */
const FRAME_SUMS = 34;

function frameSumsTs(bgr: Uint8Array, g: Uint8Array, w: number, h: number, flow: Float32Array | undefined, prevGray: Uint8Array | undefined, o: Float64Array): void {
  const n = w * h;
  let sb = 0, sg = 0, sr = 0, sb2 = 0, sg2 = 0, sr2 = 0, sat = 0, sgr = 0, sgr2 = 0;
  const hist = new Int32Array(8);
  const satOf = saturationTable();
  for (let i = 0, k = 0; i < n; i++, k += 3) {
    const b = bgr[k], gg = bgr[k + 1], r = bgr[k + 2];
    sb += b; sg += gg; sr += r;
    sb2 += b * b; sg2 += gg * gg; sr2 += r * r;
    const mx = r > gg ? (r > b ? r : b) : gg > b ? gg : b;
    const mn = r < gg ? (r < b ? r : b) : gg < b ? gg : b;
    sat += satOf[(mx << 8) | mn]; // (mx − mn) / mx, 0 for black
    const y = g[i];
    sgr += y; sgr2 += y * y;
    hist[y >> 5]++;
  }
  o[0] = sb; o[1] = sg; o[2] = sr; o[3] = sb2; o[4] = sg2; o[5] = sr2; o[6] = sat; o[7] = sgr; o[8] = sgr2;
  for (let b = 0; b < 8; b++) o[9 + b] = hist[b];
  let gm = 0, edges = 0, cnt = 0;
  const orient = new Float64Array(4);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const dx = g[i + 1] - g[i - 1];
      const dy = g[i + w] - g[i - w];
      const gx = dx / 2;
      const gy = dy / 2;
      const m = Math.sqrt(gx * gx + gy * gy);
      gm += m;
      cnt++;
      if (m > 32) edges++;
      if (m > 0) orient[gradientOrientationBin(dx, dy)] += m;
    }
  }
  o[17] = gm; o[18] = edges; o[19] = cnt;
  for (let b = 0; b < 4; b++) o[20 + b] = orient[b];
  if (flow) {
    const d = flow;
    let s = 0, s2 = 0, moving = 0, su = 0, sv = 0;
    const dir = new Float64Array(4);
    for (let k = 0; k < d.length; k += 2) {
      const u = d[k], vv = d[k + 1];
      const m = Math.fround(Math.sqrt(u * u + vv * vv));
      s += m; s2 += m * m; su += u; sv += vv;
      if (m > 1) moving++;
      if (m > 0) {
        // right (|u| ≥ |v|, u > 0), down (v > 0), left, up — image coordinates (y down)
        if (Math.abs(u) >= Math.abs(vv)) dir[u >= 0 ? 0 : 2] += m;
        else dir[vv >= 0 ? 1 : 3] += m;
      }
    }
    o[24] = s; o[25] = s2; o[26] = moving; o[27] = su; o[28] = sv;
    for (let b = 0; b < 4; b++) o[29 + b] = dir[b];
  }
  if (prevGray) {
    let sd = 0;
    for (let i = 0; i < n; i++) sd += Math.abs(g[i] - prevGray[i]);
    o[33] = sd;
  }
}

/**
 * The 32-d descriptor of one prepared frame (flow columns 0 when it has no previous frame). Its sums
 * run in the features addon when built (`native: false` forces the TypeScript loops; same bits).
 */
export function builtinVideoFrameVector(frame: PreparedFrame, prevGray?: Uint8Array, opts: { native?: boolean } = {}): Float64Array {
  const v = new Float64Array(BUILTIN_VIDEO_DIM);
  const { width: w, height: h, data: g } = frame.gray;
  const n = w * h;
  const bgr = frame.bgr;
  if (bgr.length !== n * 3) throw new InvalidArgumentError(`builtin-video: colour frame has ${bgr.length} bytes, expected ${n * 3}`);
  if (g.length !== n) throw new InvalidArgumentError(`builtin-video: grey frame has ${g.length} bytes, expected ${n}`);
  const f = frame.flowFromPrev;
  if (f && f.data.length !== 2 * n) throw new InvalidArgumentError(`builtin-video: flow field has ${f.data.length} floats, expected ${2 * n}`);
  if (prevGray && prevGray.length !== n) throw new InvalidArgumentError(`builtin-video: previous grey frame has ${prevGray.length} bytes, expected ${n}`);
  const o = new Float64Array(FRAME_SUMS);
  const addon = opts.native === false ? undefined : featuresAddon();
  if (addon) addon.frameSums(bgr, g, w, h, f ? f.data : null, prevGray ?? null, o);
  else frameSumsTs(bgr, g, w, h, f?.data, prevGray, o);
  const [sb, sg, sr, sb2, sg2, sr2, sat, sgr, sgr2] = o;
  const std = (s: number, s2: number): number => Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2));
  v[0] = sr / n / 255; v[1] = sg / n / 255; v[2] = sb / n / 255;
  v[3] = std(sr, sr2) / 255; v[4] = std(sg, sg2) / 255; v[5] = std(sb, sb2) / 255;
  v[6] = sat / n;
  v[7] = std(sgr, sgr2) / 255;
  for (let b = 0; b < 8; b++) v[8 + b] = o[9 + b] / n;
  const gm = o[17], edges = o[18], cnt = o[19];
  v[16] = gm / cnt / 255;
  v[17] = edges / cnt;
  const osum = o[20] + o[21] + o[22] + o[23];
  for (let b = 0; b < 4; b++) v[18 + b] = osum > 0 ? o[20 + b] / osum : 0;
  if (f) {
    const [s, s2, moving, su, sv] = [o[24], o[25], o[26], o[27], o[28]];
    const np = f.data.length / 2;
    v[22] = s / np;
    v[23] = Math.sqrt(Math.max(0, s2 / np - (s / np) ** 2));
    v[24] = moving / np;
    v[25] = su / np;
    v[26] = sv / np;
    const ds = o[29] + o[30] + o[31] + o[32];
    for (let b = 0; b < 4; b++) v[27 + b] = ds > 0 ? o[29 + b] / ds : 0;
  }
  if (prevGray) v[31] = o[33] / n / 255;
  return v;
}

/** Accumulates frame vectors into per-second rows. Feed frames in order, then `finish(T)`. */
export class BuiltinVideoAccumulator {
  private readonly frames: Array<{ t: number; v: Float64Array }> = [];
  private prevGray?: Uint8Array;

  addFrame(frame: PreparedFrame): void {
    const v = builtinVideoFrameVector(frame, this.prevGray);
    this.prevGray = frame.gray.data;
    this.frames.push({ t: frame.timeSec, v });
  }

  /** `[T, 32]` float32 rows. */
  finish(seconds: number): Float32Array {
    if (!Number.isInteger(seconds) || seconds < 1) throw new InvalidArgumentError(`builtin-video: seconds must be a positive integer, got ${seconds}`);
    if (this.frames.length >= 2) {
      for (const c of FLOW_COLS) this.frames[0].v[c] = this.frames[1].v[c];
    }
    const D = BUILTIN_VIDEO_DIM;
    const out = new Float32Array(seconds * D);
    const counts = new Float64Array(seconds);
    const sums = new Float64Array(seconds * D);
    for (const { t, v } of this.frames) {
      const s = Math.floor(t + 1e-9);
      if (s < 0 || s >= seconds) continue;
      counts[s]++;
      for (let d = 0; d < D; d++) sums[s * D + d] += v[d];
    }
    let last: Float64Array | undefined;
    for (let s = 0; s < seconds; s++) {
      let row: Float64Array;
      if (counts[s] > 0) {
        row = sums.subarray(s * D, (s + 1) * D).map((x) => x / counts[s]);
        last = row;
      } else {
        row = last ?? (this.frames[0]?.v ?? new Float64Array(D));
      }
      for (let d = 0; d < D; d++) out[s * D + d] = row[d];
    }
    return out;
  }
}
