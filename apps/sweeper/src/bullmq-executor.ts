/**
 * The distributed executor: the coordinator enqueues one BullMQ job per trial attempt budget and
 * watches the store; `vmr sweep worker` processes (any machine) run the jobs. Retries use BullMQ's
 * attempts with exponential backoff (only for crashed attempts: a trial that fails on its own is
 * final); a worker that dies leaves its job's lock to expire, and BullMQ's stalled-job check hands the
 * job to another worker.
 */
import * as os from 'os';
import * as path from 'path';
import type * as BullMq from 'bullmq';
import type { Job } from 'bullmq';

import { InvalidArgumentError, VmrError, errorMessage } from '@vmr/core';
import { openTracker, type Tracker } from '@vmr/tracking';
import type { SweepSnapshot } from './coordinator';
import { TAGS, type TrialState } from './sweep-store';
import { attachLog, beginAttempt, launchTrial, settleAttempt, type LaunchedTrial } from './trial-launch';
import { checkRedis, checkTrackingServer, trialDatasets, workerPreflight } from './remote-checks';

export interface TrialJobData {
  trialRunId: string;
  sweepId: string;
  /** Tracking URI the coordinator used (a worker's own --tracking-uri wins). */
  trackingUri: string;
  /** Bearer token for that server (a worker's own $VMR_TRACKING_TOKEN wins). */
  token?: string;
  /** The sweep's code version (a git commit is checked against the worker's checkout). */
  codeVersion?: string;
  /** Dataset paths the trial reads (checked on the worker before it starts). */
  datasets?: string[];
}

/** bullmq (and ioredis) are loaded only when a BullMQ executor or worker runs, not by every `vmr` process. */
const bullmq = (): typeof BullMq => require('bullmq') as typeof BullMq;

/** BullMQ connection options from a redis:// URL (workers need maxRetriesPerRequest: null). */
export function redisConnection(url: string): { url: string; maxRetriesPerRequest: null; enableOfflineQueue: boolean } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidArgumentError(`--redis '${url}' is not a URL; expected redis://host:port`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new InvalidArgumentError(`--redis '${url}': expected a redis:// or rediss:// URL`);
  return { url, maxRetriesPerRequest: null, enableOfflineQueue: true };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface BullmqRunArgs {
  tracker: Tracker;
  redis: string;
  queue: string;
  sweepId: string;
  workerUri: string;
  token?: string;
  codeVersion?: string;
  runnable: TrialState[];
  maxAttempts: number;
  refresh: () => Promise<SweepSnapshot>;
  isCancelled: () => boolean;
  /** Backoff base delay between retries (ms). */
  backoffMs?: number;
  /** Give up when trials wait and no worker has been connected for this long (ms, default 10 min). */
  workerWaitMs?: number;
}

/** The coordinator gave up waiting for BullMQ workers (the queue keeps the jobs: a rerun adopts them). */
export class NoWorkersError extends VmrError {
  constructor(message: string) {
    super('IO_ERROR', message);
  }
}

const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/** Job id of a trial's enqueue: a re-enqueue of the same attempt budget is a no-op. */
function jobId(t: TrialState): string {
  return `${t.runId}-a${t.attempts}`;
}

/** A trial's live job from an earlier coordinator (killed, interrupted), to adopt instead of enqueueing twice. */
async function liveJob(queue: BullMq.Queue<TrialJobData>, t: TrialState, maxAttempts: number): Promise<Job<TrialJobData> | undefined> {
  for (let k = 0; k <= Math.max(t.attempts, maxAttempts); k++) {
    const job = await queue.getJob(`${t.runId}-a${k}`);
    if (job && LIVE_STATES.has(await job.getState())) return job;
  }
  return undefined;
}

/**
 * Enqueue the runnable trials (adopting jobs an earlier coordinator left in the queue) and wait until
 * none is queued or running, or the sweep is cancelled. Meanwhile the jobs' BullMQ states are watched:
 * a job that failed (including one that stalled past BullMQ's limit, or that a worker refused) fails its
 * trial with the job's reason; a job that vanished is enqueued again; trials waiting with no worker
 * connected for `workerWaitMs` end the run with a NoWorkersError (the jobs stay queued).
 */
export async function runBullmqTrials(a: BullmqRunArgs): Promise<number> {
  const queue = new (bullmq().Queue)<TrialJobData>(a.queue, { connection: redisConnection(a.redis) });
  queue.on('error', () => undefined);
  const jobs = new Map<string, string>(); // trial run id -> job id
  let adopted = 0;
  try {
    await queue.waitUntilReady();
    const enqueue = async (t: TrialState) => {
      const id = jobId(t);
      const old = await queue.getJob(id);
      if (old && !LIVE_STATES.has(await old.getState())) await old.remove().catch(() => undefined);
      await queue.add(
        'trial',
        { trialRunId: t.runId, sweepId: a.sweepId, trackingUri: a.workerUri, token: a.token, codeVersion: a.codeVersion, datasets: trialDatasets(t) },
        {
          jobId: id,
          attempts: Math.max(1, a.maxAttempts - t.attempts),
          backoff: { type: 'exponential', delay: a.backoffMs ?? 1000 },
          removeOnComplete: { age: 7 * 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      );
      jobs.set(t.runId, id);
    };
    for (const t of a.runnable) {
      const live = await liveJob(queue, t, a.maxAttempts);
      if (live) {
        jobs.set(t.runId, live.id!);
        adopted++;
        continue;
      }
      if (t.status !== 'queued') await a.tracker.setStatus(t.runId, 'queued');
      await enqueue({ ...t, status: 'queued' });
    }
    const waitLimit = a.workerWaitMs ?? 600_000;
    let noWorkersSince: number | undefined;
    for (;;) {
      const s = await a.refresh();
      if (a.isCancelled()) {
        for (const id of jobs.values()) {
          const job = await queue.getJob(id);
          if (job && ['waiting', 'delayed', 'prioritized'].includes(await job.getState())) await job.remove().catch(() => undefined);
        }
        break;
      }
      if (s.queued === 0 && s.running === 0) break;
      // What BullMQ knows that the store does not: failed / vanished jobs.
      for (const [runId, id] of jobs) {
        const run = await a.tracker.getRun(runId);
        if (run.status !== 'queued' && run.status !== 'running') continue;
        const job = await queue.getJob(id);
        const state = job ? await job.getState() : 'missing';
        if (state === 'failed') {
          // Read the job again: the copy fetched before it moved to `failed` has no failedReason yet.
          const failed = await queue.getJob(id);
          const reason = `BullMQ job ${id} failed: ${failed?.failedReason || job?.failedReason || 'no reason given'}`;
          await a.tracker.setTags(runId, { [TAGS.lastError]: reason.slice(0, 4000) });
          await a.tracker.endRun(runId, 'failed', reason);
        } else if (state === 'missing' || state === 'unknown') {
          const t = a.runnable.find((x) => x.runId === runId)!;
          await enqueue({ ...t, attempts: Number(run.tags[TAGS.attempts] ?? 0), status: 'queued' });
        }
      }
      // Bounded wait: trials queued and nobody to run them.
      const waiting = await queue.getWaitingCount();
      const workers = waiting > 0 && s.running === 0 ? (await queue.getWorkers()).length : 1;
      if (workers === 0) {
        noWorkersSince ??= Date.now();
        if (Date.now() - noWorkersSince > waitLimit) {
          throw new NoWorkersError(
            `no \`vmr sweep worker\` has been connected to queue '${a.queue}' at ${a.redis} for ${Math.round(waitLimit / 1000)} s while ${waiting} trial job(s) wait; ` +
              `start workers (vmr sweep worker --redis <url> --queue ${a.queue}) and rerun the spec: it adopts the queued jobs`,
          );
        }
      } else noWorkersSince = undefined;
      await sleep(1000);
    }
  } finally {
    await queue.close();
  }
  return a.runnable.length - adopted;
}

export interface SweepWorkerOptions {
  redis: string;
  queue?: string;
  /** Overrides the tracking URI carried by each job (the server as reachable from this machine). */
  trackingUri?: string;
  /** Trials at once in this worker (default 1: one per core, run one worker per core). */
  concurrency?: number;
  /** Job lock duration (ms): a dead worker's job is recovered after about this long (default 30 s). */
  lockDurationMs?: number;
  /** Directory for attempt logs (default ./vmr-sweep-logs). */
  logDir?: string;
  /** Stop after this many jobs (tests, batch schedulers). */
  maxJobs?: number;
  /** Called with one line per event. */
  log?: (line: string) => void;
}

export interface SweepWorkerHandle {
  worker: BullMq.Worker<TrialJobData>;
  /** Graceful: stop taking jobs, let running trials finish. */
  close(): Promise<void>;
  /** Resolves when the worker has shut down. */
  closed: Promise<void>;
  /**
   * Forced shutdown: SIGINT the running trial processes (their trials go back to `queued`) and wait
   * for them; their jobs are then recovered by BullMQ's stalled-job check on another worker.
   */
  interrupt(): Promise<void>;
}

const GRACE_MS = 10_000;

/** SIGTERM a trial's process group (it leads one), then SIGKILL whatever is left after a grace period. */
export function stopGroup(l: LaunchedTrial): void {
  const pid = l.child.pid;
  if (!pid || (l as { stopping?: boolean }).stopping) return;
  (l as { stopping?: boolean }).stopping = true;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* gone */
    }
  };
  signal('SIGTERM');
  setTimeout(() => signal('SIGKILL'), GRACE_MS).unref();
}

/** Start a BullMQ worker that runs trial jobs as `vmr sweep trial` child processes. */
export async function checkWorkerRedis(url: string): Promise<void> {
  await checkRedis(url, 5000);
}

export function startSweepWorker(opts: SweepWorkerOptions): SweepWorkerHandle {
  const log = opts.log ?? (() => undefined);
  const trackers = new Map<string, Tracker>();
  const trackerFor = (uri: string, token: string | undefined) => {
    let t = trackers.get(uri);
    if (!t) trackers.set(uri, (t = openTracker({ trackingUri: uri }, { http: { token } })));
    return t;
  };
  const reachable = new Set<string>();
  const active = new Set<LaunchedTrial>();
  let done = 0;
  const processor = async (job: Job<TrialJobData>): Promise<{ outcome: string }> => {
    const uri = opts.trackingUri ?? job.data.trackingUri;
    const token = process.env.VMR_TRACKING_TOKEN || job.data.token;
    const id = job.data.trialRunId;
    // Refuse in seconds, with the reason on the job (the coordinator fails the trial with it), rather
    // than retry an unreachable server for minutes while the trial sits `queued`.
    const problem = workerPreflight(job.data);
    if (problem) throw new (bullmq().UnrecoverableError)(problem);
    if (!reachable.has(uri)) {
      try {
        await checkTrackingServer(uri, token, 10_000, opts.trackingUri ? '--tracking-uri' : 'the tracking URI the job carries:');
      } catch (e) {
        throw new (bullmq().UnrecoverableError)(`${errorMessage(e)}${opts.trackingUri ? '' : '; give the worker --tracking-uri as this machine reaches the server, or run the sweep with --serve-host <address>'}`);
      }
      reachable.add(uri);
    }
    const tracker = trackerFor(uri, token);
    const cur = await tracker.getRun(id);
    if (cur.status === 'finished' || cur.status === 'killed' || (await tracker.getRun(job.data.sweepId)).status === 'killed') {
      log(`job ${job.id}: trial ${id} is ${cur.status}; nothing to do`);
      return { outcome: 'skipped' };
    }
    const attempt = await beginAttempt(tracker, id, `${os.hostname()}:${process.pid}`);
    const logFile = path.resolve(opts.logDir ?? 'vmr-sweep-logs', job.data.sweepId, `${id}.attempt-${attempt}.log`);
    log(`job ${job.id}: trial ${id} attempt ${attempt} (BullMQ attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1})`);
    // workers run one per core (see --help): each trial's native GEMM gets 1 thread unless VMR_GEMM_THREADS says otherwise
    const launched = launchTrial(id, uri, logFile, { ...(token ? { VMR_TRACKING_TOKEN: token } : {}), ...(process.env.VMR_GEMM_THREADS ? {} : { VMR_GEMM_THREADS: '1' }) });
    active.add(launched);
    // Cancel reaches the whole trial: its process group (the `vmr eval` child too), SIGKILL after a grace.
    const watch = setInterval(() => {
      void tracker
        .getRun(id)
        .then((r) => {
          if (r.status === 'killed') stopGroup(launched);
        })
        .catch(() => undefined);
    }, 2000);
    const exit = await launched.done.finally(() => {
      clearInterval(watch);
      active.delete(launched);
    });
    const more = job.attemptsMade + 1 < (job.opts.attempts ?? 1);
    const r = await settleAttempt(tracker, id, exit, attempt, more);
    await attachLog(tracker, id, logFile, attempt);
    log(`job ${job.id}: trial ${id} attempt ${attempt}: ${r.outcome}${r.reason ? ` (${r.reason})` : ''}`);
    if (r.outcome === 'failed') throw new (bullmq().UnrecoverableError)(r.reason ?? 'trial failed');
    // an interrupted trial (checkpointed, requeued) is handed out again; a cancelled one is then skipped
    if (r.outcome === 'crashed' || r.outcome === 'interrupted') throw new Error(r.reason ?? 'trial process crashed');
    return { outcome: r.outcome };
  };
  const worker = new (bullmq().Worker)<TrialJobData>(opts.queue ?? 'vmr-sweeps', processor, {
    connection: redisConnection(opts.redis),
    concurrency: opts.concurrency ?? 1,
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: Math.max(1000, Math.floor((opts.lockDurationMs ?? 30_000) / 2)),
    maxStalledCount: 2,
  });
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await worker.close();
      for (const t of trackers.values()) await t.close().catch(() => undefined);
      resolveClosed();
    })();
    return closing;
  };
  worker.on('completed', () => {
    done++;
    if (opts.maxJobs !== undefined && done >= opts.maxJobs) void close();
  });
  worker.on('failed', (job, err) => {
    log(`job ${job?.id ?? '?'} failed: ${errorMessage(err)}`);
    done++;
    if (opts.maxJobs !== undefined && done >= opts.maxJobs) void close();
  });
  worker.on('error', (err) => log(`worker error: ${errorMessage(err)}`));
  const interrupt = async () => {
    const waits = [...active].map((l) => {
      try {
        if (l.child.pid) process.kill(l.child.pid, 'SIGINT');
      } catch {
        /* already gone */
      }
      return l.done;
    });
    await Promise.all(waits);
  };
  return { worker, close, closed, interrupt };
}
