import { tf } from './tfjs';
import { InvalidArgumentError } from '../errors';

/** Swap the last two axes (explicit transpose; never a matMul transpose flag). */
export function swapLastAxes(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = x.rank;
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return tf.transpose(x, perm);
}

/**
 * `aᵀ · dy` for 2-D operands without transposing the larger one: transposing a [6900, 2048] tensor
 * on wasm costs more than the product, so when `a` is wider than `dy` this computes `(dyᵀ · a)ᵀ`.
 */
export function transposedProduct(a: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  if (a.rank === 2 && dy.rank === 2 && (a.shape[1] as number) > 2 * (dy.shape[1] as number)) {
    return tf.transpose(tf.matMul(tf.transpose(dy), a));
  }
  return tf.matMul(swapLastAxes(a), dy);
}

/**
 * `a · b` with a gradient that uses explicit transposes instead of matMul's transpose flags:
 * dA = dC · transpose(b), dB = transpose(a) · dC. Mathematically identical to tf.matMul's gradient,
 * but on the wasm backend a transposed matMul is 10–20× slower than a plain one, so this makes a
 * training step several times faster.
 */
const matMulNoFlags = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      return [tf.matMul(dy, swapLastAxes(sb)), transposedProduct(sa, dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * Fast matrix product for every layer: `a [..., M, K] · b [..., K, N]` (equal batch dims), or
 * `a [..., K] · b [K, N]` (a weight matrix applied to the last axis of any-rank input).
 * Gradients equal tf.matMul's; see `matMulNoFlags`.
 */
export function matMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank < 2 && !(a.rank === 1 && b.rank === 2)) {
    throw new InvalidArgumentError(`matMul: a must have rank ≥ 2, got shape [${a.shape}]`);
  }
  if (b.rank === 2 && a.rank !== 2) {
    const k = a.shape[a.rank - 1];
    if (k !== b.shape[0]) {
      throw new InvalidArgumentError(`matMul: inner dims differ: a [${a.shape}] · b [${b.shape}]`);
    }
    const lead = a.shape.slice(0, -1);
    const out = matMulNoFlags(tf.reshape(a, [-1, k]), b) as tf.Tensor;
    return tf.reshape(out, [...lead, b.shape[1] as number]);
  }
  if (a.rank !== b.rank) {
    throw new InvalidArgumentError(`matMul: ranks differ: a [${a.shape}] · b [${b.shape}] (no broadcasting)`);
  }
  for (let i = 0; i < a.rank - 2; i++) {
    if (a.shape[i] !== b.shape[i]) {
      throw new InvalidArgumentError(`matMul: batch dims differ: a [${a.shape}] · b [${b.shape}] (no broadcasting)`);
    }
  }
  if (a.shape[a.rank - 1] !== b.shape[b.rank - 2]) {
    throw new InvalidArgumentError(`matMul: inner dims differ: a [${a.shape}] · b [${b.shape}]`);
  }
  return matMulNoFlags(a, b) as tf.Tensor;
}

/**
 * `x [M, K] · w [K, N] + b [N]` as one op: the forward pass is a single fused kernel (no separate
 * bias-add tensor kept alive until the end of the step) and the gradient is flag-free.
 */
const linearBias = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved;
      // bias gradient as a product with a ones row: the wasm Sum over axis 0 transposes dy first
      const ones = tf.ones([1, dy.shape[0]]);
      return [tf.matMul(dy, tf.transpose(sw)), transposedProduct(sx, dy), tf.reshape(tf.matMul(ones, dy), [dy.shape[1] as number])];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/** `x · w + b` over the last axis of `x` (`w [in, out]`, `b [out]`); any rank of `x`. */
export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  if (!b) return matMul(x, w);
  const k = x.shape[x.rank - 1];
  if (w.rank !== 2 || w.shape[0] !== k || b.rank !== 1 || b.shape[0] !== w.shape[1]) {
    throw new InvalidArgumentError(`linear: shapes x [${x.shape}], w [${w.shape}], b [${b.shape}] do not fit`);
  }
  const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, k]);
  const y = linearBias(x2, w, b) as tf.Tensor;
  return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), w.shape[1] as number]);
}
