import * as fs from 'fs';
import * as path from 'path';
import { InvalidArgumentError, Rng, sharedPath } from '@vmr/core';
import { planClipSegments, rankByMeanFlow, segmentIndexArrays, type ClipSegmentPlan, type SkippedClip } from './plan';

/** 3 fps regimes: [seconds, level] → a noisy non-negative trajectory. */
function regimes(rng: Rng, parts: [number, number][]): Float64Array {
  const out: number[] = [];
  for (const [sec, level] of parts) for (let i = 0; i < sec * 3; i++) out.push(Math.abs(level + 0.1 * rng.normal()));
  return Float64Array.from(out);
}

const ok = (r: ReturnType<typeof planClipSegments>): ClipSegmentPlan => {
  if (r.status !== 'ok') throw new Error(`expected a plan, got skipped: ${r.message}`);
  return r;
};
const skipped = (r: ReturnType<typeof planClipSegments>): SkippedClip => {
  if (r.status !== 'skipped') throw new Error('expected a skipped clip');
  return r;
};

describe('rankByMeanFlow', () => {
  test('rank 1 = most motion; equal means: the earlier segment ranks first', () => {
    expect(rankByMeanFlow([1, 2, 2, 0])).toEqual([3, 1, 2, 4]);
    expect(rankByMeanFlow([5, 5, 5])).toEqual([1, 2, 3]);
    expect(rankByMeanFlow([0.5])).toEqual([1]);
  });
});

describe('planClipSegments', () => {
  const flow = regimes(new Rng(1), [[30, 1], [40, 5], [50, 2.5]]); // 120 s, 360 samples

  test('three regimes → boundaries in whole seconds, ranks, top/bottom, [S, L] arrays', () => {
    const p = ok(planClipSegments(flow, { flowFps: 3, featureLength: 120, segments: 3, clipId: 'c1' }));
    expect(p.breakpoints).toEqual([90, 210, 360]);
    expect(p.segments.map((s) => [s.start, s.end])).toEqual([[0, 30], [30, 70], [70, 120]]);
    expect(p.ranks).toEqual([3, 1, 2]);
    expect([p.top.start, p.top.end, p.top.rank]).toEqual([30, 70, 1]);
    expect([p.bottom.start, p.bottom.end, p.bottom.rank]).toEqual([0, 30, 3]);
    const m = Array.from(flow.subarray(90, 210)).reduce((a, b) => a + b, 0) / 120;
    expect(p.segments[1].meanFlow).toBeCloseTo(m, 12);
    expect([p.S, p.L, p.index.length, p.mask.length]).toEqual([3, 200, 600, 600]);
    // row 1 = seconds 30..69 then padding
    expect(Array.from(p.index.subarray(200, 200 + 41))).toEqual([...Array.from({ length: 40 }, (_, i) => 30 + i), 0]);
    expect(p.mask.subarray(200, 400).reduce((a, b) => a + b, 0)).toBe(40);
    expect(p.mask[200 + 39]).toBe(1);
    expect(p.mask[200 + 40]).toBe(0);
    expect(Array.from(p.segmentMask)).toEqual([1, 1, 1]);
    expect(p.dropped).toEqual([]);
  });

  test('the last segment ends at the feature length (T rows), not at n / flowFps', () => {
    const p = ok(planClipSegments(flow, { flowFps: 3, featureLength: 119, segments: 3 }));
    expect(p.segments[2].end).toBe(119);
  });

  test('paper protocol drops a segment longer than maxSegmentSeconds; ranks among the kept ones', () => {
    const p = ok(planClipSegments(flow, { flowFps: 3, featureLength: 120, segments: 3, maxSegmentSeconds: 45 }));
    expect(p.dropped.map((s) => [s.start, s.end])).toEqual([[70, 120]]);
    expect(p.segments.map((s) => [s.start, s.end])).toEqual([[0, 30], [30, 70]]);
    expect(p.ranks).toEqual([2, 1]);
    expect(Array.from(p.segmentMask)).toEqual([1, 1, 0]);
    expect(p.mask.subarray(400, 600).every((v) => v === 0)).toBe(true);
  });

  test('vmr-code protocol drops the whole clip, with the reason', () => {
    const r = skipped(planClipSegments(flow, { flowFps: 3, featureLength: 120, segments: 3, maxSegmentSeconds: 45, protocol: 'vmr-code', clipId: 'v9' }));
    expect(r.reason).toBe('segment-too-long');
    expect(r.message).toMatch(/^v9: segment 2 lasts 50 s > maxSegmentSeconds 45/);
  });

  test('a clip too short for S segments is skipped (not thrown) with needed/given', () => {
    const r = skipped(planClipSegments(flow.subarray(0, 299), { flowFps: 3, featureLength: 99, clipId: 'short' }));
    expect(r.reason).toBe('too-short');
    expect(r.details).toMatchObject({ needed: 300, given: 299, segments: 10, minSize: 30, jump: 3 });
    expect(r.message).toMatch(/299 flow samples \(99\.7 s\).*300 samples \(100\.0 s\) are needed/);
  });

  test('empty / non-finite flow and features shorter than the boundaries are skipped', () => {
    expect(skipped(planClipSegments([], { flowFps: 3, featureLength: 0 })).reason).toBe('empty-flow');
    const bad = Float64Array.from(flow);
    bad[17] = NaN;
    const r = skipped(planClipSegments(bad, { flowFps: 3, featureLength: 120, segments: 3 }));
    expect([r.reason, r.details.index]).toEqual(['non-finite-flow', 17]);
    expect(skipped(planClipSegments(flow, { flowFps: 3, featureLength: 60, segments: 3 })).reason).toBe('features-too-short');
  });

  test('invalid options throw InvalidArgumentError naming the clip', () => {
    expect(() => planClipSegments(flow, { flowFps: 0, featureLength: 120, clipId: 'z' })).toThrow(/z\).*flowFps/);
    expect(() => planClipSegments(flow, { flowFps: 3, featureLength: 120, maxSegmentSeconds: 300 })).toThrow(InvalidArgumentError);
    expect(() => planClipSegments(flow, { flowFps: 3, featureLength: 1.5 })).toThrow(/featureLength/);
    expect(() => planClipSegments(flow, { flowFps: 3, featureLength: 120, protocol: 'x' as 'paper' })).toThrow(/protocol/);
  });

  test('real trajectory (bbb_0_30, 3 fps): boundaries from the ruptures oracle p20 converted to seconds', () => {
    const fx = JSON.parse(
      fs.readFileSync(sharedPath('fixtures', 'ruptures', 'p20_real_bbb_0_30.json'), 'utf8'),
    ) as { signal: number[]; dynp: { n_bkps: number; expected_bkps: number[] }[] };
    const oracle = fx.dynp.find((c) => c.n_bkps === 2)!.expected_bkps; // [9, 72, 90] with min 9, jump 3
    const p = ok(planClipSegments(fx.signal, { flowFps: 3, featureLength: 30, segments: 3, minSegmentSeconds: 3, jumpSeconds: 1 }));
    expect(p.breakpoints).toEqual(oracle);
    expect(p.segments.map((s) => [s.start, s.end])).toEqual([[0, 3], [3, 24], [24, 30]]);
    const means = [[0, 9], [9, 72], [72, 90]].map(([a, b]) => fx.signal.slice(a, b).reduce((x, y) => x + y, 0) / (b - a));
    expect(p.ranks).toEqual(rankByMeanFlow(means));
    expect(p.segments[0].meanFlow).toBeCloseTo(means[0], 12);
  });
});

describe('segmentIndexArrays', () => {
  test('pads rows and rejects segments that do not fit L', () => {
    const a = segmentIndexArrays([{ start: 5, end: 8 }], 2, 4);
    expect(Array.from(a.index)).toEqual([5, 6, 7, 0, 0, 0, 0, 0]);
    expect(Array.from(a.mask)).toEqual([1, 1, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(a.segmentMask)).toEqual([1, 0]);
    expect(() => segmentIndexArrays([{ start: 0, end: 5 }], 1, 4)).toThrow(/1\.\.4 whole seconds/);
    expect(() => segmentIndexArrays([{ start: 0, end: 1 }, { start: 1, end: 2 }], 1, 4)).toThrow(/do not fit S = 1/);
  });
});
