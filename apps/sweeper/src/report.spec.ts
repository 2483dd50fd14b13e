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

  it('creates one trial run per key (idempotently), ranks, builds the Pareto front and the extractor table', async () => {
    const spec = parseSweepSpec({ name: 'rep', features: ['resnet', 'clip'], grid: { 'loss.lambdas.l1': [0.5, 1] }, metric: { name: 'eval.val.r1', direction: 'max' } });
    const exp = expandTrials(spec, 'v');
    const sweep = await openSweep(store, spec, exp, 'local');
    const trials = await ensureTrials(store, sweep, spec, exp.trials);
    expect(trials).toHaveLength(4);
    // a second coordinator (or a retried request) makes no new runs
    const again = await ensureTrials(store, await openSweep(store, spec, exp, 'local'), spec, exp.trials);
    expect(again.map((t) => t.runId)).toEqual(trials.map((t) => t.runId));
    expect(await store.searchRuns({ parentId: sweep.id })).toHaveLength(4);
    expect((await store.getRun(trials[0].runId)).params).toMatchObject({ features: 'resnet', 'loss.lambdas.l1': '0.5', trial_key: trials[0].key });
    // hand-made results: r1 / AV-Align per trial (resnet 0.5, resnet 1, clip 0.5, clip 1)
    const results = [
      [0.4, 0.2],
      [0.3, 0.3],
      [0.2, 0.1],
      [0.1, 0.35],
    ];
    for (let i = 0; i < 4; i++) {
      await store.setStatus(trials[i].runId, 'running');
      await store.logMetrics(trials[i].runId, [
        { key: 'eval.val.r1', value: results[i][0] },
        { key: 'eval.val.av_align', value: results[i][1] },
      ]);
      await store.endRun(trials[i].runId, i === 2 ? 'failed' : 'finished');
    }
    const r = await buildSweepReport(store, 'rep');
    expect(r.metric).toEqual({ name: 'eval.val.r1', direction: 'max' });
    expect(r.varied).toEqual(['features', 'loss.lambdas.l1']);
    expect(r.ranked.map((t) => t.index)).toEqual([0, 1, 3, 2]); // failed trial last
    expect(r.pareto!.x).toBe('eval.val.r1');
    expect(r.pareto!.y).toBe('eval.val.av_align');
    expect(r.pareto!.front.map((t) => t.index)).toEqual([0, 1, 3]);
    const resnet = r.byFeatures.find((f) => f.features === 'resnet')!;
    expect(resnet.mean).toBeCloseTo(0.35, 12);
    expect(resnet.std).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(resnet.best).toBe(0.4);
    const clip = r.byFeatures.find((f) => f.features === 'clip')!;
    expect(clip).toMatchObject({ trials: 2, finished: 1, mean: 0.1, std: null, best: 0.1 });
    expect(r.byFeatures[0].features).toBe('resnet');
    const csv = formatSweepReport(r, 'csv');
    expect(csv).toContain('rank,trial,status,attempts,features,loss.lambdas.l1,eval.val.r1,eval.val.av_align');
    expect(csv).toContain(`1,${trials[0].runId.slice(0, 8)},finished,0,resnet,0.5000,0.4000,0.2000`);
    // min direction reverses the ranking
    const rmin = await buildSweepReport(store, sweep.id.slice(0, 10), { direction: 'min' });
    expect(rmin.ranked.map((t) => t.index)).toEqual([3, 1, 0, 2]);
    await expect(buildSweepReport(store, 'rep', { metric: 'nope' })).rejects.toThrow(/--metric 'nope': no trial of sweep rep has it/);
    await expect(findSweep(store, 'no-such-sweep')).rejects.toThrow(/no sweep named 'no-such-sweep'/);
    expect((await listTrials(store, sweep.id)).map((t) => t.status)).toEqual(['finished', 'finished', 'failed', 'finished']);
  });
});
