/**
 * The paper's Tables 1 and 2 as data: one row per (model, features), mean ± sample std over the runs
 * (seeds) of that row, the best value per column marked. Pure functions over `EvalRow`s.
 */
import { latestPerTrainRun, type EvalMetricKey, type EvalRow } from './eval-rows';

export interface ResultColumn {
  key: EvalMetricKey;
  /** Header as printed in the paper. */
  label: string;
  /** Which direction is better; `none` = not ranked (a property of the data, e.g. AV-ALIGN (GOT)). */
  better: 'higher' | 'lower' | 'none';
}

/** The paper's columns: AV-ALIGN (GOT), AV-ALIGN, FAD, R@1, R@5, R@10 — plus the median rank. */
export const RESULT_COLUMNS: readonly ResultColumn[] = [
  { key: 'avAlignGot', label: 'AV-ALIGN (GOT)', better: 'none' },
  { key: 'avAlign', label: 'AV-ALIGN', better: 'higher' },
  { key: 'fad', label: 'FAD', better: 'lower' },
  { key: 'r1', label: 'R@1', better: 'higher' },
  { key: 'r5', label: 'R@5', better: 'higher' },
  { key: 'r10', label: 'R@10', better: 'higher' },
  { key: 'medianRank', label: 'MedR', better: 'lower' },
];

export interface CellStats {
  /** Runs that have this metric. */
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single run. */
  std: number;
  /** The best mean of its column (ties: every tied row). */
  best: boolean;
}

export interface ResultRow {
  model: string;
  features: string;
  /** Training runs (seeds) aggregated into this row. */
  runs: number;
  seeds: number[];
  cells: Partial<Record<EvalMetricKey, CellStats>>;
}

export interface ResultTable {
  /** `1` (in-distribution) / `2` (out-of-distribution) unless the evaluations were filed under a `table` tag. */
  id: string;
  title: string;
  experiment: string;
  trainDatasets: string[];
  evalDataset: string;
  evalDatasetKind: string;
  synthetic: boolean;
  splits: string[];
  /** Distinct gallery sizes of the evaluations in the table (one value when all rows share a gallery). */
  gallerySizes: number[];
  evalProtocols: string[];
  retrievalProtocols: string[];
  directions: string[];
  columns: readonly ResultColumn[];
  rows: ResultRow[];
}

export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, std: 0 };
  const v = xs.reduce((a, b) => a + (b - mean) * (b - mean), 0) / (n - 1);
  return { mean, std: Math.sqrt(v) };
}

const MODEL_ORDER = ['vm-net', 'of-vm-net'];
const FEATURE_ORDER = ['resnet', 'clip', 'i3d'];

function orderIndex(order: string[], x: string): number {
  const i = order.indexOf(x);
  return i < 0 ? order.length : i;
}

export function compareRows(a: { model: string; features: string }, b: { model: string; features: string }): number {
  return (
    orderIndex(FEATURE_ORDER, a.features) - orderIndex(FEATURE_ORDER, b.features) ||
    a.features.localeCompare(b.features) ||
    orderIndex(MODEL_ORDER, a.model) - orderIndex(MODEL_ORDER, b.model) ||
    a.model.localeCompare(b.model)
  );
}

/** Table id of an evaluation: its `table` tag, else 1 (evaluated on its training dataset) or 2 (another dataset). */
export function tableIdOf(r: EvalRow): string {
  return r.table ?? (r.evalDataset === r.trainDataset ? '1' : '2');
}

/** Mean ± std per column over groups of rows, best marked (shared by tables and comparisons). */
export function aggregateGroups<G extends { cells: Partial<Record<EvalMetricKey, CellStats>> }>(
  groups: Array<{ group: Omit<G, 'cells'>; rows: EvalRow[] }>,
  columns: readonly ResultColumn[],
): G[] {
  const out = groups.map(({ group, rows }) => {
    const cells: Partial<Record<EvalMetricKey, CellStats>> = {};
    for (const c of columns) {
      const xs = rows.map((r) => r.metrics[c.key]).filter((x): x is number => x !== undefined && Number.isFinite(x));
      if (xs.length === 0) continue;
      cells[c.key] = { n: xs.length, ...meanStd(xs), best: false };
    }
    return { ...group, cells } as G;
  });
  for (const c of columns) {
    if (c.better === 'none') continue;
    const means = out.map((g) => g.cells[c.key]?.mean).filter((x): x is number => x !== undefined);
    if (means.length < 2) continue;
    const best = c.better === 'higher' ? Math.max(...means) : Math.min(...means);
    for (const g of out) {
      const cell = g.cells[c.key];
      if (cell && Math.abs(cell.mean - best) <= 1e-12 * Math.max(1, Math.abs(best))) cell.best = true;
    }
  }
  return out;
}

/**
 * Tables 1 and 2 from evaluation rows: one table per (table id, evaluation dataset), one row per
 * (model, features), mean ± std over the seeds (the newest evaluation of each training run counts).
 */
export function buildResultTables(rowsIn: readonly EvalRow[], columns: readonly ResultColumn[] = RESULT_COLUMNS): ResultTable[] {
  const rows = latestPerTrainRun(rowsIn);
  const byTable = new Map<string, EvalRow[]>();
  for (const r of rows) {
    const k = `${tableIdOf(r)}\u0000${r.evalDataset}`;
    const list = byTable.get(k) ?? [];
    list.push(r);
    byTable.set(k, list);
  }
  const uniq = <T>(xs: T[]): T[] => [...new Set(xs)].sort();
  const tables: ResultTable[] = [];
  for (const [k, list] of byTable) {
    const [id, evalDataset] = k.split('\u0000');
    const groups = new Map<string, EvalRow[]>();
    for (const r of list) {
      const gk = `${r.model}\u0000${r.features}`;
      groups.set(gk, [...(groups.get(gk) ?? []), r]);
    }
    const resultRows = aggregateGroups<ResultRow>(
      [...groups.values()].map((g) => ({
        group: { model: g[0].model, features: g[0].features, runs: g.length, seeds: g.map((r) => r.seed ?? NaN).sort((a, b) => a - b) },
        rows: g,
      })),
      columns,
    ).sort(compareRows);
    const trainDatasets = uniq(list.map((r) => r.trainDataset));
    const inDist = trainDatasets.length === 1 && trainDatasets[0] === evalDataset;
    const splits = uniq(list.map((r) => r.split));
    tables.push({
      id,
      title: inDist
        ? `Table ${id}: in-distribution — trained and evaluated on ${evalDataset} (${splits.join(', ')} split)`
        : `Table ${id}: out-of-distribution — trained on ${trainDatasets.join(', ')}, evaluated on ${evalDataset} (${splits.join(', ')} split)`,
      experiment: uniq(list.map((r) => r.experiment)).join(', '),
      trainDatasets,
      evalDataset,
      evalDatasetKind: list[0].evalDatasetKind,
      synthetic: list.some((r) => r.synthetic),
      splits,
      gallerySizes: uniq(list.map((r) => r.metrics.gallerySize).filter((x): x is number => x !== undefined)).sort((a, b) => a - b),
      evalProtocols: uniq(list.map((r) => r.evalProtocol)),
      retrievalProtocols: uniq(list.map((r) => r.retrievalProtocol)),
      directions: uniq(list.map((r) => r.direction)),
      columns,
      rows: resultRows,
    });
  }
  return tables.sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }) || a.evalDataset.localeCompare(b.evalDataset));
}

export type CompareBy = 'features' | 'model' | 'lambda';

export interface ComparisonGroup {
  /** The grouping value (a feature name, a model, or `l1=…,…,l6=…`). */
  value: string;
  runs: number;
  cells: Partial<Record<EvalMetricKey, CellStats>>;
}

export interface Comparison {
  by: CompareBy;
  evalDataset: string;
  split: string;
  synthetic: boolean;
  /** Other attributes held by the compared runs (e.g. the models when comparing features). */
  spans: Record<string, string[]>;
  groups: ComparisonGroup[];
}

/** Compare evaluations grouped by one attribute (per evaluation dataset and split), mean ± std per group. */
export function compareEvalRows(rowsIn: readonly EvalRow[], by: CompareBy, columns: readonly ResultColumn[] = RESULT_COLUMNS): Comparison[] {
  const rows = latestPerTrainRun(rowsIn);
  const valueOf = (r: EvalRow): string => (by === 'features' ? r.features : by === 'model' ? r.model : r.lambdas || '(vm-net: no λ)');
  const byData = new Map<string, EvalRow[]>();
  for (const r of rows) {
    const k = `${r.evalDataset}\u0000${r.split}`;
    byData.set(k, [...(byData.get(k) ?? []), r]);
  }
  const out: Comparison[] = [];
  for (const [k, list] of byData) {
    const [evalDataset, split] = k.split('\u0000');
    const groups = new Map<string, EvalRow[]>();
    for (const r of list) groups.set(valueOf(r), [...(groups.get(valueOf(r)) ?? []), r]);
    const agg = aggregateGroups<ComparisonGroup>(
      [...groups.entries()].map(([value, g]) => ({ group: { value, runs: g.length }, rows: g })),
      columns,
    ).sort((a, b) => a.value.localeCompare(b.value));
    const span = (f: (r: EvalRow) => string) => [...new Set(list.map(f))].sort();
    out.push({
      by,
      evalDataset,
      split,
      synthetic: list.some((r) => r.synthetic),
      spans: {
        ...(by !== 'model' ? { model: span((r) => r.model) } : {}),
        ...(by !== 'features' ? { features: span((r) => r.features) } : {}),
        seeds: span((r) => String(r.seed)),
      },
      groups: agg,
    });
  }
  return out.sort((a, b) => a.evalDataset.localeCompare(b.evalDataset) || a.split.localeCompare(b.split));
}
