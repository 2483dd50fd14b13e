import { tf } from './tfjs';
import { InvalidArgumentError } from '../errors';
import { phase } from './profile';
import { nativeDropoutFill } from './native-gemm';

/**
 * A deterministic stream of dropout decisions (mulberry32). Each 32-bit draw decides FOUR entries from
 * its four bytes; a byte equal to the rate's high byte is resolved by one more byte-draw, so an entry is
 * dropped with probability round(rate·65536)/65536 exactly (16-bit resolution) at ~1.004 draws per 4
 * entries — mask generation is a visible part of a training step.
 */
/** Fills at least this long go to the native twin of `fill` (a call costs about as much as ~100 entries). */
const NATIVE_FILL_MIN = 512;

export class DropoutStream {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }

  private next(): number {
    this.a = (this.a + 0x6d2b79f5) | 0;
    let t = Math.imul(this.a ^ (this.a >>> 15), this.a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** `count` fills of `n` entries at `off`, `off + stride`, … — the same as that many `fill` calls. */
  fillRows(out: Float32Array, off: number, count: number, n: number, stride: number, rate: number): void {
    if (count * n >= NATIVE_FILL_MIN) {
      const state = nativeDropoutFill(out, off, n, this.a, Math.round(rate * 65536), 1 / (1 - rate), count, stride);
      if (state !== undefined) {
        this.a = state | 0;
        return;
      }
    }
    for (let c = 0; c < count; c++) this.fill(out, off + c * stride, n, rate);
  }

  /**
   * Write `n` inverted-dropout scales (0 or 1/(1−rate)) to `out[off … off+n)`. Starts on a fresh draw,
   * so the values depend only on the seed and the sequence of `fill` lengths.
   */
  fill(out: Float32Array, off: number, n: number, rate: number): void {
    const thr = Math.round(rate * 65536);
    const hi = thr >>> 8;
    const lo = thr & 255;
    const keep = 1 / (1 - rate);
    if (n >= NATIVE_FILL_MIN) {
      // the addon's copy of this loop (same draws, same values) where it is built
      const state = nativeDropoutFill(out, off, n, this.a, thr, keep);
      if (state !== undefined) {
        this.a = state | 0;
        return;
      }
    }
    const end = off + n;
    let i = off;
    while (i < end) {
      const t = this.next();
      for (let sh = 0; sh < 32 && i < end; sh += 8, i++) {
        const b = (t >>> sh) & 255;
        out[i] = b < hi ? 0 : b > hi ? keep : (this.next() & 255) < lo ? 0 : keep;
      }
    }
  }
}

/** Fills a whole mask (flat, row-major) — for masks whose entries must not depend on the layout. */
export type MaskFill = (out: Float32Array, rate: number) => void;

function checkRate(rate: number): void {
  if (!(rate >= 0 && rate < 1)) throw new InvalidArgumentError(`dropout rate must be in [0, 1), got ${rate}`);
}

/** The wasm backend's heap access (as in fast-kernels.ts). */
interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function fillMask(data: Float32Array, rate: number, seed: number | MaskFill): void {
  if (typeof seed === 'number') new DropoutStream(seed).fill(data, 0, data.length, rate);
  else {
    data.fill(0); // a MaskFill may leave padding entries unwritten
    seed(data, rate);
  }
}

/**
 * A new float32 tensor of `shape` whose every entry `write` sets: on wasm straight in the tensor's heap
 * memory (no JS array, no upload copy; the memory is NOT zeroed), elsewhere in a fresh array. `write`
 * must not create tensors (growing the wasm heap would move the memory it writes).
 */
export function tensorFilledInPlace(shape: number[], write: (out: Float32Array) => void): tf.Tensor {
  if (tf.getBackend() !== 'wasm') {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    write(data);
    return tf.tensor(data, shape, 'float32');
  }
  const backend = tf.backend() as unknown as HeapBackend;
  const info = backend.makeOutput(shape, 'float32');
  const out = backend.typedArrayFromHeap(info) as Float32Array;
  write(out);
  return tf.engine().makeTensorFromTensorInfo(info);
}

/**
 * Inverted-dropout scale mask: each entry 0 with probability `rate`, else `1/(1-rate)`, from one
 * `DropoutStream(seed)` over the whole tensor, or from a `MaskFill` (e.g. one stream per sequence so
 * the mask does not depend on how a batch is split or grouped).
 */
export function dropoutMask(shape: number[], rate: number, seed: number | MaskFill): tf.Tensor {
  checkRate(rate);
  const size = shape.reduce((a, b) => a * b, 1);
  // wasm: written straight into the tensor's heap memory
  return phase('dropout masks (JS)', () => tensorFilledInPlace(shape, (out) => fillMask(out, rate, seed)));
}

/**
 * Inverted dropout with a deterministic mask from `seed` (same seed → same mask on every backend).
 * Identity when `rate` is 0.
 */
export function dropout(x: tf.Tensor, rate: number, seed: number | MaskFill): tf.Tensor {
  if (rate === 0) return x;
  return tf.mul(x, dropoutMask(x.shape, rate, seed));
}

/**
 * `dropout(relu(x))` as one op whose gradient is computed from the output alone
 * (dy · 1[y > 0] / (1 − rate)): the backward pass keeps one `[T, F]` tensor instead of the
 * pre-activation, the ReLU output and the mask — the FFN hidden layer is the largest activation of a
 * transformer step. Same values and gradients as `dropout(tf.relu(x), rate, seed)`.
 */
export function reluDropout(x: tf.Tensor, rate: number, seed: number | MaskFill): tf.Tensor {
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
