/**
 * Report queries (DESIGN.md §2.3): evaluation results read from the run store with Drizzle — one source
 * of truth for `vmr report tables`, `vmr report compare` and any later report. Conventions read here
 * (written by the trainer and the evaluator): a training run is tagged `vmr.kind=train` and logs its
 * config as params (`model`, `features`, `seed`, `loss.lambdas.l1`…, `dataset.name`); an evaluation is
 * a child run of its training run tagged `vmr.kind=eval`, with params `eval.*` and metrics `eval.*`.
 */
import { and, eq, inArray, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';
import type { StoreDb } from '../open-store';
import * as schema from '../schema';
import type { RunStatus } from '../types';
import { configurationOf } from './configuration';

export const RUN_KIND_TAG = 'vmr.kind';
/** Tag of reference evaluations (oracle retrievers) shown as reference rows, never ranked. */
export const REFERENCE_TAG = 'vmr.reference';

/** Metric keys of an evaluation run (without the `eval.` prefix). */
export const EVAL_METRIC_KEYS = ['avAlignGot', 'avAlign', 'fad', 'r1', 'r5', 'r10', 'medianRank', 'meanRank', 'mAP', 'gallerySize', 'queries'] as const;
export type EvalMetricKey = (typeof EVAL_METRIC_KEYS)[number];

/** One finished evaluation joined with its training run. */
export interface EvalRow {
  evalRunId: string;
  trainRunId: string;
  experiment: string;
  evalStartTime: number;
  model: string;
  features: string;
  seed: number | null;
  /** Training protocol (paper | vmr-code). */
  trainProtocol: string;
  /** `l1=…,l2=…,…,l6=…` of the OF-VM-Net loss (empty for VM-Net). */
  lambdas: string;
  trainDataset: string;
  evalDataset: string;
  evalDatasetKind: string;
  /** True when the evaluation or training data is synthetic. */
  synthetic: boolean;
  split: string;
  direction: string;
  /** Evaluation protocol (paper | vmr-code) and its retrieval protocol (full | batch-128). */
  evalProtocol: string;
  retrievalProtocol: string;
  /** Explicit table id (tag `table`), when the evaluation was filed under one. */
  table: string | null;
  /** The training configuration (params minus seed and bookkeeping, λ canonical): rows aggregate over seeds of one configuration only. */
  config: Record<string, string>;
  /** An oracle / reference retriever (model `oracle-*` or tag `vmr.reference=true`): a reference row, not a competitor. */
  reference: boolean;
  /** Clips of the evaluated split that were also training clips (0 when none; > 0 only with --allow-train-overlap). */
  trainOverlap: number;
  /** Latest value per eval metric (NaN-free: missing metrics are absent). */
  metrics: Partial<Record<EvalMetricKey, number>>;
  params: Record<string, string>;
  trainParams: Record<string, string>;
}

export interface EvalRowQuery {
  experiment?: string | string[];
  /** Default: finished only. */
  status?: RunStatus | RunStatus[];
  /** Only evaluations of these training runs. */
  trainRunIds?: string[];
}

function byRun<T extends { runId: string; key: string; value: string }>(rows: T[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const r of rows) {
    let m = out.get(r.runId);
    if (!m) out.set(r.runId, (m = {}));
    m[r.key] = r.value;
  }
  return out;
}

function chunks<T>(xs: T[], n = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Lambdas of a training run's params as `l1=1,l2=1,…` (OF-VM-Net) or '' (VM-Net). */
export function lambdaKey(trainParams: Record<string, string>): string {
  if (trainParams.model === 'vm-net') return '';
  const ls = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6'].map((l) => `${l}=${trainParams[`loss.lambdas.${l}`] ?? '1'}`);
  return ls.join(',');
}

/** What the stores give for one evaluation run: its run attributes and its training run's (the SQL join's columns). */
export interface EvalRunBase {
  evalRunId: string;
  /** The training run (parent), null when the evaluation has none (an oracle retriever). */
  trainRunId: string | null;
  experiment: string;
  startTime: number;
  seed: number | null;
  trainProtocol: string | null;
  evalProtocol: string | null;
}

/**
 * Finished evaluation runs (tag `vmr.kind=eval`, active) with their training runs' params, newest
 * first — one SQL join over the SQLite store (the `ReportSource` of a local store uses this).
 */
export function queryEvalRows(db: StoreDb, query: EvalRowQuery = {}): EvalRow[] {
  const parent = alias(schema.runs, 'parent');
  const kindTag = alias(schema.tags, 'kind_tag');
  const conds: SQL[] = [eq(kindTag.key, RUN_KIND_TAG), eq(kindTag.value, 'eval'), eq(schema.runs.lifecycleStage, 'active')];
  const statuses = query.status === undefined ? ['finished'] : Array.isArray(query.status) ? query.status : [query.status];
  conds.push(inArray(schema.runs.status, statuses as RunStatus[]));
  if (query.experiment !== undefined) {
    const names = Array.isArray(query.experiment) ? query.experiment : [query.experiment];
    conds.push(inArray(schema.experiments.name, names));
  }
  if (query.trainRunIds) conds.push(inArray(schema.runs.parentId, query.trainRunIds));
  const base: EvalRunBase[] = db
    .select({
      evalRunId: schema.runs.id,
      trainRunId: parent.id,
      experiment: schema.experiments.name,
      startTime: schema.runs.startTime,
      seed: parent.seed,
      trainProtocol: parent.protocol,
      evalProtocol: schema.runs.protocol,
    })
    .from(schema.runs)
    .innerJoin(schema.experiments, eq(schema.experiments.id, schema.runs.experimentId))
    .innerJoin(kindTag, eq(kindTag.runId, schema.runs.id))
    .leftJoin(parent, eq(parent.id, schema.runs.parentId))
    .where(and(...conds))
    .all();
  if (base.length === 0) return [];
  const ids = [...new Set([...base.map((r) => r.evalRunId), ...base.map((r) => r.trainRunId).filter((x): x is string => x !== null)])];
  const params = new Map<string, Record<string, string>>();
  const tags = new Map<string, Record<string, string>>();
  const metrics = new Map<string, Record<string, number>>();
  for (const part of chunks(ids)) {
    for (const [k, v] of byRun(db.select().from(schema.params).where(inArray(schema.params.runId, part)).all())) params.set(k, v);
    for (const [k, v] of byRun(db.select().from(schema.tags).where(inArray(schema.tags.runId, part)).all())) tags.set(k, v);
    for (const m of db.select().from(schema.latestMetrics).where(inArray(schema.latestMetrics.runId, part)).all()) {
      if (m.value === null) continue; // NaN: not a result
      let rec = metrics.get(m.runId);
      if (!rec) metrics.set(m.runId, (rec = {}));
      rec[m.key] = m.value;
    }
  }
  return assembleEvalRows(base, params, tags, metrics);
}

/**
 * Evaluation rows from the stores' raw pieces — the one place an `EvalRow` is derived, whichever
 * store (SQL join or Tracker API) supplied them. `metrics` holds latest values without NaN.
 */
export function assembleEvalRows(
  runs: readonly EvalRunBase[],
  params: ReadonlyMap<string, Record<string, string>>,
  tags: ReadonlyMap<string, Record<string, string>>,
  metrics: ReadonlyMap<string, Record<string, number>>,
): EvalRow[] {
  const base = [...runs].sort((a, b) => b.startTime - a.startTime || a.evalRunId.localeCompare(b.evalRunId));
  return base.map((b) => {
    const p = params.get(b.evalRunId) ?? {};
    // An evaluation without a training run (an oracle retriever) carries its model in its own params.
    const tp = (b.trainRunId ? params.get(b.trainRunId) : undefined) ?? { ...(p.model ? { model: p.model } : {}), ...(p.features ? { features: p.features } : {}) };
    const t = tags.get(b.evalRunId) ?? {};
    const m = metrics.get(b.evalRunId) ?? {};
    const evalMetrics: Partial<Record<EvalMetricKey, number>> = {};
    for (const k of EVAL_METRIC_KEYS) if (m[`eval.${k}`] !== undefined) evalMetrics[k] = m[`eval.${k}`];
    return {
      evalRunId: b.evalRunId,
      trainRunId: b.trainRunId ?? b.evalRunId,
      experiment: b.experiment,
      evalStartTime: b.startTime,
      model: tp.model ?? p.model ?? 'unknown',
      features: tp.features ?? p.features ?? 'unknown',
      seed: b.seed ?? null,
      trainProtocol: b.trainProtocol ?? tp.protocol ?? 'unknown',
      lambdas: lambdaKey(tp),
      trainDataset: tp['dataset.name'] ?? 'unknown',
      evalDataset: p['eval.dataset.name'] ?? t.dataset ?? 'unknown',
      evalDatasetKind: p['eval.dataset.kind'] ?? 'unknown',
      synthetic: p['eval.dataset.synthetic'] === 'true' || tp['dataset.synthetic'] === 'true',
      split: p['eval.split'] ?? 'unknown',
      direction: p['eval.direction'] ?? 'video-to-music',
      evalProtocol: b.evalProtocol ?? p['eval.protocol'] ?? 'unknown',
      retrievalProtocol: p['eval.retrievalProtocol'] ?? 'full',
      table: t.table ?? null,
      config: configurationOf(Object.keys(tp).length ? tp : { model: p.model ?? 'unknown', features: p.features ?? 'unknown' }),
      reference: t[REFERENCE_TAG] === 'true' || /^oracle/.test(tp.model ?? p.model ?? ''),
      trainOverlap: Number(p['eval.trainOverlap'] ?? '0') || 0,
      metrics: evalMetrics,
      params: p,
      trainParams: tp,
    };
  });
}

/**
 * Keep the newest evaluation per (training run, eval dataset, split, eval protocol, direction): an
 * evaluation repeated later replaces the earlier one in reports.
 */
export function latestPerTrainRun(rows: readonly EvalRow[]): EvalRow[] {
  const seen = new Set<string>();
  const out: EvalRow[] = [];
  for (const r of [...rows].sort((a, b) => b.evalStartTime - a.evalStartTime)) {
    const k = [r.trainRunId, r.evalDataset, r.split, r.evalProtocol, r.direction].join('\u0000');
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out;
}
