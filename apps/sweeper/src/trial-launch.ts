/**
 * Running one trial attempt as a child process of the real CLI (`node bin/vmr.js sweep trial <run>`),
 * and the bookkeeping around it that the local pool and the BullMQ worker share: the attempt count
 * before, and after the process ends, what its exit means for the trial.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoRoot } from '@vmr/core';
import type { Tracker } from '@vmr/tracking';
import { TAGS } from './sweep-store';

export interface TrialExit {
  /** The trial process's pid. */
  pid?: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Where the process's stdout + stderr went. */
  logFile: string;
}

export interface LaunchedTrial {
  child: ChildProcess;
  done: Promise<TrialExit>;
}

/** Path of the `vmr` entry script. */
export function vmrBin(): string {
  return path.join(repoRoot(), 'bin', 'vmr.js');
}

/**
 * Spawn `vmr sweep trial <runId> --tracking-uri <uri>` with stdout/stderr appended to `logFile`.
 * The child is in its own process group so a Ctrl-C at the terminal reaches the coordinator first.
 */
export function launchTrial(runId: string, trackingUri: string, logFile: string, env: NodeJS.ProcessEnv = {}): LaunchedTrial {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [vmrBin(), 'sweep', 'trial', runId, '--tracking-uri', trackingUri, '--quiet'], {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env, VMR_QUIET: '1' },
    detached: true,
  });
  fs.closeSync(fd);
  const done = new Promise<TrialExit>((resolve) => {
    child.once('error', () => resolve({ pid: child.pid, code: 127, signal: null, logFile }));
    child.once('exit', (code, signal) => resolve({ pid: child.pid, code, signal, logFile }));
  });
  return { child, done };
}

/** Count the attempt and record who runs it, before the process starts. Returns the attempt number. */
export async function beginAttempt(tracker: Tracker, runId: string, worker = `${os.hostname()}:${process.pid}`): Promise<number> {
  const run = await tracker.getRun(runId);
  const attempt = Number(run.tags[TAGS.attempts] ?? 0) + 1;
  await tracker.setTags(runId, { [TAGS.attempts]: String(attempt), [TAGS.worker]: worker, [TAGS.attemptStarted]: String(Date.now()) });
  return attempt;
}

export type AttemptOutcome =
  /** The trial run is finished. */
  | 'finished'
  /** The trial itself failed (it recorded the error): not retried automatically. */
  | 'failed'
  /** The process died (signal, lost) without ending the trial: retry when attempts remain. */
  | 'crashed'
  /** The trial was cancelled (run marked killed). */
  | 'cancelled'
  /**
   * The trial process was interrupted (SIGINT/SIGTERM, its parent gone) and left the trial queued or
   * killed after checkpointing: not a failed attempt (the attempt count is given back); the next
   * attempt resumes from the checkpoint.
   */
  | 'interrupted';

/**
 * What an attempt's exit means, from the exit and the trial run's status. A process that died without
 * ending its run (SIGKILL, OOM…) leaves the run `running`: the run is put back to `queued` when
 * `retry` is true, else failed with the reason; its open child runs (the attempt's training run) are
 * marked failed.
 */
export async function settleAttempt(tracker: Tracker, runId: string, exit: TrialExit & { pid?: number }, attempt: number, retry: boolean): Promise<{ outcome: AttemptOutcome; reason?: string }> {
  const run = await tracker.getRun(runId);
  if (run.status === 'finished') return { outcome: 'finished' };
  if (exit.signal === null && (exit.code === 130 || exit.code === 143) && (run.status === 'queued' || run.status === 'killed')) {
    // An interruption the trial process handled (checkpointed, requeued or cancelled): not an attempt.
    await tracker.setTags(runId, { [TAGS.attempts]: String(Math.max(0, attempt - 1)), [TAGS.interruptions]: String(Number(run.tags[TAGS.interruptions] ?? 0) + 1) });
    return { outcome: 'interrupted', reason: run.tags[TAGS.lastError] };
  }
  if (run.status === 'killed') return { outcome: 'cancelled' };
  if (run.status === 'failed' && exit.signal === null) return { outcome: 'failed', reason: run.failureReason ?? `exited with code ${exit.code}` };
  const how = exit.signal ? `killed by ${exit.signal}` : run.status === 'queued' ? 'interrupted' : `exited with code ${exit.code} without ending the trial`;
  const reason = `attempt ${attempt}: trial process ${how} (log: ${exit.logFile})`;
  // The dead attempt's own child runs (training, evaluation) are marked failed now, not by the reaper later.
  if (exit.pid !== undefined) {
    for (const child of await tracker.searchRuns({ parentId: runId, status: ['running', 'queued'], tags: { [TAGS.workerPid]: String(exit.pid) } })) {
      await tracker.endRun(child.id, 'failed', `sweep trial process ${how}`).catch(() => undefined);
    }
  }
  await tracker.setTags(runId, { [TAGS.lastError]: reason });
  if (run.status === 'running' && exit.signal === null && exit.code !== 0) {
    // A normal non-zero exit is the trial's own failure even when it could not record it.
    await tracker.endRun(runId, 'failed', reason);
    return { outcome: 'failed', reason };
  }
  if (retry) {
    if (run.status !== 'queued') await tracker.setStatus(runId, 'queued');
  } else await tracker.endRun(runId, 'failed', `${reason}; no attempts left`);
  return { outcome: 'crashed', reason };
}

/** Attach a finished attempt's log to the trial run (best effort). */
export async function attachLog(tracker: Tracker, runId: string, logFile: string, attempt: number): Promise<void> {
  try {
    if (fs.existsSync(logFile) && fs.statSync(logFile).size > 0) await tracker.logArtifact(runId, logFile, `logs/attempt-${attempt}.log`);
  } catch {
    /* the log stays on disk */
  }
}
