import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileFormatError } from '@vmr/core';
import { encodeFlo, endpointError, parseFlo, readFlo, writeFlo } from './flo';

describe('Middlebury .flo I/O and endpoint error', () => {
  it('round-trips a 3x2 field through a file, header bytes as the format says', () => {
    const flow = { width: 3, height: 2, data: Float32Array.from([0, 1, 2, 3, 4, 5, -1, -2, 0.5, 0.25, 1e10, 7]) };
    const buf = encodeFlo(flow);
    expect(buf.length).toBe(12 + 12 * 4);
    expect(buf.subarray(0, 4).toString('latin1')).toBe('PIEH');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-flo-'));
    writeFlo(path.join(dir, 'a.flo'), flow);
    const back = readFlo(path.join(dir, 'a.flo'));
    expect(back.width).toBe(3);
    expect(back.height).toBe(2);
    expect(Array.from(back.data)).toEqual(Array.from(flow.data));
    expect(fs.readdirSync(dir)).toEqual(['a.flo']); // no temp file left behind
  });

  it('rejects bad magic and truncated data, naming the source', () => {
    const buf = encodeFlo({ width: 2, height: 2, data: new Float32Array(8) });
    const bad = Buffer.from(buf);
    bad.writeFloatLE(1.0, 0);
    expect(() => parseFlo(bad, 'bad.flo')).toThrow(FileFormatError);
    expect(() => parseFlo(bad, 'bad.flo')).toThrow(/bad\.flo: not a \.flo file/);
    expect(() => parseFlo(buf.subarray(0, 20), 'short.flo')).toThrow(/short\.flo: truncated/);
  });

  it('computes AEPE and RMS over known pixels only (hand values)', () => {
    // pixel 0: error (3,4) → 5; pixel 1: error (0,0) → 0; pixel 2: unknown GT (1e10) → ignored.
    const est = { width: 3, height: 1, data: Float32Array.from([3, 4, 1, 1, 9, 9]) };
    const gt = { width: 3, height: 1, data: Float32Array.from([0, 0, 1, 1, 1e10, 0]) };
    const e = endpointError(est, gt);
    expect(e.nKnown).toBe(2);
    expect(e.aepe).toBeCloseTo(2.5, 12);
    expect(e.rmsEpe).toBeCloseTo(Math.sqrt(12.5), 12);
  });
});
