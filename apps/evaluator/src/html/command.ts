/** `vmr report html`: the visual report (registered under the evaluator's `report` command group). */
import type { Argv } from 'yargs';
import { printResult, withJson, type VmrCommand } from '@vmr/core';
import { withStore } from '@vmr/tracking';
import { writeHtmlReport } from './build';

export const htmlReportCommand: VmrCommand = {
  command: 'html',
  describe: 'one self-contained HTML page: Tables 1 and 2, per-extractor comparison, Recall@1 vs AV-Align across λ settings (Pareto front), training curves, run configs',
  builder: (y: Argv) =>
    withJson(withStore(y))
      .option('experiment', { alias: 'e', type: 'string', describe: 'experiment to report (default with --sweep: the sweep\'s experiment)' })
      .option('sweep', { type: 'string', describe: 'sweep run id, id prefix or sweep name: λ scatter and curves over its trials' })
      .option('out', { alias: 'o', type: 'string', default: 'report.html', describe: 'HTML file to write (atomically)' })
      .option('max-curve-runs', { type: 'number', default: 24, describe: 'training runs (newest first) that get curve charts' })
      .option('curve-points', { type: 'number', default: 200, describe: 'points per loss series (consecutive steps averaged)' })
      .check((a) => {
        if (a.experiment === undefined && a.sweep === undefined) throw new Error('give --experiment <name> or --sweep <id|name>');
        return true;
      })
      .example('$0 report html -e quickstart --out report.html', 'the quickstart as a page')
      .example('$0 report html --sweep lambda-grid --out sweep.html', 'a λ sweep: trade-off scatter, Pareto front, curves'),
  handler: async (a: Record<string, unknown>) => {
    const r = await writeHtmlReport(
      String(a.out),
      {
        experiment: a.experiment as string | undefined,
        sweep: a.sweep as string | undefined,
        maxCurveRuns: a['max-curve-runs'] as number,
        curvePoints: a['curve-points'] as number,
      },
      { store: a.store as string | undefined, trackingUri: a['tracking-uri'] as string | undefined },
    );
    for (const w of r.warnings) process.stderr.write(`vmr report html: chart warning: ${w}\n`);
    const summary = { out: r.out, bytes: r.bytes, charts: r.charts, tables: r.tables, runs: r.runs, experiment: r.data.experiment, sweep: r.data.sweep };
    printResult(a.json as boolean, summary, () => `wrote ${r.out} (${(r.bytes / 1024).toFixed(0)} KiB): ${r.tables} table(s), ${r.charts} chart(s), ${r.runs} run(s)`);
  },
};
