import { tf } from './tfjs';
import { InvalidArgumentError } from '../errors';
import { matMul } from './fast-matmul';

function gatherWithZeroRow(x: tf.Tensor2D, index: Int32Array, hasHoles: boolean): tf.Tensor2D {
  const idx = tf.tensor1d(index, 'int32');
  if (!hasHoles) return tf.gather(x, idx) as tf.Tensor2D;
  const n = x.shape[0];
  const safe = tf.tensor1d(index.map((v) => (v < 0 ? n : v)), 'int32');
  const padded = tf.concat([x, tf.zeros([1, x.shape[1]])], 0);
  return tf.gather(padded, safe) as tf.Tensor2D;
}

/**
 * Differentiable row selection `y[i] = x[index[i]]` (or a zero row where `index[i] = -1`) for an
 * **injective** index (each source row used at most once). Its gradient is another gather, so it works
 * on backends without a `gather` gradient kernel (wasm lacks UnsortedSegmentSum). Used to move tokens
 * between packed `[tokens, C]` and padded `[sequences·L, C]` layouts.
 * @param x `[N, C]`
 * @param index `[M]` values in `[-1, N)`, no repeats except `-1`
 * @returns `[M, C]`
 */
export function gatherRows(x: tf.Tensor2D, index: Int32Array): tf.Tensor2D {
  if (x.rank !== 2) throw new InvalidArgumentError(`gatherRows: x must be 2-D, got shape [${x.shape}]`);
  const n = x.shape[0];
  const inverse = new Int32Array(n).fill(-1);
  let holes = false;
  for (let i = 0; i < index.length; i++) {
    const v = index[i];
    if (v === -1) {
      holes = true;
      continue;
    }
    if (!Number.isInteger(v) || v < -1 || v >= n) {
      throw new InvalidArgumentError(`gatherRows: index[${i}] = ${v} is outside [-1, ${n})`);
    }
    if (inverse[v] !== -1) throw new InvalidArgumentError(`gatherRows: row ${v} selected twice (index must be injective)`);
    inverse[v] = i;
  }
  const inverseHoles = inverse.some((v) => v === -1);
  const f = tf.customGrad(((xx: tf.Tensor) => {
    return {
      value: gatherWithZeroRow(xx as tf.Tensor2D, index, holes),
      gradFunc: (dy: tf.Tensor) => gatherWithZeroRow(dy as tf.Tensor2D, inverse, inverseHoles),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor2D;
}

/**
 * Differentiable selection of (possibly repeated) rows through a one-hot matrix product: `onehot [M, N] · x`.
 * Cheap for small N (loss mining over a batch); any index may repeat.
 */
export function selectRows(x: tf.Tensor2D, index: ArrayLike<number>): tf.Tensor2D {
  const n = x.shape[0];
  const m = index.length;
  const oh = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const v = index[i];
    if (!Number.isInteger(v) || v < 0 || v >= n) throw new InvalidArgumentError(`selectRows: index[${i}] = ${v} is outside [0, ${n})`);
    oh[i * n + v] = 1;
  }
  return matMul(tf.tensor2d(oh, [m, n]), x) as tf.Tensor2D;
}
