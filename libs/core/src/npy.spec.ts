import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodeNpy, parseNpy, readNpy, readNpyMatrix, writeNpy } from './npy';
import { FileFormatError, UnsupportedError } from './errors';

// Bytes written by numpy 2.4 `np.save` (the oracle), as hex.
const NUMPY = {
  f4_2x3: '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000803f0000004000004040000080400000a0400000d040',
  f8_2: '934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a9a9999999999b93f00000000000000c0',
  i8_2x1: '934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2031292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0100000000000000fdffffffffffffff',
  be_f4: '934e554d5059010076007b276465736372273a20273e6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a3fc0000040000000',
  fortran: '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a20547275652c20277368617065273a2028322c2032292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000803f000040400000004000008040',
  c8: '934e554d5059010076007b276465736372273a20273c6338272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028312c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000803f00000040',
};
const hex = (h: string) => Buffer.from(h, 'hex');

describe('.npy', () => {
  it('reads numpy float32 2-D, float64 1-D, int64 and big-endian files', () => {
    const a = parseNpy(hex(NUMPY.f4_2x3));
    expect(a.dtype).toBe('f4');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6.5]);
    const b = parseNpy(hex(NUMPY.f8_2));
    expect(b.shape).toEqual([2]);
    expect(Array.from(b.data as Float64Array)).toEqual([0.1, -2]);
    const c = parseNpy(hex(NUMPY.i8_2x1));
    expect(Array.from(c.data as BigInt64Array)).toEqual([1n, -3n]);
    const d = parseNpy(hex(NUMPY.be_f4));
    expect(Array.from(d.data as Float32Array)).toEqual([1.5, 2]);
  });

  it('writes byte-identical files to numpy for float32 2-D and float64 1-D', () => {
    expect(encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6.5]), [2, 3]).toString('hex')).toBe(NUMPY.f4_2x3);
    expect(encodeNpy(new Float64Array([0.1, -2])).toString('hex')).toBe(NUMPY.f8_2);
    expect(encodeNpy(new BigInt64Array([1n, -3n]), [2, 1]).toString('hex')).toBe(NUMPY.i8_2x1);
  });

  it('rejects Fortran order, unknown dtypes, bad magic and truncated data, naming the file', () => {
    expect(() => parseNpy(hex(NUMPY.fortran), 'x.npy')).toThrow(UnsupportedError);
    expect(() => parseNpy(hex(NUMPY.fortran), 'x.npy')).toThrow(/x\.npy: Fortran-ordered/);
    expect(() => parseNpy(hex(NUMPY.c8), 'c.npy')).toThrow(/c\.npy: unsupported \.npy dtype '<c8'/);
    expect(() => parseNpy(Buffer.from('hello world, not numpy'), 'h.npy')).toThrow(FileFormatError);
    const trunc = hex(NUMPY.f4_2x3).subarray(0, 128 + 10);
    expect(() => parseNpy(trunc, 't.npy')).toThrow(/t\.npy: truncated \.npy data: shape \(2, 3\) needs 24 bytes, file has 10/);
  });

  it('round-trips through a file atomically and reads matrices', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-npy-'));
    const file = path.join(dir, 'sub', 'm.npy');
    const data = new Float32Array([1, -1, 0.5, 2, 3, 4]);
    writeNpy(file, data, [3, 2]);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['m.npy']); // no temp file left behind
    const m = readNpyMatrix(file);
    expect(m.rows).toBe(3);
    expect(m.cols).toBe(2);
    expect(Array.from(m.data)).toEqual(Array.from(data));
    expect(() => readNpy(path.join(dir, 'missing.npy'))).toThrow(/cannot read .*missing\.npy/);
    expect(() => writeNpy(file, data, [4, 2])).toThrow(/holds 8 values but data has 6/);
  });
});
