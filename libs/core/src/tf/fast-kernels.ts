import { tf } from './tfjs';

let installed = false;

interface WasmBackend {
  incRef(dataId: unknown): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/**
 * Strided copy of the block `begin … begin+size` of `x` (shape `shape`) into `out`, by innermost
 * contiguous runs (any rank).
 */
function copyBlock(x: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, shape: number[], begin: number[], size: number[], out: { set(a: ArrayLike<number>, o: number): void }): void {
  const rank = shape.length;
  const xs = strides(shape);
  // merge the trailing axes that are taken whole into one contiguous run
  let inner = rank - 1;
  let run = size[rank - 1];
  while (inner > 0 && size[inner] === shape[inner] && begin[inner] === 0) {
    inner--;
    run *= size[inner];
  }
  const outer = size.slice(0, inner);
  const count = outer.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(inner).fill(0);
  let o = 0;
  for (let c = 0; c < count; c++) {
    let off = begin[inner] * xs[inner];
    for (let a = 0; a < inner; a++) off += (begin[a] + idx[a]) * xs[a];
    out.set(x.subarray(off, off + run), o);
    o += run;
    for (let a = inner - 1; a >= 0; a--) {
      if (++idx[a] < outer[a]) break;
      idx[a] = 0;
    }
  }
}

function sliceInto(backend: WasmBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype); // allocate first: growing the heap detaches views
  if (size.some((d) => d === 0)) return out;
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  copyBlock(xv, x.shape, begin, size, ov);
  return out;
}

/**
 * Kernel replacements for the wasm backend, installed when it is selected.
 *
 * - `Identity` without a copy: tfjs-core clones (Identity kernel) every tensor it saves for the
 *   backward pass; the wasm kernel copies the data — the largest memory traffic of a training step
 *   (≈ 75 M floats for an 8-clip OF-VM-Net step). tfjs tensors are immutable (a Variable's `assign`
 *   swaps its data id; no kernel writes into its input), so sharing the buffer with a reference count
 *   — what the wasm `Reshape` kernel does — is safe.
 * - `Slice` / `SplitV` reading the input in place: the stock kernels first copy the WHOLE input out
 *   of the wasm heap (`readSync`) for every slice, so splitting a tensor in k parts copied it k times.
 */
export function installWasmFastKernels(): void {
  if (installed) return;
  installed = true;
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel({
    kernelName: tf.Identity,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = (inputs as { x: tf.TensorInfo }).x;
      (backend as unknown as WasmBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
  tf.unregisterKernel(tf.Slice, 'wasm');
  tf.registerKernel({
    kernelName: tf.Slice,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const x = (inputs as { x: tf.TensorInfo }).x;
      const a = attrs as unknown as { begin: number | number[]; size: number | number[] };
      const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, a.begin, a.size);
      return sliceInto(backend as unknown as WasmBackend, x, begin, size);
    },
  });
  tf.unregisterKernel(tf.SplitV, 'wasm');
  tf.registerKernel({
    kernelName: tf.SplitV,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const x = (inputs as { x: tf.TensorInfo }).x;
      const a = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
      const axis = tf.util.parseAxisParam(a.axis, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, a.numOrSizeSplits, axis);
      const begin = new Array<number>(x.shape.length).fill(0);
      return sizes.map((s) => {
        const size = x.shape.slice();
        size[axis] = s;
        const out = sliceInto(backend as unknown as WasmBackend, x, begin.slice(), size);
        begin[axis] += s;
        return out;
      });
    },
  });
}
