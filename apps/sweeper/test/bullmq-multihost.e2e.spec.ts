/**
 * BullMQ across hosts, on real engines: Linux network namespaces made by the test — a "head" with
 * Redis, the tracking server and the coordinator, two "nodes" each running `vmr sweep worker`,
 * connected by veth pairs (nothing routed outside). Through the real CLI: the grid completes with both
 * workers used; a worker SIGKILLed mid-trial has its job recovered after the lock expires and the trial
 * finishes exactly once; a SIGKILLed coordinator's queue is adopted by the rerun without duplicating
 * trials; cancel leaves no trial or eval process alive on any node. Fails (never skips) without root.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TAGS } from '../src/sweep-store';
import type { SweepRunResult } from '../src/coordinator';
import { VMR, finished, json, makeTinySetup, runCli, openStore, sleep, tmpDir, waitFor, writeSpec } from './helpers';
import { startNetLab, type NetLab } from './helpers/netns';

jest.setTimeout(600_000);

const TOKEN = 'lab-secret';
let dir: string;
let lab: NetLab | undefined;
let redisUrl: string;
let trackingUri: string;
const db = () => path.join(dir, 'store', 'runs.db');
let workers: ReturnType<NetLab['vmrIn']>[] = [];

function startWorker(i: number) {
  // No token and no tracking URI on the worker: both come with each job.
  return lab!.vmrIn(lab!.nodes[i], ['sweep', 'worker', '--redis', redisUrl, '--lock-duration', '4000', '--log-dir', path.join(dir, `logs-node${i + 1}`)], { VMR_TRACKING_TOKEN: '' });
}

async function waitListening(child: ReturnType<NetLab['vmrIn']>, re: RegExp, what: string) {
  await waitFor(what, () => (re.test(child.out.stdout + child.out.stderr) ? true : child.exitCode !== null ? Promise.reject(new Error(`${what}: exited ${child.exitCode}: ${child.out.stderr}`)) : undefined), 60_000, 100);
}

async function sweepTrials(name: string) {
  const store = openStore(db());
  try {
    const sweep = (await store.searchRuns({ tags: { [TAGS.role]: 'sweep', [TAGS.name]: name } }))[0];
    if (!sweep) return { sweepId: undefined, trials: [] };
    const trials = [];
    for (const r of await store.searchRuns({ parentId: sweep.id })) {
      const d = await store.getRun(r.id);
      const trainRuns = await store.searchRuns({ parentId: d.id });
      trials.push({ id: d.id, status: d.status, reason: d.failureReason ?? d.tags[TAGS.lastError] ?? '', attempts: Number(d.tags[TAGS.attempts] ?? 0), worker: d.tags[TAGS.worker] ?? '', trainRuns: trainRuns.map((t) => t.status) });
    }
    return { sweepId: sweep.id, trials };
  } finally {
    await store.close();
  }
}

/** Wait for `fn` while the coordinator `c` runs (its output in the error when it exits first). */
async function whileRunning<T>(c: ReturnType<NetLab['vmrIn']>, what: string, fn: () => Promise<T | undefined>): Promise<T> {
  return waitFor(what, async () => {
    if (c.exitCode !== null) throw new Error(`coordinator exited ${c.exitCode} before ${what}:\n${c.out.stdout}\n${c.out.stderr}`);
    return fn();
  }, 180_000, 300);
}

const spec = (name: string, l1: number[], extra: string[] = []) =>
  writeSpec(path.join(dir, `${name}.yaml`), [`name: ${name}`, 'base: tiny.yaml', 'codeVersion: test-v1', 'maxAttempts: 3', 'grid:', `  loss.lambdas.l1: [${l1.join(', ')}]`, 'metric: { name: train.val.r1, direction: max }', ...extra]);

const coordinatorArgs = (file: string) => ['sweep', 'run', file, '--executor', 'bullmq', '--redis', redisUrl, '--tracking-uri', trackingUri, '--tracking-token', TOKEN, '--json'];

beforeAll(async () => {
  dir = tmpDir('netns');
  fs.chmodSync(dir, 0o755);
  await makeTinySetup(dir);
  // A held-out dataset to evaluate on (the tiny training set has no test split).
  const ood = await runCli(['synth', '--clips', '8', '--seed', '2', '--preset', 'symmv-like', '--out', path.join(dir, 'ds-ood'), '--min-duration', '20', '--max-duration', '30', '--segments', '3', '--json']);
  if (ood.code !== 0) throw new Error(`vmr synth failed: ${ood.stderr}`);
  lab = await startNetLab(2);
  const h = lab.head.addr;
  const redis = lab.spawnIn(lab.head, 'redis-server', ['--bind', h, '--port', '6379', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--dir', dir]);
  await waitListening(redis, /Ready to accept connections/, 'redis-server in the head namespace');
  redisUrl = `redis://${h}:6379`;
  fs.mkdirSync(path.dirname(db()), { recursive: true });
  const server = lab.vmrIn(lab.head, ['tracking', 'serve', '--host', h, '--port', '5000', '--token', TOKEN, '--db', db()]);
  await waitListening(server, /listening on/, 'the tracking server in the head namespace');
  trackingUri = `http://${h}:5000`;
  workers = [startWorker(0), startWorker(1)];
  await Promise.all(workers.map((w, i) => waitListening(w, /waiting for trials/, `worker on node ${i + 1}`)));
});

afterAll(async () => {
  await lab?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('refuses a loopback tracking server for remote workers; an unreachable Redis fails in seconds; a dataset missing on a worker fails the trial with the reason', async () => {
  const c = lab!.vmrIn(lab!.head, ['sweep', 'run', spec('mh-refuse', [1]), '--executor', 'bullmq', '--redis', redisUrl, '--store', path.join(dir, 'refuse.db')]);
  const r = await finished(c);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/loopback address that workers on other machines cannot reach.*--serve-host/);
  // …and a Redis that does not answer is an error within seconds.
  const t0 = Date.now();
  const r2 = await finished(lab!.vmrIn(lab!.nodes[0], ['sweep', 'worker', '--redis', 'redis://127.0.0.1:1']));
  expect(r2.code).toBe(1);
  expect(r2.stderr).toMatch(/Redis is not reachable \(connect ECONNREFUSED/);
  expect(Date.now() - t0).toBeLessThan(60_000);
  // A dataset the coordinator sees but a worker does not (its share not mounted there): in a mount
  // namespace of its own, the worker on node 1 has an empty tmpfs over the dataset's folder. The trial
  // fails at once with that reason, not later in training.
  const remote = path.join(dir, 'ds-remote');
  fs.cpSync(path.join(dir, 'ds-ood'), remote, { recursive: true });
  const blind = lab!.spawnIn(lab!.nodes[0], 'unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs vmr-hidden "$0" && exec "$@"', remote, process.execPath, VMR, 'sweep', 'worker', '--redis', redisUrl, '--queue', 'mh-blind', '--max-jobs', '1', '--log-dir', path.join(dir, 'logs-blind')], { VMR_TRACKING_TOKEN: '' });
  await waitListening(blind, /waiting for trials/, 'the worker without the dataset');
  const missing = await finished(lab!.vmrIn(lab!.head, [...coordinatorArgs(spec('mh-missing', [1], [`evaluate: [{ dataset: ${remote}, name: remote, split: all }]`])), '--queue', 'mh-blind']));
  expect(json<SweepRunResult>(missing)).toMatchObject({ status: 'failed', failed: 1 });
  const { trials } = await sweepTrials('mh-missing');
  expect(trials).toHaveLength(1);
  expect(trials[0].reason).toMatch(new RegExp(`dataset path\\(s\\) '${remote}' do not exist on worker .*no dataset.json`));
  expect(trials[0].trainRuns).toEqual([]); // refused before training
  expect((await finished(blind)).code).toBe(0); // --max-jobs 1
});

it('with no worker on the queue: --worker-wait bounds the wait with a clear message; SIGTERM stops the coordinator; both leave the sweep resumable', async () => {
  const file = spec('mh-noworkers', [0.5, 1]);
  const args = [...coordinatorArgs(file), '--queue', 'nobody-listens'];
  const t0 = Date.now();
  const r1 = await finished(lab!.vmrIn(lab!.head, [...args, '--worker-wait', '3']));
  expect(r1.code).toBe(1);
  expect(r1.stderr).toMatch(/no `vmr sweep worker` has been connected to queue 'nobody-listens' .* for 3 s while 2 trial job\(s\) wait; start workers .* rerun the spec: it adopts the queued jobs/);
  expect(Date.now() - t0).toBeLessThan(90_000);
  let { trials } = await sweepTrials('mh-noworkers');
  expect(trials.map((t) => t.status)).toEqual(['queued', 'queued']);
  // Rerun (adopting the two queued jobs) and stop it with SIGTERM while it waits.
  const c = lab!.vmrIn(lab!.head, args);
  await whileRunning(c, 'the rerun to reopen the sweep', async () => {
    const st = openStore(db());
    try {
      const sw = (await st.searchRuns({ tags: { [TAGS.role]: 'sweep', [TAGS.name]: 'mh-noworkers' } }))[0];
      return sw?.status === 'running' ? true : undefined;
    } finally {
      await st.close();
    }
  });
  await sleep(2000);
  const t1 = Date.now();
  c.kill('SIGTERM');
  const r2 = await finished(c);
  expect(Date.now() - t1).toBeLessThan(25_000);
  expect(r2.code === 143 || json<SweepRunResult>(r2).status === 'killed').toBe(true);
  ({ trials } = await sweepTrials('mh-noworkers'));
  for (const t of trials) expect(['queued', 'killed']).toContain(t.status);
  expect(trials.every((t) => t.attempts === 0)).toBe(true);
});

it('a 4-trial grid completes through the served store with both node workers used', async () => {
  // Serve mode: the coordinator serves its own store on the head's address with a token.
  const store = path.join(dir, 'served', 'runs.db');
  const c = lab!.vmrIn(lab!.head, ['sweep', 'run', spec('mh-grid', [0.25, 0.5, 1, 2]), '--executor', 'bullmq', '--redis', redisUrl, '--serve-host', lab!.head.addr, '--tracking-token', TOKEN, '--store', store, '--json']);
  const r = await finished(c);
  const res = json<SweepRunResult>(r);
  expect(res).toMatchObject({ status: 'finished', trials: 4, finished: 4, failed: 0, attempts: 4 });
  const s = openStore(store);
  const used = new Set<string>();
  for (const t of await s.searchRuns({ parentId: res.sweepId })) used.add((await s.getRun(t.id)).tags[TAGS.worker]);
  await s.close();
  expect([...used].sort()).toEqual(workers.map((w) => expect.stringMatching(new RegExp(`:${w.pid}$`))).sort());
  expect(used.size).toBe(2);
});

it("a worker SIGKILLed mid-trial: its job is recovered after the lock expires and the trial finishes exactly once", async () => {
  const c = lab!.vmrIn(lab!.head, coordinatorArgs(spec('mh-kill-worker', [0.5, 1])));
  const victim = workers[0];
  const t = await whileRunning(c, 'a trial running on node 1', async () => (await sweepTrials('mh-kill-worker')).trials.find((x) => x.status === 'running' && x.worker.endsWith(`:${victim.pid}`)));
  // The node is lost: SIGKILL every process on it (the worker and its trial process), not only the worker.
  const onNode = lab!.pids(lab!.nodes[0]);
  expect(onNode).toContain(victim.pid);
  for (const pid of onNode) process.kill(pid, 'SIGKILL');
  let r;
  try {
    r = await finished(c);
  } finally {
    workers[0] = startWorker(0);
    await waitListening(workers[0], /waiting for trials/, 'restarted worker on node 1');
  }
  const res = json<SweepRunResult>(r);
  expect(res).toMatchObject({ status: 'finished', trials: 2, finished: 2 });
  const { trials } = await sweepTrials('mh-kill-worker');
  const again = trials.find((x) => x.id === t.id)!;
  expect(again.status).toBe('finished');
  expect(again.attempts).toBe(2);
  expect(again.worker).toMatch(new RegExp(`:${workers[1].pid}$`));
  // Exactly once: one finished training run under the trial; the killed attempt's run did not finish.
  expect(again.trainRuns.filter((s) => s === 'finished')).toHaveLength(1);
});

it('a coordinator SIGKILLed mid-sweep: rerunning the spec adopts the queue without duplicating trials', async () => {
  const file = spec('mh-kill-coord', [0.25, 0.5, 1]);
  const c1 = lab!.vmrIn(lab!.head, coordinatorArgs(file));
  await whileRunning(c1, 'a trial running', async () => (await sweepTrials('mh-kill-coord')).trials.some((x) => x.status === 'running') || undefined);
  c1.kill('SIGKILL');
  await finished(c1);
  const r = await finished(lab!.vmrIn(lab!.head, coordinatorArgs(file)));
  const res = json<SweepRunResult>(r);
  expect(res).toMatchObject({ status: 'finished', trials: 3, finished: 3 });
  const { trials } = await sweepTrials('mh-kill-coord');
  expect(trials).toHaveLength(3);
  for (const t of trials) {
    expect(t.attempts).toBe(1);
    expect(t.trainRuns).toEqual(['finished']);
  }
});

it('cancel leaves no trial or eval process alive on any node', async () => {
  const c = lab!.vmrIn(lab!.head, coordinatorArgs(spec('mh-cancel', [0.25, 0.5, 1, 2], [`evaluate: [{ dataset: ${path.join(dir, 'ds-ood')}, name: ood, split: all }]`])));
  // Cancel while a trial's `vmr eval` child runs on a node (the trial process's own child).
  const evalProc = await whileRunning(c, 'a `vmr eval` process on a node', async () => lab!.nodes.flatMap((n) => lab!.commands(n)).find((p) => / eval --run /.test(p.cmd)));
  expect(lab!.nodes.flatMap((n) => lab!.commands(n)).filter((p) => / sweep trial /.test(p.cmd)).length).toBeGreaterThanOrEqual(1);
  const cancel = await finished(lab!.vmrIn(lab!.head, ['sweep', 'cancel', 'mh-cancel', '--tracking-uri', trackingUri], { VMR_TRACKING_TOKEN: TOKEN }));
  expect(cancel.code).toBe(0);
  const r = await finished(c);
  expect(json<SweepRunResult>(r)).toMatchObject({ status: 'killed', cancelled: true });
  // Within the stop grace, each node is back to exactly its worker process.
  await waitFor('nodes to hold only their workers', () => (lab!.nodes.every((n, i) => {
    const p = lab!.pids(n);
    return p.length === 1 && p[0] === workers[i].pid;
  }) ? true : undefined), 30_000, 250);
  expect(lab!.nodes.flatMap((n) => lab!.pids(n))).not.toContain(evalProc.pid);
  const { trials } = await sweepTrials('mh-cancel');
  // A trial already in its evaluation may finish before the cancel lands (tiny trials take seconds); with 4 trials
  // on 2 workers, the ones not yet started are killed; none is left running or queued.
  expect(trials.map((t) => t.status)).toContain('killed');
  expect(trials.filter((t) => t.status !== 'killed' && t.status !== 'finished')).toEqual([]);
  await sleep(0);
});
