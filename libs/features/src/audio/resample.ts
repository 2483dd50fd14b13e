/**
 * Band-limited resampling between integer sample rates (Kaiser-windowed sinc, polyphase for rational
 * ratios). Used to bring audio to librosa's default 22,050 Hz before onset detection when a decoder did
 * not already deliver that rate; the analysis functions themselves never resample.
 */
import { InvalidArgumentError } from '@vmr/core';

export interface ResampleOptions {
  /** Zero crossings of the sinc on each side (filter length; default 32). */
  zeros?: number;
  /** Cut-off as a fraction of the lower Nyquist frequency (default 0.945). */
  rolloff?: number;
  /** Kaiser window β (default 9: ≈ 90 dB stop-band). */
  beta?: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

/**
 * Resample `x` from `fromRate` to `toRate` Hz (both positive integers). Output length is
 * ceil(n · toRate / fromRate), as librosa. Samples beyond the signal are treated as zero.
 */
export function resample(x: Float32Array, fromRate: number, toRate: number, options: ResampleOptions = {}): Float32Array {
  for (const [name, r] of [['fromRate', fromRate], ['toRate', toRate]] as const) {
    if (!Number.isInteger(r) || r <= 0) throw new InvalidArgumentError(`resample: ${name} must be a positive integer (Hz), got ${r}`);
  }
  if (fromRate === toRate) return Float32Array.from(x);
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  const zeros = options.zeros ?? 32;
  const rolloff = options.rolloff ?? 0.945;
  const beta = options.beta ?? 9;
  const cutoff = rolloff * Math.min(1, up / down); // in cycles per input sample × 2 (1 = input Nyquist)
  const halfWidth = zeros / cutoff; // input samples
  const reach = Math.ceil(halfWidth);
  const i0b = besselI0(beta);
  const kernel = (tau: number): number => {
    const u = tau / halfWidth;
    if (u <= -1 || u >= 1) return 0;
    const a = Math.PI * cutoff * tau;
    const sinc = a === 0 ? 1 : Math.sin(a) / a;
    return cutoff * sinc * (besselI0(beta * Math.sqrt(1 - u * u)) / i0b);
  };
  const taps = 2 * reach + 1;
  // Polyphase table: phase p (fractional offset p/up) → taps for input offsets −reach … +reach.
  const usePhaseTable = up <= 2048;
  const table = usePhaseTable ? new Float64Array(up * taps) : null;
  if (table) {
    for (let p = 0; p < up; p++) {
      const frac = p / up;
      for (let j = -reach; j <= reach; j++) table[p * taps + j + reach] = kernel(frac - j);
    }
  }
  const n = x.length;
  const outLen = Math.ceil((n * up) / down);
  const y = new Float32Array(outLen);
  const row = new Float64Array(taps);
  for (let k = 0; k < outLen; k++) {
    const num = k * down;
    const base = Math.floor(num / up);
    const phase = num - base * up;
    let coeffs: Float64Array;
    let off = 0;
    if (table) {
      coeffs = table;
      off = phase * taps;
    } else {
      const frac = phase / up;
      for (let j = -reach; j <= reach; j++) row[j + reach] = kernel(frac - j);
      coeffs = row;
    }
    let s = 0;
    const jLo = Math.max(-reach, -base);
    const jHi = Math.min(reach, n - 1 - base);
    for (let j = jLo; j <= jHi; j++) s += x[base + j] * coeffs[off + j + reach];
    y[k] = s;
  }
  return y;
}
