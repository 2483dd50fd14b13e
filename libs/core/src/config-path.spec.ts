import { ConfigError } from './errors';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { canonicalJson, getPath, setPath, sha256File, sha256Hex } from './config-path';

describe('dotted config paths', () => {
  it('set creates intermediate mappings, get reads them back, missing parts are undefined', () => {
    const o: Record<string, unknown> = { loss: { topK: 10 } };
    setPath(o, 'loss.lambdas.l1', 2);
    expect(o).toEqual({ loss: { topK: 10, lambdas: { l1: 2 } } });
    expect(getPath(o, 'loss.lambdas.l1')).toBe(2);
    expect(getPath(o, 'loss.nope.x')).toBeUndefined();
  });
  it('refuses to descend into a scalar or list, and empty segments, naming the key', () => {
    expect(() => setPath({ dataset: 'x' }, 'dataset.y', 1)).toThrow(/'dataset' is not a mapping \(it is a string\)/);
    expect(() => setPath({ a: [1] }, 'a.b', 1, "--set 'a.b=1'")).toThrow(/^--set 'a\.b=1': 'a' is not a mapping \(it is a list\)/);
    expect(() => setPath({}, 'a..b', 1)).toThrow(ConfigError);
  });
  it('canonical JSON sorts keys at every level and drops undefined; the hash is sha256', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'z', u: undefined } })).toBe('{"a":{"c":"z","d":[1,{"x":1,"y":2}]},"b":1}');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'); // FIPS 180-2 test vector
    expect(() => canonicalJson({ a: Infinity })).toThrow(ConfigError);
  });
});

describe('sha256File', () => {
  it('streams a file: the FIPS vector, the empty file, and a file longer than one 1 MiB read equal the in-memory hash', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-sha-'));
    try {
      const f = (name: string, data: Buffer | string) => (fs.writeFileSync(path.join(dir, name), data), path.join(dir, name));
      expect(sha256File(f('abc', 'abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      expect(sha256File(f('empty', ''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      const big = Buffer.alloc((1 << 20) * 2 + 17, 0);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 255;
      expect(sha256File(f('big', big))).toBe(sha256Hex(big));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
