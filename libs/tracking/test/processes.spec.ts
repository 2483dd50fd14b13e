/**
 * Real OS processes against one store file: concurrent writers and a SIGKILLed writer.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SqliteTracker } from '../src';

const WORKER = path.join(__dirname, 'helpers', 'log-worker.ts');

function startWorker(args: string[]): { child: ChildProcess; out: () => string; done: Promise<number | null>; waitFor: (re: RegExp) => Promise<void> } {
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout!.on('data', (d) => {
    out += d;
    for (const w of waiters.splice(0)) (w.re.test(out) ? w.resolve : () => waiters.push(w))();
  });
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`worker stderr:\n${err}\n`);
      resolve(code);
    }),
  );
  return {
    child,
    out: () => out,
    done,
    waitFor: (re) => new Promise<void>((resolve) => (re.test(out) ? resolve() : waiters.push({ re, resolve }))),
  };
}

function tmpStore(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-proc-')), 'runs.db');
}

describe('run store under real processes', () => {
  it('4 processes × 10,000 batched points into one NEW store: exactly 40,000 rows, no lock error', async () => {
    const file = tmpStore();
    const workers = Array.from({ length: 4 }, () => startWorker([file, 'concurrency', '10000', '500']));
    const codes = await Promise.all(workers.map((w) => w.done));
    expect(codes).toEqual([0, 0, 0, 0]);
    const t = new SqliteTracker(file, { heartbeatIntervalMs: 0 });
    try {
      expect(t.counts().metrics).toBe(40000);
      const runs = await t.searchRuns({ experiment: 'concurrency' });
      expect(runs).toHaveLength(4);
      expect(runs.every((r) => r.status === 'finished')).toBe(true);
      expect((await t.listExperiments()).map((e) => e.name)).toEqual(['concurrency']);
      for (const r of runs) {
        const hist = await t.metricHistory(r.id, 'loss');
        expect(hist).toHaveLength(10000);
        expect(hist[9999]).toMatchObject({ step: 9999, value: 9999 / 7 });
      }
    } finally {
      await t.close();
    }
  });

  it('a SIGKILLed writer: its run becomes failed on reopen and every committed batch is intact', async () => {
    const file = tmpStore();
    const w = startWorker([file, 'crash', '1000000', '1000']);
    await w.waitFor(/batch 5\n/);
    w.child.kill('SIGKILL');
    expect(await w.done).toBeNull();
    const printed = (w.out().match(/batch \d+/g) ?? []).length;
    const runId = /run ([0-9a-f]{32})/.exec(w.out())![1];

    const t = new SqliteTracker(file, { heartbeatIntervalMs: 0, heartbeatTimeoutMs: 0 });
    try {
      const run = await t.getRun(runId);
      expect(run.status).toBe('failed');
      expect(run.failureReason).toMatch(/process \d+ on .* is gone/);
      const hist = await t.metricHistory(runId, 'loss');
      // every batch the worker saw committed is there, and only whole batches are
      expect(hist.length).toBeGreaterThanOrEqual(printed * 1000);
      expect(hist.length % 1000).toBe(0);
      hist.forEach((p, i) => expect(p.step).toBe(i));
    } finally {
      await t.close();
    }
  });

  it('a live run of another live process is not reaped', async () => {
    const file = tmpStore();
    const w = startWorker([file, 'live', '2000', '1000', 'hang']);
    await w.waitFor(/hanging/);
    const runId = /run ([0-9a-f]{32})/.exec(w.out())![1];
    const t = new SqliteTracker(file, { heartbeatIntervalMs: 0, heartbeatTimeoutMs: 0 });
    try {
      expect((await t.getRun(runId)).status).toBe('running');
    } finally {
      await t.close();
      w.child.kill('SIGKILL');
      await w.done;
    }
  });
});
