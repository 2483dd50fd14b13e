import * as path from 'path';
import type { Argv } from 'yargs';
import Table from 'cli-table3';
import { InvalidArgumentError, printResult, repoRoot, type VmrCommand } from '@vmr/core';
import { formatNumber, formatDuration, withStore, withTracker, type Tracker } from '@vmr/tracking';
import { loadSweepSpec, type SweepSpec } from './spec';
import { defaultWorkers, liveTrial, runSweep, type SweepRunResult } from './coordinator';
import { experimentExtras, formatExperimentResult, type ExperimentRunResult } from './experiment';
import { countStatuses, findSweep, forgetTrials, listTrials, TAGS } from './sweep-store';
import { liveLine } from './status-view';
import { checkWorkerRedis, startSweepWorker } from './bullmq-executor';
import { scancelSweep } from './slurm-executor';
import { exitOnSecondSignal } from './remote-checks';
import { runTrialProcess } from './trial-process';
import { buildSweepReport, formatSweepReport, type ReportFormat } from './report';

/** The command line that resumes an interrupted run (this one, without --fresh / --dry-run). */
export function resumeCommand(argv: string[] = process.argv.slice(2)): string {
  const quote = (a: string) => (/^[A-Za-z0-9_./:=@,+-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return `vmr ${argv.filter((a) => a !== '--fresh' && a !== '--dry-run').map(quote).join(' ')}`;
}

function planSummary(r: SweepRunResult): string {
  const lines = [`sweep ${r.name} (experiment ${r.experiment}, code ${r.codeVersion}): ${r.trials} trials${r.expanded > r.trials ? ` (of ${r.expanded}; maxTrials)` : ''} — spec checked, nothing was run or written`];
  const to = r.trialList.filter((t) => !t.aliasOf && t.status !== 'finished');
  lines.push(`  would run ${to.length}, ${r.trialList.filter((t) => t.status === 'finished').length} already finished, ${r.aliases} λ aliases (not run)`);
  for (const d of r.datasetsGenerated) lines.push(`  would generate SYNTHETIC dataset ${d}`);
  const tb = new Table({ head: ['#', 'trial', 'key', 'store', 'alias of'], style: { head: [], border: [] } });
  const byKey = new Map(r.trialList.map((t) => [t.key, t]));
  for (const t of r.trialList) tb.push([String(t.index), t.label.replace(/^t\d+ /, ''), t.key.slice(0, 12), t.status, t.aliasOf ? `t${String(byKey.get(t.aliasOf)?.index ?? '?').padStart(3, '0')}` : '']);
  return `${lines.join('\n')}\n${tb.toString()}`;
}

function summary(r: SweepRunResult): string {
  if (r.status === 'planned') return planSummary(r);
  const lines = [
    `sweep ${r.name} (${r.sweepId}) ${r.status}: ${r.finished}/${r.trials} trials finished, ${r.failed} failed, ${r.killed} cancelled`,
    `  ${r.skipped} already finished (skipped), ${r.attempts} attempt(s) started now${r.expanded > r.trials ? `; ${r.expanded - r.trials} more trials beyond maxTrials` : ''}`,
  ];
  if (r.failedNotRetried > 0) lines.push(`  ${r.failedNotRetried} failed trial(s) not retried: re-run with --retry-failed (while attempts remain)`);
  if (r.aliases > 0) lines.push(`  ${r.aliases} trial(s) are λ aliases (λ a positive multiple of another trial's): not run, they take the canonical trial's results`);
  if (r.best) lines.push(`  best ${r.best.metric} = ${formatNumber(r.best.value)} (trial ${r.best.runId.slice(0, 8)}: ${JSON.stringify(r.best.values)})`);
  lines.push(`  status: vmr sweep status ${r.name}    report: vmr report sweep ${r.name}`);
  return lines.join('\n');
}

/** Exit code and resume hint of an interrupted run (130, like a shell's Ctrl-C). */
function finishExit(r: SweepRunResult): void {
  if (r.interrupted) {
    process.stderr.write(`interrupted: running trials were checkpointed and requeued. Resume with:\n  ${resumeCommand()}\n`);
    process.exitCode = 130;
  } else if (r.status === 'failed') process.exitCode = 1;
}

function checkWorkers(w: unknown): number | undefined {
  if (w !== undefined && (!Number.isInteger(w) || (w as number) < 1)) throw new InvalidArgumentError(`--workers must be a positive integer, got ${String(w)}`);
  return w as number | undefined;
}

const run: VmrCommand = {
  command: 'run <spec>',
  describe: 'run a sweep (resumes it: finished trials are skipped)',
  builder: (y: Argv) =>
    withStore(y)
      .positional('spec', { type: 'string', demandOption: true, describe: 'sweep spec YAML' })
      .option('workers', { type: 'number', describe: `local worker processes (default: one per core, ${defaultWorkers()} here; capped by the spec's maxParallel)` })
      .option('retry-failed', { type: 'boolean', default: false, describe: 'also re-run failed trials that have attempts left' })
      .option('max-attempts', { type: 'number', describe: "override the spec's maxAttempts" })
      .option('executor', { choices: ['local', 'bullmq', 'slurm'] as const, default: 'local' as const, describe: 'local process pool, BullMQ (Redis) for `vmr sweep worker`s on any machine, or Slurm job arrays' })
      .option('serve-host', { type: 'string', describe: "bullmq/slurm with a local store: the address of this machine workers reach (the sweep's tracking server binds it; a non-loopback one needs --tracking-token)" })
      .option('serve-port', { type: 'number', describe: 'port for that server (default: random)' })
      .option('tracking-token', { type: 'string', describe: 'bearer token of the tracking server, carried to workers (default: $VMR_TRACKING_TOKEN)' })
      .option('worker-wait', { type: 'number', default: 600, describe: 'bullmq: seconds to wait with trials queued and no worker connected before giving up (the sweep stays resumable)' })
      .option('partition', { type: 'string', describe: 'slurm: partition (-p)' })
      .option('gpus-per-trial', { type: 'number', describe: 'slurm: GPUs per array task' })
      .option('time', { type: 'string', describe: 'slurm: wall-time limit per trial, HH:MM' })
      .option('sbatch-arg', { type: 'string', array: true, describe: 'slurm: extra sbatch option (repeatable), e.g. --sbatch-arg=--mem=8G' })
      .option('redis', { type: 'string', describe: 'redis://host:port (with --executor bullmq)' })
      .option('queue', { type: 'string', default: 'vmr-sweeps', describe: 'BullMQ queue name' })
      .option('log-dir', { type: 'string', describe: 'per-attempt logs (default: sweep-logs/ beside the store)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'check every trial (config keys, datasets, dims, metric) and list the plan; writes nothing' })
      .option('fresh', { type: 'boolean', default: false, describe: "forget this spec's trials first (their runs stay, marked) and train everything again" })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 sweep run experiments/sweeps/lambda-grid.yaml --workers 2', 'λ grid × extractors on a 2-process pool')
      .example('$0 sweep run experiments/sweeps/lambda-grid.yaml --dry-run', 'check the spec and list the trials, run nothing')
      .example('$0 sweep run experiments/sweeps/lambda-grid.yaml --retry-failed', 're-run: skip finished trials, retry failed ones')
      .example('$0 sweep run spec.yaml --executor bullmq --redis redis://10.0.0.5:6379 --tracking-uri http://10.0.0.5:5000', 'enqueue for workers on other machines')
      .example('$0 sweep run spec.yaml --executor bullmq --redis redis://10.0.0.5:6379 --serve-host 10.0.0.5 --tracking-token s3cret', 'serve the local store to remote workers')
      .example('$0 sweep run spec.yaml --executor slurm --partition gpu --gpus-per-trial 1 --time 04:00 --serve-host 10.0.0.5 --tracking-token s3cret', 'one Slurm job array'),
  handler: async (a: Record<string, unknown>) => {
    const spec = loadSweepSpec(a.spec as string);
    if (a['max-attempts'] !== undefined) {
      const m = a['max-attempts'] as number;
      if (!Number.isInteger(m) || m < 1) throw new InvalidArgumentError(`--max-attempts must be a positive integer, got ${m}`);
      spec.maxAttempts = m;
    }
    exitOnSecondSignal('vmr sweep run');
    const w = checkWorkers(a.workers);
    const r = await runSweep(spec, {
      fresh: a.fresh as boolean,
      trackingUri: a['tracking-uri'] as string | undefined,
      store: a.store as string | undefined,
      workers: w,
      retryFailed: a['retry-failed'] as boolean,
      executor: a.executor as 'local' | 'bullmq' | 'slurm',
      serveHost: a['serve-host'] as string | undefined,
      servePort: a['serve-port'] as number | undefined,
      trackingToken: a['tracking-token'] as string | undefined,
      workerWaitMs: (a['worker-wait'] as number) * 1000,
      slurm: { partition: a.partition as string | undefined, gpusPerTrial: a['gpus-per-trial'] as number | undefined, time: a.time as string | undefined, sbatchArgs: a['sbatch-arg'] as string[] | undefined },
      redis: a.redis as string | undefined,
      queue: a.queue as string,
      logDir: a['log-dir'] as string | undefined,
      quiet: (a.quiet as boolean) || (a.json as boolean),
      dryRun: a['dry-run'] as boolean,
    });
    printResult(a.json as boolean, r, () => summary(r));
    finishExit(r);
  },
};

async function statusOf(t: Tracker, ref: string, experiment?: string) {
  const sweep = await findSweep(t, ref, experiment);
  const trials = await listTrials(t, sweep.id);
  const rows = [];
  const byKey = new Map(trials.map((tr) => [tr.key, tr]));
  for (const tr of trials) {
    const m = sweep.metric ? (await t.latestMetrics(tr.runId))[sweep.metric.name]?.value : undefined;
    const canon = tr.aliasOf ? byKey.get(tr.aliasOf) : undefined;
    const live = tr.status === 'running' ? await liveTrial(t, tr, '', sweep.metric?.name) : undefined;
    rows.push({
      runId: tr.runId,
      key: tr.key,
      index: tr.index,
      section: tr.tags[TAGS.section] ?? null,
      status: tr.status,
      attempts: tr.attempts,
      interruptions: Number(tr.tags[TAGS.interruptions] ?? 0),
      values: tr.values,
      metric: m ?? null,
      aliasOf: tr.aliasOf ? { key: tr.aliasOf, index: canon?.index ?? null, runId: canon?.runId ?? null, scale: Number(tr.tags[TAGS.aliasScale] || 1) } : null,
      live: live ? { epoch: live.epoch ?? null, epochs: live.epochs ?? null, loss: live.loss ?? null, val: live.val ?? null } : null,
      error: tr.status === 'failed' ? (tr.failureReason ?? tr.tags[TAGS.lastError] ?? null) : null,
      startTime: Number(tr.tags[TAGS.attemptStarted] ?? tr.startTime),
      endTime: tr.endTime,
    });
  }
  return { sweep: { id: sweep.id, name: sweep.name, experiment: sweep.experiment, status: sweep.status, metric: sweep.metric ?? null }, counts: countStatuses(trials), trials: rows };
}

const status: VmrCommand = {
  command: 'status <sweep>',
  describe: 'trials of a sweep: done / running / failed, attempts, metric, errors',
  builder: (y: Argv) =>
    withStore(y)
      .positional('sweep', { type: 'string', demandOption: true, describe: 'sweep name or run id (prefix)' })
      .option('experiment', { alias: 'e', type: 'string', describe: 'experiment, when a name is used in several' })
      .option('json', { type: 'boolean', default: false })
      .example('$0 sweep status lambda-grid', 'one line per trial'),
  handler: async (a: Record<string, unknown>) => {
    await withTracker(a, async (t) => {
      const s = await statusOf(t, a.sweep as string, a.experiment as string | undefined);
      printResult(a.json as boolean, s, () => {
        const c = s.counts;
        const head = `sweep ${s.sweep.name} (${s.sweep.id.slice(0, 8)}, experiment ${s.sweep.experiment}): ${s.sweep.status} — ${c.finished} finished, ${c.running} running, ${c.queued} queued, ${c.failed} failed, ${c.killed} cancelled of ${s.trials.length}`;
        const keys = [...new Set(s.trials.flatMap((r) => Object.keys(r.values)))];
        const tb = new Table({ head: ['#', 'trial', 'status', 'attempts', ...keys, s.sweep.metric?.name ?? 'metric', 'time', 'progress / alias / error'], style: { head: [], border: [] }, colWidths: [], wordWrap: true });
        for (const r of s.trials) {
          const note = r.aliasOf
            ? `alias of #${r.aliasOf.index ?? '?'}: λ = ${formatNumber(r.aliasOf.scale)} × its λ (not run; its results)`
            : r.live
              ? liveLine({ label: '', epoch: r.live.epoch ?? undefined, epochs: r.live.epochs ?? undefined, loss: r.live.loss ?? undefined, val: r.live.val ?? undefined }).trim()
              : (r.error ?? '').slice(0, 80);
          tb.push([String(r.index), r.runId.slice(0, 8), r.status, `${r.attempts}${r.interruptions ? ` (+${r.interruptions} interrupted)` : ''}`, ...keys.map((k) => String(r.values[k] ?? '')), r.metric === null ? '' : formatNumber(r.metric), r.status === 'queued' ? '' : formatDuration(r.startTime, r.status === 'running' ? null : r.endTime), note]);
        }
        return `${head}\n${tb.toString()}`;
      });
    });
  },
};

const cancel: VmrCommand = {
  command: 'cancel <sweep>',
  describe: 'cancel a sweep: queued trials are dropped, running ones stopped (re-running the spec resumes it)',
  builder: (y: Argv) =>
    withStore(y)
      .positional('sweep', { type: 'string', demandOption: true, describe: 'sweep name or run id (prefix)' })
      .option('experiment', { alias: 'e', type: 'string' })
      .option('json', { type: 'boolean', default: false })
      .example('$0 sweep cancel lambda-grid', 'stop it; `vmr sweep run` on the same spec resumes'),
  handler: async (a: Record<string, unknown>) => {
    await withTracker(a, async (t) => {
      const sweep = await findSweep(t, a.sweep as string, a.experiment as string | undefined);
      const trials = await listTrials(t, sweep.id);
      let n = 0;
      for (const tr of trials) {
        if (tr.status === 'queued' || tr.status === 'running') {
          await t.endRun(tr.runId, 'killed', 'sweep cancelled');
          n++;
        }
      }
      if (sweep.status === 'running' || sweep.status === 'queued') await t.endRun(sweep.id, 'killed', 'cancelled by vmr sweep cancel');
      const slurm = await scancelSweep(sweep.tags);
      const out = { sweep: sweep.id, name: sweep.name, cancelledTrials: n, ...(slurm ? { slurm } : {}) };
      printResult(a.json as boolean, out, () => `sweep ${sweep.name} (${sweep.id.slice(0, 8)}) cancelled: ${n} queued/running trial(s) stopped; its pool or workers stop them within seconds${slurm ? `\n  ${slurm}` : ''}`);
    });
  },
};

const forget: VmrCommand = {
  command: 'forget <sweep>',
  describe: 'remove trials from a sweep (e.g. failed ones after fixing the spec); their runs stay in the store, tagged sweep.forgotten',
  builder: (y: Argv) =>
    withStore(y)
      .positional('sweep', { type: 'string', demandOption: true, describe: 'sweep name or run id (prefix)' })
      .option('failed', { type: 'boolean', default: false, describe: 'every failed trial' })
      .option('trial', { type: 'string', array: true, describe: 'trial key (≥ 6 leading characters; see `vmr sweep status --json`)' })
      .option('all', { type: 'boolean', default: false, describe: 'every trial of the sweep' })
      .option('experiment', { alias: 'e', type: 'string' })
      .option('json', { type: 'boolean', default: false })
      .check((a) => {
        if (!a.failed && !a.all && !(a.trial as string[] | undefined)?.length) throw new Error('give --failed, --trial KEY or --all');
        return true;
      })
      .example('$0 sweep forget lambda-grid --failed', 'drop the failed trials; running the (fixed) spec again runs them afresh')
      .example('$0 sweep forget lambda-grid --trial 3f2a9c', 'drop one trial by key prefix'),
  handler: async (a: Record<string, unknown>) => {
    await withTracker(a, async (t) => {
      const sweep = await findSweep(t, a.sweep as string, a.experiment as string | undefined);
      const gone = await forgetTrials(t, sweep, { failed: a.failed as boolean, all: a.all as boolean, keys: (a.trial as string[] | undefined) ?? [] });
      const out = { sweep: sweep.id, name: sweep.name, forgotten: gone.map((g) => ({ key: g.key, runId: g.runId, status: g.status })) };
      printResult(a.json as boolean, out, () => `sweep ${sweep.name}: ${gone.length} trial(s) forgotten${gone.length ? ` (${gone.map((g) => `#${g.index} ${g.status}`).join(', ')})` : ''}; their runs stay in the store, tagged ${TAGS.forgotten}`);
    });
  },
};

const worker: VmrCommand = {
  command: 'worker',
  describe: 'process sweep trials from BullMQ (run one per core, on any machine)',
  builder: (y: Argv) =>
    y
      .option('redis', { type: 'string', demandOption: true, describe: 'redis://host:port' })
      .option('tracking-uri', { type: 'string', describe: 'tracking server as reachable from here (default: the one each job names)' })
      .option('queue', { type: 'string', default: 'vmr-sweeps' })
      .option('concurrency', { type: 'number', default: 1, describe: 'trials at once (tfjs-wasm is single-threaded: prefer one worker per core)' })
      .option('lock-duration', { type: 'number', default: 30_000, describe: "ms; a dead worker's trial is handed to another after about this long" })
      .option('max-jobs', { type: 'number', describe: 'exit after this many jobs' })
      .option('log-dir', { type: 'string', default: 'vmr-sweep-logs', describe: 'per-attempt logs' })
      .example('$0 sweep worker --redis redis://10.0.0.5:6379 --tracking-uri http://10.0.0.5:5000', 'one worker; start one per core'),
  handler: async (a: Record<string, unknown>) => {
    const quiet = a.quiet as boolean;
    await checkWorkerRedis(a.redis as string);
    const h = startSweepWorker({
      redis: a.redis as string,
      queue: a.queue as string,
      trackingUri: a['tracking-uri'] as string | undefined,
      concurrency: a.concurrency as number,
      lockDurationMs: a['lock-duration'] as number,
      maxJobs: a['max-jobs'] as number | undefined,
      logDir: a['log-dir'] as string,
      log: (l) => {
        if (!quiet) process.stderr.write(`[sweep worker ${process.pid}] ${l}\n`);
      },
    });
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        process.stderr.write(`[sweep worker ${process.pid}] ${sig}: finishing the running trial, then exiting (again to interrupt it)\n`);
        void h.close();
      } else {
        process.stderr.write(`[sweep worker ${process.pid}] ${sig}: interrupting; the trial goes back to the queue\n`);
        void h.interrupt().then(() => process.exit(130));
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    await h.worker.waitUntilReady();
    if (!quiet) process.stderr.write(`[sweep worker ${process.pid}] waiting for trials on queue ${a.queue as string}\n`);
    await h.closed;
  },
};

const trial: VmrCommand = {
  command: 'trial <run>',
  describe: 'run one trial attempt (started by the pool and by workers; rarely by hand)',
  builder: (y: Argv) =>
    y
      .positional('run', { type: 'string', demandOption: true, describe: 'trial run id' })
      .option('tracking-uri', { type: 'string', demandOption: true, describe: 'tracking server (or store) the trial lives in' })
      .option('json', { type: 'boolean', default: false })
      .example('$0 sweep trial 3f2a… --tracking-uri http://127.0.0.1:5000', 're-run one trial by hand'),
  handler: async (a: Record<string, unknown>) => {
    const r = await runTrialProcess(a.run as string, a['tracking-uri'] as string);
    printResult(a.json as boolean, r, () => `trial ${r.runId}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
    if (r.status === 'failed') process.exitCode = 1;
  },
};

/** `vmr sweep …` */
export const sweepCommand: VmrCommand = {
  command: 'sweep <command>',
  describe: 'hyper-parameter sweeps: local pool or BullMQ workers',
  builder: (y: Argv) => y.command(run).command(status).command(cancel).command(forget).command(worker).command(trial).demandCommand(1),
  handler: () => undefined,
};

/** `vmr report sweep <sweep>` (mounted under `vmr report`). */
export const reportSweepCommand: VmrCommand = {
  command: 'sweep <sweep>',
  describe: "a sweep's configurations (over seeds: n, mean ± std, 95 % interval) ranked, the Pareto front (directions from the metric registry), the best configuration per extractor, every trial",
  builder: (y: Argv) =>
    withStore(y)
      .positional('sweep', { type: 'string', demandOption: true, describe: 'sweep name or run id (prefix)' })
      .option('experiment', { alias: 'e', type: 'string' })
      .option('format', { choices: ['text', 'markdown', 'csv', 'json'] as const, default: 'text' as const, describe: 'csv: tidy, one row per configuration × dataset × metric (n, mean, std, ci_low, ci_high)' })
      .option('json', { type: 'boolean', default: false, describe: 'same as --format json' })
      .option('metric', { type: 'string', describe: "rank by this trial metric (default: the spec's); its direction comes from the metric registry (FAD, ranks: lower is better)" })
      .option('x', { type: 'string', describe: 'Pareto x metric (default: a *.r1 key)' })
      .option('y', { type: 'string', describe: 'Pareto y metric (default: an AV-Align key)' })
      .option('top', { type: 'number', describe: 'show only the best N trials' })
      .example('$0 report sweep lambda-grid', 'tables on the terminal')
      .example('$0 report sweep lambda-grid --format markdown > sweep.md', 'for a write-up')
      .example('$0 report sweep lambda-grid -y eval.himv-like.fad', 'Pareto front of R@1 (max) vs FAD (min)')
      .example('$0 report sweep lambda-grid --format csv > sweep.csv', 'tidy CSV for pandas'),
  handler: async (a: Record<string, unknown>) => {
    await withTracker(a, async (t) => {
      const r = await buildSweepReport(t, a.sweep as string, {
        metric: a.metric as string | undefined,
        x: a.x as string | undefined,
        y: a.y as string | undefined,
        experiment: a.experiment as string | undefined,
      });
      const format = (a.json ? 'json' : a.format) as ReportFormat;
      process.stdout.write(formatSweepReport(r, format, a.top as number | undefined) + '\n');
    });
  },
};

/** `vmr report …` as contributed by the sweeper (bin/vmr.ts merges same-named commands' subcommands). */
export const reportCommand: VmrCommand = {
  command: 'report <command>',
  describe: 'sweep reports (ranking, Pareto front, by extractor)',
  builder: (y: Argv) => y.command(reportSweepCommand).demandCommand(1),
  handler: () => undefined,
};

async function runExperimentFile(file: string, a: Record<string, unknown>): Promise<void> {
  const spec: SweepSpec = loadSweepSpec(file);
  const t0 = Date.now();
  const r = await runSweep(spec, {
    trackingUri: a['tracking-uri'] as string | undefined,
    store: a.store as string | undefined,
    workers: checkWorkers(a.workers),
    fresh: a.fresh as boolean,
    retryFailed: a['retry-failed'] as boolean,
    dryRun: a['dry-run'] as boolean,
    quiet: (a.quiet as boolean) || (a.json as boolean),
  });
  if (r.status === 'planned') {
    printResult(a.json as boolean, r, () => summary(r));
    return;
  }
  const extras = await experimentExtras(spec, r, { store: a.store as string | undefined, trackingUri: a['tracking-uri'] as string | undefined }, { quiet: (a.quiet as boolean) || (a.json as boolean) || !process.stderr.isTTY });
  const out: ExperimentRunResult = { ...r, ...extras, file: path.resolve(file), seconds: (Date.now() - t0) / 1000 };
  printResult(a.json as boolean, out, () => formatExperimentResult(out));
  finishExit(r);
}

const experimentOptions = (y: Argv) =>
  withStore(y)
    .option('workers', { type: 'number', describe: "parallel trial processes (default: the file's workers, else one per core)" })
    .option('fresh', { type: 'boolean', default: false, describe: 'train again even when finished trials with the same key exist (the old ones are forgotten, not deleted)' })
    .option('retry-failed', { type: 'boolean', default: false, describe: 'also re-run failed trials that have attempts left' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'check every trial and list the plan; writes nothing' })
    .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' });

const experimentRun: VmrCommand = {
  command: 'run <file>',
  describe: 'run an experiment file (a sweep spec with its trainer config inline): generate missing synthetic data, train the trials in parallel processes, evaluate, print Tables 1 and 2',
  builder: (y: Argv) =>
    experimentOptions(y)
      .positional('file', { type: 'string', describe: 'experiment YAML (experiments/*.yaml)' })
      .example('$0 experiment run experiments/quickstart.yaml', 'the quickstart (what npm start runs)')
      .example('$0 experiment run experiments/table1.yaml --workers 8', "the paper's Table 1 setting")
      .example('$0 experiment run experiments/table1.yaml --dry-run', 'check configs and datasets, list the trials'),
  handler: async (a: Record<string, unknown>) => runExperimentFile(String(a.file), a),
};

const experiment: VmrCommand = {
  command: 'experiment <command>',
  describe: 'run experiment files (sweeps of training configs plus evaluations, printed as Tables 1 and 2)',
  builder: (y: Argv) => y.command(experimentRun).demandCommand(1),
  handler: () => undefined,
};

/** The quickstart file: experiments/quickstart.yaml in the repository. */
export function quickstartFile(): string {
  return path.join(repoRoot(), 'experiments', 'quickstart.yaml');
}

const quickstart: VmrCommand = {
  command: 'quickstart',
  describe: 'the main job (npm start): synthetic data, VM-Net and OF-VM-Net × ResNet/CLIP/I3D, in- and out-of-distribution evaluation, Tables 1 and 2',
  builder: (y: Argv) =>
    experimentOptions(y)
      .example('$0 quickstart', 'run it; a second run reuses the finished trials and reprints the tables')
      .example('$0 quickstart --fresh', 'train everything again (new runs; the old ones stay in the store)'),
  handler: async (a: Record<string, unknown>) => runExperimentFile(quickstartFile(), a),
};

export const sweeperCommands: VmrCommand[] = [sweepCommand, reportCommand, experiment, quickstart];
