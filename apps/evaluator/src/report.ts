import { NotFoundError } from '@vmr/core';
import { attachQueryIntervals, compareConfigurations, type PairComparison } from './report-compare';
import { buildVerdict, type Verdict } from './report-verdict';
import {
  buildResultTables,
  compareEvalRows,
  withReportSource,
  type CompareBy,
  type Comparison,
  type EvalRow,
  type ReportSource,
  type ReportSourceOptions,
  type ResultTable,
} from '@vmr/tracking';

/**
 * Tables 1 and 2 from evaluation rows already read from `source` (per-query intervals read its
 * artifacts); a `NotFoundError` naming the store's experiments when there are none.
 */
export async function tablesFromRows(source: ReportSource, experiments: string[], rows: EvalRow[]): Promise<ResultTable[]> {
  if (rows.length === 0) {
    const known = (await source.listExperiments()).map((e) => e.name);
    throw new NotFoundError(
      `no finished evaluations in experiment ${experiments.map((n) => `'${n}'`).join(', ')} of ${source.location}` +
        (known.length ? ` (experiments: ${known.join(', ')})` : ' (the store has no experiments)') +
        '; train and evaluate first (vmr train, vmr eval) or run the quickstart (npm start)',
    );
  }
  return attachQueryIntervals(source, buildResultTables(rows), rows);
}

/** Tables 1 and 2 of an experiment from any store: a local file or a tracking server (`--tracking-uri http://…`). */
export async function buildTables(experiment: string | string[], src: ReportSourceOptions = {}): Promise<ResultTable[]> {
  return withReportSource(src, async (t) => {
    const names = Array.isArray(experiment) ? experiment : [experiment];
    return tablesFromRows(t, names, await t.evalRows({ experiment: names }));
  });
}

/** Compare evaluations grouped by features, model or λ settings. */
export async function compareRuns(by: CompareBy, experiment: string | string[] | undefined, src: ReportSourceOptions = {}): Promise<Comparison[]> {
  return withReportSource(src, async (t) => {
    const rows = await t.evalRows(experiment === undefined ? {} : { experiment });
    if (rows.length === 0) throw new NotFoundError(`no finished evaluations${experiment ? ` in experiment ${String(experiment)}` : ''} in ${t.location}`);
    return compareEvalRows(rows, by);
  });
}

/** `vmr report compare A B`: paired differences of two configurations (per evaluation context). */
export async function comparePair(a: string, b: string, experiment: string | string[] | undefined, options: { seed?: number; resamples?: number } = {}, src: ReportSourceOptions = {}): Promise<PairComparison[]> {
  return withReportSource(src, (t) => compareConfigurations(t, a, b, { ...options, experiment }));
}

/** `vmr report verdict -e NAME`: conclusions from the store's numbers (see report-verdict.ts). */
export async function verdictOf(experiment: string, options: { seed?: number; resamples?: number } = {}, src: ReportSourceOptions = {}): Promise<Verdict> {
  return withReportSource(src, (t) => buildVerdict(t, experiment, options));
}
