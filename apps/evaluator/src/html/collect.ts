/**
 * What the HTML report shows, read from the run store: Tables 1 and 2 (through `tablesFromRows`, the same
 * function as `vmr report tables`), the per-extractor comparison (`compareEvalRows`), the λ trade-off
 * points (evaluation rows grouped by λ setting, Pareto front of Recall@1 vs AV-Align) and each training
 * run's curves (loss terms per step, validation Recall@k per epoch) and config.
 *
 * Store conventions read here (written by the trainer, the evaluator and the sweeper): training runs
 * are tagged `vmr.kind=train`, log `train.loss`, `train.<term>` (l1…l6 / gt, ofTop, ofBottom / mv, vm,
 * sm, sv) and `train.lr` per step, `val.r1|r5|r10|medianRank` per epoch; evaluations are their child
 * runs tagged `vmr.kind=eval`; a sweep is a run tagged `sweep.role=sweep` whose children are trial runs
 * (`sweep.role=trial`), each the parent of its training run.
 */
import { InvalidArgumentError, NotFoundError } from '@vmr/core';
import {
  RUN_KIND_TAG,
  aggregateEvalRows,
  configurationLabel,
  configurationOf,
  differingConfigKeys,
  lambdaRatio,
  metricDef,
  type CellStats,
  type MetricDirection,
  buildResultTables,
  compareEvalRows,
  lambdaKey,
  latestPerTrainRun,
  type Comparison,
  type EvalRow,
  type ResultTable,
  type RunInfo,
  type ReportSource,
  type StoredMetricPoint,
} from '@vmr/tracking';
import { tablesFromRows } from '../report';
import { listeningSummariesFrom, type ListeningSummary } from '../listen/report';
import { attachQueryIntervals } from '../report-compare';

/** Sweep tags (written by @vmr/sweeper; an app does not import another app, so the keys are repeated here). */
export const SWEEP_ROLE_TAG = 'sweep.role';
export const SWEEP_NAME_TAG = 'sweep.name';

/** Per-step training metrics that are not loss terms. */
const NON_LOSS_TRAIN_KEYS = new Set(['train.lr', 'train.epoch', 'train.seconds']);
/** Validation metrics drawn per epoch (ranks have another scale: in the run's details, not the chart). */
export const VAL_CURVE_KEYS = ['val.r1', 'val.r5', 'val.r10'] as const;

export interface HtmlReportOptions {
  /** Experiment(s) whose runs are reported. Default with `sweep`: the sweep's experiment. */
  experiment?: string;
  /** A sweep run (id, unique id prefix, or sweep name): the λ scatter and curves cover its trials only. */
  sweep?: string;
  /** Training runs with curve charts (the newest first); the others are listed without charts. Default 24. */
  maxCurveRuns?: number;
  /** Points per loss series after binning (mean over consecutive steps). Default 200. */
  curvePoints?: number;
}

export interface CurvePoint {
  key: string;
  step: number;
  value: number;
}

export interface RunSummary {
  id: string;
  name: string;
  status: string;
  model: string;
  features: string;
  seed: number | null;
  /** `l1=…,…,l6=…` (OF-VM-Net) or '' (VM-Net). */
  lambdas: string;
  /** Canonical λ of the run's configuration ('' without λ). */
  lambda: string;
  dataset: string;
  startTime: number;
  /** The run's params (its config, flattened) and tags. */
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Latest value per metric key. */
  latest: Record<string, number>;
  /** Loss terms (metric keys) in the curve, `train.loss` first. */
  lossKeys: string[];
  /** Loss per step, binned to at most `curvePoints` points per key (mean step, mean value per bin). */
  loss: CurvePoint[];
  /** Consecutive steps averaged into one point (1 = raw). */
  lossBin: number;
  /** Non-finite loss values skipped (NaN/∞ steps). */
  lossNonFinite: number;
  /** Validation Recall@k per epoch (step = epoch). */
  val: CurvePoint[];
  /** Whether the curves were read (false beyond `maxCurveRuns`). */
  hasCurves: boolean;
  /** The run's evaluations (newest per dataset/split/protocol). */
  evals: EvalRow[];
}

/** One configuration (λ setting × model × features × …) on one evaluation dataset: mean over its seeds. */
export interface LambdaPoint {
  /** `l1=…,…,l6=…` as logged (OF-VM-Net) or '' (VM-Net / oracle). */
  lambdas: string;
  /** Canonical λ (divided by the first non-zero λ), '' without λ. */
  lambda: string;
  /** GT / optical-flow weight ratio mean(λ1, λ2) / mean(λ3…λ6); null without λ, Infinity without OF terms. */
  ratio: number | null;
  /** The configuration's values on the columns that differ between points (`λ=… · features=…`). */
  label: string;
  config: Record<string, string>;
  model: string;
  features: string;
  runs: number;
  seeds: number[];
  trainRunIds: string[];
  r1: number;
  r1Std: number;
  r1Low: number;
  r1High: number;
  avAlign: number;
  avAlignStd: number;
  avAlignLow: number;
  avAlignHigh: number;
  /** Other metrics of the configuration over seeds (FAD, R@5, …) for the λ-ratio charts. */
  cells: Record<string, CellStats>;
  reference: boolean;
  /** On the Pareto front over configuration means (directions from the metric registry). */
  pareto: boolean;
}

export interface LambdaScatter {
  evalDataset: string;
  split: string;
  synthetic: boolean;
  points: LambdaPoint[];
  /** Configuration keys that differ between the points. */
  differing: string[];
  /** Evaluations without R@1 or AV-Align (not plotted). */
  skipped: number;
}

export interface HtmlReportData {
  generatedAt: number;
  store: string;
  experiment: string;
  sweep: { id: string; name: string; trials: number } | null;
  tables: ResultTable[];
  /** Evaluations compared by feature extractor (per eval dataset and split). */
  byFeatures: Comparison[];
  lambdaScatters: LambdaScatter[];
  runs: RunSummary[];
  /** Runs beyond `maxCurveRuns` (listed, no charts). */
  runsWithoutCurves: number;
  synthetic: boolean;
  /** Listening tests (`vmr listen`) of the experiment: human preference next to the metrics. */
  listening: ListeningSummary[];
}

/**
 * Indices of the Pareto-optimal points when both coordinates are maximised: a point is dominated when
 * another is ≥ on both and > on at least one (duplicates of an optimal point are all optimal).
 */
export function paretoIndices(points: ReadonlyArray<{ x: number; y: number }>, directions: { x: MetricDirection; y: MetricDirection } = { x: 'higher', y: 'higher' }): number[] {
  const out: number[] = [];
  const sx = directions.x === 'higher' ? 1 : -1;
  const sy = directions.y === 'higher' ? 1 : -1;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
    const dominated = points.some((q, j) => j !== i && Number.isFinite(q.x) && Number.isFinite(q.y) && sx * q.x >= sx * p.x && sy * q.y >= sy * p.y && (sx * q.x > sx * p.x || sy * q.y > sy * p.y));
    if (!dominated) out.push(i);
  }
  return out;
}

/**
 * Bin a series to at most `maxPoints` points: consecutive runs of `bin` points are averaged (step and
 * value). Non-finite values are dropped first and counted.
 */
export function binSeries(points: readonly StoredMetricPoint[], maxPoints: number): { points: Array<{ step: number; value: number }>; bin: number; nonFinite: number } {
  if (!(maxPoints >= 1)) throw new InvalidArgumentError(`curve points must be ≥ 1, got ${maxPoints}`);
  const finite = points.filter((p) => Number.isFinite(p.value));
  const nonFinite = points.length - finite.length;
  const bin = Math.max(1, Math.ceil(finite.length / maxPoints));
  if (bin === 1) return { points: finite.map((p) => ({ step: p.step, value: p.value })), bin, nonFinite };
  const out: Array<{ step: number; value: number }> = [];
  for (let i = 0; i < finite.length; i += bin) {
    const chunk = finite.slice(i, i + bin);
    out.push({ step: chunk.reduce((a, p) => a + p.step, 0) / chunk.length, value: chunk.reduce((a, p) => a + p.value, 0) / chunk.length });
  }
  return { points: out, bin, nonFinite };
}

/** The metric history sorted by step (then time), one point per step (the latest logged). */
function byStep(points: readonly StoredMetricPoint[]): StoredMetricPoint[] {
  const m = new Map<number, StoredMetricPoint>();
  for (const p of [...points].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)) m.set(p.step, p);
  return [...m.values()];
}

/** Resolve `--sweep`: a run id / unique prefix of a sweep run, or a sweep name (newest sweep of that name). */
export async function resolveSweep(tracker: ReportSource, ref: string, experiment?: string): Promise<RunInfo & { tags: Record<string, string> }> {
  let id: string | undefined;
  if (/^[0-9a-f]{1,32}$/i.test(ref)) {
    try {
      id = await tracker.resolveRunId(ref);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
  if (!id) {
    const byName = await tracker.searchRuns({ tags: { [SWEEP_ROLE_TAG]: 'sweep', [SWEEP_NAME_TAG]: ref }, orderBy: [{ kind: 'attribute', key: 'start_time', desc: true }] });
    if (byName.length === 0) throw new NotFoundError(`--sweep '${ref}': no sweep run with that id or name in ${tracker.location}`);
    // Newest of that name, preferring the given experiment (a mismatch is reported by the caller).
    id = (byName.find((r) => r.experimentName === experiment) ?? byName[0]).id;
  }
  const run = await tracker.getRun(id);
  if (run.tags[SWEEP_ROLE_TAG] !== 'sweep') {
    throw new InvalidArgumentError(`--sweep '${ref}': run ${id} (${run.name}) is not a sweep run (tag ${SWEEP_ROLE_TAG}=${run.tags[SWEEP_ROLE_TAG] ?? 'missing'})`);
  }
  return run;
}

/** Training runs under a sweep: its trials' children tagged `vmr.kind=train` (and any direct ones). */
async function sweepTrainRuns(tracker: ReportSource, sweepId: string): Promise<{ trials: number; train: RunInfo[] }> {
  const trials = await tracker.searchRuns({ parentId: sweepId, tags: { [SWEEP_ROLE_TAG]: 'trial' } });
  const train: RunInfo[] = [];
  for (const t of trials) train.push(...(await tracker.searchRuns({ parentId: t.id, tags: { [RUN_KIND_TAG]: 'train' } })));
  train.push(...(await tracker.searchRuns({ parentId: sweepId, tags: { [RUN_KIND_TAG]: 'train' } })));
  return { trials: trials.length, train };
}

/**
 * λ trade-off points per (eval dataset, split): one point per configuration (the shared aggregation
 * model: seeds of one configuration only), mean and 95 % interval of R@1 and AV-Align.
 */
export function lambdaScatters(rowsIn: readonly EvalRow[]): LambdaScatter[] {
  const rows = latestPerTrainRun(rowsIn);
  const byData = new Map<string, EvalRow[]>();
  for (const r of rows) {
    const k = `${r.evalDataset}\u0000${r.split}`;
    byData.set(k, [...(byData.get(k) ?? []), r]);
  }
  const out: LambdaScatter[] = [];
  for (const [k, list] of byData) {
    const [evalDataset, split] = k.split('\u0000');
    const usable = list.filter((r) => Number.isFinite(r.metrics.r1) && Number.isFinite(r.metrics.avAlign));
    const groups = aggregateEvalRows(usable, ['r1', 'avAlign', 'fad', 'r5', 'r10', 'medianRank', 'avAlignGot']);
    // model and features have their own columns / encodings: the label names the rest (λ, margins, …)
    const differing = differingConfigKeys(groups.filter((g) => !g.reference)).filter((k) => k !== 'model' && k !== 'features');
    const points: LambdaPoint[] = groups.map((g) => {
      const r1 = g.cells.r1;
      const av = g.cells.avAlign;
      return {
        lambdas: g.members[0].lambdas,
        lambda: g.config['λ'] ?? '',
        ratio: lambdaRatio(g.config),
        label: g.reference ? modelOf(g.members[0]) : configurationLabel(g.config, differing) || modelOf(g.members[0]),
        config: g.config,
        model: g.members[0].model,
        features: g.members[0].features,
        runs: g.n,
        seeds: g.seeds,
        trainRunIds: g.members.map((r) => r.trainRunId),
        r1: r1.mean,
        r1Std: r1.std,
        r1Low: r1.ciLow,
        r1High: r1.ciHigh,
        avAlign: av.mean,
        avAlignStd: av.std,
        avAlignLow: av.ciLow,
        avAlignHigh: av.ciHigh,
        cells: g.cells,
        reference: g.reference,
        pareto: false,
      };
    });
    const comp = points.map((p, i) => ({ p, i })).filter((x) => !x.p.reference);
    for (const i of paretoIndices(comp.map((x) => ({ x: x.p.r1, y: x.p.avAlign })), { x: metricDef('r1').direction, y: metricDef('avAlign').direction })) comp[i].p.pareto = true;
    points.sort((a, b) => b.r1 - a.r1 || b.avAlign - a.avAlign || a.label.localeCompare(b.label));
    out.push({ evalDataset, split, synthetic: list.some((r) => r.synthetic), points, skipped: list.length - usable.length, differing });
  }
  return out.sort((a, b) => a.evalDataset.localeCompare(b.evalDataset) || a.split.localeCompare(b.split));
}

const modelOf = (r: EvalRow) => r.model;

async function summarizeRun(tracker: ReportSource, info: RunInfo, evals: EvalRow[], withCurves: boolean, curvePoints: number): Promise<RunSummary> {
  const run = await tracker.getRun(info.id);
  const latest: Record<string, number> = {};
  for (const [k, m] of Object.entries(run.metrics)) latest[k] = m.value;
  const keys = Object.keys(run.metrics);
  const lossKeys = keys
    .filter((k) => k.startsWith('train.') && !NON_LOSS_TRAIN_KEYS.has(k))
    .sort((a, b) => (a === 'train.loss' ? -1 : b === 'train.loss' ? 1 : a.localeCompare(b, undefined, { numeric: true })));
  const loss: CurvePoint[] = [];
  const val: CurvePoint[] = [];
  let lossBin = 1;
  let lossNonFinite = 0;
  if (withCurves) {
    for (const key of lossKeys) {
      const b = binSeries(byStep(await tracker.metricHistory(run.id, key)), curvePoints);
      lossBin = Math.max(lossBin, b.bin);
      lossNonFinite += b.nonFinite;
      for (const p of b.points) loss.push({ key, ...p });
    }
    for (const key of VAL_CURVE_KEYS) {
      if (!(key in run.metrics)) continue;
      for (const p of byStep(await tracker.metricHistory(run.id, key))) if (Number.isFinite(p.value)) val.push({ key, step: p.step, value: p.value });
    }
  }
  const seedParam = run.params.seed !== undefined ? Number(run.params.seed) : NaN;
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    model: run.params.model ?? run.tags.model ?? 'unknown',
    features: run.params.features ?? run.tags.features ?? 'unknown',
    seed: run.seed ?? (Number.isFinite(seedParam) ? seedParam : null),
    lambdas: lambdaKey(run.params),
    lambda: configurationOf(run.params)['λ'] ?? '',
    dataset: run.params['dataset.name'] ?? run.tags.dataset ?? 'unknown',
    startTime: run.startTime,
    params: run.params,
    tags: run.tags,
    latest,
    lossKeys,
    loss,
    lossBin,
    lossNonFinite,
    val,
    hasCurves: withCurves,
    evals,
  };
}

/** Read everything the HTML report shows. `tracker` must be a local store (the report queries it with Drizzle). */
export async function collectHtmlReportData(tracker: ReportSource, options: HtmlReportOptions): Promise<HtmlReportData> {
  const maxCurveRuns = options.maxCurveRuns ?? 24;
  const curvePoints = options.curvePoints ?? 200;
  if (!Number.isInteger(maxCurveRuns) || maxCurveRuns < 0) throw new InvalidArgumentError(`--max-curve-runs must be an integer ≥ 0, got ${maxCurveRuns}`);
  if (!Number.isInteger(curvePoints) || curvePoints < 2) throw new InvalidArgumentError(`--curve-points must be an integer ≥ 2, got ${curvePoints}`);
  let sweep: HtmlReportData['sweep'] = null;
  let experiment = options.experiment;
  let trainRuns: RunInfo[];
  if (options.sweep !== undefined) {
    const s = await resolveSweep(tracker, options.sweep, experiment);
    if (experiment !== undefined && s.experimentName !== experiment) {
      throw new InvalidArgumentError(`--sweep '${options.sweep}' belongs to experiment '${s.experimentName}', not --experiment '${experiment}'`);
    }
    experiment = s.experimentName;
    const st = await sweepTrainRuns(tracker, s.id);
    sweep = { id: s.id, name: s.tags[SWEEP_NAME_TAG] ?? s.name, trials: st.trials };
    trainRuns = st.train.sort((a, b) => b.startTime - a.startTime);
  } else {
    if (experiment === undefined) throw new InvalidArgumentError('give --experiment <name> (or --sweep <id|name>)');
    const exp = await tracker.getExperimentByName(experiment);
    if (!exp) {
      const known = (await tracker.listExperiments()).map((e) => e.name);
      throw new NotFoundError(`no experiment '${experiment}' in ${tracker.location}${known.length ? ` (experiments: ${known.join(', ')})` : ' (the store has no experiments)'}`);
    }
    trainRuns = await tracker.searchRuns({ experiment, tags: { [RUN_KIND_TAG]: 'train' }, orderBy: [{ kind: 'attribute', key: 'start_time', desc: true }] });
  }
  if (trainRuns.length === 0) {
    throw new NotFoundError(`no training runs in ${sweep ? `sweep ${sweep.name} (${sweep.id})` : `experiment '${experiment}'`} of ${tracker.location}; train first (vmr train) or run a sweep`);
  }
  let tables: ResultTable[] = [];
  let scopeRows: EvalRow[];
  if (sweep) {
    // A sweep's training runs may live in another experiment (the base config's): select them by id.
    // Tables over the sweep's evaluations are built by the same function `vmr report tables` uses.
    scopeRows = await tracker.evalRows({ trainRunIds: trainRuns.map((r) => r.id) });
    tables = scopeRows.length ? await attachQueryIntervals(tracker, buildResultTables(scopeRows), scopeRows) : [];
  } else {
    // Tables 1 and 2: exactly what `vmr report tables --experiment <name>` prints (the same rows, read once).
    scopeRows = await tracker.evalRows({ experiment: experiment as string });
    tables = scopeRows.length ? await tablesFromRows(tracker, [experiment as string], scopeRows) : [];
  }
  const evalsByRun = new Map<string, EvalRow[]>();
  for (const r of latestPerTrainRun(scopeRows)) evalsByRun.set(r.trainRunId, [...(evalsByRun.get(r.trainRunId) ?? []), r]);
  const runs: RunSummary[] = [];
  for (let i = 0; i < trainRuns.length; i++) {
    runs.push(await summarizeRun(tracker, trainRuns[i], evalsByRun.get(trainRuns[i].id) ?? [], i < maxCurveRuns, curvePoints));
  }
  let listening: ListeningSummary[] = [];
  try {
    listening = await listeningSummariesFrom(tracker, { experiment: [experiment as string] });
  } catch {
    listening = []; // a damaged listening run must not take the whole page down; `vmr listen report` says why
  }
  return {
    listening,
    generatedAt: Date.now(),
    store: tracker.location,
    experiment: experiment as string,
    sweep,
    tables,
    byFeatures: scopeRows.length ? compareEvalRows(scopeRows, 'features') : [],
    lambdaScatters: lambdaScatters(scopeRows),
    runs,
    runsWithoutCurves: Math.max(0, trainRuns.length - maxCurveRuns),
    synthetic: tables.some((t) => t.synthetic) || scopeRows.some((r) => r.synthetic) || runs.some((r) => r.params['dataset.synthetic'] === 'true'),
  };
}
