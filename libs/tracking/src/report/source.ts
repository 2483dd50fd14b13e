/**
 * Where reports read from (DESIGN.md §2.3): a `ReportSource` is the read side of a `Tracker` plus the
 * one query reports need beyond it — evaluation rows joined with their training runs. Two
 * implementations give the same rows: over a local `SqliteTracker` one SQL join (fast); over any other
 * `Tracker` (an `HttpTracker` talking to `vmr tracking serve` or MLflow) searchRuns + getRun (correct,
 * one request per run). Reports take a ReportSource, so they work from any machine that reaches the
 * tracking server, and apps never touch the SQLite handle.
 */
import * as fs from 'fs';
import { InvalidArgumentError, NotFoundError } from '@vmr/core';
import { SqliteTracker } from '../sqlite-tracker';
import { openTracker, resolveTrackingUri } from '../store-location';
import type { RunDetail, Tracker } from '../types';
import { RUN_KIND_TAG, assembleEvalRows, queryEvalRows, type EvalRow, type EvalRowQuery, type EvalRunBase } from './eval-rows';

/** The read-only part of the Tracker API that reports use. */
export type TrackerReader = Pick<
  Tracker,
  'location' | 'getRun' | 'searchRuns' | 'resolveRunId' | 'getExperimentByName' | 'listExperiments' | 'latestMetrics' | 'metricHistory' | 'artifactFile'
>;

export interface ReportSource extends TrackerReader {
  /** Finished (by default) evaluation runs with their training runs' params, newest first. */
  evalRows(query?: EvalRowQuery): Promise<EvalRow[]>;
}

/** Concurrent requests of the Tracker-API implementation (a server gets at most this many at once). */
const PARALLEL = 8;

async function mapLimit<T, R>(xs: readonly T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(xs.length);
  let next = 0;
  const worker = async () => {
    while (next < xs.length) {
      const i = next++;
      out[i] = await fn(xs[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, xs.length) }, worker));
  return out;
}

/**
 * Evaluation rows through the Tracker API only (any store): the same rows as the SQL join — eval runs
 * (tag `vmr.kind=eval`, active, of the given statuses/experiments/training runs), each with its own and
 * its training run's params, tags and latest metrics (NaN left out).
 */
export async function queryEvalRowsVia(tracker: TrackerReader, query: EvalRowQuery = {}): Promise<EvalRow[]> {
  const status = query.status ?? 'finished';
  let runs = await tracker.searchRuns({ ...(query.experiment !== undefined ? { experiment: query.experiment } : {}), status, tags: { [RUN_KIND_TAG]: 'eval' } });
  if (query.trainRunIds) {
    const wanted = new Set(query.trainRunIds);
    runs = runs.filter((r) => r.parentId !== null && wanted.has(r.parentId));
  }
  if (runs.length === 0) return [];
  const details = new Map<string, RunDetail | null>();
  const ids = [...new Set([...runs.map((r) => r.id), ...runs.map((r) => r.parentId).filter((x): x is string => x !== null)])];
  await mapLimit(ids, PARALLEL, async (id) => {
    try {
      details.set(id, await tracker.getRun(id));
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      details.set(id, null); // a parent that is gone: the SQL's left join gives no training run either
    }
  });
  const params = new Map<string, Record<string, string>>();
  const tags = new Map<string, Record<string, string>>();
  const metrics = new Map<string, Record<string, number>>();
  for (const [id, d] of details) {
    if (!d) continue;
    params.set(id, d.params);
    tags.set(id, d.tags);
    const m: Record<string, number> = {};
    for (const p of Object.values(d.metrics)) if (!Number.isNaN(p.value)) m[p.key] = p.value;
    metrics.set(id, m);
  }
  const base: EvalRunBase[] = runs.map((r) => {
    const parent = r.parentId ? details.get(r.parentId) : null;
    return {
      evalRunId: r.id,
      trainRunId: parent ? parent.id : null,
      experiment: r.experimentName,
      startTime: r.startTime,
      seed: parent ? parent.seed : null,
      trainProtocol: parent ? parent.protocol : null,
      evalProtocol: r.protocol,
    };
  });
  return assembleEvalRows(base, params, tags, metrics);
}

class TrackerReportSource implements ReportSource {
  constructor(
    private readonly t: Tracker,
    private readonly sql: boolean,
  ) {}
  get location(): string {
    return this.t.location;
  }
  getRun: Tracker['getRun'] = (id) => this.t.getRun(id);
  searchRuns: Tracker['searchRuns'] = (q) => this.t.searchRuns(q);
  resolveRunId: Tracker['resolveRunId'] = (p) => this.t.resolveRunId(p);
  getExperimentByName: Tracker['getExperimentByName'] = (n) => this.t.getExperimentByName(n);
  listExperiments: Tracker['listExperiments'] = () => this.t.listExperiments();
  latestMetrics: Tracker['latestMetrics'] = (id) => this.t.latestMetrics(id);
  metricHistory: Tracker['metricHistory'] = (id, key) => this.t.metricHistory(id, key);
  artifactFile: Tracker['artifactFile'] = (id, p) => this.t.artifactFile(id, p);
  async evalRows(query: EvalRowQuery = {}): Promise<EvalRow[]> {
    return this.sql && this.t instanceof SqliteTracker ? queryEvalRows(this.t.db, query) : queryEvalRowsVia(this.t, query);
  }
}

/**
 * The report source of an open tracker: the SQL join for a local store, the Tracker API otherwise.
 * `via: 'tracker-api'` forces the generic implementation (for checks that both agree).
 */
export function reportSourceOf(tracker: Tracker, options: { via?: 'auto' | 'tracker-api' } = {}): ReportSource {
  return new TrackerReportSource(tracker, (options.via ?? 'auto') === 'auto');
}

export interface ReportSourceOptions {
  /** An open tracker (left open). */
  tracker?: Tracker;
  /** A local run store (`--store`). */
  store?: string;
  /** `http(s)://…` (a tracking server) or a store path (`--tracking-uri`). */
  trackingUri?: string;
}

/**
 * Run `fn` with a report source: over the caller's tracker, else one opened from `--tracking-uri` /
 * `--store` (and their env vars) and closed afterwards. A local store must exist (reports never create
 * an empty one); a local store is opened without reaping, so reading never changes it.
 */
export async function withReportSource<R>(opts: ReportSourceOptions, fn: (src: ReportSource) => R | Promise<R>): Promise<R> {
  if (opts.tracker) return fn(reportSourceOf(opts.tracker));
  const uri = resolveTrackingUri({ trackingUri: opts.trackingUri, store: opts.store });
  const remote = /^https?:\/\//.test(uri);
  if (!remote && !fs.existsSync(uri)) throw new InvalidArgumentError(`run store ${uri} does not exist (--store / --tracking-uri / $VMR_STORE)`);
  const t = openTracker({ trackingUri: uri }, { sqlite: { reapStaleRuns: false, heartbeatIntervalMs: 0 }, http: { heartbeatIntervalMs: 0 } });
  try {
    return await fn(reportSourceOf(t)); // awaited: async reports read artifacts before the tracker closes
  } finally {
    await t.close();
  }
}
