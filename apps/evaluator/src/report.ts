import { NotFoundError, UnsupportedError } from '@vmr/core';
import { attachQueryIntervals, compareConfigurations, type PairComparison } from './report-compare';
import { buildVerdict, type Verdict } from './report-verdict';
import {
  SqliteTracker,
  buildResultTables,
  compareEvalRows,
  queryEvalRows,
  resolveTrackingUri,
  schema,
  type CompareBy,
  type Comparison,
  type ResultTable,
  type Tracker,
} from '@vmr/tracking';

export interface ReportSource {
  /** An open local tracker (its Drizzle handle is queried); default: open the store below. */
  tracker?: Tracker;
  store?: string;
  trackingUri?: string;
}

async function withLocalStore<R>(src: ReportSource, fn: (t: SqliteTracker) => R | Promise<R>): Promise<R> {
  if (src.tracker) {
    if (!(src.tracker instanceof SqliteTracker)) throw new UnsupportedError('reports query the run store directly: give a local store (--store), not a tracking server URI');
    return fn(src.tracker);
  }
  const uri = resolveTrackingUri({ trackingUri: src.trackingUri, store: src.store });
  if (/^https?:\/\//.test(uri)) throw new UnsupportedError(`reports query the run store directly: ${uri} is a tracking server; run the report where its store file is (--store)`);
  const t = new SqliteTracker(uri, { reapStaleRuns: false, heartbeatIntervalMs: 0 });
  try {
    return await fn(t); // awaited: async reports read artifacts before the store is closed
  } finally {
    await t.close();
  }
}

/** Tables 1 and 2 of an experiment from the run store (Drizzle queries in @vmr/tracking). */
export async function buildTables(experiment: string | string[], src: ReportSource = {}): Promise<ResultTable[]> {
  return withLocalStore(src, (t) => {
    const names = Array.isArray(experiment) ? experiment : [experiment];
    const rows = queryEvalRows(t.db, { experiment: names });
    if (rows.length === 0) {
      const known = t.db.select().from(schema.experiments).all().map((e) => e.name);
      throw new NotFoundError(
        `no finished evaluations in experiment ${names.map((n) => `'${n}'`).join(', ')} of ${t.location}` +
          (known.length ? ` (experiments: ${known.join(', ')})` : ' (the store has no experiments)') +
          '; train and evaluate first (vmr train, vmr eval) or run the quickstart (npm start)',
      );
    }
    return attachQueryIntervals(t, buildResultTables(rows));
  });
}

/** Compare evaluations grouped by features, model or λ settings. */
export async function compareRuns(by: CompareBy, experiment: string | string[] | undefined, src: ReportSource = {}): Promise<Comparison[]> {
  return withLocalStore(src, (t) => {
    const rows = queryEvalRows(t.db, experiment === undefined ? {} : { experiment });
    if (rows.length === 0) throw new NotFoundError(`no finished evaluations${experiment ? ` in experiment ${String(experiment)}` : ''} in ${t.location}`);
    return compareEvalRows(rows, by);
  });
}

/** `vmr report compare A B`: paired differences of two configurations (per evaluation context). */
export async function comparePair(a: string, b: string, experiment: string | string[] | undefined, options: { seed?: number; resamples?: number } = {}, src: ReportSource = {}): Promise<PairComparison[]> {
  return withLocalStore(src, (t) => compareConfigurations(t, a, b, { ...options, experiment }));
}

/** `vmr report verdict -e NAME`: conclusions from the store's numbers (see report-verdict.ts). */
export async function verdictOf(experiment: string, options: { seed?: number; resamples?: number } = {}, src: ReportSource = {}): Promise<Verdict> {
  return withLocalStore(src, (t) => buildVerdict(t, experiment, options));
}
