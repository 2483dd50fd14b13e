import type { Rational } from './probe';

/** Frames per second of the flow signal: `min(3, native)` (DESIGN.md §1.1), as a rational. */
export function flowFpsFor(native: Rational, maxFps = 3): Rational {
  return native.num / native.den <= maxFps ? { ...native } : { num: maxFps, den: 1 };
}

/**
 * The reference code's time-accumulator frame sampling (VMR `flowProcessor.extract_sampled_frames`):
 * `t_next = t_cur = 0`; for every decoded frame, keep it when `t_cur >= t_next` (then
 * `t_next += 1/target`), then `t_cur += 1/native` — float64 accumulation, so the float drift decides
 * borderline frames exactly as in Python (e.g. 0, 8, 17, 25, … at 24 → 3 fps).
 */
export class AccumulatorSampler {
  private tCur = 0;
  private tNext = 0;
  private readonly stepNative: number;
  private readonly stepTarget: number;

  constructor(native: Rational, target: Rational) {
    this.stepNative = 1 / (native.num / native.den);
    this.stepTarget = 1 / (target.num / target.den);
  }

  /** Feed the next decoded frame; returns whether it is kept. */
  next(): boolean {
    const keep = this.tCur >= this.tNext;
    if (keep) this.tNext += this.stepTarget;
    this.tCur += this.stepNative;
    return keep;
  }
}

/** Decode indices kept by the accumulator among the first `nFrames` decoded frames. */
export function accumulatorSampleIndices(native: Rational, target: Rational, nFrames: number): number[] {
  const s = new AccumulatorSampler(native, target);
  const out: number[] = [];
  for (let i = 0; i < nFrames; i++) if (s.next()) out.push(i);
  return out;
}

/** How far (in native frames) a timestamp may sit off the native-rate grid and still count as on it. */
const GRID_TOLERANCE = 0.1;

/** C `round()` (half away from zero), as ffmpeg's expression evaluator rounds. */
function cRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * The reference's accumulator run on *presentation time* instead of frame counts, as an ffmpeg
 * `select` expression (evaluated in double precision; variables start at 0), so only the kept frames
 * leave ffmpeg. Per frame, with t0 = the first frame's time and `k = round((t − t0) · native)` (the
 * frame's slot on the native-rate grid; `k = previous + 1` when a frame has no timestamp):
 * `t_cur` = the float64 sum of k steps of 1/native — exactly the reference's `t_cur` on constant-frame-rate
 * video, where k is the decode index, so OpenCV-Python parity is kept — and the frame is kept when
 * `t_cur ≥ t_next`; then `t_next += 1/target`, repeated while `t_next ≤ t_cur` (only on a gap longer than a
 * sample period, e.g. a held frame of variable-frame-rate video; never on constant-frame-rate video).
 * Variables: 0 grid time A(k), 1 t_next, 2 keep, 3 k of A, 4 t0, 5 k of this frame, 6 x, 7 t_cur.
 * Quote it inside a filtergraph (`select='…'`). `TimeSlotSampler` replays it from the kept frames' times.
 */
export function accumulatorSelectExpr(native: Rational, target: Rational): string {
  const rate = `(${native.num}/${native.den})`;
  const stepN = `1/${rate}`;
  const stepT = `1/(${target.num}/${target.den})`;
  return [
    'if(eq(n,0),st(4,t))',
    `st(6,(t-ld(4))*${rate})`,
    'st(5,if(eq(n,0),0,if(isnan(ld(6)),ld(3)+1,round(ld(6)))))',
    `while(lt(ld(3),ld(5)),st(0,ld(0)+${stepN});st(3,ld(3)+1))`,
    `st(7,if(isnan(ld(6)),ld(0),if(lt(abs(ld(6)-ld(5)),${GRID_TOLERANCE}),ld(0),ld(6)/${rate})))`,
    'st(2,gte(ld(7),ld(1)))',
    `if(ld(2),st(1,ld(1)+${stepT});while(lte(ld(1),ld(7)),st(1,ld(1)+${stepT})))`,
    'ld(2)',
  ].join(';');
}

/** Where a kept frame lands: its native-grid index, its time from the first frame, its sample slot. */
export interface TimeSlot {
  /** round((t − t0) · native): the decode index on constant-frame-rate video. */
  gridIndex: number;
  /** t − t0 in seconds (presentation time from the first frame). */
  timeSec: number;
  /** Sample slot this frame fills (slot s ↔ time s / target): the last slot time ≤ its time. */
  slot: number;
  /**
   * Slots just before `slot` that no frame of their own reached (a gap in variable-frame-rate video):
   * the previous frame was still on screen then, so it fills them.
   */
  held: number;
}

/**
 * Replays `accumulatorSelectExpr` in JavaScript (same float64 operations) from the presentation times
 * of the frames ffmpeg kept, to give each its grid index and sample slot.
 */
export class TimeSlotSampler {
  private readonly rate: number;
  private readonly stepN: number;
  private readonly stepT: number;
  private t0: number | undefined;
  private tCur = 0;
  private kCur = 0;
  private tNext = 0;
  private slots = 0;
  private lastK = -1;

  constructor(native: Rational, target: Rational) {
    this.rate = native.num / native.den;
    this.stepN = 1 / this.rate;
    this.stepT = 1 / (target.num / target.den);
  }

  /** Place the next kept frame, given its time in seconds (NaN when it has none). */
  place(t: number): TimeSlot {
    let k: number;
    let x: number;
    if (this.t0 === undefined) {
      this.t0 = t;
      x = 0;
      k = 0;
    } else {
      x = (t - this.t0) * this.rate;
      k = Number.isNaN(x) ? this.lastK + 1 : cRound(x);
    }
    while (this.kCur < k) {
      this.tCur += this.stepN;
      this.kCur++;
    }
    const tCur = Number.isNaN(x) || Math.abs(x - k) < GRID_TOLERANCE ? this.tCur : x / this.rate;
    let advanced = 0;
    this.tNext += this.stepT;
    advanced++;
    while (this.tNext <= tCur) {
      this.tNext += this.stepT;
      advanced++;
    }
    const slot = this.slots + advanced - 1;
    this.slots += advanced;
    this.lastK = k;
    const timeSec = Number.isNaN(x) ? k / this.rate : t - this.t0;
    return { gridIndex: k, timeSec, slot, held: advanced - 1 };
  }
}
