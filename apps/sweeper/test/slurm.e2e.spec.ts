/**
 * The Slurm executor on a real single-node cluster (munged + slurmctld + slurmd started here with a
 * generated slurm.conf), through the real CLI: a grid runs as one job array with a `%N` throttle, a
 * failing trial's index is resubmitted up to maxAttempts, and a task scancelled mid-trial is recorded
 * killed and resumed by the next `vmr sweep run`. Fails (never skips) when the cluster cannot start.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TAGS } from '../src/sweep-store';
import { SLURM_JOBS_TAG, SLURM_TASK_TAG } from '../src/slurm-executor';
import type { SweepRunResult } from '../src/coordinator';
import { finished, json, makeTinySetup, openStore, runCli, startCli, tmpDir, waitFor, writeSpec } from './helpers';
import { startSlurmCluster, type SlurmCluster } from './helpers/slurm-cluster';

jest.setTimeout(600_000);

let dir: string;
let cluster: SlurmCluster | undefined;

beforeAll(async () => {
  dir = tmpDir('slurm');
  cluster = await startSlurmCluster();
  await makeTinySetup(dir);
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function trials(db: string, sweepId: string) {
  const store = openStore(db);
  try {
    const out = [];
    for (const r of await store.searchRuns({ parentId: sweepId })) {
      const d = await store.getRun(r.id);
      const values = JSON.parse(d.tags[TAGS.values]) as Record<string, number>;
      out.push({ id: d.id, status: d.status, l1: values['loss.lambdas.l1'], segments: values['segmentation.segments'], attempts: Number(d.tags[TAGS.attempts]), task: d.tags[SLURM_TASK_TAG], reason: d.failureReason });
    }
    return out.sort((a, b) => (a.segments ?? 0) - (b.segments ?? 0) || (a.l1 ?? 0) - (b.l1 ?? 0));
  } finally {
    await store.close();
  }
}

it('a grid runs as one job array (%2 throttle); the failing trial is resubmitted up to maxAttempts', async () => {
  const db = path.join(dir, 'a', 'runs.db');
  // The failing trial fails at run time (no clip can be cut into 40 segments): a bad value such as
  // λ1 = -1 is refused by the spec check before anything is submitted.
  const spec = writeSpec(path.join(dir, 'array.yaml'), ['name: sl-array', 'base: tiny.yaml', 'codeVersion: test-v1', 'maxParallel: 2', 'maxAttempts: 2', 'grid:', '  segmentation.segments: [3, 40]', '  loss.lambdas.l1: [0.5, 1]', 'metric: { name: train.val.r1, direction: max }']);
  const r = await runCli(['sweep', 'run', spec, '--executor', 'slurm', '--serve-host', '127.0.0.1', '--time', '00:10', '--store', db, '--json'], { env: cluster!.env });
  const res = json<SweepRunResult>(r);
  expect(res).toMatchObject({ status: 'failed', trials: 4, finished: 2, failed: 2, attempts: 6 });
  expect(r.code).toBe(1);
  const ts = await trials(db, res.sweepId);
  expect(ts.map((t) => [t.segments, t.l1, t.status, t.attempts])).toEqual([
    [3, 0.5, 'finished', 1],
    [3, 1, 'finished', 1],
    [40, 0.5, 'failed', 2],
    [40, 1, 'failed', 2],
  ]);
  expect(ts[2].reason).toMatch(/segment/);
  // One array of 3 tasks with the throttle, then a second array of just the failed index.
  const store = openStore(db);
  const jobs = (await store.getRun(res.sweepId)).tags[SLURM_JOBS_TAG].split(',');
  await store.close();
  // the first array, then the failed indices resubmitted (together, or each as it failed)
  expect(jobs.length).toBeGreaterThanOrEqual(2);
  expect(jobs.length).toBeLessThanOrEqual(3);
  const first = cluster!.tool('scontrol', ['show', 'job', '-o', jobs[0]]);
  expect(first).toMatch(/ArrayTaskThrottle=2/);
  expect(first.trim().split('\n')).toHaveLength(4);
  const resubmitted = jobs.slice(1).flatMap((j) => cluster!.tool('scontrol', ['show', 'job', '-o', j]).trim().split('\n'));
  expect(resubmitted).toHaveLength(2);
  for (const line of resubmitted) expect(line).toMatch(/JobState=FAILED/);
  for (const t of ts.slice(2)) expect(jobs.slice(1).some((j) => t.task.startsWith(`${j}_`))).toBe(true);
  // The script is kept under the sweep's directory, readable and resubmittable.
  const script = path.join(dir, 'a', 'sweep-logs', res.sweepId, 'slurm', 'array-1.sh');
  expect(fs.readFileSync(script, 'utf8')).toMatch(/#SBATCH --array=0-3%2[\s\S]*#SBATCH --time=00:10[\s\S]*sweep trial "\$RUN"/);
});

it('a task scancelled mid-trial is recorded killed; the next invocation resumes only that trial', async () => {
  const db = path.join(dir, 'b', 'runs.db');
  const spec = writeSpec(path.join(dir, 'cancel.yaml'), ['name: sl-cancel', 'base: tiny.yaml', 'codeVersion: test-v1', 'grid:', '  loss.lambdas.l1: [0.5, 1]']);
  const coord = startCli(['sweep', 'run', spec, '--executor', 'slurm', '--serve-host', '127.0.0.1', '--store', db, '--json'], { env: cluster!.env });
  // Wait until trial λ=1 runs in its task, then scancel that one task.
  const target = await waitFor(
    'the λ=1 trial to be running in a Slurm task',
    async () => {
      if (!fs.existsSync(db)) return undefined;
      const store = openStore(db);
      try {
        const sweep = (await store.searchRuns({ tags: { [TAGS.role]: 'sweep', [TAGS.name]: 'sl-cancel' } }))[0];
        if (!sweep) return undefined;
        const ts = await trials(db, sweep.id);
        const t = ts.find((x) => x.l1 === 1);
        return t?.status === 'running' && t.task ? t : undefined;
      } finally {
        await store.close();
      }
    },
    180_000,
    500,
  );
  cluster!.tool('scancel', [target.task!]);
  const r1 = await finished(coord);
  const res1 = json<SweepRunResult>(r1);
  expect(res1).toMatchObject({ trials: 2, finished: 1, killed: 1, attempts: 2 });
  let ts = await trials(db, res1.sweepId);
  expect(ts.map((t) => [t.l1, t.status])).toEqual([
    [0.5, 'finished'],
    [1, 'killed'],
  ]);
  const task = cluster!.tool('scontrol', ['show', 'job', '-o', target.task!]);
  expect(task).toMatch(/JobState=CANCELLED/);
  // Rerun: the finished trial is skipped, the killed one runs again in a new one-task array.
  const r2 = await runCli(['sweep', 'run', spec, '--executor', 'slurm', '--serve-host', '127.0.0.1', '--store', db, '--json'], { env: cluster!.env });
  const res2 = json<SweepRunResult>(r2);
  expect(res2).toMatchObject({ status: 'finished', trials: 2, finished: 2, skipped: 1, attempts: 1 });
  ts = await trials(db, res2.sweepId);
  expect(ts.map((t) => [t.l1, t.status, t.attempts])).toEqual([
    [0.5, 'finished', 1],
    [1, 'finished', 2],
  ]);
  expect(ts[1].task).not.toBe(target.task);
});

it('vmr sweep cancel scancels the sweep\'s array; the coordinator ends killed', async () => {
  const db = path.join(dir, 'c', 'runs.db');
  const spec = writeSpec(path.join(dir, 'scancel.yaml'), ['name: sl-sweep-cancel', 'base: tiny.yaml', 'codeVersion: test-v1', 'grid:', '  loss.lambdas.l1: [0.5]']);
  const coord = startCli(['sweep', 'run', spec, '--executor', 'slurm', '--serve-host', '127.0.0.1', '--store', db, '--json'], { env: cluster!.env });
  const jobs = await waitFor(
    'the array to be submitted',
    async () => {
      if (coord.exitCode !== null) throw new Error(`coordinator exited: ${coord.out.stderr}`);
      if (!fs.existsSync(db)) return undefined;
      const store = openStore(db);
      try {
        const sweep = (await store.searchRuns({ tags: { [TAGS.role]: 'sweep', [TAGS.name]: 'sl-sweep-cancel' } }))[0];
        return sweep ? (await store.getRun(sweep.id)).tags[SLURM_JOBS_TAG] : undefined;
      } finally {
        await store.close();
      }
    },
    120_000,
    300,
  );
  const c = await runCli(['sweep', 'cancel', 'sl-sweep-cancel', '--store', db, '--json'], { env: cluster!.env });
  expect(c.code).toBe(0);
  expect(json(c)).toMatchObject({ slurm: `scancel ${jobs}` });
  const r = await finished(coord);
  expect(json<SweepRunResult>(r)).toMatchObject({ status: 'killed', cancelled: true });
  await waitFor('the task to leave the queue', () => (cluster!.tool('squeue', ['-h', '-j', jobs]).trim() === '' ? true : undefined), 30_000, 250);
  expect(cluster!.tool('scontrol', ['show', 'job', '-o', jobs])).toMatch(/JobState=CANCELLED/);
});
