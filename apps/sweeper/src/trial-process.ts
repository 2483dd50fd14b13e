/**
 * The body of `vmr sweep trial <run>`: one attempt of one trial, in its own process. It reads the
 * resolved config from the trial run, trains (the trainer's `trainRun`, logged as a child of the trial
 * run) — or, when an earlier attempt's training run was interrupted, continues it from its last
 * checkpoint with the trainer's exact `resumeRun` — evaluates on every `evaluate` dataset (`vmr eval` as
 * a child process, a child run of the training run; evaluations an earlier attempt finished are kept),
 * copies the headline metrics onto the trial run and ends it.
 *
 * Interruptions do not fail the trial: SIGINT (or the pool / worker dying) checkpoints the training run
 * and puts the trial back to `queued` (exit 130); SIGTERM or the sweep being cancelled checkpoints it
 * and ends the trial `killed` (exit 143). Either way the next attempt resumes from the checkpoint.
 */
import { spawn, type ChildProcess } from 'child_process';
import { ConfigError, errorMessage } from '@vmr/core';
import { openTracker, type MetricPoint, type Tracker } from '@vmr/tracking';
import { TRAIN_ARTIFACTS, parseTrainConfig } from '@vmr/pipeline';
import { RUN_KIND_TAG, resumeRun, trainRun, type TrainResult } from '@vmr/trainer';
import type { EvaluateEntry } from './spec';
import { TAGS } from './sweep-store';
import { vmrBin } from './trial-launch';
import { EVAL_METRIC_KEYS } from './validate';

export interface TrialProcessResult {
  runId: string;
  status: 'finished' | 'failed' | 'killed' | 'skipped' | 'interrupted';
  metrics: Record<string, number>;
  trainRunId?: string;
  /** Set when the training run continued an interrupted one from its checkpoint. */
  resumedFrom?: string;
  reason?: string;
}

/** Testing aid (env): raise SIGINT in the trial process after this many training steps of a fresh (not resumed) run. */
export const INTERRUPT_ENV = 'VMR_TEST_INTERRUPT_AFTER_STEPS';

function finiteMetrics(prefix: string, obj: Record<string, unknown> | undefined, out: MetricPoint[]): void {
  if (!obj) return;
  for (const [k, v] of Object.entries(obj)) if (typeof v === 'number' && Number.isFinite(v)) out.push({ key: `${prefix}${k}`, value: v });
}

/** The eval child currently running (so a signal can stop it). */
let evalChild: ChildProcess | undefined;

/**
 * `vmr eval --run <id> --dataset <dir> --json` as a child process of the real CLI, logging through the
 * same tracking server; returns the numeric results it prints under `metrics` (R@k, AV-Align, FAD, ranks).
 */
export async function evalViaCli(runId: string, e: { dataset: string; split?: string; table?: string; protocol?: string }, trackingUri: string): Promise<Record<string, number>> {
  const args = [vmrBin(), 'eval', '--run', runId, '--dataset', e.dataset, '--tracking-uri', trackingUri, '--json', '--quiet', ...(e.split ? ['--split', e.split] : []), ...(e.table ? ['--table', e.table] : []), ...(e.protocol ? ['--protocol', e.protocol] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VMR_QUIET: '1' } });
  evalChild = child;
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  evalChild = undefined;
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

/** An evaluation an earlier attempt already finished on this training run (same dataset, split and protocol). */
async function finishedEval(tracker: Tracker, trainRunId: string, e: EvaluateEntry): Promise<Record<string, number> | undefined> {
  for (const r of await tracker.searchRuns({ parentId: trainRunId, status: 'finished', tags: { [RUN_KIND_TAG]: 'eval' } })) {
    const d = await tracker.getRun(r.id);
    if (d.params['eval.dataset.path'] !== e.dataset || (e.split && d.params['eval.split'] !== e.split) || d.protocol !== (e.protocol ?? 'paper')) continue;
    if (e.table && d.tags.table !== undefined && d.tags.table !== e.table) continue;
    const latest = await tracker.latestMetrics(r.id);
    const out: Record<string, number> = {};
    for (const k of EVAL_METRIC_KEYS) if (latest[`eval.${k}`] && Number.isFinite(latest[`eval.${k}`].value)) out[k] = latest[`eval.${k}`].value;
    return out;
  }
  return undefined;
}

/** The trial's earlier training run to continue: finished (reuse) or interrupted with a checkpoint (resume). */
async function earlierTraining(tracker: Tracker, trialRunId: string): Promise<{ id: string; status: string } | undefined> {
  const runs = await tracker.searchRuns({ parentId: trialRunId, tags: { [RUN_KIND_TAG]: 'train' }, orderBy: [{ kind: 'attribute', key: 'start_time', desc: true }] });
  const done = runs.find((r) => r.status === 'finished');
  if (done) return { id: done.id, status: 'finished' };
  for (const r of runs) {
    if (r.status !== 'killed' && r.status !== 'failed') continue;
    const full = await tracker.getRun(r.id);
    if (full.tags[TAGS.forgotten]) continue;
    if (full.artifacts.some((a) => a.path === TRAIN_ARTIFACTS.latest)) return { id: r.id, status: r.status };
  }
  return undefined;
}

/**
 * Train (or resume, or reuse) then evaluate one trial config; returns the metrics to copy onto the trial
 * run (`train.val.*` from the last validation, `eval.<dataset>.*` per evaluation dataset), or
 * `interrupted` when a signal stopped the training run (it is checkpointed and marked killed).
 */
export async function executeTrial(
  tracker: Tracker,
  trialRunId: string,
  experiment: string,
  config: Record<string, unknown>,
  evaluate: EvaluateEntry[],
  hooks: { onTrainProgress?: () => void; beforeEvaluation?: () => void } = {},
): Promise<{ trainRunId: string; metrics: MetricPoint[]; interrupted?: boolean; resumedFrom?: string }> {
  // A trial's training run always lives in the sweep's experiment: a base config borrowed from another
  // experiment (e.g. quickstart.yaml) must not add sweep trials to that experiment's tables.
  const trainConfig = parseTrainConfig({ ...config, experiment }, `trial ${trialRunId} config`);
  const key = (await tracker.getRun(trialRunId)).tags[TAGS.key] ?? '';
  const ownTags = { [TAGS.key]: key, [TAGS.workerPid]: String(process.pid) };
  const earlier = await earlierTraining(tracker, trialRunId);
  let trained: Pick<TrainResult, 'runId' | 'status' | 'val' | 'finalLoss'>;
  let resumedFrom: string | undefined;
  if (earlier?.status === 'finished') {
    const latest = await tracker.latestMetrics(earlier.id);
    const val = latest['val.r1'] ? { r1: latest['val.r1'].value, r5: latest['val.r5']?.value ?? NaN, r10: latest['val.r10']?.value ?? NaN, medianRank: latest['val.medianRank']?.value ?? NaN } : undefined;
    trained = { runId: earlier.id, status: 'finished', val, finalLoss: latest['train.loss']?.value ?? NaN };
  } else if (earlier) {
    await tracker.setTags(earlier.id, ownTags);
    resumedFrom = earlier.id;
    trained = await resumeRun(earlier.id, { tracker, progress: false, handleSignals: true, onProgress: hooks.onTrainProgress });
  } else {
    const n = Number(process.env[INTERRUPT_ENV] ?? '');
    trained = await trainRun(trainConfig, { tracker, parentId: trialRunId, progress: false, handleSignals: true, onProgress: hooks.onTrainProgress, tags: ownTags, ...(Number.isInteger(n) && n > 0 ? { interruptAfterSteps: n } : {}) });
  }
  if (trained.status === 'killed') return { trainRunId: trained.runId, metrics: [], interrupted: true, resumedFrom };
  if (trained.status !== 'finished') throw new ConfigError(`training run ${trained.runId} ended ${trained.status}`);
  const metrics: MetricPoint[] = [];
  finiteMetrics('train.val.', trained.val, metrics);
  if (Number.isFinite(trained.finalLoss)) metrics.push({ key: 'train.loss', value: trained.finalLoss });
  hooks.beforeEvaluation?.();
  for (const e of evaluate) {
    const r = (await finishedEval(tracker, trained.runId, e)) ?? (await evalViaCli(trained.runId, e, tracker.location));
    finiteMetrics(`eval.${e.name}.`, r, metrics);
  }
  return { trainRunId: trained.runId, metrics, resumedFrom };
}

/**
 * Run one attempt of a trial. Exit codes (set by the command): 0 finished or skipped, 1 failed,
 * 143 cancelled (SIGTERM or the run marked killed: the trial ends `killed`), 130 interrupted (SIGINT or
 * the parent pool/worker died: the trial goes back to `queued`). In both interrupted cases the training
 * run is checkpointed first and the next attempt resumes it.
 */
export async function runTrialProcess(trialRunId: string, trackingUri: string): Promise<TrialProcessResult> {
  const tracker = openTracker({ trackingUri });
  const parentPid = process.ppid;
  let ended = false;
  /** The first interruption: requeue (SIGINT, orphaned) or cancel (SIGTERM, sweep cancelled). */
  let interruption: { why: string; requeue: boolean } | undefined;
  let training = false;
  const endAs = async (status: 'finished' | 'failed' | 'killed', reason?: string) => {
    if (ended) return;
    ended = true;
    await tracker.endRun(trialRunId, status, reason);
  };
  /** Leave the trial queued (requeue) or killed, record the interruption, exit 130 / 143. */
  const settleInterrupted = async (): Promise<never> => {
    const { why, requeue } = interruption!;
    try {
      const cur = await tracker.getRun(trialRunId);
      await tracker.setTags(trialRunId, { [TAGS.lastError]: `attempt interrupted: ${why}` });
      if (cur.status === 'running' || cur.status === 'queued') {
        if (requeue) await tracker.setStatus(trialRunId, 'queued');
        else await endAs('killed', why);
      }
    } finally {
      await tracker.close().catch(() => undefined);
      process.exit(requeue ? 130 : 143);
    }
  };
  const interrupt = (why: string, requeue: boolean) => {
    if (interruption) return;
    interruption = { why, requeue };
    // While training, the trainer's own handler (it received the same signal) checkpoints the run
    // and returns `killed`; the trial settles after that.
    if (training) return;
    evalChild?.kill('SIGTERM');
    void settleInterrupted();
  };
  const onTerm = () => interrupt('trial process received SIGTERM', false);
  const onInt = () => interrupt('trial process received SIGINT', true);
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  const selfSignal = (sig: NodeJS.Signals, why: string, requeue: boolean) => {
    if (interruption) return;
    if (training) {
      interruption = { why, requeue };
      process.kill(process.pid, sig); // reaches the trainer's handler: checkpoint, then return
    } else interrupt(why, requeue);
  };
  const beat = setInterval(() => {
    void (async () => {
      try {
        // Orphaned (the pool or worker was killed): stop rather than train unobserved.
        if (process.ppid !== parentPid) return selfSignal('SIGINT', `parent process ${parentPid} exited`, true);
        await tracker.heartbeat(trialRunId);
        const cur = await tracker.getRun(trialRunId);
        if (cur.status === 'killed') selfSignal('SIGTERM', 'sweep cancelled', false);
      } catch {
        /* the next beat retries */
      }
    })();
  }, 2000);
  beat.unref();
  try {
    const run = await tracker.getRun(trialRunId);
    if (run.tags[TAGS.role] !== 'trial') throw new ConfigError(`run ${trialRunId} is not a sweep trial run`);
    if (run.tags[TAGS.aliasOf]) throw new ConfigError(`trial run ${trialRunId} is an alias of trial ${run.tags[TAGS.aliasOf].slice(0, 12)} (its λ vector is a multiple); it is not run`);
    if (run.status === 'finished' || run.status === 'killed') {
      return { runId: trialRunId, status: 'skipped', metrics: {}, reason: `trial already ${run.status}` };
    }
    let config: Record<string, unknown>;
    let evaluate: EvaluateEntry[];
    try {
      config = JSON.parse(run.tags[TAGS.config] ?? '');
      evaluate = JSON.parse(run.tags[TAGS.evaluate] ?? '[]');
    } catch (e) {
      throw new ConfigError(`trial run ${trialRunId}: unreadable '${TAGS.config}' / '${TAGS.evaluate}' tag: ${errorMessage(e)}`);
    }
    await tracker.setTags(trialRunId, { [TAGS.workerPid]: String(process.pid) });
    await tracker.setStatus(trialRunId, 'running');
    try {
      training = true;
      // A signal that arrived while the trainer was still loading data (before its handler existed) is
      // raised again at the first step, so the run is checkpointed instead of trained to the end.
      let reRaised = false;
      const onTrainProgress = () => {
        if (!interruption || reRaised) return;
        reRaised = true;
        process.kill(process.pid, interruption.requeue ? 'SIGINT' : 'SIGTERM');
      };
      // Evaluation: a signal stops the `vmr eval` child and settles the trial at once (finished
      // evaluations are kept for the next attempt).
      const beforeEvaluation = () => {
        training = false;
        if (interruption) throw new ConfigError(`interrupted before evaluation: ${interruption.why}`);
      };
      const out = await executeTrial(tracker, trialRunId, run.experimentName, config, evaluate, { onTrainProgress, beforeEvaluation }).finally(() => {
        training = false;
      });
      if (out.interrupted || interruption) {
        interruption ??= { why: 'training run interrupted', requeue: true };
        await settleInterrupted();
      }
      const { trainRunId, metrics } = out;
      // Another worker may have finished this trial meanwhile (a stalled job run twice): keep one.
      const now = await tracker.getRun(trialRunId);
      if (now.status === 'finished') {
        return { runId: trialRunId, status: 'skipped', metrics: {}, reason: 'finished meanwhile by another worker', trainRunId };
      }
      await tracker.logMetrics(trialRunId, metrics);
      await tracker.setTags(trialRunId, { [TAGS.trainRun]: trainRunId });
      await endAs('finished');
      return { runId: trialRunId, status: 'finished', metrics: Object.fromEntries(metrics.map((m) => [m.key, m.value])), trainRunId, ...(out.resumedFrom ? { resumedFrom: out.resumedFrom } : {}) };
    } catch (e) {
      if (interruption) await settleInterrupted();
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
