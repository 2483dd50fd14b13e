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
import { InvalidArgumentError, errorMessage } from '@vmr/core';
import { openTracker, type Tracker } from '@vmr/tracking';
import type { SweepSnapshot } from './coordinator';
import type { TrialState } from './sweep-store';
import { attachLog, beginAttempt, launchTrial, settleAttempt, type LaunchedTrial } from './trial-launch';

export interface TrialJobData {
  trialRunId: string;
  sweepId: string;
  /** Tracking URI the coordinator used (a worker's own --tracking-uri wins). */
  trackingUri: string;
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
  runnable: TrialState[];
  maxAttempts: number;
  refresh: () => Promise<SweepSnapshot>;
  isCancelled: () => boolean;
  /** Backoff base delay between retries (ms). */
  backoffMs?: number;
}

/** Job id of a trial's enqueue: a re-enqueue of the same attempt budget is a no-op. */
function jobId(t: TrialState): string {
  return `${t.runId}-a${t.attempts}`;
}

/** Enqueue the runnable trials and wait until none is queued or running (or the sweep is cancelled). */
export async function runBullmqTrials(a: BullmqRunArgs): Promise<number> {
  const queue = new (bullmq().Queue)<TrialJobData>(a.queue, { connection: redisConnection(a.redis) });
  try {
    await queue.waitUntilReady();
    for (const t of a.runnable) {
      await queue.add(
        'trial',
        { trialRunId: t.runId, sweepId: a.sweepId, trackingUri: a.workerUri },
        {
          jobId: jobId(t),
          attempts: Math.max(1, a.maxAttempts - t.attempts),
          backoff: { type: 'exponential', delay: a.backoffMs ?? 1000 },
          removeOnComplete: { age: 7 * 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      );
    }
    for (;;) {
      const s = await a.refresh();
      if (a.isCancelled()) {
        for (const t of a.runnable) {
          const job = await queue.getJob(jobId(t));
          if (job && ((await job.isWaiting()) || (await job.isDelayed()))) await job.remove().catch(() => undefined);
        }
        break;
      }
      if (s.queued === 0 && s.running === 0) break;
      await sleep(1000);
    }
  } finally {
    await queue.close();
  }
  return a.runnable.length;
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

/** Start a BullMQ worker that runs trial jobs as `vmr sweep trial` child processes. */
export function startSweepWorker(opts: SweepWorkerOptions): SweepWorkerHandle {
  const log = opts.log ?? (() => undefined);
  const trackers = new Map<string, Tracker>();
  const trackerFor = (uri: string) => {
    let t = trackers.get(uri);
    if (!t) trackers.set(uri, (t = openTracker({ trackingUri: uri })));
    return t;
  };
  const active = new Set<LaunchedTrial>();
  let done = 0;
  const processor = async (job: Job<TrialJobData>): Promise<{ outcome: string }> => {
    const uri = opts.trackingUri ?? job.data.trackingUri;
    const tracker = trackerFor(uri);
    const id = job.data.trialRunId;
    const cur = await tracker.getRun(id);
    if (cur.status === 'finished' || cur.status === 'killed' || (await tracker.getRun(job.data.sweepId)).status === 'killed') {
      log(`job ${job.id}: trial ${id} is ${cur.status}; nothing to do`);
      return { outcome: 'skipped' };
    }
    const attempt = await beginAttempt(tracker, id, `${os.hostname()}:${process.pid}`);
    const logFile = path.resolve(opts.logDir ?? 'vmr-sweep-logs', job.data.sweepId, `${id}.attempt-${attempt}.log`);
    log(`job ${job.id}: trial ${id} attempt ${attempt} (BullMQ attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1})`);
    // workers run one per core (see --help): each trial's native GEMM gets 1 thread unless VMR_GEMM_THREADS says otherwise
    const launched = launchTrial(id, uri, logFile, process.env.VMR_GEMM_THREADS ? {} : { VMR_GEMM_THREADS: '1' });
    active.add(launched);
    const exit = await launched.done.finally(() => active.delete(launched));
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
