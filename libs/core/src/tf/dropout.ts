import { tf } from './tfjs';
import { InvalidArgumentError } from '../errors';

/** mulberry32: a tiny, fast, seeded 32-bit generator (mask generation only). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Inverted-dropout scale mask: each entry 0 with probability `rate`, else `1/(1-rate)`. */
export function dropoutMask(shape: number[], rate: number, seed: number): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new InvalidArgumentError(`dropout rate must be in [0, 1), got ${rate}`);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  const keep = 1 / (1 - rate);
  const next = mulberry32(seed);
  for (let i = 0; i < size; i++) data[i] = next() < rate ? 0 : keep;
  return tf.tensor(data, shape, 'float32');
}

/**
 * Inverted dropout with a deterministic mask from `seed` (same seed → same mask on every backend).
 * Identity when `rate` is 0.
 */
export function dropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (rate === 0) return x;
  return tf.mul(x, dropoutMask(x.shape, rate, seed));
}
