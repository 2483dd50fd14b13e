import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError } from '@vmr/core';
import { DatasetWriter, writeSyntheticDataset } from '@vmr/data';
import { EVAL_METRIC_KEYS, RUN_KIND_TAG, SqliteTracker } from '@vmr/tracking';
import { REFERENCE_TAG, evaluateOracle } from '../src/oracle';

// Real parts: a synthetic dataset written by the generator, a real SQLite run store, the evaluator's
// metric code. Noisy pairs (70 % not cut to the video) with energy coupled 1:1 to the driving motion.
describe('oracle reference rows (vmr eval --oracle)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-oracle-'));
  const store = path.join(tmp, 'runs.db');
  const ds = path.join(tmp, 'noisy');
  let tracker: SqliteTracker;

  beforeAll(() => {
    writeSyntheticDataset({
      out: ds,
      preset: 'symmv-like',
      clips: 60,
      seed: 3,
      views: ['clip'],
      overrides: { minDuration: 30, maxDuration: 45, unsyncedShare: 0.7, crossMatchShare: 1, coupling: 1 },
      plan: { segments: 3, minSegmentSeconds: 6 },
    });
    tracker = new SqliteTracker(store, { reapStaleRuns: false, heartbeatIntervalMs: 0 });
  });
  afterAll(async () => {
    await tracker.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('logs both oracles as tagged evaluation runs with the model evaluations\' metric keys', async () => {
    const style = await evaluateOracle('style', ds, { tracker, experiment: 'synthetic-bench', table: '2', progress: false });
    const motion = await evaluateOracle('motion', ds, { tracker, experiment: 'synthetic-bench', table: '2', progress: false });
    for (const r of [style, motion]) {
      expect(r.reused).toBe(false);
      expect(r.split).toBe('test');
      expect(r.metrics.gallerySize).toBe(60);
      const run = await tracker.getRun(r.evalRunId);
      expect(run.status).toBe('finished');
      expect(run.parentId).toBeNull();
      expect(run.tags).toMatchObject({ [RUN_KIND_TAG]: 'eval', [REFERENCE_TAG]: 'oracle', model: `oracle-${r.oracle}`, features: 'ground-truth', synthetic: 'true', table: '2' });
      const latest = await tracker.latestMetrics(r.evalRunId);
      expect(Object.keys(latest).sort()).toEqual(EVAL_METRIC_KEYS.map((k) => `eval.${k}`).sort());
      expect(run.params['eval.avAlignVariant']).toBe('yariv');
    }
    // Same GOT (same clips, same peaks); the motion oracle aligns better than GOT, the style oracle recalls better.
    expect(motion.metrics.avAlignGot).toBeCloseTo(style.metrics.avAlignGot!, 12);
    expect(motion.metrics.avAlign!).toBeGreaterThan(motion.metrics.avAlignGot! + 0.02);
    expect(style.metrics.r1).toBeGreaterThan(motion.metrics.r1! + 0.2);
    // The motion oracle's top-1 AV-Align is the ground truth's per-clip best (synthetic-truth.jsonl).
    const truth = fs.readFileSync(path.join(ds, 'synthetic-truth.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { alignment: { best: number } });
    const best = truth.reduce((s, t) => s + t.alignment.best, 0) / truth.length;
    expect(motion.metrics.avAlign!).toBeCloseTo(best, 5);
    // A second call reuses the finished reference row; --fresh (reuse: false) logs a new one.
    const again = await evaluateOracle('motion', ds, { tracker, experiment: 'synthetic-bench', progress: false });
    expect(again).toMatchObject({ reused: true, evalRunId: motion.evalRunId });
    expect(again.metrics.r1).toBeCloseTo(motion.metrics.r1!, 12);
    const fresh = await evaluateOracle('motion', ds, { tracker, experiment: 'synthetic-bench', reuse: false, progress: false });
    expect(fresh.evalRunId).not.toBe(motion.evalRunId);
  });

  it('refuses a dataset that is not synthetic', async () => {
    const media = path.join(tmp, 'media');
    const w = DatasetWriter.create(media, { name: 'real', kind: 'media', flowFps: 3 });
    w.close();
    await expect(evaluateOracle('style', media, { tracker, progress: false })).rejects.toThrow(ConflictError);
    await expect(evaluateOracle('style', media, { tracker, progress: false })).rejects.toThrow(/media, not synthetic/);
  });
});
