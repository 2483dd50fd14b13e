import { RESULT_COLUMNS, type ResultTable } from '@vmr/tracking';
import { extractorSpec, lossCurveSpec, metricLabel, paretoSpec, renderSvg, valCurveSpec, valOverviewSpec } from './charts';
import type { LambdaScatter, RunSummary } from './collect';

/** Data-mark items per mark type in a vega SVG: `<g class="mark-<type> role-mark …">` children. */
function markItems(svg: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of svg.matchAll(/<g class="mark-(\w+) role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)) {
    const n = (m[2].match(/<(path|text|line)\b/g) ?? []).length;
    out[m[1]] = (out[m[1]] ?? 0) + n;
  }
  return out;
}

function run(over: Partial<RunSummary> = {}): RunSummary {
  const loss = [];
  for (const key of ['train.loss', 'train.l1', 'train.l2']) for (let s = 1; s <= 10; s++) loss.push({ key, step: s, value: 1 / s });
  const val = [];
  for (const key of ['val.r1', 'val.r5', 'val.r10']) for (let e = 1; e <= 2; e++) val.push({ key, step: e, value: 0.1 * e });
  return {
    id: '0123456789abcdef0123456789abcdef',
    name: 'of-vm-net/resnet/seed0',
    status: 'finished',
    model: 'of-vm-net',
    features: 'resnet',
    seed: 0,
    lambdas: 'l1=1,l2=1,l3=1,l4=1,l5=1,l6=1',
    lambda: '1:1:1:1:1:1',
    dataset: 'a',
    startTime: 0,
    params: {},
    tags: {},
    latest: {},
    lossKeys: ['train.loss', 'train.l1', 'train.l2'],
    loss,
    lossBin: 1,
    lossNonFinite: 0,
    val,
    hasCurves: true,
    evals: [],
    ...over,
  };
}

describe('charts: Vega-Lite specs rendered to SVG by vega (headless)', () => {
  it('loss curves: one line per term', async () => {
    const warnings: string[] = [];
    const svg = await renderSvg(lossCurveSpec(run()), warnings);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(markItems(svg)).toEqual({ line: 3 });
    expect(svg).toContain('total');
    expect(warnings).toEqual([]);
  });

  it('validation curves: one line and one point per epoch per metric', async () => {
    const warnings: string[] = [];
    const svg = await renderSvg(valCurveSpec(run()), warnings);
    expect(markItems(svg)).toEqual({ line: 3, symbol: 6 });
    expect(svg).toContain('R@10');
    expect(warnings).toEqual([]);
  });

  it('validation overview: one line per run (R@1 only)', async () => {
    const warnings: string[] = [];
    const svg = await renderSvg(valOverviewSpec([run(), run({ id: 'f'.repeat(32), name: 'other' })]), warnings);
    expect(markItems(svg)).toEqual({ line: 2, symbol: 4 });
    expect(warnings).toEqual([]);
  });

  it('Pareto scatter: a symbol per configuration coloured by its λ setting, 95 % whiskers on both axes, one front line, a label per front point', async () => {
    const mk = (lambda: string, r1: number, avAlign: number, pareto: boolean, runs = 1) => ({
      lambdas: '', lambda, ratio: 1, label: `λ=${lambda}`, config: { λ: lambda }, model: 'of-vm-net', features: 'resnet', runs, seeds: [0], trainRunIds: ['t'],
      r1, r1Std: 0, r1Low: runs > 1 ? r1 - 0.05 : NaN, r1High: runs > 1 ? r1 + 0.05 : NaN, avAlign, avAlignStd: 0, avAlignLow: runs > 1 ? avAlign - 0.02 : NaN, avAlignHigh: runs > 1 ? avAlign + 0.02 : NaN, cells: {}, reference: false, pareto,
    });
    const s: LambdaScatter = {
      evalDataset: 'a',
      split: 'test',
      synthetic: true,
      skipped: 0,
      differing: ['λ'],
      points: [mk('1:1:0:1:1:1', 0.4, 0.2, true, 3), mk('1:1:1:1:1:1', 0.3, 0.3, true), mk('1:1:2:1:1:1', 0.25, 0.25, false), mk('1:1:4:1:1:1', 0.1, 0.35, true)],
    };
    const warnings: string[] = [];
    const svg = await renderSvg(paretoSpec(s), warnings);
    // 4 points, 4 horizontal + 4 vertical whiskers (zero-length for one seed), the front line, 3 front labels
    expect(markItems(svg)).toEqual({ line: 1, rule: 8, symbol: 4, text: 3 });
    const labels = [...svg.matchAll(/<g class="mark-text role-mark[^>]*>(.*?)<\/g>/gs)].flatMap((m) => [...m[1].matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1]));
    expect(labels.sort()).toEqual(['λ 1:1:0:1:1:1', 'λ 1:1:1:1:1:1', 'λ 1:1:4:1:1:1']); // dominated λ3 = 2: no label
    // Hover: each point carries its setting and values as an SVG <title> (native tooltip).
    expect(svg).toMatch(/<path [^>]*aria-roledescription="point"[^>]*><title>[^<]*setting: λ=1:1:2:1:1:1;[^<]*λ: 1:1:2:1:1:1;[^<]*R@1: 0\.250[^<]*<\/title><\/path>/);
    // a legend entry per λ setting (colour)
    for (const l of ['λ=1:1:0:1:1:1', 'λ=1:1:4:1:1:1']) expect(svg).toContain(l);
    expect(warnings).toEqual([]);
  });

  it('per-extractor bars: a bar and a whisker per (row, metric) panel', async () => {
    const cell = (mean: number, std = 0.01) => ({ n: 2, mean, std, best: false, ciLow: mean - 0.1, ciHigh: mean + 0.1, ciMethod: 't-over-seeds' as const, values: [] });
    const t: ResultTable = {
      id: '1',
      title: 'Table 1',
      experiment: 'x',
      trainDatasets: ['a'],
      evalDataset: 'a',
      evalDatasetKind: 'synthetic',
      synthetic: true,
      splits: ['test'],
      gallerySizes: [40],
      evalProtocols: ['paper'],
      retrievalProtocols: ['full'],
      directions: ['video-to-music'],
      differing: [],
      trainOverlap: 0,
      flags: [],
      columns: RESULT_COLUMNS,
      rows: [
        { model: 'vm-net', features: 'resnet', config: {}, label: '', reference: false, evalRunIds: [], runs: 2, seeds: [0, 1], cells: { r1: cell(0.3), avAlign: cell(0.2) } },
        { model: 'of-vm-net', features: 'resnet', config: {}, label: '', reference: false, evalRunIds: [], runs: 2, seeds: [0, 1], cells: { r1: cell(0.25), avAlign: cell(0.3) } },
      ],
    };
    const warnings: string[] = [];
    const svg = await renderSvg(extractorSpec(t), warnings);
    // 2 panels (R@1, AV-ALIGN) × 2 rows: 4 bars, 4 whiskers.
    expect(markItems(svg)).toEqual({ rect: 4, rule: 4 });
    expect(warnings).toEqual([]);
  });

  it('escapes data text (run names) in labels and hover titles', async () => {
    const svg = await renderSvg(valOverviewSpec([run({ name: '<script>alert(1)</script>&' })]));
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&amp;');
  });

  it('metricLabel', () => {
    expect(metricLabel('val.r10')).toBe('R@10');
    expect(metricLabel('train.loss')).toBe('total');
    expect(metricLabel('train.ofTop')).toBe('ofTop');
  });
});
