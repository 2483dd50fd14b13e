import { InsufficientDataError, InvalidArgumentError, Rng } from '@vmr/core';
import { positiveRanks, retrievalMetrics } from './retrieval';

// rows = videos (queries), columns = music; the correct item of row i is column i.
const S = [
  [0.9, 0.5, 0.9], // correct item tied with item 2 (a later index)
  [0.7, 0.7, 0.1], // correct item tied with item 0 (an earlier index)
  [0.3, 0.8, 0.2], // correct item last
];

describe('retrievalMetrics: hand-computed 3×3 with ties', () => {
  it('optimistic', () => {
    const r = retrievalMetrics(S, { tiePolicy: 'optimistic', ks: [1, 2, 3] });
    expect(r.ranks).toEqual([1, 1, 3]);
    expect(r.recall[1]).toBeCloseTo(2 / 3, 12);
    expect(r.recall[2]).toBeCloseTo(2 / 3, 12);
    expect(r.recall[3]).toBe(1);
    expect(r.medianRank).toBe(1);
    expect(r.meanRank).toBeCloseTo(5 / 3, 12);
    expect(r.mAP).toBeCloseTo(7 / 9, 12);
  });
  it('pessimistic (the default)', () => {
    const r = retrievalMetrics(S, { ks: [1, 2] });
    expect(r.tiePolicy).toBe('pessimistic');
    expect(r.ranks).toEqual([2, 2, 3]);
    expect(r.recall[1]).toBe(0);
    expect(r.recall[2]).toBeCloseTo(2 / 3, 12);
    expect(r.medianRank).toBe(2);
    expect(r.meanRank).toBeCloseTo(7 / 3, 12);
    expect(r.mAP).toBeCloseTo(4 / 9, 12);
  });
  it('stable (gallery order breaks ties)', () => {
    const r = retrievalMetrics(S, { tiePolicy: 'stable', ks: [1] });
    expect(r.ranks).toEqual([1, 2, 3]);
    expect(r.recall[1]).toBeCloseTo(1 / 3, 12);
    expect(r.medianRank).toBe(2);
    expect(r.meanRank).toBe(2);
    expect(r.mAP).toBeCloseTo(11 / 18, 12);
  });
  it('records gallery size, direction, protocol; music-to-video ranks columns', () => {
    const v2m = retrievalMetrics(S);
    expect(v2m).toMatchObject({ gallerySize: 3, queries: 3, direction: 'video-to-music', protocol: 'full' });
    const m2v = retrievalMetrics(S, { direction: 'music-to-video', ks: [1] });
    // col 0: [0.9,0.7,0.3] → 1; col 1: [0.5,0.7,0.8] → 2; col 2: [0.9,0.1,0.2] → 2
    expect(m2v.ranks).toEqual([1, 2, 2]);
    expect(m2v.recall[1]).toBeCloseTo(1 / 3, 12);
    expect(m2v.direction).toBe('music-to-video');
  });
  it('even number of queries: the median averages the two middle ranks', () => {
    const r = retrievalMetrics([
      [1, 0, 0, 0],
      [0.5, 0.2, 0.9, 0.1],
      [0.1, 0.9, 0.3, 0.8],
      [1, 2, 3, 0],
    ]);
    expect(r.ranks).toEqual([1, 3, 3, 4]);
    expect(r.medianRank).toBe(3);
    expect(retrievalMetrics([[1, 0], [1, 0]]).medianRank).toBe(1.5);
  });
});

describe('retrievalMetrics: multi-positive', () => {
  const row = [0.5, 0.9, 0.5, 0.7]; // positives {0, 3}; item 0 ties with negative item 2
  it('ranks of every correct item per tie policy', () => {
    expect(positiveRanks(row, [0, 3], 'stable')).toEqual([2, 3]);
    expect(positiveRanks(row, [0, 3], 'optimistic')).toEqual([2, 3]);
    expect(positiveRanks(row, [0, 3], 'pessimistic')).toEqual([2, 4]);
  });
  it('rank = best correct item; AP over all correct items', () => {
    const sim = [row, [0, 1, 0, 0]];
    const r = retrievalMetrics(sim, { positives: [[3, 0], [1]], tiePolicy: 'pessimistic', ks: [1, 2] });
    expect(r.ranks).toEqual([2, 1]);
    expect(r.recall[1]).toBe(0.5);
    expect(r.recall[2]).toBe(1);
    expect(r.mAP).toBeCloseTo((0.5 * (1 / 2 + 2 / 4) + 1) / 2, 12);
    const o = retrievalMetrics(sim, { positives: [[0, 3], [1]], tiePolicy: 'optimistic' });
    expect(o.mAP).toBeCloseTo(((1 / 2 + 2 / 3) / 2 + 1) / 2, 12);
  });
  it('a query without correct items is skipped and counted', () => {
    const r = retrievalMetrics([[1, 0], [0, 1]], { positives: [[0], []] });
    expect(r.queries).toBe(1);
    expect(r.queriesWithoutPositives).toBe(1);
  });
});

describe('retrievalMetrics: chance level', () => {
  it('random similarities give R@1 ≈ 1/N, R@5 ≈ 5/N and mean rank ≈ (N+1)/2 over many trials', () => {
    const rng = new Rng(123);
    const n = 50;
    const trials = 200;
    let r1 = 0, r5 = 0, mean = 0;
    for (let t = 0; t < trials; t++) {
      const data = new Float64Array(n * n);
      for (let i = 0; i < data.length; i++) data[i] = rng.next();
      const r = retrievalMetrics({ rows: n, cols: n, data }, { ks: [1, 5] });
      r1 += r.recall[1] / trials;
      r5 += r.recall[5] / trials;
      mean += r.meanRank / trials;
    }
    // standard errors: R@1 ≈ 0.0014, R@5 ≈ 0.003, mean rank ≈ 0.14 — bounds at ≥ 4 s.e.
    expect(Math.abs(r1 - 1 / n)).toBeLessThan(0.006);
    expect(Math.abs(r5 - 5 / n)).toBeLessThan(0.013);
    expect(Math.abs(mean - (n + 1) / 2)).toBeLessThan(0.6);
  });
});

describe('retrievalMetrics: batch-128 protocol', () => {
  it('ranks within seeded shuffled batches, drops the incomplete last batch', () => {
    const n = 300;
    // Item i's only stronger distractor is item (i+1) mod n: full-gallery rank is always 2.
    const data = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      data[i * n + i] = 0.5;
      data[i * n + ((i + 1) % n)] = 1;
    }
    const full = retrievalMetrics({ rows: n, cols: n, data }, { ks: [1] });
    expect(full.recall[1]).toBe(0);
    const r = retrievalMetrics({ rows: n, cols: n, data }, { protocol: 'batch-128', seed: 5, ks: [1, 2] });
    expect(r).toMatchObject({ protocol: 'batch-128', batches: 2, droppedClips: 44, gallerySize: 128, queries: 256 });
    // Expected R@1: the share of queries whose distractor fell outside their batch, from the same shuffle.
    const perm = new Rng(5).permutation(n);
    const batchOf = new Map<number, number>();
    perm.slice(0, 256).forEach((g, k) => batchOf.set(g, Math.floor(k / 128)));
    let hits = 0;
    for (const g of perm.slice(0, 256)) if (batchOf.get((g + 1) % n) !== batchOf.get(g)) hits++;
    expect(r.recall[1]).toBeCloseTo(hits / 256, 12);
    expect(r.recall[1]).toBeGreaterThan(0.3);
    expect(r.recall[2]).toBe(1);
    // reproducible for a seed
    expect(retrievalMetrics({ rows: n, cols: n, data }, { protocol: 'batch-128', seed: 5 }).ranks).toEqual(r.ranks);
  });
  it('needs one full batch', () => {
    expect(() => retrievalMetrics(S, { protocol: 'batch-128' })).toThrow(InsufficientDataError);
  });
});

describe('retrievalMetrics: bad input', () => {
  it('rejects non-square without positives, NaN, bad k, bad policy, out-of-range positives', () => {
    expect(() => retrievalMetrics([[1, 2, 3], [4, 5, 6]])).toThrow(/must be square/);
    expect(() => retrievalMetrics([[1, NaN], [0, 1]])).toThrow(InvalidArgumentError);
    expect(() => retrievalMetrics(S, { ks: [0] })).toThrow(/ks must be/);
    expect(() => retrievalMetrics(S, { tiePolicy: 'random' as never })).toThrow(/unknown tie policy/);
    expect(() => retrievalMetrics(S, { positives: [[0], [5], [2]] })).toThrow(/positives\[1\] contains 5/);
  });
});
