/**
 * AV-Align `yariv` video peaks of a flow trajectory (DESIGN §1.6): strict local maxima
 * x[i−1] < x[i] > x[i+1] with x[i] ≥ threshold (first and last samples never peak), at time i / fps.
 * Same rule as `videoPeakTimes(flow, fps, 'yariv')` in @vmr/metrics, which libs/data may not import.
 */
export function flowPeakTimes(flow: ArrayLike<number>, fps: number, threshold = 0.1): Float64Array {
  const out: number[] = [];
  for (let i = 1; i < flow.length - 1; i++) {
    const v = flow[i];
    if (flow[i - 1] < v && v > flow[i + 1] && v >= threshold) out.push(i / fps);
  }
  return Float64Array.from(out);
}
