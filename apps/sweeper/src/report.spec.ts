import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SqliteTracker } from '@vmr/tracking';
import { parseSweepSpec } from './spec';
import { expandTrials } from './expand';
import { ensureTrials, findSweep, listTrials, openSweep } from './sweep-store';
import { buildSweepReport, formatSweepReport, paretoFront } from './report';

describe('paretoFront', () => {
  it('keeps the non-dominated points (both maximised), best x first', () => {
    // (0.5,0.1) and (0.3,0.3) and (0.1,0.5) trade off; (0.2,0.2) is dominated by (0.3,0.3);
    // (0.5,0.05) by (0.5,0.1); the duplicate (0.3,0.3) points do not dominate each other.
    const pts = [
      { x: 0.2, y: 0.2 },
      { x: 0.5, y: 0.1 },
      { x: 0.3, y: 0.3 },
      { x: 0.1, y: 0.5 },
      { x: 0.5, y: 0.05 },
      { x: 0.3, y: 0.3 },
      { x: NaN, y: 1 },
    ];
    expect(paretoFront(pts)).toEqual([1, 2, 5, 3]);
    expect(paretoFront([])).toEqual([]);
  });
  it('minimises an axis whose metric is lower-is-better (FAD)', () => {
    // x = R@1 (max), y = FAD (min): (0.5, 10) and (0.3, 5) trade off; (0.2, 8) is dominated by (0.3, 5)
    const pts = [
      { x: 0.5, y: 10 },
      { x: 0.3, y: 5 },
      { x: 0.2, y: 8 },
    ];
    expect(paretoFront(pts, { x: 'max', y: 'min' })).toEqual([0, 1]);
    expect(paretoFront(pts)).toEqual([0]); // maximising FAD would keep the worst
  });
});

describe('sweep store + report on a real run store', () => {
  let dir: string;
  let store: SqliteTracker;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-sweep-report-'));
    store = new SqliteTracker(path.join(dir, 'runs.db'), { heartbeatIntervalMs: 0 });
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('aggregates over the seeds of each configuration, ranks configurations, fronts follow the registry directions', async () => {
    const spec = parseSweepSpec({ name: 'rep', features: ['resnet'], grid: { 'loss.lambdas.l3': [0.5, 1] }, seeds: [0, 1], metric: { name: 'eval.val.r1', direction: 'max' } });
    const exp = expandTrials(spec, 'v');
    const sweep = await openSweep(store, spec, exp, 'local');
    const trials = await ensureTrials(store, sweep, spec, exp.trials);
    expect(trials).toHaveLength(4);
    const again = await ensureTrials(store, await openSweep(store, spec, exp, 'local'), spec, exp.trials);
    expect(again.map((t) => t.runId)).toEqual(trials.map((t) => t.runId));
    // trial order: l3 = 0.5 seeds 0, 1; l3 = 1 seeds 0, 1. r1 / AV-Align / FAD per trial:
    const results = [
      [0.4, 0.2, 10],
      [0.2, 0.3, 12],
      [0.3, 0.4, 5],
      [0.1, 0.5, 7],
    ];
    for (let i = 0; i < 4; i++) {
      await store.setStatus(trials[i].runId, 'running');
      await store.logMetrics(trials[i].runId, [
        { key: 'eval.val.r1', value: results[i][0] },
        { key: 'eval.val.avAlign', value: results[i][1] },
        { key: 'eval.val.fad', value: results[i][2] },
      ]);
      await store.endRun(trials[i].runId, 'finished');
    }
    const r = await buildSweepReport(store, 'rep');
    expect(r.metric).toEqual({ name: 'eval.val.r1', direction: 'max', label: 'R@1' });
    expect(r.varied).toEqual(['λ']);
    expect(r.configurations.map((c) => [c.label, c.n, c.seeds])).toEqual([
      ['λ=1:1:0.5:1:1:1', 2, [0, 1]],
      ['λ=1:1:1:1:1:1', 2, [0, 1]],
    ]);
    const [half, one] = r.configurations;
    // λ3 = 0.5: R@1 0.4, 0.2 → mean 0.3, std √0.02, t(1)·std/√2 = 12.706205 · 0.1 = 1.2706205
    expect(half.cells['eval.val.r1'].mean).toBeCloseTo(0.3, 12);
    expect(half.cells['eval.val.r1'].std).toBeCloseTo(Math.sqrt(0.02), 12);
    // 0.3 ± 1.2706205 = [−0.97, 1.57], cut at R@1's range
    expect([half.cells['eval.val.r1'].ciLow, half.cells['eval.val.r1'].ciHigh]).toEqual([0, 1]);
    expect(one.cells['eval.val.r1'].mean).toBeCloseTo(0.2, 12);
    expect(half.rank).toBe(1);
    // front over configuration means: (0.3, 0.25) vs (0.2, 0.45): both optimal
    expect(r.pareto!.front.map((c) => c.label)).toEqual(['λ=1:1:0.5:1:1:1', 'λ=1:1:1:1:1:1']);
    // FAD on y is minimised: means 11 (λ3 = 0.5) vs 6 (λ3 = 1) with R@1 0.3 vs 0.2 → both optimal; ranking by FAD puts 6 first
    const fad = await buildSweepReport(store, 'rep', { y: 'eval.val.fad', metric: 'eval.val.fad' });
    expect(fad.pareto!.yDirection).toBe('min');
    expect(fad.metric!.direction).toBe('min');
    expect(fad.configurations[0].cells['eval.val.fad'].mean).toBe(6);
    const csv = formatSweepReport(r, 'csv').split('\n');
    expect(csv[0]).toMatch(/^report,table,experiment,eval_dataset,split,direction,protocol,gallery_size,synthetic,model,features,configuration,reference,metric,direction_better,n,mean,std,ci_low,ci_high,ci_method,best,not_reported,seeds$/);
    expect(csv.filter((l) => l.includes(',r1,'))).toHaveLength(2);
    await expect(buildSweepReport(store, 'rep', { metric: 'nope' })).rejects.toThrow(/--metric 'nope' is not a known metric \(known: /);
    await expect(buildSweepReport(store, 'rep', { metric: 'eval.other.r1' })).rejects.toThrow(/--metric 'eval.other.r1': no trial of sweep rep has it/);
    await expect(findSweep(store, 'no-such-sweep')).rejects.toThrow(/no sweep named 'no-such-sweep'/);
    expect((await listTrials(store, sweep.id)).map((t) => t.status)).toEqual(['finished', 'finished', 'finished', 'finished']);
    const text = formatSweepReport(r, 'text');
    expect(text).toMatch(/Each row is one configuration/);
  });
});
