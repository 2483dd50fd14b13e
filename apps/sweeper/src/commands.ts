import type { Argv } from 'yargs';
import Table from 'cli-table3';
import { InvalidArgumentError, printResult, type VmrCommand } from '@vmr/core';
import { formatNumber, formatDuration, withStore, withTracker, type Tracker } from '@vmr/tracking';
import { loadSweepSpec } from './spec';
import { defaultWorkers, runSweep, type SweepRunResult } from './coordinator';
import { countStatuses, findSweep, listTrials, TAGS } from './sweep-store';
import { checkWorkerRedis, startSweepWorker } from './bullmq-executor';
import { scancelSweep } from './slurm-executor';
import { exitOnSecondSignal } from './remote-checks';
import { runTrialProcess } from './trial-process';
import { buildSweepReport, formatSweepReport, type ReportFormat } from './report';

function summary(r: SweepRunResult): string {
  const lines = [
    `sweep ${r.name} (${r.sweepId}) ${r.status}: ${r.finished}/${r.trials} trials finished, ${r.failed} failed, ${r.killed} cancelled`,
    `  ${r.skipped} already finished (skipped), ${r.attempts} attempt(s) started now${r.expanded > r.trials ? `; ${r.expanded - r.trials} more trials beyond maxTrials` : ''}`,
  ];
  if (r.failedNotRetried > 0) lines.push(`  ${r.failedNotRetried} failed trial(s) not retried: re-run with --retry-failed (while attempts remain)`);
  if (r.best) lines.push(`  best ${r.best.metric} = ${formatNumber(r.best.value)} (trial ${r.best.runId.slice(0, 8)}: ${JSON.stringify(r.best.values)})`);
  lines.push(`  status: vmr sweep status ${r.name}    report: vmr report sweep ${r.name}`);
  return lines.join('\n');
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
      .option('dry-run', { type: 'boolean', default: false, describe: 'create the sweep and its trial runs, run nothing' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 sweep run experiments/sweeps/lambda-grid.yaml --workers 2', 'λ grid × extractors on a 2-process pool')
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
    const w = a.workers as number | undefined;
    if (w !== undefined && (!Number.isInteger(w) || w < 1)) throw new InvalidArgumentError(`--workers must be a positive integer, got ${w}`);
    const r = await runSweep(spec, {
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
    if (r.status === 'failed') process.exitCode = 1;
  },
};

async function statusOf(t: Tracker, ref: string, experiment?: string) {
  const sweep = await findSweep(t, ref, experiment);
  const trials = await listTrials(t, sweep.id);
  const rows = [];
  for (const tr of trials) {
    const m = sweep.metric ? (await t.latestMetrics(tr.runId))[sweep.metric.name]?.value : undefined;
    rows.push({ runId: tr.runId, index: tr.index, status: tr.status, attempts: tr.attempts, values: tr.values, metric: m ?? null, error: tr.status === 'failed' ? (tr.failureReason ?? tr.tags[TAGS.lastError] ?? null) : null, startTime: Number(tr.tags[TAGS.attemptStarted] ?? tr.startTime), endTime: tr.endTime });
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
        const tb = new Table({ head: ['#', 'trial', 'status', 'attempts', ...keys, s.sweep.metric?.name ?? 'metric', 'time', 'error'], style: { head: [], border: [] }, colWidths: [], wordWrap: true });
        for (const r of s.trials) tb.push([String(r.index), r.runId.slice(0, 8), r.status, String(r.attempts), ...keys.map((k) => String(r.values[k] ?? '')), r.metric === null ? '' : formatNumber(r.metric), r.status === 'queued' ? '' : formatDuration(r.startTime, r.status === 'running' ? null : r.endTime), (r.error ?? '').slice(0, 80)]);
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
  builder: (y: Argv) => y.command(run).command(status).command(cancel).command(worker).command(trial).demandCommand(1),
  handler: () => undefined,
};

/** `vmr report sweep <sweep>` (mounted under `vmr report`). */
export const reportSweepCommand: VmrCommand = {
  command: 'sweep <sweep>',
  describe: "a sweep's trials ranked, the Pareto front of Recall@1 vs AV-Align, a comparison by feature extractor",
  builder: (y: Argv) =>
    withStore(y)
      .positional('sweep', { type: 'string', demandOption: true, describe: 'sweep name or run id (prefix)' })
      .option('experiment', { alias: 'e', type: 'string' })
      .option('format', { choices: ['text', 'markdown', 'csv', 'json'] as const, default: 'text' as const })
      .option('json', { type: 'boolean', default: false, describe: 'same as --format json' })
      .option('metric', { type: 'string', describe: "rank by this trial metric (default: the spec's)" })
      .option('direction', { choices: ['max', 'min'] as const })
      .option('x', { type: 'string', describe: 'Pareto x metric (default: a *.r1 key)' })
      .option('y', { type: 'string', describe: 'Pareto y metric (default: an AV-Align key)' })
      .option('top', { type: 'number', describe: 'show only the best N trials' })
      .example('$0 report sweep lambda-grid', 'tables on the terminal')
      .example('$0 report sweep lambda-grid --format markdown > sweep.md', 'for a write-up'),
  handler: async (a: Record<string, unknown>) => {
    await withTracker(a, async (t) => {
      const r = await buildSweepReport(t, a.sweep as string, {
        metric: a.metric as string | undefined,
        direction: a.direction as 'max' | 'min' | undefined,
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

export const sweeperCommands: VmrCommand[] = [sweepCommand, reportCommand];
