import * as fs from 'fs';
import * as path from 'path';
import { fork, type ChildProcess } from 'child_process';
import * as cliProgress from 'cli-progress';
import { NotFoundError, createProgress } from '@vmr/core';
import { MANIFEST_FILE, synthRecipeOptions, writeSyntheticDataset } from '@vmr/data';
import { SqliteTracker, buildResultTables, openTracker, queryEvalRows, RUN_KIND_TAG, type ResultTable, type Tracker } from '@vmr/tracking';
import { openDataset } from '@vmr/trainer';
import type { EvalResult } from './evaluate';
import { loadExperiment, type ExperimentSpec, type ExperimentTrial, type SynthSpec } from './experiment-spec';
import type { WorkerJob, WorkerMessage } from './experiment-worker';
import { featureLabel, modelLabel } from './report-format';

export interface RunExperimentOptions {
  store?: string;
  trackingUri?: string;
  /** Parallel worker processes (default: the file's `workers`). */
  workers?: number;
  /** Train every trial again even when a finished run with the same config exists. */
  fresh?: boolean;
  /** Draw progress bars on a TTY (default true). */
  progress?: boolean;
  /** Where status lines go when no bars are drawn (default: stderr). */
  log?: (line: string) => void;
}

export interface TrialOutcome {
  trial: ExperimentTrial;
  trainRunId?: string;
  reused: boolean;
  /** `not-run`: never started (the experiment was interrupted first). */
  status: 'finished' | 'failed' | 'killed' | 'not-run';
  error?: string;
  evals: EvalResult[];
}

export interface ExperimentResult {
  experiment: string;
  file: string;
  trials: TrialOutcome[];
  tables: ResultTable[];
  datasetsGenerated: string[];
  interrupted: boolean;
  seconds: number;
}

const TRIAL_KEY_TAG = 'config.hash';

/** Generate the experiment's synthetic datasets that are absent (dataset.json missing). */
export function ensureDatasets(spec: ExperimentSpec, log: (l: string) => void, quiet: boolean): string[] {
  const made: string[] = [];
  for (const d of spec.datasets) {
    if (fs.existsSync(path.join(d.path, MANIFEST_FILE))) continue;
    if (!d.synth) throw new NotFoundError(`${spec.file}: dataset ${d.path} does not exist and has no 'synth' recipe to generate it`);
    const s: SynthSpec = d.synth;
    log(`generating synthetic ${s.preset} dataset (${s.clips} clips) in ${path.relative(process.cwd(), d.path) || d.path}`);
    const bar = createProgress({ label: `synth ${s.preset}`, total: s.clips, unit: 'clips', quiet });
    writeSyntheticDataset({
      ...synthRecipeOptions(s),
      out: d.path,
      existing: fs.existsSync(d.path) ? 'resume' : 'error',
      onClip: (done) => bar.update(done),
    });
    bar.stop();
    made.push(d.path);
  }
  return made;
}

interface Job {
  trial: ExperimentTrial;
  outcome: TrialOutcome;
  msg: WorkerJob;
}

function trialLabel(t: ExperimentTrial): string {
  const c = t.config;
  const rest = Object.entries(t.values)
    .filter(([k]) => k !== 'model' && k !== 'features')
    .map(([k, v]) => `${k}=${v}`);
  return `${modelLabel(c.model)}/${featureLabel(c.features)}${rest.length ? ` ${rest.join(' ')}` : ''}`;
}

async function findReusable(tracker: Tracker, spec: ExperimentSpec, job: Job, datasetNames: Map<string, string>): Promise<void> {
  const found = await tracker.searchRuns({ experiment: spec.name, status: 'finished', tags: { [TRIAL_KEY_TAG]: job.trial.key, [RUN_KIND_TAG]: 'train' }, limit: 1 });
  if (found.length === 0) return;
  const runId = found[0].id;
  job.msg.reuseRunId = runId;
  job.outcome.trainRunId = runId;
  job.outcome.reused = true;
  const evals = await tracker.searchRuns({ parentId: runId, status: 'finished', tags: { [RUN_KIND_TAG]: 'eval' } });
  for (const e of job.msg.evaluate) {
    const name = datasetNames.get(e.dataset);
    for (const r of evals) {
      const d = await tracker.getRun(r.id);
      if (d.params['eval.dataset.name'] === name && d.params['eval.dataset.path'] === e.dataset && (!e.split || d.params['eval.split'] === e.split) && d.protocol === (e.protocol ?? 'paper')) {
        e.skip = true;
        break;
      }
    }
  }
}

/**
 * Run an experiment file end to end: generate missing synthetic datasets, train every grid trial in a
 * pool of worker processes (one per core), evaluate each model on every `evaluate` dataset, then build
 * Tables 1 and 2 from the run store. Trials whose config already has a finished run (and evaluations)
 * in the experiment are reused unless `fresh`.
 */
export async function runExperiment(file: string, options: RunExperimentOptions = {}): Promise<ExperimentResult> {
  const t0 = Date.now();
  const spec = loadExperiment(file, { workers: options.workers });
  const tty = options.progress !== false && process.stderr.isTTY && process.env.VMR_QUIET !== '1';
  const log = options.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const generated = ensureDatasets(spec, log, !tty);
  // every dataset must open (and name itself) before any run starts
  const datasetNames = new Map<string, string>();
  for (const p of new Set([...spec.trials.map((t) => t.config.dataset), ...spec.evaluate.map((e) => e.dataset)])) {
    datasetNames.set(p, openDataset(p).manifest.name);
  }
  const storeOpts = { store: options.store, trackingUri: options.trackingUri };
  const tracker = openTracker(storeOpts);
  const jobs: Job[] = spec.trials.map((trial) => ({
    trial,
    outcome: { trial, reused: false, status: 'not-run', evals: [] },
    msg: {
      type: 'job',
      id: trial.index,
      config: trial.config,
      tags: { [TRIAL_KEY_TAG]: trial.key, experimentFile: path.basename(spec.file) },
      evaluate: spec.evaluate.map((e) => ({ ...e })),
      ...storeOpts,
    },
  }));
  let interrupted = false;
  try {
    if (!options.fresh) for (const j of jobs) await findReusable(tracker, spec, j, datasetNames);
    const pending = jobs.filter((j) => !j.msg.reuseRunId || j.msg.evaluate.some((e) => !e.skip));
    for (const j of jobs) if (!pending.includes(j)) j.outcome.status = 'finished';
    // longest first: OF-VM-Net trials, then by planned work
    pending.sort((a, b) => Number(b.trial.config.model === 'of-vm-net') - Number(a.trial.config.model === 'of-vm-net') || a.trial.index - b.trial.index);
    const reusedCount = jobs.length - pending.length;
    log(
      `experiment ${spec.name}: ${jobs.length} trials × ${spec.evaluate.length} evaluations` +
        (reusedCount ? ` (${reusedCount} already done in the store, reused)` : '') +
        (pending.length ? `; ${Math.min(spec.workers, pending.length)} worker process(es)` : ''),
    );
    if (pending.length > 0) interrupted = await runPool(pending, spec, tty, log);
    const ids = jobs.map((j) => j.outcome.trainRunId).filter((x): x is string => !!x);
    let tables: ResultTable[] = [];
    if (tracker instanceof SqliteTracker && ids.length > 0) {
      tables = buildResultTables(queryEvalRows(tracker.db, { experiment: spec.name, trainRunIds: ids }));
    }
    return {
      experiment: spec.name,
      file: spec.file,
      trials: jobs.map((j) => j.outcome),
      tables,
      datasetsGenerated: generated,
      interrupted,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    await tracker.close();
  }
}

function fmtEta(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

async function runPool(pending: Job[], spec: ExperimentSpec, tty: boolean, log: (l: string) => void): Promise<boolean> {
  const nWorkers = Math.min(spec.workers, pending.length);
  const queue = [...pending];
  const totalTasks = pending.reduce((s, j) => s + (j.msg.reuseRunId ? 0 : 1) + j.msg.evaluate.filter((e) => !e.skip).length, 0);
  let doneTasks = 0;
  const multi = tty
    ? new cliProgress.MultiBar(
        { format: '{label} [{bar}] {value}/{total} {info}', stream: process.stderr, hideCursor: true, clearOnComplete: false, fps: 5, barsize: 24 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const overall = multi?.create(totalTasks, 0, { label: `${spec.name.padEnd(24).slice(0, 24)}`, info: 'tasks (train + eval)' });
  const byId = new Map(pending.map((j) => [j.msg.id, j]));
  const logLine = (l: string) => (multi ? multi.log(l + '\n') : log(l));
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    queue.length = 0;
    logLine('interrupt: workers checkpoint their runs and stop (resume with vmr train --resume <run id>)');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const workerScript = require.resolve('./experiment-worker.ts');
  const startedAt = Date.now();
  let lastBeat = Date.now();
  try {
    await Promise.all(
      Array.from({ length: nWorkers }, (_, w) =>
        new Promise<void>((resolve) => {
          const bar = multi?.create(1, 0, { label: `worker ${w + 1}`.padEnd(24), info: 'starting' });
          const child: ChildProcess = fork(workerScript, [], {
            execArgv: ['--require', require.resolve('tsx/cjs')],
            stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
            env: { ...process.env, VMR_QUIET: '1' },
          });
          let current: Job | undefined;
          const next = () => {
            current = queue.shift();
            if (!current) {
              child.send({ type: 'exit' });
              bar?.update(bar.getTotal(), { info: 'idle' });
              return;
            }
            const label = trialLabel(current.trial).padEnd(24).slice(0, 24);
            bar?.setTotal(1);
            bar?.update(0, { label, info: current.msg.reuseRunId ? 'evaluating (training reused)' : 'loading data' });
            if (!multi) log(`[worker ${w + 1}] ${trialLabel(current.trial)}: ${current.msg.reuseRunId ? 'evaluating (training reused)' : 'training'}`);
            child.send(current.msg);
          };
          child.on('message', (m: WorkerMessage) => {
            const job = 'id' in m ? byId.get(m.id) : undefined;
            switch (m.type) {
              case 'ready':
                next();
                break;
              case 'progress': {
                const p = m.progress;
                job!.outcome.trainRunId = p.runId;
                bar?.setTotal(p.totalSteps);
                const v = p.val ? ` val R@1 ${p.val.r1.toFixed(3)}` : '';
                bar?.update(p.step, { info: `epoch ${p.epoch}/${p.epochs} loss ${Number.isFinite(p.loss) ? p.loss.toPrecision(4) : '-'}${v} | ${p.stepsPerSec.toFixed(2)} steps/s ETA ${fmtEta(p.etaSec)}` });
                if (!multi && Date.now() - lastBeat > 20000) {
                  lastBeat = Date.now();
                  log(`[worker ${w + 1}] ${trialLabel(job!.trial)}: step ${p.step}/${p.totalSteps}, epoch ${p.epoch}/${p.epochs}, loss ${p.loss.toPrecision(4)}, ETA ${fmtEta(p.etaSec)} (elapsed ${fmtEta((Date.now() - startedAt) / 1000)})`);
                }
                break;
              }
              case 'trained':
                job!.outcome.trainRunId = m.result.runId;
                doneTasks++;
                overall?.update(doneTasks);
                logLine(`trained ${trialLabel(job!.trial)} (run ${m.result.runId.slice(0, 8)}): ${m.result.steps} steps in ${m.result.seconds.toFixed(0)} s, final loss ${m.result.finalLoss.toPrecision(4)}${m.result.val ? `, val R@1 ${m.result.val.r1.toFixed(3)}` : ''}`);
                break;
              case 'eval-start':
                bar?.update(bar.getTotal(), { info: `evaluating on ${path.basename(m.dataset)}` });
                break;
              case 'evaluated':
                job!.outcome.evals.push(m.result);
                doneTasks++;
                overall?.update(doneTasks);
                logLine(`evaluated ${trialLabel(job!.trial)} on ${m.result.dataset.name} (${m.result.split}): R@1 ${m.result.metrics.r1.toFixed(3)} R@10 ${m.result.metrics.r10.toFixed(3)} FAD ${m.result.metrics.fad.toFixed(3)} (gallery ${m.result.metrics.gallerySize})`);
                break;
              case 'done':
                job!.outcome.trainRunId = m.runId;
                job!.outcome.status = 'finished';
                next();
                break;
              case 'killed':
                job!.outcome.status = 'killed';
                job!.outcome.trainRunId = m.runId;
                logLine(`killed ${trialLabel(job!.trial)} (run ${m.runId.slice(0, 8)}); resume with: vmr train --resume ${m.runId.slice(0, 8)}`);
                next();
                break;
              case 'error':
                job!.outcome.status = 'failed';
                job!.outcome.error = `[${m.code}] ${m.message}`;
                logLine(`failed ${trialLabel(job!.trial)}: [${m.code}] ${m.message}`);
                next();
                break;
            }
          });
          child.on('exit', (code) => {
            if (current && current.outcome.status === 'not-run') {
              // the worker died in the middle of a job (crash, out of memory, signal)
              current.outcome.status = interrupted ? 'killed' : 'failed';
              current.outcome.error ??= `worker process exited (code ${code}) during this trial`;
              logLine(`worker ${w + 1} exited (code ${code}) during ${trialLabel(current.trial)}`);
            }
            resolve();
          });
        }),
      ),
    );
  } finally {
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigint);
    multi?.stop();
  }
  return interrupted;
}
