import { videoPeakTimes } from '@vmr/metrics';

/**
 * AV-Align `yariv` video peaks of a flow trajectory (DESIGN §1.6): strict local maxima
 * x[i−1] < x[i] > x[i+1] with x[i] ≥ threshold (first and last samples never peak), at time i / fps —
 * @vmr/metrics' `videoPeakTimes(flow, fps, 'yariv')` as a Float64Array (one rule for ingest, the
 * synthetic generator and the evaluator).
 */
export function flowPeakTimes(flow: ArrayLike<number>, fps: number, threshold = 0.1): Float64Array {
  return Float64Array.from(videoPeakTimes(flow, fps, 'yariv', { threshold }));
}
