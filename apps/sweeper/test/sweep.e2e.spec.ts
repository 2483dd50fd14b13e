/**
 * End to end through the real CLI, the real trainer, a real run store and (for BullMQ) a real Redis:
 * a 12-trial λ × extractor grid on 2 local workers, rerun → nothing new, a bad-λ trial retried with
 * --retry-failed, a SIGKILLed worker's trial re-run, cancel, reports, and the same grid on BullMQ with
 * 2 worker processes giving identical results.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { SqliteTracker } from '@vmr/tracking';
import { TAGS } from '../src/sweep-store';
import type { SweepRunResult } from '../src/coordinator';
import { finished, json, makeTinySetup, openStore, runCli, startCli, startRedis, tmpDir, waitFor, writeSpec } from './helpers';

jest.setTimeout(600_000);

let dir: string;
let base: string;
const localDb = () => path.join(dir, 'local', 'runs.db');

const GRID = (name: string) => [
  `name: ${name}`,
  'base: tiny.yaml',
  'codeVersion: test-v1',
  'features: [resnet, clip, i3d]',
  'grid:',
  '  loss.lambdas.l1: [0.25, 0.5, 1, 2]',
  '  loss.lambdas.l2: { link: loss.lambdas.l1 }',
  'metric: { name: train.val.r1, direction: max }',
];

/** Trial runs of a sweep, by key, with their metrics. */
async function trialsByKey(store: SqliteTracker, sweepId: string) {
  const out = new Map<string, { id: string; status: string; attempts: number; metrics: Record<string, number>; tags: Record<string, string> }[]>();
  for (const r of await store.searchRuns({ parentId: sweepId })) {
    const d = await store.getRun(r.id);
    const key = d.tags[TAGS.key];
    out.set(key, [...(out.get(key) ?? []), { id: d.id, status: d.status, attempts: Number(d.tags[TAGS.attempts]), metrics: Object.fromEntries(Object.values(d.metrics).map((m) => [m.key, m.value])), tags: d.tags }]);
  }
  return out;
}

beforeAll(async () => {
  dir = tmpDir('e2e');
  ({ base } = await makeTinySetup(dir));
  expect(fs.existsSync(base)).toBe(true);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('CLI errors', () => {
  it('a bad spec, a missing --redis and an unknown sweep are clear errors; nothing is written', async () => {
    const db = path.join(dir, 'err', 'runs.db');
    const badSpec = writeSpec(path.join(dir, 'bad-spec.yaml'), ['name: e', 'grid:', '  loss.lambdas.l1: { range: [0, 1] }', 'metrc: { name: x }']);
    const r1 = await runCli(['sweep', 'run', badSpec, '--store', db]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/bad-spec\.yaml: invalid sweep spec: .*metrc/);
    expect(fs.existsSync(db)).toBe(false);
    const spec = writeSpec(path.join(dir, 'ok-spec.yaml'), ['name: e', 'base: tiny.yaml', 'grid:', '  loss.lambdas.l1: [1]']);
    const r2 = await runCli(['sweep', 'run', spec, '--executor', 'bullmq', '--store', db]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/--executor bullmq needs --redis/);
    expect(fs.existsSync(db)).toBe(false);
    const r3 = await runCli(['sweep', 'status', 'no-such-sweep', '--store', path.join(dir, 'local', 'runs.db')]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/no sweep named 'no-such-sweep'/);
  });
});

describe('local pool', () => {
  let grid: SweepRunResult;

  it('runs a 12-trial λ × extractor grid with 2 workers; a rerun starts nothing', async () => {
    const spec = writeSpec(path.join(dir, 'grid.yaml'), GRID('grid'));
    const r = await runCli(['sweep', 'run', spec, '--workers', '2', '--store', localDb(), '--json']);
    grid = json<SweepRunResult>(r);
    expect(r.code).toBe(0);
    expect(grid).toMatchObject({ status: 'finished', trials: 12, finished: 12, failed: 0, attempts: 12, skipped: 0 });
    const store = openStore(localDb());
    try {
      const trials = await trialsByKey(store, grid.sweepId);
      expect(trials.size).toBe(12);
      const features = new Map<string, number>();
      for (const [, runs] of trials) {
        expect(runs).toHaveLength(1);
        expect(runs[0]).toMatchObject({ status: 'finished', attempts: 1 });
        expect(Number.isFinite(runs[0].metrics['train.val.r1'])).toBe(true);
        // the trial's training run is its child, trained with the trial's extractor and λ
        const train = await store.searchRuns({ parentId: runs[0].id });
        expect(train).toHaveLength(1);
        const t = await store.getRun(train[0].id);
        expect(t.status).toBe('finished');
        const values = JSON.parse(runs[0].tags[TAGS.values]);
        expect(t.params.features).toBe(values.features);
        expect(Number(t.params['loss.lambdas.l1'])).toBe(values['loss.lambdas.l1']);
        expect(t.params['loss.lambdas.l2']).toBe(t.params['loss.lambdas.l1']);
        features.set(values.features, (features.get(values.features) ?? 0) + 1);
      }
      expect(Object.fromEntries(features)).toEqual({ resnet: 4, clip: 4, i3d: 4 });
      const before = (await store.searchRuns({})).length;
      const again = json<SweepRunResult>(await runCli(['sweep', 'run', spec, '--workers', '2', '--store', localDb(), '--json']));
      expect(again).toMatchObject({ sweepId: grid.sweepId, status: 'finished', attempts: 0, skipped: 12, finished: 12 });
      expect((await store.searchRuns({})).length).toBe(before);
    } finally {
      await store.close();
    }
  });

  it('status and report read the sweep from the store', async () => {
    const st = await runCli(['sweep', 'status', 'grid', '--store', localDb(), '--json']);
    expect(st.code).toBe(0);
    const s = json<{ counts: Record<string, number>; trials: { metric: number | null }[] }>(st);
    expect(s.counts).toEqual({ queued: 0, running: 0, finished: 12, failed: 0, killed: 0 });
    expect(s.trials.every((t) => typeof t.metric === 'number')).toBe(true);
    // one seed per trial: 12 configurations with n = 1 each, ranked by their mean
    const rep = json<{ configurations: { n: number; cells: Record<string, { mean: number }> }[]; byFeatures: { features: string; configurations: number }[] }>(await runCli(['report', 'sweep', 'grid', '--store', localDb(), '--format', 'json']));
    expect(rep.configurations).toHaveLength(12);
    expect(rep.configurations.every((c) => c.n === 1)).toBe(true);
    const vals = rep.configurations.map((c) => c.cells['train.val.r1'].mean);
    expect(vals).toEqual([...vals].sort((a, b) => b - a));
    expect(vals[0]).toBe(grid.best!.value);
    expect(rep.byFeatures.map((f) => f.features).sort()).toEqual(['clip', 'i3d', 'resnet']);
    for (const f of rep.byFeatures) expect(f.configurations).toBe(4);
    const md = await runCli(['report', 'sweep', 'grid', '--store', localDb(), '--format', 'markdown']);
    expect(md.stdout).toMatch(/^# Sweep grid/m);
    expect(md.stdout).toMatch(/\| rank \| features \| λ \| n \| seeds \|/);
  });

  it('a trial that fails at run time (no clip can be cut into 40 segments) records the reason; only --retry-failed re-runs it, up to maxAttempts', async () => {
    // (a bad λ such as -1 no longer gets this far: the spec check refuses the whole sweep before it starts)
    // evaluated on another dataset: `vmr eval` refuses a split that contains the training clips
    const ood = await runCli(['synth', '--clips', '8', '--seed', '2', '--preset', 'symmv-like', '--out', path.join(dir, 'ds-ood'), '--min-duration', '20', '--max-duration', '30', '--segments', '3', '--json']);
    expect(ood.code).toBe(0);
    const spec = writeSpec(path.join(dir, 'bad.yaml'), ['name: bad-lambda', 'base: tiny.yaml', 'codeVersion: test-v1', 'maxAttempts: 2', 'features: resnet', 'grid:', '  segmentation.segments: [3, 40]', 'evaluate: [{ dataset: ds-ood, name: tiny, split: all }]']);
    const args = ['sweep', 'run', spec, '--workers', '2', '--store', localDb(), '--json'];
    const first = await runCli(args, { cwd: dir });
    expect(first.code).toBe(1);
    expect(json(first)).toMatchObject({ status: 'failed', finished: 1, failed: 1, attempts: 2 });
    const plain = json(await runCli(args, { cwd: dir }));
    expect(plain).toMatchObject({ attempts: 0, failed: 1, failedNotRetried: 1 });
    const retried = json(await runCli([...args, '--retry-failed'], { cwd: dir }));
    expect(retried).toMatchObject({ attempts: 1, finished: 1, failed: 1 });
    const exhausted = json(await runCli([...args, '--retry-failed'], { cwd: dir }));
    expect(exhausted).toMatchObject({ attempts: 0, failed: 1, failedNotRetried: 1 });
    const store = openStore(localDb());
    try {
      const trials = await trialsByKey(store, (plain as { sweepId: string }).sweepId);
      const bad = [...trials.values()].flat().find((t) => JSON.parse(t.tags[TAGS.values])['segmentation.segments'] === 40)!;
      expect(bad.status).toBe('failed');
      expect(bad.attempts).toBe(2);
      const run = await store.getRun(bad.id);
      expect(run.failureReason).toMatch(/clips?/);
      expect(run.artifacts.map((a) => a.path).sort()).toEqual(['logs/attempt-1.log', 'logs/attempt-2.log']);
      // the good trial was evaluated by `vmr eval` (a child run of its training run); R@1 and AV-Align copied up
      const good = [...trials.values()].flat().find((t) => JSON.parse(t.tags[TAGS.values])['segmentation.segments'] === 3)!;
      expect(good.status).toBe('finished');
      for (const k of ['eval.tiny.r1', 'eval.tiny.avAlign']) {
        expect(good.metrics[k]).toBeGreaterThanOrEqual(0);
        expect(good.metrics[k]).toBeLessThanOrEqual(1);
      }
      const [train] = await store.searchRuns({ parentId: good.id });
      const [ev] = await store.searchRuns({ parentId: train.id });
      expect((await store.latestMetrics(ev.id))['eval.r1'].value).toBe(good.metrics['eval.tiny.r1']);
    } finally {
      await store.close();
    }
  });

  it('a worker SIGKILLed mid-trial: its trial is re-run and finished once, the sweep completes', async () => {
    const spec = writeSpec(path.join(dir, 'kill.yaml'), ['name: kill', 'base: tiny.yaml', 'codeVersion: test-v1', 'set: { epochs: 8 }', 'features: [resnet, clip]']);
    const db = path.join(dir, 'kill', 'runs.db');
    const coord = startCli(['sweep', 'run', spec, '--workers', '2', '--store', db, '--json']);
    const store = openStore(db);
    try {
      // mid-trial: the trial's training run has started and is running. (Not "has logged loss terms":
      // metrics are flushed in batches every 2 s, and on an idle machine a tiny trial can finish first.)
      const victim = await waitFor(
        'a trial in training',
        async () => {
          if (!fs.existsSync(db)) return undefined;
          for (const t of await store.searchRuns({ status: 'running', tags: { [TAGS.role]: 'trial' } })) {
            const d = await store.getRun(t.id);
            const pid = Number(d.tags[TAGS.workerPid]);
            for (const c of await store.searchRuns({ parentId: t.id, status: 'running' })) {
              if (pid > 0) return { trial: t.id, pid, train: c.id };
            }
          }
          return undefined;
        },
        120_000,
        50,
      );
      process.kill(victim.pid, 'SIGKILL');
      const res = await finished(coord);
      expect(res.code).toBe(0);
      const r = json<SweepRunResult>(res);
      expect(r).toMatchObject({ status: 'finished', trials: 2, finished: 2, failed: 0, attempts: 3 });
      const trials = await trialsByKey(store, r.sweepId);
      expect(trials.size).toBe(2);
      for (const runs of trials.values()) expect(runs.filter((x) => x.status === 'finished')).toHaveLength(1);
      const killed = await store.getRun(victim.trial);
      expect(killed.status).toBe('finished');
      expect(killed.tags[TAGS.attempts]).toBe('2');
      expect(killed.tags[TAGS.lastError]).toMatch(/attempt 1: trial process killed by SIGKILL/);
      // the killed attempt's training run is failed, the second attempt's finished
      const children = await store.searchRuns({ parentId: victim.trial, orderBy: [{ kind: 'attribute', key: 'start_time' }] });
      expect(children.map((c) => c.status)).toEqual(['failed', 'finished']);
      expect(children[0].id).toBe(victim.train);
    } finally {
      await store.close();
    }
  });

  it('vmr sweep cancel stops a running sweep: the pool exits, trials end killed', async () => {
    const spec = writeSpec(path.join(dir, 'cancel.yaml'), ['name: cancel-me', 'base: tiny.yaml', 'codeVersion: test-v1', 'set: { epochs: 20 }', 'features: [resnet, clip]']);
    const db = path.join(dir, 'cancel', 'runs.db');
    const coord = startCli(['sweep', 'run', spec, '--workers', '1', '--store', db, '--json']);
    const store = openStore(db);
    try {
      await waitFor('a running trial', async () => (fs.existsSync(db) ? (await store.searchRuns({ status: 'running', tags: { [TAGS.role]: 'trial' } }))[0] : undefined));
      const c = await runCli(['sweep', 'cancel', 'cancel-me', '--store', db, '--json']);
      expect(c.code).toBe(0);
      expect(json(c)).toMatchObject({ cancelledTrials: 2 });
      const r = json<SweepRunResult>(await finished(coord));
      expect(r).toMatchObject({ status: 'killed', cancelled: true, finished: 0, killed: 2 });
      const st = json<{ sweep: { status: string }; counts: Record<string, number> }>(await runCli(['sweep', 'status', 'cancel-me', '--store', db, '--json']));
      expect(st.sweep.status).toBe('killed');
      expect(st.counts.killed).toBe(2);
      // nothing left training
      expect(await store.searchRuns({ status: 'running' })).toHaveLength(0);
    } finally {
      await store.close();
    }
  });

  describe('BullMQ executor', () => {
    let redis: Awaited<ReturnType<typeof startRedis>>;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it('a coordinator and 2 worker processes complete the same grid with identical results', async () => {
      const queue = `q${process.pid}`;
      const logDir = path.join(dir, 'worker-logs');
      const workers = [0, 1].map(() => startCli(['sweep', 'worker', '--redis', redis.url, '--queue', queue, '--log-dir', logDir]));
      try {
        const spec = path.join(dir, 'grid.yaml');
        const db = path.join(dir, 'bull', 'runs.db');
        const r = await runCli(['sweep', 'run', spec, '--executor', 'bullmq', '--redis', redis.url, '--queue', queue, '--serve-host', '127.0.0.1', '--store', db, '--json']);
        const res = json<SweepRunResult>(r);
        expect(res).toMatchObject({ status: 'finished', trials: 12, finished: 12, failed: 0 });
        const local = openStore(localDb());
        const bull = openStore(db);
        try {
          const a = await trialsByKey(local, grid.sweepId);
          const b = await trialsByKey(bull, res.sweepId);
          expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
          for (const [key, runs] of b) {
            expect(runs).toHaveLength(1);
            expect(runs[0].status).toBe('finished');
            expect(runs[0].metrics).toEqual(a.get(key)![0].metrics);
          }
          // both workers took trials
          const pids = new Set([...b.values()].map((r) => r[0].tags[TAGS.worker]));
          expect(pids.size).toBe(2);
        } finally {
          await local.close();
          await bull.close();
        }
      } finally {
        for (const w of workers) w.kill('SIGTERM');
        const exits = await Promise.all(workers.map((w) => finished(w)));
        // graceful shutdown on SIGTERM: exit 0
        expect(exits.map((e) => e.code)).toEqual([0, 0]);
      }
    });
  });
});
