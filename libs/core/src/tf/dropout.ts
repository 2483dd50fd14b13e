import { tf } from './tfjs';
import { InvalidArgumentError } from '../errors';

/**
 * Inverted-dropout scale mask: each entry 0 with probability `rate`, else `1/(1-rate)`. Generated with
 * an inlined mulberry32 stream, two entries per 32-bit draw (16-bit uniforms: the rate is honoured to
 * 1/65536) — mask generation is a visible part of a training step.
 */
export function dropoutMask(shape: number[], rate: number, seed: number): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new InvalidArgumentError(`dropout rate must be in [0, 1), got ${rate}`);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  const keep = 1 / (1 - rate);
  const threshold = Math.round(rate * 65536); // drop when the 16-bit uniform < threshold
  let a = seed >>> 0;
  for (let i = 0; i < size; i += 2) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    t = (t ^ (t >>> 14)) >>> 0;
    data[i] = (t & 0xffff) < threshold ? 0 : keep;
    if (i + 1 < size) data[i + 1] = t >>> 16 < threshold ? 0 : keep;
  }
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

/**
 * `dropout(relu(x))` as one op whose gradient is computed from the output alone
 * (dy · 1[y > 0] / (1 − rate)): the backward pass keeps one `[T, F]` tensor instead of the
 * pre-activation, the ReLU output and the mask — the FFN hidden layer is the largest activation of a
 * transformer step. Same values and gradients as `dropout(tf.relu(x), rate, seed)`.
 */
export function reluDropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (rate === 0) return tf.relu(x);
  const scale = 1 / (1 - rate);
  const f = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    const y = tf.tidy(() => tf.mul(tf.relu(input), dropoutMask(input.shape, rate, seed)));
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.mul(tf.step(saved[0]), scale)),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor;
}
