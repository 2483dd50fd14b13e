import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SqliteTracker } from '../sqlite-tracker';
import { queryEvalRows, latestPerTrainRun, lambdaKey, type EvalRow } from './eval-rows';
import { buildResultTables, compareEvalRows, meanStd } from './tables';

function row(over: Partial<EvalRow> & { metrics: EvalRow['metrics'] }): EvalRow {
  return {
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

  it('one row per (model, features) in feature-then-model order, mean ± std over seeds', () => {
    const t = tables[0];
    expect(t.rows.map((r) => `${r.model}/${r.features}/${r.runs}`)).toEqual(['vm-net/clip/1', 'of-vm-net/clip/2', 'vm-net/i3d/1']);
    const of = t.rows[1];
    expect(of.seeds).toEqual([0, 1]);
    expect(of.cells.r1!.mean).toBeCloseTo(0.3, 12);
    expect(of.cells.r1!.std).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(of.cells.fad!.mean).toBe(11);
    expect(of.cells.medianRank).toBeUndefined();
  });

  it('marks the best mean per column: higher R@k / AV-ALIGN, lower FAD, GOT never', () => {
    const [vmClip, ofClip, vmI3d] = tables[0].rows;
    expect(vmClip.cells.r1!.best).toBe(true);
    expect(ofClip.cells.r1!.best).toBe(false);
    expect(vmI3d.cells.fad!.best).toBe(true);
    expect(ofClip.cells.fad!.best).toBe(false);
    expect(ofClip.cells.avAlign!.best).toBe(true); // 0.6 mean ties vm-net/i3d's 0.6
    expect(vmI3d.cells.avAlign!.best).toBe(true);
    expect([vmClip, ofClip, vmI3d].some((r) => r.cells.avAlignGot!.best)).toBe(false);
  });

  it('an explicit table tag wins; repeated evaluations of one run count once (newest)', () => {
    const a = row({ trainRunId: 't', evalStartTime: 1, metrics: { r1: 0.1 } });
    const b = row({ trainRunId: 't', evalStartTime: 2, metrics: { r1: 0.9 }, table: '7' });
    expect(latestPerTrainRun([a, b])).toEqual([b]);
    const ts = buildResultTables([a, b]);
    expect(ts.map((t) => t.id)).toEqual(['7']);
    expect(ts[0].rows[0].cells.r1!.mean).toBe(0.9);
  });

  it('compare groups by features / model / lambda per evaluation dataset', () => {
    const byFeat = compareEvalRows(rows, 'features');
    expect(byFeat.map((c) => c.evalDataset)).toEqual(['A', 'B']);
    const a = byFeat[0];
    expect(a.groups.map((g) => [g.value, g.runs])).toEqual([
      ['clip', 3],
      ['i3d', 1],
    ]);
    expect(a.groups[0].cells.r1!.mean).toBeCloseTo((0.2 + 0.4 + 0.5) / 3, 12);
    expect(a.spans.model).toEqual(['of-vm-net', 'vm-net']);
    const byLambda = compareEvalRows(rows, 'lambda')[0];
    expect(byLambda.groups.map((g) => g.value)).toEqual(['(vm-net: no λ)', 'l1=1,l2=1,l3=1,l4=1,l5=1,l6=1']);
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
      });
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
