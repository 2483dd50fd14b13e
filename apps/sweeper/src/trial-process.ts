/**
 * The body of `vmr sweep trial <run>`: one attempt of one trial, in its own process. It reads the
 * resolved config from the trial run, trains (the trainer's `trainRun`, logged as a child of the trial
 * run), evaluates on every `evaluate` dataset (`vmr eval` as a child process, a child run of the training
 * run), copies the headline metrics onto the trial run and ends it. Cancelling the sweep (the trial run
 * marked killed) or SIGTERM stops it.
 */
import { ConfigError, errorMessage } from '@vmr/core';
import { openTracker, type MetricPoint, type Tracker } from '@vmr/tracking';
import { parseTrainConfig, trainRun } from '@vmr/trainer';
import { spawn } from 'child_process';
import { TAGS } from './sweep-store';
import { vmrBin } from './trial-launch';

export interface TrialProcessResult {
  runId: string;
  status: 'finished' | 'failed' | 'killed' | 'skipped';
  metrics: Record<string, number>;
  trainRunId?: string;
  reason?: string;
}

function finiteMetrics(prefix: string, obj: Record<string, unknown> | undefined, out: MetricPoint[]): void {
  if (!obj) return;
  for (const [k, v] of Object.entries(obj)) if (typeof v === 'number' && Number.isFinite(v)) out.push({ key: `${prefix}${k}`, value: v });
}

/**
 * `vmr eval --run <id> --dataset <dir> --json` as a child process of the real CLI, logging through the
 * same tracking server; returns the numeric results it prints under `metrics` (R@k, AV-Align, FAD, ranks).
 */
/** `vmr eval` children of this process: stopped with it (cancel, interrupt), never left running. */
const evalChildren = new Set<import('child_process').ChildProcess>();

export async function evalViaCli(runId: string, e: { dataset: string; split?: string }, trackingUri: string): Promise<Record<string, number>> {
  const args = [vmrBin(), 'eval', '--run', runId, '--dataset', e.dataset, '--tracking-uri', trackingUri, '--json', '--quiet', ...(e.split ? ['--split', e.split] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VMR_QUIET: '1' } });
  evalChildren.add(child);
  child.once('exit', () => evalChildren.delete(child));
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(out);
  } catch {
    /* reported below */
  }
  if (code !== 0 || !parsed) {
    const msg = (parsed?.error as { message?: string } | undefined)?.message ?? err.trim().split('\n').slice(-3).join(' ');
    throw new ConfigError(`vmr eval --run ${runId} --dataset ${e.dataset} failed (exit ${code}): ${msg}`);
  }
  const metrics: Record<string, number> = {};
  const take = (o: unknown) => {
    if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && Number.isFinite(v)) metrics[k] = v;
  };
  take(parsed.metrics ?? parsed);
  return metrics;
}

/**
 * Train then evaluate one trial config; returns the metrics to copy onto the trial run
 * (`train.val.*` from the last validation, `eval.<dataset>.*` per evaluation dataset).
 */
export async function executeTrial(tracker: Tracker, trialRunId: string, experiment: string, config: Record<string, unknown>, evaluate: { dataset: string; name: string; split?: string }[]): Promise<{ trainRunId: string; metrics: MetricPoint[] }> {
  // A trial's training run always lives in the sweep's experiment: a base config borrowed from another
  // experiment (e.g. quickstart.yaml) must not add sweep trials to that experiment's tables.
  const trainConfig = parseTrainConfig({ ...config, experiment }, `trial ${trialRunId} config`);
  const trained = await trainRun(trainConfig, { tracker, parentId: trialRunId, progress: false, handleSignals: false, tags: { [TAGS.key]: (await tracker.getRun(trialRunId)).tags[TAGS.key] ?? '', [TAGS.workerPid]: String(process.pid) } });
  if (trained.status !== 'finished') throw new ConfigError(`training run ${trained.runId} ended ${trained.status}`);
  const metrics: MetricPoint[] = [];
  finiteMetrics('train.val.', trained.val, metrics);
  if (Number.isFinite(trained.finalLoss)) metrics.push({ key: 'train.loss', value: trained.finalLoss });
  for (const e of evaluate) {
    const r = await evalViaCli(trained.runId, e, tracker.location);
    finiteMetrics(`eval.${e.name}.`, r, metrics);
  }
  return { trainRunId: trained.runId, metrics };
}

/**
 * Run one attempt of a trial. Exit codes (set by the command): 0 finished or skipped, 1 failed,
 * 143 cancelled (SIGTERM or the run marked killed: the trial ends `killed`), 130 interrupted (SIGINT or
 * the parent pool/worker died: the trial goes back to `queued` for another attempt).
 */
export async function runTrialProcess(trialRunId: string, trackingUri: string): Promise<TrialProcessResult> {
  const tracker = openTracker({ trackingUri });
  const parentPid = process.ppid;
  let ended = false;
  let stopping: string | undefined;
  const endAs = async (status: 'finished' | 'failed' | 'killed', reason?: string) => {
    if (ended) return;
    ended = true;
    await tracker.endRun(trialRunId, status, reason);
  };
  // This attempt's own child runs (the training run and its evaluations), found by the tag it passes.
  const ownChildren = async () => tracker.searchRuns({ parentId: trialRunId, status: ['running', 'queued'], tags: { [TAGS.workerPid]: String(process.pid) } });
  const stop = async (why: string, requeue: boolean) => {
    if (stopping) return;
    stopping = why;
    for (const c of evalChildren) c.kill('SIGTERM');
    try {
      for (const c of await ownChildren()) await tracker.endRun(c.id, 'killed', why).catch(() => undefined);
      const cur = await tracker.getRun(trialRunId);
      if (cur.status === 'running' || cur.status === 'queued') {
        if (requeue) {
          await tracker.setTags(trialRunId, { [TAGS.lastError]: `attempt interrupted: ${why}` });
          await tracker.setStatus(trialRunId, 'queued');
        } else await endAs('killed', why);
      }
    } finally {
      await tracker.close().catch(() => undefined);
      process.exit(requeue ? 130 : 143);
    }
  };
  const onTerm = () => void stop('trial process received SIGTERM (cancelled)', false);
  const onInt = () => void stop('trial process received SIGINT (interrupted)', true);
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  const beat = setInterval(() => {
    void (async () => {
      try {
        // Orphaned (the pool or worker was killed): stop rather than train unobserved.
        if (process.ppid !== parentPid) return await stop(`parent process ${parentPid} exited`, true);
        await tracker.heartbeat(trialRunId);
        const cur = await tracker.getRun(trialRunId);
        if (cur.status === 'killed') await stop('sweep cancelled', false);
      } catch {
        /* the next beat retries */
      }
    })();
  }, 2000);
  beat.unref();
  try {
    const run = await tracker.getRun(trialRunId);
    if (run.tags[TAGS.role] !== 'trial') throw new ConfigError(`run ${trialRunId} is not a sweep trial run`);
    if (run.status === 'finished' || run.status === 'killed') {
      return { runId: trialRunId, status: 'skipped', metrics: {}, reason: `trial already ${run.status}` };
    }
    let config: Record<string, unknown>;
    let evaluate: { dataset: string; name: string; split?: string }[];
    try {
      config = JSON.parse(run.tags[TAGS.config] ?? '');
      evaluate = JSON.parse(run.tags[TAGS.evaluate] ?? '[]');
    } catch (e) {
      throw new ConfigError(`trial run ${trialRunId}: unreadable '${TAGS.config}' / '${TAGS.evaluate}' tag: ${errorMessage(e)}`);
    }
    await tracker.setTags(trialRunId, { [TAGS.workerPid]: String(process.pid) });
    await tracker.setStatus(trialRunId, 'running');
    try {
      const { trainRunId, metrics } = await executeTrial(tracker, trialRunId, run.experimentName, config, evaluate);
      // Another worker may have finished this trial meanwhile (a stalled job run twice): keep one.
      const now = await tracker.getRun(trialRunId);
      if (now.status === 'finished') {
        return { runId: trialRunId, status: 'skipped', metrics: {}, reason: 'finished meanwhile by another worker', trainRunId };
      }
      await tracker.logMetrics(trialRunId, metrics);
      await tracker.setTags(trialRunId, { [TAGS.trainRun]: trainRunId });
      await endAs('finished');
      return { runId: trialRunId, status: 'finished', metrics: Object.fromEntries(metrics.map((m) => [m.key, m.value])), trainRunId };
    } catch (e) {
      if (stopping) await new Promise(() => undefined); // stop() exits the process
      const reason = errorMessage(e);
      await tracker.setTags(trialRunId, { [TAGS.lastError]: reason.slice(0, 4000) }).catch(() => undefined);
      await endAs('failed', reason);
      return { runId: trialRunId, status: 'failed', metrics: {}, reason };
    }
  } finally {
    clearInterval(beat);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    await tracker.close();
  }
}
