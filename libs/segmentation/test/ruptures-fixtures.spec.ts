import * as fs from 'fs';
import * as path from 'path';
import { SegmentationTooShortError, segmentSignal, toSignal, createCost, directSegmentCost } from '../src';
import { sharedPath } from '@vmr/core';

const DIR = sharedPath('fixtures', 'ruptures');

interface DynpCase {
  n_bkps: number;
  expected_bkps?: number[];
  expected_total_cost?: number;
  segment_costs?: number[];
  expected_error?: string;
}
interface PeltCase {
  pen: number;
  expected_bkps?: number[];
  expected_total_cost?: number;
  expected_penalized_cost?: number;
  expected_error?: string;
}
interface Fixture {
  id: string;
  notes: string[];
  n_samples: number;
  n_dims: number;
  min_size: number;
  jump: number;
  signal: number[] | number[][];
  dynp: DynpCase[];
  pelt: PeltCase[];
}

const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const fixtures: Fixture[] = files.map((f) => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as Fixture);

/** README tolerance: relative 1e-9, absolute 1e-6 when |cost| < 1e3. */
function expectCostClose(actual: number, expected: number): void {
  const tol = Math.abs(expected) < 1e3 ? 1e-6 : 1e-9 * Math.abs(expected);
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol);
}

const tieSensitive = (fx: Fixture): boolean => fx.notes.some((n) => n.includes('TIE-SENSITIVE'));

test('the 20 published ruptures cases are present (more are picked up when added)', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(20);
  expect(fixtures.map((f) => f.id)).toContain('p20_real_bbb_0_30');
});

describe.each(fixtures.map((fx) => [fx.id, fx] as const))('%s', (_id, fx) => {
  const opts = { minSize: fx.min_size, jump: fx.jump, cost: 'normal' as const, input: fx.id };

  test.each(fx.dynp.map((c) => [c.n_bkps, c] as const))('Dynp n_bkps=%d', (nBkps, c) => {
    if (c.expected_error) {
      expect(() => segmentSignal(fx.signal, { ...opts, method: 'dynp', nBkps })).toThrow(SegmentationTooShortError);
      return;
    }
    const r = segmentSignal(fx.signal, { ...opts, method: 'dynp', nBkps });
    expectCostClose(r.totalCost, c.expected_total_cost as number);
    if (!tieSensitive(fx)) expect(r.breakpoints).toEqual(c.expected_bkps);
    else expect(r.breakpoints.length).toBe(nBkps + 1);
  });

  test.each(fx.pelt.map((c) => [c.pen, c] as const))('Pelt pen=%d', (penalty, c) => {
    if (c.expected_error) {
      expect(() => segmentSignal(fx.signal, { ...opts, method: 'pelt', penalty })).toThrow(SegmentationTooShortError);
      return;
    }
    const r = segmentSignal(fx.signal, { ...opts, method: 'pelt', penalty });
    expectCostClose(r.totalCost, c.expected_total_cost as number);
    expectCostClose(r.penalizedCost as number, c.expected_penalized_cost as number);
    if (!tieSensitive(fx)) expect(r.breakpoints).toEqual(c.expected_bkps);
  });

  test('prefix-sum segment costs match the oracle per segment', () => {
    const sig = toSignal(fx.signal, fx.id);
    const cost = createCost('normal', sig);
    for (const c of fx.dynp) {
      if (!c.segment_costs || !c.expected_bkps) continue;
      let s = 0;
      c.expected_bkps.forEach((e, i) => {
        const expected = (c.segment_costs as number[])[i];
        const tol = Math.max(1e-7, 1e-9 * Math.abs(expected));
        expect(Math.abs(cost.error(s, e) - expected)).toBeLessThanOrEqual(tol);
        expect(Math.abs(directSegmentCost('normal', sig, s, e) - expected)).toBeLessThanOrEqual(Math.max(1e-9, 1e-12 * Math.abs(expected)));
        s = e;
      });
    }
  });
});
