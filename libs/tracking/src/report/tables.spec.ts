import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SqliteTracker } from '../sqlite-tracker';
import { queryEvalRows, latestPerTrainRun, lambdaKey, type EvalRow } from './eval-rows';
import { buildResultTables, compareEvalRows, meanStd } from './tables';

function row(over: Partial<EvalRow> & { metrics: EvalRow['metrics'] }): EvalRow {
  const model = over.model ?? 'of-vm-net';
  const features = over.features ?? 'clip';
  return {
    config: { model, features, 'dataset.name': 'A', ...(model === 'of-vm-net' ? { λ: '1:1:1:1:1:1' } : {}) },
    reference: false,
    trainOverlap: 0,
    evalRunId: Math.random().toString(16).slice(2),
    trainRunId: Math.random().toString(16).slice(2),
    experiment: 'x',
    evalStartTime: 1,
    model: 'of-vm-net',
    features: 'clip',
    seed: 0,
    trainProtocol: 'paper',
    lambdas: 'l1=1,l2=1,l3=1,l4=1,l5=1,l6=1',
    trainDataset: 'A',
    evalDataset: 'A',
    evalDatasetKind: 'synthetic',
    synthetic: true,
    split: 'val',
    direction: 'video-to-music',
    evalProtocol: 'paper',
    retrievalProtocol: 'full',
    table: null,
    params: {},
    trainParams: {},
    ...over,
  };
}

describe('meanStd', () => {
  it('uses the n−1 sample standard deviation', () => {
    expect(meanStd([2, 4, 9])).toEqual({ mean: 5, std: Math.sqrt((9 + 1 + 16) / 2) });
    expect(meanStd([0.7])).toEqual({ mean: 0.7, std: 0 });
  });
});

describe('buildResultTables', () => {
  const rows = [
    row({ seed: 0, metrics: { r1: 0.2, fad: 10, avAlignGot: 0.6, avAlign: 0.5, gallerySize: 30 } }),
    row({ seed: 1, metrics: { r1: 0.4, fad: 12, avAlignGot: 0.6, avAlign: 0.7, gallerySize: 30 } }),
    row({ model: 'vm-net', lambdas: '', metrics: { r1: 0.5, fad: 20, avAlignGot: 0.6, avAlign: 0.55, gallerySize: 30 } }),
    row({ model: 'vm-net', features: 'i3d', lambdas: '', metrics: { r1: 0.1, fad: 8, avAlignGot: 0.6, avAlign: 0.6, gallerySize: 30 } }),
    row({ evalDataset: 'B', split: 'all', metrics: { r1: 0.05, fad: 40, gallerySize: 100 } }),
  ];
  const tables = buildResultTables(rows);

  it('splits in-distribution (Table 1) from out-of-distribution (Table 2)', () => {
    expect(tables.map((t) => [t.id, t.evalDataset])).toEqual([
      ['1', 'A'],
      ['2', 'B'],
    ]);
    expect(tables[0].title).toMatch(/in-distribution — trained and evaluated on A \(val split\)/);
    expect(tables[1].title).toMatch(/out-of-distribution — trained on A, evaluated on B \(all split\)/);
    expect(tables[1].gallerySizes).toEqual([100]);
    expect(tables[0].synthetic).toBe(true);
  });

  it('one row per configuration in feature-then-model order, mean ± std and t-interval over seeds', () => {
    const t = tables[0];
    expect(t.rows.map((r) => `${r.model}/${r.features}/${r.runs}`)).toEqual(['vm-net/clip/1', 'of-vm-net/clip/2', 'vm-net/i3d/1']);
    const of = t.rows[1];
    expect(of.seeds).toEqual([0, 1]);
    expect(of.cells.r1!.mean).toBeCloseTo(0.3, 12);
    expect(of.cells.r1!.std).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(of.cells.fad!.mean).toBe(11);
    expect(of.cells.medianRank).toBeUndefined();
    // t(1) = 12.706205: 0.3 ± 12.706205 · √0.02 / √2 = 0.3 ± 1.2706205 = [−0.97, 1.57], cut at R@1's range [0, 1]
    expect([of.cells.r1!.ciLow, of.cells.r1!.ciHigh]).toEqual([0, 1]);
    expect(of.cells.r1!.ciTruncated).toBe(true);
    // FAD 10, 12: 11 ± 12.706205 · √2 / √2 = [−1.706, 23.706] → [0, 23.706205]; AV-Align 0.5, 0.7: [−0.67, 1.87] → [0, 1]
    expect(of.cells.fad!.ciLow).toBe(0);
    expect(of.cells.fad!.ciHigh).toBeCloseTo(11 + 12.706205, 5);
    expect([of.cells.avAlign!.ciLow, of.cells.avAlign!.ciHigh]).toEqual([0, 1]);
    // an interval inside the range is untouched: R@1 0.30, 0.32, 0.34 → 0.32 ± 4.302653 · 0.02 / √3
    const tight = buildResultTables([0.3, 0.32, 0.34].map((r1, seed) => row({ seed, metrics: { r1, gallerySize: 30 } })))[0].rows[0].cells.r1!;
    expect(tight.ciLow).toBeCloseTo(0.32 - (4.302653 * 0.02) / Math.sqrt(3), 6);
    expect(tight.ciHigh).toBeCloseTo(0.32 + (4.302653 * 0.02) / Math.sqrt(3), 6);
    expect(tight.ciTruncated).toBeUndefined();
    // R@10 on a 30-clip gallery is fine; a 7-clip gallery makes R@10 undefined
    const tiny = buildResultTables([row({ metrics: { r1: 0.2, r10: 1, gallerySize: 7 } })])[0];
    expect(tiny.rows[0].cells.r10).toMatchObject({ undefinedFor: 7, n: 0 });
    expect(tiny.flags.join(' ')).toMatch(/Small gallery \(7 < 100 clips\)/);
    expect(tiny.flags.join(' ')).toMatch(/Not reported: R@10 \(gallery 7\)/);
  });

  it('rows never mix λ settings: different λ are split and the λ column shown; positive multiples coincide', () => {
    const mk = (λ: string, seed: number, r1: number) => row({ seed, config: { model: 'of-vm-net', features: 'clip', 'dataset.name': 'A', λ }, metrics: { r1, gallerySize: 30 } });
    const t = buildResultTables([mk('1:1:1:1:1:1', 0, 0.2), mk('1:1:1:1:1:1', 1, 0.3), mk('1:1:0.25:0.25:0.25:0.25', 0, 0.5), mk('1:1:0.25:0.25:0.25:0.25', 1, 0.6)])[0];
    expect(t.differing).toEqual(['λ']);
    expect(t.rows.map((r) => [r.label, r.runs])).toEqual([
      ['λ=1:1:0.25:0.25:0.25:0.25', 2],
      ['λ=1:1:1:1:1:1', 2],
    ]);
  });

  it('marks a best value only when its interval excludes the runner-up (one-seed rows have none); GOT never', () => {
    const [vmClip, ofClip, vmI3d] = tables[0].rows;
    expect([vmClip, ofClip, vmI3d].some((r) => r.cells.r1!.best || r.cells.fad!.best || r.cells.avAlignGot!.best)).toBe(false);
    const mk = (model: string, seed: number, fad: number, r1: number) => row({ model, seed, lambdas: '', metrics: { fad, r1 } });
    // FAD: vm-net 1.0/1.1/1.2 (CI 1.1 ± 0.248) excludes of-vm-net's mean 3 → best (lower is better);
    // R@1: of-vm-net 0.1/0.5/0.9 (CI 0.5 ± 0.99) contains vm-net's 0.3 → not marked.
    const t = buildResultTables([mk('vm-net', 0, 1.0, 0.3), mk('vm-net', 1, 1.1, 0.3), mk('vm-net', 2, 1.2, 0.3), mk('of-vm-net', 0, 3, 0.1), mk('of-vm-net', 1, 3, 0.5), mk('of-vm-net', 2, 3, 0.9)])[0];
    const [vm, of] = t.rows;
    expect(vm.cells.fad!.best).toBe(true);
    expect(of.cells.fad!.best).toBe(false);
    expect(of.cells.r1!.best).toBe(false);
    expect(vm.cells.r1!.best).toBe(false);
  });

  it('an oracle row is a reference row: listed last, never best', () => {
    const o = row({ model: 'oracle-style', reference: true, config: { model: 'oracle-style' }, metrics: { r1: 0.99 } });
    const t = buildResultTables([...rows.slice(0, 2), o])[0];
    expect(t.rows.map((r) => [r.model, r.reference])).toEqual([['of-vm-net', false], ['oracle-style', true]]);
    expect(t.rows[1].cells.r1!.best).toBe(false);
  });

  it('"in-distribution" only for held-out val/test splits', () => {
    const t = buildResultTables([row({ split: 'all', metrics: { r1: 0.5 } })])[0];
    expect(t.title).toMatch(/NOT held out/);
    expect(t.title).not.toMatch(/in-distribution/);
  });

  it('an explicit table tag wins; repeated evaluations of one run count once (newest)', () => {
    const a = row({ trainRunId: 't', evalStartTime: 1, metrics: { r1: 0.1 } });
    const b = row({ trainRunId: 't', evalStartTime: 2, metrics: { r1: 0.9 }, table: '7' });
    expect(latestPerTrainRun([a, b])).toEqual([b]);
    const ts = buildResultTables([a, b]);
    expect(ts.map((t) => t.id)).toEqual(['7']);
    expect(ts[0].rows[0].cells.r1!.mean).toBe(0.9);
  });

  it('compare orders configurations by features / model / lambda per evaluation dataset, never merging configurations', () => {
    const byFeat = compareEvalRows(rows, 'features');
    expect(byFeat.map((c) => c.evalDataset)).toEqual(['A', 'B']);
    const a = byFeat[0];
    expect(a.groups.map((g) => [g.value, g.config.model, g.runs])).toEqual([
      ['clip', 'vm-net', 1],
      ['clip', 'of-vm-net', 2],
      ['i3d', 'vm-net', 1],
    ]);
    expect(a.groups[1].cells.r1!.mean).toBeCloseTo(0.3, 12);
    expect(a.spans.model).toEqual(['of-vm-net', 'vm-net']);
    const byLambda = compareEvalRows(rows, 'lambda')[0];
    expect(byLambda.groups.map((g) => g.value)).toEqual(['(vm-net: no λ)', '(vm-net: no λ)', '1:1:1:1:1:1']);
  });
});

describe('queryEvalRows (Drizzle over a real store)', () => {
  it('joins finished evaluations with their training runs; skips other runs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-report-'));
    const t = new SqliteTracker(path.join(dir, 'runs.db'), { heartbeatIntervalMs: 0 });
    try {
      const train = await t.startRun({ experiment: 'exp', seed: 3, protocol: 'paper', tags: { 'vmr.kind': 'train' } });
      await t.logParams(train.id, { model: 'of-vm-net', features: 'i3d', 'dataset.name': 'A', 'dataset.synthetic': true, 'loss.lambdas.l3': 0 });
      await t.endRun(train.id, 'finished');
      const ev = await t.startRun({ experiment: 'exp', parentId: train.id, protocol: 'paper', tags: { 'vmr.kind': 'eval', table: '2' } });
      await t.logParams(ev.id, { 'eval.dataset.name': 'B', 'eval.dataset.kind': 'synthetic', 'eval.split': 'all', 'eval.retrievalProtocol': 'full' });
      await t.logMetrics(ev.id, [
        { key: 'eval.r1', value: 0.25 },
        { key: 'eval.fad', value: 3.5 },
        { key: 'eval.avAlign', value: Number.NaN },
        { key: 'other', value: 1 },
      ]);
      await t.endRun(ev.id, 'finished');
      const failed = await t.startRun({ experiment: 'exp', parentId: train.id, tags: { 'vmr.kind': 'eval' } });
      await t.endRun(failed.id, 'failed', 'boom');
      const elsewhere = await t.startRun({ experiment: 'other', parentId: train.id, tags: { 'vmr.kind': 'eval' } });
      await t.endRun(elsewhere.id, 'finished');

      const rows = queryEvalRows(t.db, { experiment: 'exp' });
      expect(rows).toHaveLength(1);
      const r = rows[0];
      expect(r).toMatchObject({
        evalRunId: ev.id,
        trainRunId: train.id,
        model: 'of-vm-net',
        features: 'i3d',
        seed: 3,
        trainDataset: 'A',
        evalDataset: 'B',
        split: 'all',
        table: '2',
        synthetic: true,
        lambdas: 'l1=1,l2=1,l3=0,l4=1,l5=1,l6=1',
        reference: false,
      });
      expect(r.config).toEqual({ model: 'of-vm-net', features: 'i3d', 'dataset.name': 'A', λ: '1:1:0:1:1:1' });
      expect(r.metrics).toEqual({ r1: 0.25, fad: 3.5 });
      expect(queryEvalRows(t.db, { experiment: 'exp', status: ['finished', 'failed'] })).toHaveLength(2);
      expect(queryEvalRows(t.db, { trainRunIds: ['nope'] })).toHaveLength(0);
      expect(queryEvalRows(t.db, {})).toHaveLength(2);
      expect(lambdaKey({ model: 'vm-net' })).toBe('');
    } finally {
      await t.close();
    }
  });
});
