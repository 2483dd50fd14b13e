import * as fs from 'fs';
import { FileFormatError, IoError, InvalidArgumentError, UnsupportedError, errorMessage } from './errors';
import { writeFileAtomic } from './atomic-write';

/** NumPy dtypes we read and write (little-endian on write; big-endian accepted on read). */
export type NpyDtype = 'f4' | 'f8' | 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'b1';

export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array;

/** An array read from or written to a `.npy` file; `data` is C-ordered (row-major). */
export interface NpyArray<D extends NpyData = NpyData> {
  dtype: NpyDtype;
  shape: number[];
  data: D;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

const ITEM_SIZE: Record<NpyDtype, number> = { f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, b1: 1 };

function makeArray(dtype: NpyDtype, buf: ArrayBuffer, count: number): NpyData {
  switch (dtype) {
    case 'f4': return new Float32Array(buf, 0, count);
    case 'f8': return new Float64Array(buf, 0, count);
    case 'i1': return new Int8Array(buf, 0, count);
    case 'i2': return new Int16Array(buf, 0, count);
    case 'i4': return new Int32Array(buf, 0, count);
    case 'i8': return new BigInt64Array(buf, 0, count);
    case 'u1': case 'b1': return new Uint8Array(buf, 0, count);
    case 'u2': return new Uint16Array(buf, 0, count);
    case 'u4': return new Uint32Array(buf, 0, count);
  }
}

function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Float32Array) return 'f4';
  if (data instanceof Float64Array) return 'f8';
  if (data instanceof Int8Array) return 'i1';
  if (data instanceof Int16Array) return 'i2';
  if (data instanceof Int32Array) return 'i4';
  if (data instanceof BigInt64Array) return 'i8';
  if (data instanceof Uint8Array) return 'u1';
  if (data instanceof Uint16Array) return 'u2';
  if (data instanceof Uint32Array) return 'u4';
  throw new InvalidArgumentError('unsupported typed array for .npy');
}

/** Parse the Python-literal header dict of a .npy file. */
function parseHeader(header: string, source: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) {
    throw new FileFormatError(`${source}: malformed .npy header ${JSON.stringify(header.trim())}`, { details: { path: source } });
  }
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(v) || v < 0) throw new FileFormatError(`${source}: bad dimension '${s}' in .npy shape`, { details: { path: source } });
      return v;
    });
  return { descr: descr[1], fortran: fortran[1] === 'True', shape: dims };
}

/** Decode a `.npy` buffer. `source` names the file in error messages. */
export function parseNpy(buf: Uint8Array, source = '<buffer>'): NpyArray {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 10 || !b.subarray(0, 6).equals(MAGIC)) {
    throw new FileFormatError(`${source}: not a .npy file (missing \\x93NUMPY magic)`, { details: { path: source } });
  }
  const major = b[6];
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = b.readUInt16LE(8);
    offset = 10;
  } else if (major === 2 || major === 3) {
    if (b.length < 12) throw new FileFormatError(`${source}: truncated .npy header`, { details: { path: source } });
    headerLen = b.readUInt32LE(8);
    offset = 12;
  } else {
    throw new UnsupportedError(`${source}: unsupported .npy format version ${major}.${b[7]}`, { details: { path: source } });
  }
  if (offset + headerLen > b.length) throw new FileFormatError(`${source}: truncated .npy header`, { details: { path: source } });
  const header = b.subarray(offset, offset + headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const { descr, fortran, shape } = parseHeader(header, source);
  if (fortran) {
    throw new UnsupportedError(`${source}: Fortran-ordered .npy arrays are not supported; save with np.ascontiguousarray(x)`, { details: { path: source } });
  }
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  const dtype = m ? (`${m[2]}${m[3]}` as NpyDtype) : undefined;
  if (!m || !dtype || !(dtype in ITEM_SIZE)) {
    throw new UnsupportedError(`${source}: unsupported .npy dtype '${descr}' (supported: f4, f8, i1, i2, i4, i8, u1, u2, u4, b1)`, { details: { path: source, dtype: descr } });
  }
  const bigEndian = m[1] === '>';
  const count = shape.reduce((a, d) => a * d, 1);
  const size = ITEM_SIZE[dtype];
  const dataStart = offset + headerLen;
  const need = count * size;
  if (b.length - dataStart < need) {
    throw new FileFormatError(`${source}: truncated .npy data: shape (${shape.join(', ')}) needs ${need} bytes, file has ${b.length - dataStart}`, { details: { path: source } });
  }
  const copy = new ArrayBuffer(need);
  const bytes = new Uint8Array(copy);
  bytes.set(b.subarray(dataStart, dataStart + need));
  if (bigEndian && size > 1) {
    for (let i = 0; i < need; i += size) bytes.subarray(i, i + size).reverse();
  }
  return { dtype, shape, data: makeArray(dtype, copy, count) };
}

/** Read a `.npy` file. Errors name the file. */
export function readNpy(file: string): NpyArray {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new IoError(`cannot read ${file}: ${errorMessage(e)}`, { cause: e, details: { path: file } });
  }
  return parseNpy(buf, file);
}

/** Encode an array as a version-1.0 `.npy` buffer (little-endian, C order). */
export function encodeNpy(data: NpyData, shape: number[] = [data.length]): Buffer {
  const count = shape.reduce((a, d) => a * d, 1);
  if (count !== data.length) {
    throw new InvalidArgumentError(`encodeNpy: shape (${shape.join(', ')}) holds ${count} values but data has ${data.length}`);
  }
  const dtype = dtypeOf(data);
  const descr = dtype === 'u1' || dtype === 'i1' ? `|${dtype}` : `<${dtype}`;
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  MAGIC.copy(pre, 0);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

/** Write a `.npy` file atomically (temp file + rename). */
export function writeNpy(file: string, data: NpyData, shape: number[] = [data.length]): void {
  writeFileAtomic(file, encodeNpy(data, shape));
}

/** Any numeric `.npy` as Float32Array (int64 converted through Number). */
export function toFloat32(arr: NpyArray): Float32Array {
  if (arr.data instanceof Float32Array) return arr.data;
  const out = new Float32Array(arr.data.length);
  if (arr.data instanceof BigInt64Array) {
    for (let i = 0; i < out.length; i++) out[i] = Number(arr.data[i]);
  } else {
    out.set(arr.data as ArrayLike<number>);
  }
  return out;
}

/**
 * Read a 2-D (or 1-D, taken as one column) numeric `.npy` as a row-major float32 matrix.
 * Rejects other ranks with an error naming the file.
 */
export function readNpyMatrix(file: string): { rows: number; cols: number; data: Float32Array } {
  const arr = readNpy(file);
  if (arr.shape.length === 2) return { rows: arr.shape[0], cols: arr.shape[1], data: toFloat32(arr) };
  if (arr.shape.length === 1) return { rows: arr.shape[0], cols: 1, data: toFloat32(arr) };
  throw new FileFormatError(`${file}: expected a 1-D or 2-D array, got shape (${arr.shape.join(', ')})`, { details: { path: file } });
}
