import * as fs from 'fs';
import * as path from 'path';
import type { Argv } from 'yargs';
import { InvalidArgumentError, NotFoundError, printResult, repoRoot, writeFileAtomic, type VmrCommand } from '@vmr/core';
import { resolveTrackingUri, withStore } from '@vmr/tracking';
import { SPLIT_CHOICES, type SplitChoice } from '@vmr/trainer';
import { EVAL_PROTOCOLS, evaluateRun, type EvalProtocol, type EvalResult } from './evaluate';
import { buildTables, compareRuns } from './report';
import { REPORT_FORMATS, featureLabel, formatComparisons, formatTables, modelLabel, type ReportFormat } from './report-format';
import { runExperiment, type ExperimentResult } from './experiment';
import { htmlReportCommand } from './html';
import { evaluateOracle, formatOracleResult } from './oracle';
import { ORACLE_KINDS, type OracleKind } from '@vmr/data';

function f3(x: number | undefined): string {
  return x === undefined ? '—' : x.toFixed(3);
}

export function formatEvalResult(r: EvalResult): string {
  const m = r.metrics;
  return [
    `eval run ${r.evalRunId} (child of ${r.trainRunId}): ${modelLabel(r.model)}/${featureLabel(r.features)} on ${r.dataset.name} (${r.dataset.kind}${r.dataset.synthetic ? ', SYNTHETIC' : ''}), split ${r.split}`,
    `AV-ALIGN (GOT) ${f3(m.avAlignGot)}  AV-ALIGN ${f3(m.avAlign)}  FAD ${f3(m.fad)}${r.fadRankDeficient ? ' (rank-deficient covariance)' : ''}  R@1 ${f3(m.r1)}  R@5 ${f3(m.r5)}  R@10 ${f3(m.r10)}  median rank ${m.medianRank}`,
    `gallery ${m.gallerySize} clips (${r.retrievalProtocol}), ${m.queries} queries, ${r.direction}, protocol ${r.protocol}, AV-Align ${r.avAlignVariant}${r.avAlignMissing ? ` not computed: ${r.avAlignMissing}` : ''}${r.skippedClips ? `; ${r.skippedClips} clips skipped (no full segmentation)` : ''}`,
  ].join('\n');
}

const evalCommand: VmrCommand = {
  command: 'eval',
  describe: 'evaluate a trained run on a dataset (AV-ALIGN (GOT), AV-ALIGN, FAD, R@1/5/10, median rank); logged as a child run',
  builder: (y: Argv) =>
    withStore(y)
      .option('run', { type: 'string', describe: 'training run id (or unique prefix)' })
      .option('oracle', { type: 'string', choices: ORACLE_KINDS as unknown as string[], describe: 'instead of --run: a reference row from a synthetic dataset\'s ground truth (style | motion)' })
      .option('experiment', { alias: 'e', type: 'string', describe: 'with --oracle: experiment to log the reference row in (default oracles)' })
      .option('fresh', { type: 'boolean', default: false, describe: 'with --oracle: evaluate again even when the store has this reference row' })
      .option('dataset', { type: 'string', demandOption: true, describe: 'dataset directory (dataset.json …)' })
      .option('protocol', { type: 'string', choices: EVAL_PROTOCOLS as unknown as string[], default: 'paper', describe: 'paper: full gallery, FAD on audio input features; vmr-code: batches of 128, FAD on embeddings' })
      .option('split', { type: 'string', choices: SPLIT_CHOICES as unknown as string[], describe: 'split to evaluate (default: test when present, else all)' })
      .option('direction', { type: 'string', choices: ['video-to-music', 'music-to-video'], default: 'video-to-music' })
      .option('table', { type: 'string', describe: 'file the result under this table id (default: 1 in-distribution, 2 otherwise)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 eval --run 3f2a --dataset vmr-data/quickstart/symmv-like', 'out-of-distribution evaluation (Table 2)')
      .example('$0 eval --run 3f2a --dataset data/himv --split test --protocol vmr-code', 'the reference code\'s batch-128 protocol')
      .example('$0 eval --oracle motion --dataset vmr-data/quickstart/himv-like --split val -e quickstart', 'the motion oracle\'s reference row'),
  handler: async (a: Record<string, unknown>) => {
    if ((a.run === undefined) === (a.oracle === undefined)) throw new InvalidArgumentError('give exactly one of --run ID (a trained model) or --oracle style|motion (a reference row)');
    if (a.oracle !== undefined) {
      if (a.protocol !== 'paper') throw new InvalidArgumentError('--oracle evaluates under --protocol paper (full gallery, FAD on audio input features, AV-Align yariv)');
      const o = await evaluateOracle(a.oracle as OracleKind, String(a.dataset), {
        trackingUri: a['tracking-uri'] as string | undefined,
        store: a.store as string | undefined,
        experiment: a.experiment as string | undefined,
        split: a.split as SplitChoice | undefined,
        direction: a.direction as 'video-to-music' | 'music-to-video',
        table: a.table as string | undefined,
        reuse: !(a.fresh as boolean),
      });
      printResult(a.json as boolean, o, () => formatOracleResult(o));
      return;
    }
    const r = await evaluateRun(String(a.run), String(a.dataset), {
      trackingUri: a['tracking-uri'] as string | undefined,
      store: a.store as string | undefined,
      protocol: a.protocol as EvalProtocol,
      split: a.split as SplitChoice | undefined,
      direction: a.direction as 'video-to-music' | 'music-to-video',
      table: a.table as string | undefined,
    });
    printResult(a.json as boolean, r, () => formatEvalResult(r));
  },
};

function requireStoreFile(a: Record<string, unknown>): void {
  const uri = resolveTrackingUri({ trackingUri: a['tracking-uri'] as string | undefined, store: a.store as string | undefined });
  if (!/^https?:\/\//.test(uri) && !fs.existsSync(uri)) throw new NotFoundError(`run store ${uri} does not exist (run the quickstart with npm start, or pass --store)`);
}

const tables: VmrCommand = {
  command: 'tables',
  describe: 'Tables 1 and 2 from the run store: one row per (model, features), mean ± std over seeds, best per column marked',
  builder: (y: Argv) =>
    withStore(y)
      .option('experiment', { alias: 'e', type: 'string', array: true, demandOption: true, describe: 'experiment name(s)' })
      .option('format', { type: 'string', choices: REPORT_FORMATS as unknown as string[], default: 'markdown' })
      .option('out', { type: 'string', describe: 'write to this file (atomic) instead of stdout' })
      .example('$0 report tables -e quickstart', 'the quickstart\'s tables as markdown')
      .example('$0 report tables -e table1 -e table2 --format latex --out tables.tex', 'LaTeX for the paper'),
  handler: async (a: Record<string, unknown>) => {
    requireStoreFile(a);
    const ts = await buildTables(a.experiment as string[], { store: a.store as string | undefined, trackingUri: a['tracking-uri'] as string | undefined });
    emit(formatTables(ts, a.format as ReportFormat), a.out as string | undefined);
  },
};

const compare: VmrCommand = {
  command: 'compare',
  describe: 'compare evaluations grouped by features, model or λ settings (mean ± std per group)',
  builder: (y: Argv) =>
    withStore(y)
      .option('by', { type: 'string', choices: ['features', 'model', 'lambda'], demandOption: true })
      .option('experiment', { alias: 'e', type: 'string', array: true, describe: 'experiment name(s) (default: all)' })
      .option('format', { type: 'string', choices: REPORT_FORMATS as unknown as string[], default: 'markdown' })
      .option('out', { type: 'string', describe: 'write to this file instead of stdout' })
      .example('$0 report compare --by features -e quickstart', 'ResNet vs CLIP vs I3D')
      .example('$0 report compare --by lambda -e lambda-sweep --format csv', 'a λ sweep as CSV'),
  handler: async (a: Record<string, unknown>) => {
    requireStoreFile(a);
    const cs = await compareRuns(a.by as 'features' | 'model' | 'lambda', a.experiment as string[] | undefined, {
      store: a.store as string | undefined,
      trackingUri: a['tracking-uri'] as string | undefined,
    });
    emit(formatComparisons(cs, a.format as ReportFormat), a.out as string | undefined);
  },
};

function emit(text: string, out: string | undefined): void {
  if (!out) {
    process.stdout.write(text + '\n');
    return;
  }
  writeFileAtomic(out, text + '\n');
  process.stderr.write(`wrote ${out}\n`);
}

const report: VmrCommand = {
  command: 'report <command>',
  describe: 'reports from the run store: the paper\'s tables, run comparisons, an HTML page',
  builder: (y: Argv) => y.command(tables).command(compare).command(htmlReportCommand).demandCommand(1),
  handler: () => undefined,
};

/** Human summary of an experiment: trials, then the tables. */
export function formatExperimentResult(r: ExperimentResult): string {
  const lines: string[] = [];
  const failed = r.trials.filter((t) => t.status !== 'finished');
  lines.push(
    `experiment ${r.experiment}: ${r.trials.length - failed.length}/${r.trials.length} trials finished` +
      `${r.trials.some((t) => t.reused) ? ` (${r.trials.filter((t) => t.reused).length} reused from the store)` : ''} in ${formatSeconds(r.seconds)}`,
  );
  for (const t of failed) lines.push(`  ${t.status}: ${modelLabel(t.trial.config.model)}/${featureLabel(t.trial.config.features)}${t.trainRunId ? ` run ${t.trainRunId.slice(0, 8)}` : ''}${t.error ? ` — ${t.error}` : ''}`);
  lines.push('');
  lines.push(r.tables.length ? formatTables(r.tables, 'markdown') : '(no evaluations to tabulate)');
  lines.push('', `reprint: vmr report tables -e ${r.experiment}   ·   compare: vmr report compare --by features -e ${r.experiment}   ·   runs: vmr runs list -e ${r.experiment}`);
  return lines.join('\n');
}

function formatSeconds(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`;
}

async function runExperimentCommand(file: string, a: Record<string, unknown>): Promise<void> {
  const r = await runExperiment(file, {
    store: a.store as string | undefined,
    trackingUri: a['tracking-uri'] as string | undefined,
    workers: a.workers as number | undefined,
    fresh: a.fresh as boolean,
  });
  printResult(a.json as boolean, r, () => formatExperimentResult(r));
  if (r.interrupted) process.exitCode = 130;
  else if (r.trials.some((t) => t.status !== 'finished')) process.exitCode = 1;
}

const experimentRun: VmrCommand = {
  command: 'run <file>',
  describe: 'run an experiment file: generate missing synthetic data, train the grid in parallel workers, evaluate, print Tables 1 and 2',
  builder: (y: Argv) =>
    withStore(y)
      .positional('file', { type: 'string', describe: 'experiment YAML (experiments/*.yaml)' })
      .option('workers', { type: 'number', describe: 'parallel worker processes (default: the file\'s workers)' })
      .option('fresh', { type: 'boolean', default: false, describe: 'train again even when a finished run with the same config exists' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 experiment run experiments/quickstart.yaml', 'the quickstart (what npm start runs)')
      .example('$0 experiment run experiments/table1.yaml --workers 2', 'the paper\'s Table 1 setting'),
  handler: async (a: Record<string, unknown>) => {
    if (a.workers !== undefined && !(Number.isInteger(a.workers) && (a.workers as number) >= 1)) throw new InvalidArgumentError(`--workers must be a positive integer, got ${String(a.workers)}`);
    await runExperimentCommand(String(a.file), a);
  },
};

const experiment: VmrCommand = {
  command: 'experiment <command>',
  describe: 'run experiment files (a grid of training configs plus evaluations)',
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
    withStore(y)
      .option('workers', { type: 'number', describe: 'parallel worker processes (default 2)' })
      .option('fresh', { type: 'boolean', default: false, describe: 'train again even when the store already has the quickstart runs' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 quickstart', 'run it (about 10 minutes on 2 cores); a second run reuses the finished runs')
      .example('$0 quickstart --fresh', 'train everything again (new runs)'),
  handler: async (a: Record<string, unknown>) => {
    await runExperimentCommand(quickstartFile(), a);
  },
};

export const evaluatorCommands: VmrCommand[] = [evalCommand, report, experiment, quickstart];
