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

/**
 * The same accumulator as an ffmpeg `select` expression (ffmpeg evaluates expressions in double
 * precision, with variables 0..2 starting at 0), so only the kept frames leave ffmpeg.
 * var0 = t_cur, var1 = t_next, var2 = keep. Quote it inside a filtergraph (`select='…'`).
 */
export function accumulatorSelectExpr(native: Rational, target: Rational): string {
  const stepN = `1/(${native.num}/${native.den})`;
  const stepT = `1/(${target.num}/${target.den})`;
  return `st(2,gte(ld(0),ld(1)));if(ld(2),st(1,ld(1)+${stepT}));st(0,ld(0)+${stepN});ld(2)`;
}
