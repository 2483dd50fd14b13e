/**
 * The sweep in the run store: one parent run per sweep (found again by name, so re-running a spec
 * resumes it) and one child run per trial key, created idempotently. Trial state lives in the
 * trial run's status and `sweep.*` tags, so any process (local pool, BullMQ worker on another
 * machine, `vmr sweep status`) sees the same picture through the Tracker API.
 */
import { createHash } from 'crypto';
import * as os from 'os';
import { ConflictError, InvalidArgumentError, NotFoundError } from '@vmr/core';
import type { RunInfo, RunStatus, Tracker } from '@vmr/tracking';
import type { Expansion, TrialPlan } from './expand';
import type { ParamScalar, SweepSpec } from './spec';

/** Tag keys the sweeper writes. */
export const TAGS = {
  role: 'sweep.role', // 'sweep' | 'trial'
  name: 'sweep.name',
  specFile: 'sweep.spec_file',
  metric: 'sweep.metric',
  direction: 'sweep.direction',
  codeVersion: 'sweep.code_version',
  maxAttempts: 'sweep.max_attempts',
  trials: 'sweep.trials',
  executor: 'sweep.executor',
  coordinator: 'sweep.coordinator',
  key: 'sweep.trial_key',
  index: 'sweep.index',
  config: 'sweep.config',
  values: 'sweep.values',
  evaluate: 'sweep.evaluate',
  attempts: 'sweep.attempts',
  attemptStarted: 'sweep.attempt_started',
  worker: 'sweep.worker',
  workerPid: 'sweep.worker_pid',
  trainRun: 'sweep.train_run',
  lastError: 'sweep.last_error',
} as const;

/** An idempotency key the tracking server accepts over HTTP (X-VMR-Request-Id: 8–128 word characters). */
function requestIdOf(material: string): string {
  return createHash('sha256').update(material).digest('hex');
}

export interface SweepInfo {
  id: string;
  name: string;
  experiment: string;
  status: RunStatus;
  metric?: { name: string; direction: 'max' | 'min' };
  maxAttempts: number;
  tags: Record<string, string>;
}

/** A trial as the store sees it. */
export interface TrialState {
  runId: string;
  key: string;
  index: number;
  status: RunStatus;
  attempts: number;
  values: Record<string, ParamScalar>;
  failureReason: string | null;
  startTime: number;
  endTime: number | null;
  tags: Record<string, string>;
}

export function experimentOf(spec: SweepSpec): string {
  return spec.experiment ?? spec.name;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function toSweepInfo(tracker: Tracker, runId: string): Promise<SweepInfo> {
  const r = await tracker.getRun(runId);
  if (r.tags[TAGS.role] !== 'sweep') throw new InvalidArgumentError(`run ${runId} (${r.name}) is not a sweep run`);
  const metric = r.tags[TAGS.metric];
  return {
    id: r.id,
    name: r.tags[TAGS.name] ?? r.name,
    experiment: r.experimentName,
    status: r.status,
    metric: metric ? { name: metric, direction: (r.tags[TAGS.direction] as 'max' | 'min') ?? 'max' } : undefined,
    maxAttempts: Number(r.tags[TAGS.maxAttempts] ?? 3),
    tags: r.tags,
  };
}

/**
 * Find a sweep by run id (or unique prefix) or by name. Among several sweeps with one name (in
 * different experiments), the newest.
 */
export async function findSweep(tracker: Tracker, ref: string, experiment?: string): Promise<SweepInfo> {
  const byName = await tracker.searchRuns({ parentId: null, tags: { [TAGS.role]: 'sweep', [TAGS.name]: ref }, ...(experiment ? { experiment } : {}), orderBy: [{ kind: 'attribute', key: 'start_time', desc: true }] });
  if (byName.length > 0) return toSweepInfo(tracker, byName[0].id);
  if (/^[0-9a-f]{1,32}$/i.test(ref)) {
    let id: string;
    try {
      id = await tracker.resolveRunId(ref);
    } catch (e) {
      if (e instanceof NotFoundError) throw new NotFoundError(`no sweep named or with run id '${ref}' in ${tracker.location}`);
      throw e;
    }
    return toSweepInfo(tracker, id);
  }
  throw new NotFoundError(`no sweep named '${ref}' in ${tracker.location}${experiment ? ` (experiment ${experiment})` : ''}`);
}

/**
 * The sweep's parent run: found by name in the spec's experiment and marked running again, or
 * created. A sweep whose coordinator is still alive on this host is refused (two coordinators would
 * run the same trials twice).
 */
export async function openSweep(tracker: Tracker, spec: SweepSpec, expansion: Expansion, executor: string): Promise<SweepInfo> {
  const experiment = experimentOf(spec);
  const me = `${os.hostname()}:${process.pid}`;
  const existing = await tracker.searchRuns({ experiment, parentId: null, tags: { [TAGS.role]: 'sweep', [TAGS.name]: spec.name } });
  const tags: Record<string, string> = {
    [TAGS.role]: 'sweep',
    [TAGS.name]: spec.name,
    [TAGS.specFile]: spec.specFile,
    [TAGS.codeVersion]: expansion.codeVersion,
    [TAGS.maxAttempts]: String(spec.maxAttempts),
    [TAGS.trials]: String(expansion.trials.length),
    [TAGS.executor]: executor,
    [TAGS.coordinator]: me,
    ...(spec.metric ? { [TAGS.metric]: spec.metric.name, [TAGS.direction]: spec.metric.direction } : {}),
  };
  if (existing.length > 0) {
    const run = await tracker.getRun(existing[0].id);
    const coord = run.tags[TAGS.coordinator];
    if (run.status === 'running' && coord && coord !== me) {
      const [host, pid] = coord.split(':');
      const fresh = Date.now() - run.heartbeat < 60_000;
      if (fresh && (host !== os.hostname() || pidAlive(Number(pid)))) {
        throw new ConflictError(`sweep '${spec.name}' (run ${run.id}) is already being run by ${coord}; wait for it, or stop it with \`vmr sweep cancel ${spec.name}\``);
      }
    }
    await tracker.setTags(run.id, tags);
    await tracker.setStatus(run.id, 'running');
    return toSweepInfo(tracker, run.id);
  }
  const run = await tracker.startRun({ experiment, name: spec.name, tags, requestId: requestIdOf(`sweep:${experiment}:${spec.name}:${Date.now()}:${process.pid}`) });
  const params: Record<string, ParamScalar> = { sweep_name: spec.name, code_version: expansion.codeVersion, max_attempts: spec.maxAttempts, trials: expansion.trials.length };
  if (spec.metric) Object.assign(params, { metric: spec.metric.name, direction: spec.metric.direction });
  await tracker.logParams(run.id, params);
  return toSweepInfo(tracker, run.id);
}

function parseTrial(run: RunInfo & { tags: Record<string, string> }): TrialState {
  let values: Record<string, ParamScalar> = {};
  try {
    values = JSON.parse(run.tags[TAGS.values] ?? '{}');
  } catch {
    /* an unreadable tag shows as no values */
  }
  return {
    runId: run.id,
    key: run.tags[TAGS.key] ?? '',
    index: Number(run.tags[TAGS.index] ?? -1),
    status: run.status,
    attempts: Number(run.tags[TAGS.attempts] ?? 0),
    values,
    failureReason: run.failureReason,
    startTime: run.startTime,
    endTime: run.endTime,
    tags: run.tags,
  };
}

/** All trials of a sweep with their tags, in expansion order. */
export async function listTrials(tracker: Tracker, sweepId: string): Promise<TrialState[]> {
  const runs = await tracker.searchRuns({ parentId: sweepId, tags: { [TAGS.role]: 'trial' } });
  const out: TrialState[] = [];
  for (const r of runs) out.push(parseTrial(await tracker.getRun(r.id)));
  return out.sort((a, b) => a.index - b.index || a.startTime - b.startTime);
}

/** The flat params a trial run records: the values it varies plus the flattened config. */
export function flattenConfig(config: Record<string, unknown>, prefix = '', out: Record<string, ParamScalar> = {}): Record<string, ParamScalar> {
  for (const [k, v] of Object.entries(config)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flattenConfig(v as Record<string, unknown>, key, out);
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
    else if (v !== undefined) out[key] = JSON.stringify(v);
  }
  return out;
}

/**
 * Make sure every planned trial has its run (queued) under the sweep; existing ones are kept as
 * they are. Creation is idempotent (the request id is derived from sweep id + trial key), so two
 * coordinators or a retried request never make two runs for one key.
 */
export async function ensureTrials(tracker: Tracker, sweep: SweepInfo, spec: SweepSpec, plans: TrialPlan[]): Promise<TrialState[]> {
  const existing = new Map((await listTrials(tracker, sweep.id)).map((t) => [t.key, t]));
  const out: TrialState[] = [];
  for (const p of plans) {
    const have = existing.get(p.key);
    if (have) {
      out.push(have);
      continue;
    }
    const seed = typeof p.config.seed === 'number' ? p.config.seed : undefined;
    const run = await tracker.startRun({
      experiment: sweep.experiment,
      parentId: sweep.id,
      name: `${spec.name}-t${String(p.index).padStart(3, '0')}`,
      status: 'queued',
      seed,
      tags: {
        [TAGS.role]: 'trial',
        [TAGS.name]: spec.name,
        [TAGS.key]: p.key,
        [TAGS.index]: String(p.index),
        [TAGS.attempts]: '0',
        [TAGS.values]: JSON.stringify(p.values),
        [TAGS.config]: JSON.stringify(p.config),
        [TAGS.evaluate]: JSON.stringify(spec.evaluate),
      },
      requestId: requestIdOf(`sweep:${sweep.id}:trial:${p.key}`),
    });
    await tracker.logParams(run.id, { ...flattenConfig(p.config), trial_key: p.key });
    out.push(parseTrial(await tracker.getRun(run.id)));
  }
  return out;
}

/** Counts by status, for status views and reports. */
export function countStatuses(trials: { status: RunStatus }[]): Record<RunStatus, number> {
  const c: Record<RunStatus, number> = { queued: 0, running: 0, finished: 0, failed: 0, killed: 0 };
  for (const t of trials) c[t.status]++;
  return c;
}
