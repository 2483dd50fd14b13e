import { ConfigError } from '@vmr/core';
import { applySets, flattenParams, parseSetValue, parseTrainConfig } from '../src/config';

describe('parseTrainConfig', () => {
  it('fills the paper defaults', () => {
    const c = parseTrainConfig({ dataset: 'd' });
    expect(c.protocol).toBe('paper');
    expect(c.batchSize).toBe(32);
    expect(c.loss.protocol).toBe('paper');
    expect(c.loss.topK).toBe(10);
    expect(c.loss.lambdas).toEqual({ l1: 1, l2: 1, l3: 1, l4: 1, l5: 1, l6: 1 });
    expect(c.segmentation).toEqual({ segments: 10, minSegmentSeconds: 10, jumpSeconds: 1, maxSegmentSeconds: 200, padLength: 200, protocol: 'paper' });
    expect(c.ofVmNet.pooling).toBe('masked-mean');
    expect(c.model).toBe('of-vm-net');
  });

  it('protocol vmr-code switches the protocol-dependent defaults, explicit keys win', () => {
    const c = parseTrainConfig({ dataset: 'd', protocol: 'vmr-code' });
    expect(c.batchSize).toBe(128);
    expect(c.loss.protocol).toBe('vmr-code');
    expect(c.segmentation.protocol).toBe('vmr-code');
    expect(c.ofVmNet.pooling).toBe('mean-all');
    const d = parseTrainConfig({ dataset: 'd', protocol: 'vmr-code', batchSize: 16, loss: { protocol: 'paper' }, ofVmNet: { pooling: 'masked-mean' } });
    expect(d.batchSize).toBe(16);
    expect(d.loss.protocol).toBe('paper');
    expect(d.ofVmNet.pooling).toBe('masked-mean');
  });

  it('is idempotent on a resolved config', () => {
    const c = parseTrainConfig({ dataset: 'd', protocol: 'vmr-code', epochs: 3 });
    expect(parseTrainConfig(c)).toEqual(c);
  });

  it.each([
    [{ dataset: 'd', epoch: 3 }, /unknown key 'epoch'/],
    [{ dataset: 'd', ofVmNet: { layerz: 2 } }, /unknown key 'ofVmNet\.layerz'/],
    [{ dataset: 'd', loss: { lambdas: { l7: 1 } } }, /unknown key 'loss\.lambdas\.l7'/],
    [{ epochs: 3 }, /'dataset' is required/],
    [{ dataset: 'd', batchSize: 1 }, /'batchSize'/],
    [{ dataset: 'd', model: 'cnn' }, /'model'/],
    [{ dataset: 'd', segmentation: { maxSegmentSeconds: 300 } }, /maxSegmentSeconds.*exceeds.*padLength/],
  ])('rejects %j naming the key', (raw, msg) => {
    expect(() => parseTrainConfig(raw, 'c.yaml')).toThrow(ConfigError);
    expect(() => parseTrainConfig(raw, 'c.yaml')).toThrow(msg);
    expect(() => parseTrainConfig(raw, 'c.yaml')).toThrow(/^c\.yaml: /);
  });
});

describe('--set', () => {
  it('parses JSON values and falls back to strings', () => {
    expect(parseSetValue('3')).toBe(3);
    expect(parseSetValue('1e-3')).toBe(0.001);
    expect(parseSetValue('true')).toBe(true);
    expect(parseSetValue('[1,2]')).toEqual([1, 2]);
    expect(parseSetValue('clip')).toBe('clip');
  });

  it('sets nested keys on a copy', () => {
    const raw = { dataset: 'd', loss: { lambdas: { l1: 1 } } };
    const out = applySets(raw, ['loss.lambdas.l3=0', 'features=clip', 'ofVmNet.layers=1']);
    expect(out).toEqual({ dataset: 'd', features: 'clip', loss: { lambdas: { l1: 1, l3: 0 } }, ofVmNet: { layers: 1 } });
    expect(raw.loss.lambdas).toEqual({ l1: 1 });
    expect(() => applySets(raw, ['nokey'])).toThrow(/key\.path=value/);
    expect(() => applySets(raw, ['dataset.x=1'])).toThrow(/'dataset' is not a mapping/);
  });
});

describe('flattenParams', () => {
  it('flattens nested keys and JSON-encodes lists', () => {
    expect(flattenParams({ a: 1, b: { c: 'x', d: [1, 2], e: { f: true } }, g: undefined })).toEqual({ a: 1, 'b.c': 'x', 'b.d': '[1,2]', 'b.e.f': true });
  });
});
