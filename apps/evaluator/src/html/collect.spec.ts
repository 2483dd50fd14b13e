import type { EvalRow, StoredMetricPoint } from '@vmr/tracking';
import { binSeries, lambdaScatters, paretoIndices } from './collect';
import { shortLambdas } from './charts';
import { escapeHtml } from './page';

describe('paretoIndices (both coordinates maximised)', () => {
  it('keeps exactly the non-dominated points (hand-checked set)', () => {
    // A(.4,.2) B(.3,.3) C(.25,.25)<B  D(.1,.35) E(.35,.15)<A
    const pts = [
      { x: 0.4, y: 0.2 },
      { x: 0.3, y: 0.3 },
      { x: 0.25, y: 0.25 },
      { x: 0.1, y: 0.35 },
      { x: 0.35, y: 0.15 },
    ];
    expect(paretoIndices(pts)).toEqual([0, 1, 3]);
  });

  it('treats ties on one axis correctly and keeps duplicates of an optimal point', () => {
    // (1,1) dominates (1,0.5) (equal x, higher y); the two (1,1) do not dominate each other.
    expect(paretoIndices([{ x: 1, y: 1 }, { x: 1, y: 0.5 }, { x: 1, y: 1 }])).toEqual([0, 2]);
  });

  it('ignores non-finite points (never on the front, never dominating)', () => {
    expect(paretoIndices([{ x: NaN, y: 9 }, { x: 0.1, y: 0.1 }, { x: Infinity, y: 1 }])).toEqual([1]);
  });
});

describe('binSeries', () => {
  const pts = (values: number[]): StoredMetricPoint[] => values.map((value, i) => ({ key: 'train.loss', value, step: i + 1, timestamp: 0 }));

  it('returns the raw points when they fit', () => {
    const r = binSeries(pts([3, 2, 1]), 5);
    expect(r.bin).toBe(1);
    expect(r.points).toEqual([
      { step: 1, value: 3 },
      { step: 2, value: 2 },
      { step: 3, value: 1 },
    ]);
  });

  it('averages consecutive steps: 7 points into ≤3 → bins of 3 (means by hand)', () => {
    const r = binSeries(pts([1, 2, 3, 4, 5, 6, 7]), 3);
    expect(r.bin).toBe(3);
    expect(r.points).toEqual([
      { step: 2, value: 2 },
      { step: 5, value: 5 },
      { step: 7, value: 7 },
    ]);
  });

  it('drops and counts non-finite values', () => {
    const r = binSeries(pts([1, NaN, 3, Infinity]), 10);
    expect(r.nonFinite).toBe(2);
    expect(r.points.map((p) => p.value)).toEqual([1, 3]);
  });
});

function evalRow(o: { id: string; lambdas: string; model?: string; features?: string; r1?: number; avAlign?: number; t?: number; dataset?: string }): EvalRow {
  return {
    evalRunId: `e${o.id}`,
    trainRunId: `t${o.id}`,
    experiment: 'x',
    evalStartTime: o.t ?? 1,
    model: o.model ?? 'of-vm-net',
    features: o.features ?? 'resnet',
    seed: 0,
    trainProtocol: 'paper',
    lambdas: o.lambdas,
    trainDataset: 'a',
    evalDataset: o.dataset ?? 'a',
    evalDatasetKind: 'synthetic',
    synthetic: true,
    split: 'test',
    direction: 'video-to-music',
    evalProtocol: 'paper',
    retrievalProtocol: 'full',
    table: null,
    config: { model: o.model ?? 'of-vm-net', features: o.features ?? 'resnet', λ: o.lambdas },
    reference: false,
    trainOverlap: 0,
    metrics: { ...(o.r1 !== undefined ? { r1: o.r1 } : {}), ...(o.avAlign !== undefined ? { avAlign: o.avAlign } : {}) },
    params: {},
    trainParams: {},
  };
}

describe('lambdaScatters', () => {
  it('averages seeds of one λ setting, marks the front, counts evaluations lacking a metric', () => {
    const rows = [
      evalRow({ id: '1', lambdas: 'l1=1', r1: 0.2, avAlign: 0.4 }),
      evalRow({ id: '2', lambdas: 'l1=1', r1: 0.4, avAlign: 0.2 }), // same setting: mean (0.3, 0.3), std 0.1414
      evalRow({ id: '3', lambdas: 'l1=2', r1: 0.25, avAlign: 0.25 }), // dominated by (0.3, 0.3)
      evalRow({ id: '4', lambdas: 'l1=0', r1: 0.5, avAlign: 0.1 }),
      evalRow({ id: '5', lambdas: 'l1=3', r1: 0.9 }), // no AV-Align
      evalRow({ id: '6', lambdas: 'l1=1', r1: 0.1, avAlign: 0.1, dataset: 'b' }),
    ];
    const [a, b] = lambdaScatters(rows);
    expect(a.evalDataset).toBe('a');
    expect(a.skipped).toBe(1);
    expect(a.points.map((p) => [p.lambdas, p.runs, p.pareto])).toEqual([
      ['l1=0', 1, true],
      ['l1=1', 2, true],
      ['l1=2', 1, false],
    ]);
    const mid = a.points[1];
    expect(mid.r1).toBeCloseTo(0.3, 12);
    expect(mid.avAlign).toBeCloseTo(0.3, 12);
    expect(mid.r1Std).toBeCloseTo(Math.SQRT2 / 10, 12);
    // 95 % t-interval over 2 seeds: 0.3 ± 12.706205 · 0.1 = [−0.9706, 1.5706], cut at R@1's range [0, 1]
    expect([mid.r1Low, mid.r1High]).toEqual([0, 1]);
    expect(mid.label).toBe('λ=l1=1');
    expect(a.differing).toEqual(['λ']);
    expect(b.evalDataset).toBe('b');
    expect(b.points).toHaveLength(1);
    expect(b.points[0].pareto).toBe(true);
  });
});

describe('small helpers', () => {
  it('shortLambdas names the λs that differ from 1', () => {
    expect(shortLambdas('l1=1,l2=1,l3=0,l4=1,l5=1,l6=1')).toBe('l3=0');
    expect(shortLambdas('l1=1,l2=1,l3=1,l4=1,l5=1,l6=1')).toBe('all λ=1');
    expect(shortLambdas('')).toBe('VM-Net');
  });

  it('escapeHtml escapes markup and quotes', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
