import * as fs from 'fs';
import type { Argv } from 'yargs';
import { NotFoundError, printResult, writeFileAtomic, type VmrCommand } from '@vmr/core';
import { resolveTrackingUri, withStore } from '@vmr/tracking';
import { SPLIT_CHOICES, type SplitChoice } from '@vmr/pipeline';
import { EVAL_PROTOCOLS, evaluateRun, type EvalProtocol, type EvalResult } from './evaluate';
import { buildTables, compareRuns } from './report';
import { REPORT_FORMATS, featureLabel, formatComparisons, formatTables, modelLabel, type ReportFormat } from './report-format';
import { htmlReportCommand } from './html';
import { retrieveCommand } from './retrieve/commands';
import { listenCommand } from './listen/commands';

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
      .option('run', { type: 'string', demandOption: true, describe: 'training run id (or unique prefix)' })
      .option('dataset', { type: 'string', demandOption: true, describe: 'dataset directory (dataset.json …)' })
      .option('protocol', { type: 'string', choices: EVAL_PROTOCOLS as unknown as string[], default: 'paper', describe: 'paper: full gallery, FAD on audio input features; vmr-code: batches of 128, FAD on embeddings' })
      .option('split', { type: 'string', choices: SPLIT_CHOICES as unknown as string[], describe: 'split to evaluate (default: test when present, else all)' })
      .option('direction', { type: 'string', choices: ['video-to-music', 'music-to-video'], default: 'video-to-music' })
      .option('table', { type: 'string', describe: 'file the result under this table id (default: 1 in-distribution, 2 otherwise)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 eval --run 3f2a --dataset vmr-data/quickstart/symmv-like', 'out-of-distribution evaluation (Table 2)')
      .example('$0 eval --run 3f2a --dataset data/himv --split test --protocol vmr-code', 'the reference code\'s batch-128 protocol'),
  handler: async (a: Record<string, unknown>) => {
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

// `vmr experiment run` and `vmr quickstart` are front ends of the sweep engine (@vmr/sweeper).
export const evaluatorCommands: VmrCommand[] = [evalCommand, report, retrieveCommand, listenCommand];
