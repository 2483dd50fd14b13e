import * as fs from 'fs';
import type { Argv } from 'yargs';
import { InvalidArgumentError, NotFoundError, printResult, writeFileAtomic, type VmrCommand } from '@vmr/core';
import { resolveTrackingUri, withStore } from '@vmr/tracking';
import { SPLIT_CHOICES, type SplitChoice } from '@vmr/pipeline';
import { EVAL_PROTOCOLS, evaluateRun, type EvalProtocol, type EvalResult } from './evaluate';
import { buildTables, comparePair, compareRuns, verdictOf } from './report';
import { formatPairComparisons, pairComparisonsCsv } from './report-compare';
import { REPORT_FORMATS, featureLabel, formatComparisons, formatTables, modelLabel, type ReportFormat } from './report-format';
import { htmlReportCommand } from './html';
import { retrieveCommand } from './retrieve/commands';
import { listenCommand } from './listen/commands';
import { evaluateOracle, formatOracleResult } from './oracle';
import { ORACLE_KINDS, type OracleKind } from '@vmr/data';

function f3(x: number | undefined, missing = '—'): string {
  return x === undefined ? missing : x.toFixed(3);
}

export function formatEvalResult(r: EvalResult): string {
  const m = r.metrics;
  const rk = (k: number, x: number | undefined) => (k >= m.gallerySize ? `—, gallery ${m.gallerySize}` : f3(x));
  return [
    `eval run ${r.evalRunId} (child of ${r.trainRunId}): ${modelLabel(r.model)}/${featureLabel(r.features)} on ${r.dataset.name} (${r.dataset.kind}${r.dataset.synthetic ? ', SYNTHETIC' : ''}), split ${r.split}${r.trainOverlap ? ` — TRAINING OVERLAP: ${r.trainOverlap} evaluated clips were training clips (--allow-train-overlap), not a held-out result` : ''}`,
    `AV-ALIGN (GOT) ${f3(m.avAlignGot)}  AV-ALIGN ${f3(m.avAlign)}  FAD ${f3(m.fad, r.fadMissing ? '— (music-to-video)' : '—')}${r.fadRankDeficient ? ' (rank-deficient covariance)' : ''}  R@1 ${rk(1, m.r1)}  R@5 ${rk(5, m.r5)}  R@10 ${rk(10, m.r10)}  median rank ${m.medianRank}`,
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
      .option('split', { type: 'string', choices: SPLIT_CHOICES as unknown as string[], describe: 'split to evaluate (default: test, else val, else all); a split with training clips is refused unless --allow-train-overlap' })
      .option('direction', { type: 'string', choices: ['video-to-music', 'music-to-video'], default: 'video-to-music' })
      .option('table', { type: 'string', describe: 'file the result under this table id (default: 1 in-distribution, 2 otherwise)' })
      .option('av-align-variant', { type: 'string', choices: ['yariv', 'vmr'], describe: 'AV-Align peaks (default yariv; vmr-code: vmr when the dataset has vmr video peaks). vmr without ingested vmr video peaks is refused' })
      .option('allow-train-overlap', { type: 'boolean', default: false, describe: 'evaluate a split that contains training clips (refused by default); the run is labelled as overlapping in every report' })
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
      avAlignVariant: a['av-align-variant'] as 'yariv' | 'vmr' | undefined,
      allowTrainOverlap: a['allow-train-overlap'] as boolean,
    });
    printResult(a.json as boolean, r, () => formatEvalResult(r));
  },
};

function requireStoreFile(a: Record<string, unknown>): void {
  const uri = resolveTrackingUri({ trackingUri: a['tracking-uri'] as string | undefined, store: a.store as string | undefined });
  if (!/^https?:\/\//.test(uri) && !fs.existsSync(uri)) throw new NotFoundError(`run store ${uri} does not exist (run the quickstart with npm start, or pass --store)`);
}

/** `--json` on every report: the same as `--format json`. */
function formatOf(a: Record<string, unknown>): ReportFormat {
  return a.json ? 'json' : (a.format as ReportFormat);
}

const tables: VmrCommand = {
  command: 'tables',
  describe: 'Tables 1 and 2 from the run store: one row per configuration (training config minus seed), n, mean ± std and 95 % interval over seeds, best marked only when its interval excludes the runner-up',
  builder: (y: Argv) =>
    withStore(y)
      .option('experiment', { alias: 'e', type: 'string', array: true, demandOption: true, describe: 'experiment name(s)' })
      .option('format', { type: 'string', choices: REPORT_FORMATS as unknown as string[], default: 'markdown', describe: 'csv: tidy, one row per configuration × dataset × metric (n, mean, std, ci_low, ci_high)' })
      .option('json', { type: 'boolean', default: false, describe: 'same as --format json' })
      .option('out', { type: 'string', describe: 'write to this file (atomic) instead of stdout' })
      .example('$0 report tables -e quickstart', 'the quickstart\'s tables as markdown')
      .example('$0 report tables -e table1 -e table2 --format latex --out tables.tex', 'LaTeX for the paper'),
  handler: async (a: Record<string, unknown>) => {
    requireStoreFile(a);
    const ts = await buildTables(a.experiment as string[], { store: a.store as string | undefined, trackingUri: a['tracking-uri'] as string | undefined });
    emit(formatTables(ts, formatOf(a)), a.out as string | undefined);
  },
};

const compare: VmrCommand = {
  command: 'compare [a] [b]',
  describe: 'compare two configurations A and B (paired bootstrap of every metric\'s difference over queries and seeds), or all configurations ordered --by features, model or λ',
  builder: (y: Argv) =>
    withStore(y)
      .positional('a', { type: 'string', describe: 'configuration A: a run id prefix (its configuration) or key=value[,key=value] (model, features, λ, lr, …)' })
      .positional('b', { type: 'string', describe: 'configuration B, same forms' })
      .option('by', { type: 'string', choices: ['features', 'model', 'lambda'], describe: 'without A and B: one row per configuration, ordered by this attribute' })
      .option('experiment', { alias: 'e', type: 'string', array: true, describe: 'experiment name(s) (default: all)' })
      .option('format', { type: 'string', choices: REPORT_FORMATS as unknown as string[], default: 'markdown', describe: 'csv: tidy (one row per configuration × dataset × metric)' })
      .option('json', { type: 'boolean', default: false, describe: 'same as --format json' })
      .option('seed', { type: 'number', default: 0, describe: 'bootstrap seed (same seed, same intervals)' })
      .option('resamples', { type: 'number', default: 2000, describe: 'bootstrap resamples' })
      .option('out', { type: 'string', describe: 'write to this file instead of stdout' })
      .check((a) => {
        if ((a.a === undefined) !== (a.b === undefined)) throw new Error('give two configurations A and B (or --by)');
        if (a.a === undefined && a.by === undefined) throw new Error('give two configurations A B, or --by features|model|lambda');
        return true;
      })
      .example('$0 report compare model=of-vm-net,features=clip model=vm-net,features=clip -e quickstart', 'OF-VM-Net − VM-Net with paired intervals')
      .example('$0 report compare 3f2a 9c1d', 'the configurations of two runs (all their seeds)')
      .example('$0 report compare --by features -e quickstart', 'ResNet vs CLIP vs I3D, one row per configuration')
      .example('$0 report compare --by lambda -e lambda-sweep --format csv', 'a λ sweep as tidy CSV'),
  handler: async (a: Record<string, unknown>) => {
    requireStoreFile(a);
    const src = { store: a.store as string | undefined, trackingUri: a['tracking-uri'] as string | undefined };
    const format = formatOf(a);
    if (a.a !== undefined) {
      const pcs = await comparePair(String(a.a), String(a.b), a.experiment as string[] | undefined, { seed: a.seed as number, resamples: a.resamples as number }, src);
      emit(format === 'json' ? JSON.stringify(pcs, null, 2) : format === 'csv' ? pairComparisonsCsv(pcs) : formatPairComparisons(pcs), a.out as string | undefined);
      return;
    }
    const cs = await compareRuns(a.by as 'features' | 'model' | 'lambda', a.experiment as string[] | undefined, src);
    emit(formatComparisons(cs, format), a.out as string | undefined);
  },
};

const verdict: VmrCommand = {
  command: 'verdict',
  describe: 'short conclusions from the numbers: does OF-VM-Net beat VM-Net on AV-Align, does it lose on R@1 (paired intervals), is there an R@1 / AV-Align trade-off across λ settings',
  builder: (y: Argv) =>
    withStore(y)
      .option('experiment', { alias: 'e', type: 'string', demandOption: true, describe: 'experiment name' })
      .option('json', { type: 'boolean', default: false, describe: 'print the verdict as JSON' })
      .option('seed', { type: 'number', default: 0, describe: 'bootstrap seed' })
      .option('resamples', { type: 'number', default: 2000, describe: 'bootstrap resamples' })
      .example('$0 report verdict -e quickstart', 'what the quickstart\'s numbers say'),
  handler: async (a: Record<string, unknown>) => {
    requireStoreFile(a);
    const v = await verdictOf(String(a.experiment), { seed: a.seed as number, resamples: a.resamples as number }, { store: a.store as string | undefined, trackingUri: a['tracking-uri'] as string | undefined });
    printResult(a.json as boolean, v, () => v.lines.join('\n'));
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
  builder: (y: Argv) => y.command(tables).command(compare).command(verdict).command(htmlReportCommand).demandCommand(1),
  handler: () => undefined,
};

// `vmr experiment run` and `vmr quickstart` are front ends of the sweep engine (@vmr/sweeper).
export const evaluatorCommands: VmrCommand[] = [evalCommand, report, retrieveCommand, listenCommand];
