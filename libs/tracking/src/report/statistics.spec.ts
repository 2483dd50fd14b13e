import { Rng } from '@vmr/core';
import { bootstrapQueries, mean, median, pairedBootstrap, quantileSorted, sampleStd, seedSummary, slopeAndCorrelation, tQuantile975 } from './statistics';
import { METRICS, betterSign, findMetric, metricDef, nearChance, undefinedForGallery } from './metric-registry';
import { canonicalLambdas, configurationKey, configurationOf, differingKeys, formatLambdaRatio, lambdaRatio } from './configuration';

describe('seed statistics (hand-computed)', () => {
  it('mean, sample std (n − 1), median', () => {
    expect(mean([2, 4, 9])).toBe(5);
    expect(sampleStd([2, 4, 9])).toBeCloseTo(Math.sqrt(13), 12);
    expect(sampleStd([0.7])).toBe(0);
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });
  it('95 % t-interval over seeds: mean ± t(n−1)·s/√n', () => {
    const s = seedSummary([0.2, 0.3, 0.4]);
    expect(s.n).toBe(3);
    expect(s.mean).toBeCloseTo(0.3, 12);
    expect(s.std).toBeCloseTo(0.1, 12);
    // t(2) = 4.302653; 4.302653 · 0.1 / √3 = 0.2484138
    expect(s.ciLow).toBeCloseTo(0.3 - 0.2484138, 6);
    expect(s.ciHigh).toBeCloseTo(0.3 + 0.2484138, 6);
    const one = seedSummary([0.5]);
    expect(Number.isNaN(one.ciLow)).toBe(true);
    expect(one.std).toBe(0);
  });
  it('t quantiles: table values and the large-df expansion', () => {
    expect(tQuantile975(1)).toBeCloseTo(12.7062, 4);
    expect(tQuantile975(9)).toBeCloseTo(2.2622, 4);
    expect(tQuantile975(40)).toBeCloseTo(2.021075, 4);
    expect(tQuantile975(120)).toBeCloseTo(1.97993, 4);
    expect(() => tQuantile975(0)).toThrow(/degrees of freedom/);
  });
  it('type-7 quantiles', () => {
    expect(quantileSorted([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantileSorted([0, 10], 0.25)).toBe(2.5);
  });
  it('slope and correlation', () => {
    const r = slopeAndCorrelation([1, 2, 3], [2, 4, 6]);
    expect(r.slope).toBeCloseTo(2, 12);
    expect(r.r).toBeCloseTo(1, 12);
    expect(slopeAndCorrelation([1, 2, 3], [3, 2, 1]).r).toBeCloseTo(-1, 12);
  });
});

describe('bootstrap intervals', () => {
  const rng = new Rng(7);
  const a = Array.from({ length: 200 }, () => rng.uniform(0, 1));
  it('over queries: constant values give a zero-width interval; deterministic for a seed', () => {
    const c = bootstrapQueries([0.25, 0.25, 0.25], 'mean', { seed: 1 });
    expect([c.estimate, c.low, c.high]).toEqual([0.25, 0.25, 0.25]);
    const x = bootstrapQueries(a, 'mean', { seed: 3 });
    expect(bootstrapQueries(a, 'mean', { seed: 3 })).toEqual(x);
    expect(bootstrapQueries(a, 'mean', { seed: 4 }).low).not.toBe(x.low);
    // 400 hits/misses at p = 0.5: the interval is about 0.5 ± 1.96·0.025
    const hits = Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? 1 : 0));
    const h = bootstrapQueries(hits, 'mean', { seed: 1 });
    expect(h.low).toBeGreaterThan(0.44);
    expect(h.low).toBeLessThan(0.46);
    expect(h.high).toBeGreaterThan(0.54);
    expect(h.high).toBeLessThan(0.56);
  });
  it('paired: identical configurations → exactly [0, 0]', () => {
    const p = pairedBootstrap({ a: [a, a], b: [a, a], seedsA: [0, 1], seedsB: [0, 1] }, 'mean', { seed: 5 });
    expect(p).toMatchObject({ estimate: 0, low: 0, high: 0, seedPairing: 'paired', queries: 200, nA: 2, nB: 2 });
  });
  it('paired: a constant shift → the interval equals the shift (mean and median)', () => {
    const b = a.map((x) => x + 0.125);
    const p = pairedBootstrap({ a: [b], b: [a] }, 'mean', { seed: 1 });
    expect(p.estimate).toBeCloseTo(0.125, 12);
    expect(p.low).toBeCloseTo(0.125, 12);
    expect(p.high).toBeCloseTo(0.125, 12);
    const m = pairedBootstrap({ a: [a], b: [b] }, 'median', { seed: 1 });
    expect(m.low).toBeCloseTo(-0.125, 12);
    expect(m.high).toBeCloseTo(-0.125, 12);
  });
  it('paired over seeds: seed-to-seed spread widens the interval; unmatched seed sets are resampled independently; deterministic', () => {
    const a2 = a.map((x) => x + 0.05);
    const p = pairedBootstrap({ a: [a, a2], b: [a, a], seedsA: [0, 1], seedsB: [1, 0] }, 'mean', { seed: 9 });
    expect(p.estimate).toBeCloseTo(0.025, 12);
    expect(p.low).toBeCloseTo(0, 12); // both resampled seeds = seed 0 → 0
    expect(p.high).toBeCloseTo(0.05, 12);
    expect(pairedBootstrap({ a: [a, a2], b: [a, a], seedsA: [0, 1], seedsB: [1, 0] }, 'mean', { seed: 9 })).toEqual(p);
    expect(pairedBootstrap({ a: [a], b: [a, a] , seedsA: [0], seedsB: [0, 1] }).seedPairing).toBe('independent');
    expect(() => pairedBootstrap({ a: [a], b: [a.slice(1)] })).toThrow(/same gallery/);
  });
});

describe('metric registry', () => {
  it('directions, chance levels, prefixed keys; unknown keys list the known ones', () => {
    expect(metricDef('eval.val.fad').direction).toBe('lower');
    expect(metricDef('medianRank').direction).toBe('lower');
    expect(metricDef('eval.symmv.r1').direction).toBe('higher');
    expect(findMetric('eval.val.av_align')?.key).toBe('avAlign');
    expect(betterSign(metricDef('fad'))).toBe(1);
    expect(metricDef('r5').chance!(50)).toBeCloseTo(0.1, 12);
    expect(undefinedForGallery(metricDef('r10'), 7)).toBe(true);
    expect(undefinedForGallery(metricDef('r10'), 11)).toBe(false);
    // chance of R@1 on 70 clips = 1/70 = 0.0143; 2× = 0.0286
    expect(nearChance(metricDef('r1'), 0.028, 70)).toBe(true);
    expect(nearChance(metricDef('r1'), 0.03, 70)).toBe(false);
    expect(() => metricDef('eval.val.nope', '--metric')).toThrow(/--metric 'eval.val.nope' is not a known metric \(known: avAlignGot, avAlign, fad, r1/);
    expect(METRICS.filter((m) => m.direction === 'lower').map((m) => m.key)).toEqual(['fad', 'medianRank', 'meanRank', 'loss']);
  });
});

describe('configuration', () => {
  const base = { model: 'of-vm-net', features: 'clip', seed: '3', experiment: 'x', 'dataset.name': 'A', 'dataset.path': '/tmp/a', lr: '0.001', 'vmNet.dropout': '0.1', 'backend.tfjs': 'cpu', 'data.trainClips': '100' };
  it('drops the seed and bookkeeping; λ canonical so positive multiples coincide', () => {
    const c = configurationOf({ ...base, 'loss.lambdas.l1': '2', 'loss.lambdas.l2': '2', 'loss.lambdas.l3': '0.5' });
    expect(c).toEqual({ model: 'of-vm-net', features: 'clip', 'dataset.name': 'A', lr: '0.001', λ: '1:1:0.25:0.5:0.5:0.5' });
    const twice = configurationOf({ ...base, seed: '4', 'loss.lambdas.l1': '4', 'loss.lambdas.l2': '4', 'loss.lambdas.l3': '1', 'loss.lambdas.l4': '2', 'loss.lambdas.l5': '2', 'loss.lambdas.l6': '2' });
    expect(configurationKey(twice)).toBe(configurationKey(c));
    expect(canonicalLambdas([0, 0, 3, 3, 6, 6])).toBe('0:0:1:1:2:2');
    expect(configurationOf({ model: 'vm-net', features: 'i3d', 'loss.lambdas.l3': '0', 'vmNet.dropout': '0.1' })).toEqual({ model: 'vm-net', features: 'i3d', 'vmNet.dropout': '0.1' });
    expect(differingKeys([c, { ...c, λ: '1:1:1:1:1:1' }, { ...c, lr: '0.01' }])).toEqual(['λ', 'lr']);
    expect(lambdaRatio({ λ: '1:1:0.25:0.25:0.25:0.25' })).toBe(4);
    expect(lambdaRatio({ λ: '1:1:0:0:0:0' })).toBe(Infinity);
    // printed for people: never 'Infinity'
    expect([Infinity, 4, 0.25, 1 / 3, null].map((x) => formatLambdaRatio(x))).toEqual(['∞ (λ3–λ6 = 0)', '4', '0.25', '0.333', '?']);
  });
});
