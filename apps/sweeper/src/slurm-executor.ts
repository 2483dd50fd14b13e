/**
 * The Slurm executor: one job array per `vmr sweep run` (one task per runnable trial, `%N` throttle
 * from the spec's maxParallel). Each task runs `vmr sweep trial <run> --tracking-uri <server>`; the
 * coordinator follows the tasks with squeue (and sacct, or scontrol where accounting is off), and
 * resubmits the indices whose task failed, while the trial has attempts left, as a new array of the same
 * script. Scripts are written under the sweep's log directory (`slurm/array-<n>.sh`) so a user can read
 * and resubmit them (`sbatch --array=3,5 array-1.sh`, with $VMR_TRACKING_TOKEN set when the server has one).
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { InvalidArgumentError, errorMessage, writeFileAtomic } from '@vmr/core';
import type { Tracker } from '@vmr/tracking';
import type { SweepSnapshot } from './coordinator';
import { UnreachableError } from './remote-checks';
import { TAGS, type SweepInfo, type TrialState } from './sweep-store';
import { attachLog, vmrBin } from './trial-launch';

export interface SlurmOptions {
  partition?: string;
  /** GPUs per array task (`--gpus-per-task`). */
  gpusPerTrial?: number;
  /** Wall-time limit per task, HH:MM (or any Slurm time string). */
  time?: string;
  /** Extra sbatch arguments, each passed as one `#SBATCH` line (e.g. `--mem=8G`). */
  sbatchArgs?: string[];
  /** Poll interval (ms, default 3000). */
  pollMs?: number;
}

/** Tag on a trial run: the Slurm task (`<array job id>_<index>`) running its current attempt. */
export const SLURM_TASK_TAG = 'sweep.slurm_task';
/** Tag on the sweep run: every array job id submitted for it (comma-separated), for `vmr sweep cancel`. */
export const SLURM_JOBS_TAG = 'sweep.slurm_jobs';

function exec(cmd: string, args: string[], timeoutMs = 30_000, env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8', env: env ?? process.env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
      resolve({ code, stdout: String(stdout ?? ''), stderr: String(stderr ?? (err ? errorMessage(err) : '')) || (err ? errorMessage(err) : '') });
    });
  });
}

/** sbatch / squeue / scancel exist and the controller answers (within seconds). */
export async function checkSlurmTools(): Promise<void> {
  const r = await exec('squeue', ['-h', '-o', '%i', '-u', 'nobody-vmr-probe'], 10_000);
  if (r.code === 127 || /ENOENT/.test(r.stderr)) throw new UnreachableError('--executor slurm: squeue/sbatch are not on PATH; run the sweep on a Slurm login node (or install slurm-client)');
  if (r.code !== 0 && !/Invalid user/i.test(r.stderr)) throw new UnreachableError(`--executor slurm: the Slurm controller does not answer (squeue: ${r.stderr.trim().split('\n').pop()})`);
}

const TIME_RE = /^(\d+-)?\d{1,3}(:\d{2}){0,2}$/;

export function validateSlurmOptions(o: SlurmOptions): void {
  if (o.time !== undefined && !TIME_RE.test(o.time)) throw new InvalidArgumentError(`--time '${o.time}': expected HH:MM (or D-HH:MM:SS)`);
  if (o.gpusPerTrial !== undefined && (!Number.isInteger(o.gpusPerTrial) || o.gpusPerTrial < 0)) throw new InvalidArgumentError(`--gpus-per-trial must be a non-negative integer, got ${o.gpusPerTrial}`);
  for (const a of o.sbatchArgs ?? []) if (!a.startsWith('-') || /[\n\r]/.test(a)) throw new InvalidArgumentError(`--sbatch-arg '${a}': expected one sbatch option such as --mem=8G`);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The array script: `#SBATCH` header, then task index → trial run id → `vmr sweep trial`. */
export function arrayScript(a: { name: string; runIds: string[]; workerUri: string; logDir: string; throttle?: number; slurm: SlurmOptions }): string {
  const o = a.slurm;
  const header = [
    `#SBATCH --job-name=vmr-${a.name.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
    `#SBATCH --array=0-${a.runIds.length - 1}${a.throttle ? `%${a.throttle}` : ''}`,
    `#SBATCH --output=${path.join(a.logDir, 'slurm-%A_%a.log')}`,
    '#SBATCH --ntasks=1',
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.gpusPerTrial ? [`#SBATCH --gpus-per-task=${o.gpusPerTrial}`] : []),
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    ...(o.sbatchArgs ?? []).map((x) => `#SBATCH ${x}`),
  ];
  return [
    '#!/bin/bash',
    ...header,
    '# Written by `vmr sweep run --executor slurm`: one array task per trial (task index = position in RUNS).',
    '# Resubmit some indices by hand with: sbatch --array=<i,j> <this file>  ($VMR_TRACKING_TOKEN set if the server needs one)',
    'set -euo pipefail',
    `RUNS=(${a.runIds.join(' ')})`,
    'RUN="${RUNS[$SLURM_ARRAY_TASK_ID]}"',
    'export VMR_QUIET=1',
    `exec ${shellQuote(process.execPath)} ${shellQuote(vmrBin())} sweep trial "$RUN" --tracking-uri ${shellQuote(a.workerUri)} --quiet`,
    '',
  ].join('\n');
}

export interface SlurmRunArgs {
  tracker: Tracker;
  sweep: SweepInfo;
  workerUri: string;
  token?: string;
  runnable: TrialState[];
  maxAttempts: number;
  maxParallel?: number;
  /** Failed trials selected by --retry-failed are in `runnable`; failed tasks are resubmitted within maxAttempts either way. */
  retryFailed: boolean;
  logDir: string;
  slurm: SlurmOptions;
  refresh: () => Promise<SweepSnapshot>;
  isCancelled: () => boolean;
}

interface Task {
  t: TrialState;
  script: string;
  jobId: string;
  index: number;
  attempt: number;
}

/** Final state of ended tasks: sacct where accounting runs, else scontrol (kept for MinJobAge). */
async function endedState(task: string): Promise<{ state: string; code: number; signal: number }> {
  const s = await exec('sacct', ['-n', '-P', '-X', '-j', task, '-o', 'JobID,State,ExitCode'], 15_000);
  if (s.code === 0) {
    const line = s.stdout.split('\n').find((l) => l.startsWith(`${task}|`));
    if (line) {
      const [, state, ec] = line.split('|');
      const [code, signal] = (ec ?? '0:0').split(':').map(Number);
      return { state: state.split(' ')[0], code, signal };
    }
  }
  const c = await exec('scontrol', ['show', 'job', '-o', task], 15_000);
  const state = /JobState=(\S+)/.exec(c.stdout)?.[1];
  const ec = /ExitCode=(\d+):(\d+)/.exec(c.stdout);
  if (state) return { state, code: ec ? Number(ec[1]) : 0, signal: ec ? Number(ec[2]) : 0 };
  return { state: 'UNKNOWN', code: -1, signal: 0 };
}

/** Live tasks of these array jobs: `<job>_<index>` → state (PENDING, RUNNING, …). */
async function liveTasks(jobIds: string[]): Promise<Map<string, string> | undefined> {
  if (jobIds.length === 0) return new Map();
  const r = await exec('squeue', ['-h', '-r', '-j', jobIds.join(','), '-o', '%i|%T'], 15_000);
  if (r.code !== 0) {
    // squeue answers "Invalid job id specified" once every listed job has left the queue.
    if (/Invalid job id/i.test(r.stderr)) return new Map();
    return undefined; // controller hiccup: try again next poll
  }
  const m = new Map<string, string>();
  for (const l of r.stdout.split('\n')) {
    const [id, st] = l.trim().split('|');
    if (id && st) m.set(id, st);
  }
  return m;
}

/** States in which the task died for reasons outside the trial (resubmitted while attempts remain). */
const CRASH_STATES = new Set(['TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'REVOKED']);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Submit, follow and resubmit the runnable trials as Slurm array tasks. Returns attempts started. */
export async function runSlurmTrials(a: SlurmRunArgs): Promise<number> {
  validateSlurmOptions(a.slurm);
  const dir = path.join(a.logDir, 'slurm');
  fs.mkdirSync(dir, { recursive: true });
  const env = { ...process.env, ...(a.token ? { VMR_TRACKING_TOKEN: a.token } : {}) };
  const active = new Map<string, Task>(); // `<job>_<i>` -> task
  const jobIds: string[] = [];
  let started = 0;

  const recordJob = async (jobId: string) => {
    jobIds.push(jobId);
    const cur = (await a.tracker.getRun(a.sweep.id)).tags[SLURM_JOBS_TAG];
    await a.tracker.setTags(a.sweep.id, { [SLURM_JOBS_TAG]: [cur, jobId].filter(Boolean).join(',') });
  };

  const submit = async (script: string, items: { t: TrialState; index: number }[]) => {
    const throttle = a.maxParallel && a.maxParallel < items.length ? `%${a.maxParallel}` : '';
    const r = await exec('sbatch', ['--parsable', `--array=${items.map((x) => x.index).join(',')}${throttle}`, script], 60_000, env);
    if (r.code !== 0) throw new UnreachableError(`sbatch ${script} failed (exit ${r.code}): ${r.stderr.trim()}`);
    const jobId = r.stdout.trim().split(';')[0];
    if (!/^\d+$/.test(jobId)) throw new UnreachableError(`sbatch ${script}: unexpected answer '${r.stdout.trim()}'`);
    await recordJob(jobId);
    for (const { t, index } of items) {
      const run = await a.tracker.getRun(t.runId);
      const attempt = Number(run.tags[TAGS.attempts] ?? 0) + 1;
      const task = `${jobId}_${index}`;
      await a.tracker.setTags(t.runId, { [TAGS.attempts]: String(attempt), [TAGS.worker]: `slurm:${task}`, [TAGS.attemptStarted]: String(Date.now()), [SLURM_TASK_TAG]: task });
      active.set(task, { t, script, jobId, index, attempt });
      started++;
    }
  };

  // Adopt tasks an earlier (killed) coordinator submitted that are still alive; submit the rest.
  const fresh: TrialState[] = [];
  const earlier = a.runnable.map((t) => t.tags[SLURM_TASK_TAG]).filter((x): x is string => !!x);
  const alive = (await liveTasks([...new Set(earlier.map((x) => x.split('_')[0]))])) ?? new Map();
  for (const t of a.runnable) {
    const task = t.tags[SLURM_TASK_TAG];
    if (task && alive.has(task) && (t.status === 'queued' || t.status === 'running')) {
      const [jobId, idx] = task.split('_');
      jobIds.push(jobId);
      active.set(task, { t, script: '', jobId, index: Number(idx), attempt: t.attempts });
      continue;
    }
    if (t.status !== 'queued') await a.tracker.setStatus(t.runId, 'queued');
    fresh.push(t);
  }
  if (fresh.length > 0) {
    const n = fs.readdirSync(dir).filter((f) => /^array-\d+\.sh$/.test(f)).length + 1;
    const script = path.join(dir, `array-${n}.sh`);
    writeFileAtomic(script, arrayScript({ name: a.sweep.name, runIds: fresh.map((t) => t.runId), workerUri: a.workerUri, logDir: a.logDir, throttle: a.maxParallel, slurm: a.slurm }));
    fs.chmodSync(script, 0o755);
    await submit(script, fresh.map((t, index) => ({ t, index })));
  }

  const poll = a.slurm.pollMs ?? 3000;
  while (active.size > 0) {
    await a.refresh();
    if (a.isCancelled()) {
      await exec('scancel', [...new Set(jobIds)], 30_000);
      break;
    }
    const live = await liveTasks([...new Set([...active.values()].map((x) => x.jobId))]);
    if (live) {
      const again = new Map<string, { t: TrialState; index: number }[]>(); // script -> items
      for (const [task, x] of [...active]) {
        if (live.has(task)) continue;
        // A task left the queue before squeue lists its index: an array not yet split shows as `<job>_[…]`.
        if ([...live.keys()].some((k) => k.startsWith(`${x.jobId}_[`))) continue;
        active.delete(task);
        const end = await endedState(task);
        const run = await a.tracker.getRun(x.t.runId);
        const logFile = path.join(a.logDir, `slurm-${x.jobId}_${x.index}.log`);
        await attachLog(a.tracker, x.t.runId, logFile, x.attempt);
        const left = x.attempt < a.maxAttempts;
        const why = `Slurm task ${task} ended ${end.state} (exit ${end.code}${end.signal ? `, signal ${end.signal}` : ''}; log: ${logFile})`;
        let resubmit = false;
        if (run.status === 'finished') continue;
        if (end.state.startsWith('CANCELLED') && !CRASH_STATES.has(end.state)) {
          // scancel (by the user or `vmr sweep cancel`): recorded killed; the next `vmr sweep run` resumes it.
          if (run.status !== 'killed') await a.tracker.endRun(x.t.runId, 'killed', `${why}: cancelled with scancel`);
          continue;
        }
        if (CRASH_STATES.has(end.state) || run.status === 'running' || run.status === 'queued') {
          await a.tracker.setTags(x.t.runId, { [TAGS.lastError]: why });
          for (const c of await a.tracker.searchRuns({ parentId: x.t.runId, status: ['running', 'queued'] })) await a.tracker.endRun(c.id, 'failed', why).catch(() => undefined);
          if (left) {
            await a.tracker.setStatus(x.t.runId, 'queued');
            resubmit = true;
          } else await a.tracker.endRun(x.t.runId, 'failed', `${why}; no attempts left`);
        } else if (run.status === 'failed' && left) {
          // The trial failed (the task's non-zero exit): Slurm failures are often the node's, so the index is resubmitted.
          await a.tracker.setStatus(x.t.runId, 'queued');
          resubmit = true;
        }
        if (resubmit && x.script) again.set(x.script, [...(again.get(x.script) ?? []), { t: x.t, index: x.index }]);
        else if (resubmit) {
          // An adopted task's script is unknown here: the trial goes into a new one-task array.
          const n = fs.readdirSync(dir).filter((f) => /^array-\d+\.sh$/.test(f)).length + 1;
          const script = path.join(dir, `array-${n}.sh`);
          writeFileAtomic(script, arrayScript({ name: a.sweep.name, runIds: [x.t.runId], workerUri: a.workerUri, logDir: a.logDir, slurm: a.slurm }));
          fs.chmodSync(script, 0o755);
          again.set(script, [{ t: x.t, index: 0 }]);
        }
      }
      for (const [script, items] of again) if (!a.isCancelled()) await submit(script, items);
    }
    if (active.size > 0) await sleep(poll);
  }
  return started;
}

/** `vmr sweep cancel` on a Slurm sweep: scancel its array jobs (best effort; returns what scancel said). */
export async function scancelSweep(tags: Record<string, string>): Promise<string | undefined> {
  const ids = (tags[SLURM_JOBS_TAG] ?? '').split(',').filter((x) => /^\d+$/.test(x));
  if (ids.length === 0) return undefined;
  const r = await exec('scancel', ids, 30_000);
  return r.code === 0 ? `scancel ${ids.join(' ')}` : `scancel ${ids.join(' ')} failed: ${r.stderr.trim()}`;
}
