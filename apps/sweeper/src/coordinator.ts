/**
 * `vmr sweep run`: expand the spec, open (or resume) the sweep's parent run, make sure every trial has
 * its child run, and execute the trials that need it — on a local pool of worker processes, or by
 * enqueueing them in BullMQ for `vmr sweep worker`s. Many processes log through one tracking server:
 * the given `--tracking-uri`, or one this coordinator starts over the local store.
 */
import * as os from 'os';
import * as path from 'path';
import { InvalidArgumentError, errorMessage } from '@vmr/core';
import { openTracker, resolveTrackingUri, startTrackingServer, type TrackingServer, type Tracker } from '@vmr/tracking';
import { resolveCodeVersion } from './code-version';
import { expandTrials } from './expand';
import type { SweepSpec } from './spec';
import { SweepStatusView } from './status-view';
import { countStatuses, ensureTrials, listTrials, openSweep, TAGS, type SweepInfo, type TrialState } from './sweep-store';
import { attachLog, beginAttempt, launchTrial, settleAttempt, type LaunchedTrial } from './trial-launch';
import { runBullmqTrials } from './bullmq-executor';
import { checkRedis, checkTrackingServer, isLoopbackHost, loopbackRefusal, uriHost } from './remote-checks';
import { checkSlurmTools, runSlurmTrials, type SlurmOptions } from './slurm-executor';

export type ExecutorKind = 'local' | 'bullmq' | 'slurm';

export interface RunSweepOptions {
  trackingUri?: string;
  store?: string;
  /** Local pool size (default: one per core, capped by the spec's maxParallel). */
  workers?: number;
  /** Re-run failed trials that have attempts left. */
  retryFailed?: boolean;
  executor?: ExecutorKind;
  /** redis://host:port for the BullMQ executor. */
  redis?: string;
  /** BullMQ queue name (default `vmr-sweeps`). */
  queue?: string;
  /** Directory for per-attempt logs (default: beside the local store, else ./vmr-sweep-logs). */
  logDir?: string;
  quiet?: boolean;
  /** Expand and report what would run, without running anything. */
  dryRun?: boolean;
  /** Called whenever trial counts change (tests, custom views). */
  onUpdate?: (s: SweepSnapshot) => void;
  /**
   * BullMQ / Slurm with a local store: the address (and port, default random) the sweep's tracking
   * server binds and hands to workers. Without it (and without an http --tracking-uri) those executors
   * refuse to start: a loopback URI is unreachable from other machines.
   */
  serveHost?: string;
  servePort?: number;
  /** Bearer token of the tracking server (served or given); carried to workers. Default $VMR_TRACKING_TOKEN. */
  trackingToken?: string;
  /** BullMQ: give up (sweep resumable) when no worker has been connected for this long (ms, default 10 min). */
  workerWaitMs?: number;
  /** Slurm executor settings. */
  slurm?: SlurmOptions;
}

export interface SweepSnapshot {
  sweepId: string;
  total: number;
  finished: number;
  failed: number;
  running: number;
  queued: number;
  killed: number;
}

export interface SweepRunResult {
  sweepId: string;
  name: string;
  experiment: string;
  codeVersion: string;
  /** Trials in the (maxTrials-limited) expansion, and before the limit. */
  trials: number;
  expanded: number;
  /** Trials already finished when this run started (skipped). */
  skipped: number;
  /** Attempts started by this run. */
  attempts: number;
  finished: number;
  failed: number;
  killed: number;
  /** Failed trials not retried (no --retry-failed, or no attempts left). */
  failedNotRetried: number;
  cancelled: boolean;
  best?: { runId: string; key: string; metric: string; value: number; values: Record<string, unknown> };
  /** `planned`: a --dry-run (the sweep and its trial runs exist, queued). */
  status: 'finished' | 'failed' | 'killed' | 'planned';
}

/** The per-core default pool size. */
export function defaultWorkers(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Best finished trial by the spec's metric. */
export async function bestTrial(tracker: Tracker, trials: TrialState[], metric: { name: string; direction: 'max' | 'min' } | undefined): Promise<SweepRunResult['best']> {
  if (!metric) return undefined;
  let best: SweepRunResult['best'];
  for (const t of trials) {
    if (t.status !== 'finished') continue;
    const m = (await tracker.latestMetrics(t.runId))[metric.name];
    if (!m || !Number.isFinite(m.value)) continue;
    if (!best || (metric.direction === 'max' ? m.value > best.value : m.value < best.value)) best = { runId: t.runId, key: t.key, metric: metric.name, value: m.value, values: t.values };
  }
  return best;
}

interface Ctx {
  tracker: Tracker;
  workerUri: string;
  /** Token workers send to the tracking server. */
  token?: string;
  server?: TrackingServer;
}

async function openContext(opts: RunSweepOptions, executor: ExecutorKind): Promise<Ctx> {
  const uri = resolveTrackingUri({ trackingUri: opts.trackingUri, store: opts.store });
  const token = opts.trackingToken || process.env.VMR_TRACKING_TOKEN || undefined;
  if (/^https?:\/\//.test(uri)) {
    // Remote executors: fail in seconds when the server does not answer (not after minutes of retries).
    if (executor !== 'local') await checkTrackingServer(uri, token, 5000);
    return { tracker: openTracker({ trackingUri: uri }, { http: { token } }), workerUri: uri, token };
  }
  // Workers on other machines cannot reach this machine's loopback: the user names the address to serve on.
  if (executor !== 'local' && opts.serveHost === undefined) throw loopbackRefusal(executor, 'http://127.0.0.1:<random port>');
  const host = opts.serveHost ?? '127.0.0.1';
  if (host === '0.0.0.0' || host === '::') throw new InvalidArgumentError(`--serve-host ${host}: give the address workers reach this machine at (it is bound and handed to them), not a wildcard`);
  if (!isLoopbackHost(host) && !token) throw new InvalidArgumentError(`--serve-host ${host} needs --tracking-token <secret> (or $VMR_TRACKING_TOKEN): the served store accepts writes from anyone who can reach it`);
  // One writer for many processes: a tracking server over the local store for this sweep's lifetime.
  const server = await startTrackingServer({ db: uri, host, port: opts.servePort ?? 0, token: isLoopbackHost(host) ? undefined : token });
  return { tracker: server.store, workerUri: server.url, token: isLoopbackHost(host) ? undefined : token, server };
}

function defaultLogDir(opts: RunSweepOptions, sweepId: string): string {
  if (opts.logDir) return path.resolve(opts.logDir, sweepId);
  const uri = resolveTrackingUri({ trackingUri: opts.trackingUri, store: opts.store });
  if (!/^https?:\/\//.test(uri)) return path.join(path.dirname(uri), 'sweep-logs', sweepId);
  return path.resolve('vmr-sweep-logs', sweepId);
}

/**
 * Decide what runs now: queued / killed / orphaned running trials, and failed ones with attempts
 * left when `retryFailed`. Finished trials are skipped.
 */
function selectRunnable(trials: TrialState[], maxAttempts: number, retryFailed: boolean): { runnable: TrialState[]; failedNotRetried: number } {
  const runnable: TrialState[] = [];
  let failedNotRetried = 0;
  for (const t of trials) {
    if (t.status === 'finished') continue;
    if (t.status === 'failed') {
      if (retryFailed && t.attempts < maxAttempts) runnable.push(t);
      else failedNotRetried++;
      continue;
    }
    runnable.push(t);
  }
  return { runnable, failedNotRetried };
}

export async function runSweep(spec: SweepSpec, opts: RunSweepOptions = {}): Promise<SweepRunResult> {
  const executor = opts.executor ?? 'local';
  if (executor === 'bullmq' && !opts.redis) throw new InvalidArgumentError('--executor bullmq needs --redis redis://host:port');
  if (executor === 'bullmq' && !opts.dryRun) await checkRedis(opts.redis!, 5000);
  if (executor === 'slurm' && !opts.dryRun) await checkSlurmTools();
  if (executor !== 'local' && opts.trackingUri && isLoopbackHost(uriHost(opts.trackingUri) ?? '') && opts.serveHost === undefined && !opts.dryRun) {
    // An explicit loopback URI: workers on this machine only. Said once, not refused (the user chose it).
    if (!opts.quiet) process.stderr.write(`note: --tracking-uri ${opts.trackingUri} is a loopback address: only workers on this machine can report to it\n`);
  }
  const codeVersion = resolveCodeVersion(spec.codeVersion);
  const expansion = expandTrials(spec, codeVersion);
  if (expansion.trials.length === 0) throw new InvalidArgumentError(`sweep '${spec.name}' expands to no trials`);
  const ctx = await openContext(opts, executor);
  const { tracker } = ctx;
  let sweep: SweepInfo | undefined;
  let view: SweepStatusView | undefined;
  let cancelled = false;
  let interrupted = 0;
  const onSigint = () => {
    interrupted++;
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    sweep = await openSweep(tracker, spec, expansion, executor);
    const trials = await ensureTrials(tracker, sweep, spec, expansion.trials);
    const keys = new Set(expansion.trials.map((t) => t.key));
    const skipped = trials.filter((t) => t.status === 'finished').length;
    const { runnable, failedNotRetried } = selectRunnable(trials, spec.maxAttempts, !!opts.retryFailed);
    // Trials reset for this run: failed ones retried, killed/orphaned ones requeued.
    // (BullMQ and Slurm first adopt trials whose job is still alive, and reset the others themselves.)
    if (executor === 'local') for (const t of runnable) if (t.status !== 'queued') await tracker.setStatus(t.runId, 'queued');
    const label = `sweep ${spec.name}`;
    view = new SweepStatusView(label, trials.length, skipped, !!opts.quiet);
    const logDir = defaultLogDir(opts, sweep.id);
    const snapshot = async (): Promise<SweepSnapshot> => {
      const states = await trialStatuses(tracker, sweep!.id, keys);
      const c = countStatuses(states);
      return { sweepId: sweep!.id, total: trials.length, finished: c.finished, failed: c.failed, running: c.running, queued: c.queued, killed: c.killed };
    };
    let bestCache: SweepRunResult['best'];
    let lastFinished = -1;
    const refresh = async () => {
      const s = await snapshot();
      if (s.finished !== lastFinished) {
        lastFinished = s.finished;
        bestCache = await bestTrial(tracker, await listTrialsIn(tracker, sweep!.id, keys), spec.metric);
      }
      view!.update({ total: s.total, done: s.finished, running: s.running, failed: s.failed, queued: s.queued, best: bestCache ? { metric: bestCache.metric, value: bestCache.value, trial: bestCache.runId.slice(0, 8) } : undefined });
      opts.onUpdate?.(s);
      // `vmr sweep cancel` marks the sweep run killed.
      if ((await tracker.getRun(sweep!.id)).status === 'killed') cancelled = true;
      if (interrupted > 0) cancelled = true;
      await tracker.heartbeat(sweep!.id);
      return s;
    };
    let attempts = 0;
    if (opts.dryRun) {
      attempts = 0;
    } else if (executor === 'local') {
      const workers = Math.max(1, Math.min(opts.workers ?? defaultWorkers(), spec.maxParallel ?? Infinity));
      attempts = await runLocalPool({ tracker, workerUri: ctx.workerUri, runnable, workers, maxAttempts: spec.maxAttempts, logDir, refresh, isCancelled: () => cancelled, forceKill: () => interrupted > 1 });
    } else if (executor === 'slurm') {
      attempts = await runSlurmTrials({ tracker, sweep, workerUri: ctx.workerUri, token: ctx.token, runnable, maxAttempts: spec.maxAttempts, maxParallel: spec.maxParallel, retryFailed: !!opts.retryFailed, logDir, slurm: opts.slurm ?? {}, refresh, isCancelled: () => cancelled });
    } else {
      attempts = await runBullmqTrials({
        tracker,
        redis: opts.redis!,
        queue: opts.queue ?? 'vmr-sweeps',
        sweepId: sweep.id,
        workerUri: ctx.workerUri,
        token: ctx.token,
        codeVersion,
        runnable,
        maxAttempts: spec.maxAttempts,
        refresh,
        isCancelled: () => cancelled,
        workerWaitMs: opts.workerWaitMs,
      });
    }
    await refresh().catch(() => undefined);
    view.stop();
    const final = await listTrialsIn(tracker, sweep.id, keys);
    if (cancelled) {
      for (const t of final) if (t.status === 'queued' || t.status === 'running') await tracker.endRun(t.runId, 'killed', 'sweep cancelled').catch(() => undefined);
    }
    const after = countStatuses(await listTrialsIn(tracker, sweep.id, keys));
    const status: SweepRunResult['status'] = opts.dryRun ? 'planned' : cancelled ? 'killed' : after.finished === final.length ? 'finished' : 'failed';
    const best = await bestTrial(tracker, final, spec.metric);
    if (opts.dryRun) await tracker.setStatus(sweep.id, 'queued');
    else {
      const bestTags: Record<string, string> = best ? { 'sweep.best_run': best.runId, 'sweep.best_value': String(best.value) } : {};
      await tracker.setTags(sweep.id, bestTags);
      if (best) await tracker.logMetrics(sweep.id, [{ key: `best.${best.metric}`, value: best.value }]);
      await tracker.endRun(sweep.id, status as 'finished' | 'failed' | 'killed', status === 'failed' ? `${after.failed} of ${final.length} trials failed` : cancelled ? 'cancelled' : undefined);
    }
    return {
      sweepId: sweep.id,
      name: spec.name,
      experiment: sweep.experiment,
      codeVersion,
      trials: final.length,
      expanded: expansion.total,
      skipped,
      attempts,
      finished: after.finished,
      failed: after.failed,
      killed: after.killed,
      failedNotRetried,
      cancelled,
      best,
      status,
    };
  } catch (e) {
    view?.stop();
    if (sweep) await tracker.endRun(sweep.id, 'failed', errorMessage(e)).catch(() => undefined);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    if (ctx.server) await ctx.server.close();
    else await tracker.close();
  }
}

async function listTrialsIn(tracker: Tracker, sweepId: string, keys: Set<string>): Promise<TrialState[]> {
  return (await listTrials(tracker, sweepId)).filter((t) => keys.has(t.key));
}

/** Statuses of this expansion's trials (cheap: one search, tags read once per run id). */
const keyCache = new Map<string, string>();
async function trialStatuses(tracker: Tracker, sweepId: string, keys: Set<string>): Promise<{ status: TrialState['status'] }[]> {
  const runs = await tracker.searchRuns({ parentId: sweepId, tags: { [TAGS.role]: 'trial' } });
  const out: { status: TrialState['status'] }[] = [];
  for (const r of runs) {
    let key = keyCache.get(r.id);
    if (key === undefined) {
      key = (await tracker.getRun(r.id)).tags[TAGS.key] ?? '';
      keyCache.set(r.id, key);
    }
    if (keys.has(key)) out.push({ status: r.status });
  }
  return out;
}

interface PoolArgs {
  tracker: Tracker;
  workerUri: string;
  runnable: TrialState[];
  workers: number;
  maxAttempts: number;
  logDir: string;
  refresh: () => Promise<SweepSnapshot>;
  isCancelled: () => boolean;
  forceKill: () => boolean;
}

/**
 * The local pool: at most `workers` trial processes at once. A process that dies without ending its
 * trial (SIGKILL, OOM) has its trial requeued while attempts remain; a trial that fails on its own is
 * recorded failed and left for `--retry-failed`.
 */
async function runLocalPool(a: PoolArgs): Promise<number> {
  const pending = [...a.runnable];
  const attemptsOf = new Map(a.runnable.map((t) => [t.runId, t.attempts]));
  const active = new Map<string, { launched: LaunchedTrial; attempt: number; settled: Promise<void> }>();
  let started = 0;
  let lastRefresh = 0;
  let termSent = false;
  let killSent = false;
  while (pending.length > 0 || active.size > 0) {
    if (a.isCancelled()) {
      pending.length = 0;
      if (!termSent) {
        termSent = true;
        for (const { launched } of active.values()) signalGroup(launched, 'SIGTERM');
      }
      if (a.forceKill() && !killSent) {
        killSent = true;
        for (const { launched } of active.values()) signalGroup(launched, 'SIGKILL');
      }
    }
    while (!a.isCancelled() && active.size < a.workers && pending.length > 0) {
      const t = pending.shift()!;
      const attempt = await beginAttempt(a.tracker, t.runId);
      attemptsOf.set(t.runId, attempt);
      started++;
      const logFile = path.join(a.logDir, `${t.runId}.attempt-${attempt}.log`);
      const launched = launchTrial(t.runId, a.workerUri, logFile);
      const settled = launched.done.then(async (exit) => {
        const retry = !a.isCancelled() && attempt < a.maxAttempts;
        const r = await settleAttempt(a.tracker, t.runId, exit, attempt, retry);
        await attachLog(a.tracker, t.runId, logFile, attempt);
        if (r.outcome === 'crashed' && retry) pending.push(t);
        active.delete(t.runId);
      });
      active.set(t.runId, { launched, attempt, settled });
    }
    await Promise.race([sleep(500), ...[...active.values()].map((x) => x.settled)]);
    if (Date.now() - lastRefresh > 1000 || active.size === 0) {
      lastRefresh = Date.now();
      await a.refresh();
    }
  }
  return started;
}

/** Signal the trial's whole process group (it leads one: launchTrial spawns it detached), its `vmr eval` child too. */
function signalGroup(l: LaunchedTrial, sig: NodeJS.Signals): void {
  try {
    if (l.child.pid) process.kill(-l.child.pid, sig);
  } catch {
    /* already gone */
  }
}
