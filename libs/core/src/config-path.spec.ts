import { ConfigError } from './errors';
import { canonicalJson, getPath, setPath, sha256Hex } from './config-path';

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
