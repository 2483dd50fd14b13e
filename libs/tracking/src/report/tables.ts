/**
 * The paper's Tables 1 and 2 as data: one row per configuration (training config minus seed) and
 * evaluation context, n, mean ± sample std and a 95 % interval over that configuration's seeds; rows
 * that differ in more than (model, features) show the differing columns (e.g. λ). A best value is
 * marked only when its interval excludes the runner-up. Pure functions over `EvalRow`s.
 */
import { aggregateOverSeeds, differingConfigKeys, markBest, type AggregatedGroup, type CellStats } from './aggregate';
import { configurationLabel } from './configuration';
import { latestPerTrainRun, type EvalMetricKey, type EvalRow } from './eval-rows';
import { METRICS, SMALL_GALLERY, type MetricDef } from './metric-registry';
import { sampleStd } from './statistics';

export type { CellStats } from './aggregate';

export interface ResultColumn {
  key: EvalMetricKey;
  /** Header as printed in the paper. */
  label: string;
  /** Which direction is better; `none` = not ranked (a property of the data, e.g. AV-ALIGN (GOT)). */
  better: 'higher' | 'lower' | 'none';
}

const column = (m: MetricDef): ResultColumn => ({ key: m.key as EvalMetricKey, label: m.label, better: m.ranked ? m.direction : 'none' });

/** The paper's columns: AV-ALIGN (GOT), AV-ALIGN, FAD, R@1, R@5, R@10 — plus the median rank (from the metric registry). */
export const RESULT_COLUMNS: readonly ResultColumn[] = ['avAlignGot', 'avAlign', 'fad', 'r1', 'r5', 'r10', 'medianRank'].map((k) => column(METRICS.find((m) => m.key === k)!));

export interface ResultRow {
  model: string;
  features: string;
  /** The configuration aggregated in this row (training config minus seed; λ canonical). */
  config: Record<string, string>;
  /** The row's values on the table's differing configuration columns (`λ=1:1:0.25:… · lr=0.001`); '' when only model/features differ. */
  label: string;
  /** Training runs (seeds) aggregated into this row. */
  runs: number;
  seeds: number[];
  /** An oracle / reference retriever row: shown for reference, never marked best. */
  reference: boolean;
  evalRunIds: string[];
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
  /** Configuration keys (beyond model and features) whose values differ between rows: shown as columns. */
  differing: string[];
  /** Largest number of training clips found in an evaluated split (evaluated with --allow-train-overlap). */
  trainOverlap: number;
  /** Warnings for the footer (small gallery, R@k near chance, training overlap). */
  flags: string[];
  columns: readonly ResultColumn[];
  rows: ResultRow[];
}

/** Mean and sample std (n − 1; 0 for one value). */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const n = xs.length;
  return { mean: xs.reduce((a, b) => a + b, 0) / n, std: n < 2 ? 0 : sampleStd(xs) };
}

const MODEL_ORDER = ['vm-net', 'of-vm-net'];
const FEATURE_ORDER = ['resnet', 'clip', 'i3d'];

function orderIndex(order: string[], x: string): number {
  const i = order.indexOf(x);
  return i < 0 ? order.length : i;
}

export function compareRows(a: { model: string; features: string; label?: string; reference?: boolean }, b: { model: string; features: string; label?: string; reference?: boolean }): number {
  return (
    Number(a.reference ?? false) - Number(b.reference ?? false) ||
    orderIndex(FEATURE_ORDER, a.features) - orderIndex(FEATURE_ORDER, b.features) ||
    a.features.localeCompare(b.features) ||
    orderIndex(MODEL_ORDER, a.model) - orderIndex(MODEL_ORDER, b.model) ||
    a.model.localeCompare(b.model) ||
    (a.label ?? '').localeCompare(b.label ?? '', undefined, { numeric: true })
  );
}

/** Table id of an evaluation: its `table` tag, else 1 (evaluated on its training dataset) or 2 (another dataset). */
export function tableIdOf(r: EvalRow): string {
  return r.table ?? (r.evalDataset === r.trainDataset ? '1' : '2');
}

/** Evaluation context rows must share to be aggregated together. */
export function evalContext(r: EvalRow): string {
  return [r.evalDataset, r.split, r.direction, r.evalProtocol, r.retrievalProtocol].join('\u0000');
}

/** Aggregate evaluation rows by configuration + evaluation context (the one model every report uses). */
export function aggregateEvalRows(rows: readonly EvalRow[], metricKeys: readonly string[]): Array<AggregatedGroup<EvalRow>> {
  return aggregateOverSeeds(
    rows.map((r) => ({ ...r, context: evalContext(r), gallery: r.metrics.gallerySize, metrics: r.metrics as Record<string, number | undefined> })),
    metricKeys,
  ) as unknown as Array<AggregatedGroup<EvalRow>>;
}

const EVAL_DIFF_KEYS: Array<[string, (r: EvalRow) => string]> = [
  ['split', (r) => r.split],
  ['direction', (r) => r.direction],
  ['eval protocol', (r) => `${r.evalProtocol}/${r.retrievalProtocol}`],
];

function groupsToRows(groups: Array<AggregatedGroup<EvalRow>>, columns: readonly ResultColumn[]): { rows: ResultRow[]; differing: string[] } {
  const differing = differingConfigKeys(groups.filter((g) => !g.reference)).filter((k) => k !== 'model' && k !== 'features');
  const evalDiff = EVAL_DIFF_KEYS.filter(([, f]) => new Set(groups.map((g) => f(g.members[0]))).size > 1);
  const rows = groups.map((g) => {
    const m = g.members[0];
    const label = [configurationLabel(g.config, differing), ...evalDiff.map(([k, f]) => `${k}=${f(m)}`)].filter(Boolean).join(' · ');
    return {
      model: m.model,
      features: m.features,
      config: g.config,
      label: g.reference ? '' : label,
      runs: g.n,
      seeds: g.seeds,
      reference: g.reference,
      evalRunIds: g.members.map((x) => x.evalRunId),
      cells: Object.fromEntries(columns.filter((c) => g.cells[c.key]).map((c) => [c.key, g.cells[c.key]])) as ResultRow['cells'],
    };
  });
  markBest(rows.map((r) => ({ cells: r.cells as Record<string, CellStats>, reference: r.reference })), columns.map((c) => c.key));
  return { rows: rows.sort(compareRows), differing: [...differing, ...evalDiff.map(([k]) => k)] };
}

/** Footer warnings of a set of rows: small gallery, R@k within 2× chance, undefined R@k, overlap with training clips. */
function flagsOf(rows: readonly ResultRow[], gallerySizes: number[], trainOverlap: number): string[] {
  const flags: string[] = [];
  const small = gallerySizes.filter((g) => g < SMALL_GALLERY);
  if (small.length) flags.push(`Small gallery (${small.join(' / ')} < ${SMALL_GALLERY} clips): Recall@k is coarse (chance R@k = k/N) and varies strongly with the clips drawn.`);
  const undef = new Set<string>();
  const near = new Set<string>();
  for (const r of rows) {
    for (const [k, c] of Object.entries(r.cells)) {
      if (c?.undefinedFor !== undefined) undef.add(`${METRICS.find((m) => m.key === k)?.label ?? k} (gallery ${c.undefinedFor})`);
      if (c?.nearChance && !r.reference) near.add(METRICS.find((m) => m.key === k)?.label ?? k);
    }
  }
  if (undef.size) flags.push(`Not reported: ${[...undef].join(', ')} — k ≥ gallery size makes every query a hit.`);
  if (near.size) flags.push(`Within 2× chance: ${[...near].join(', ')} of some rows (marked ~) — not distinguishable from a random ranking by much.`);
  if (trainOverlap > 0) flags.push(`TRAINING OVERLAP: up to ${trainOverlap} evaluated clips were training clips (evaluated with --allow-train-overlap): not a held-out result.`);
  return flags;
}

/**
 * Tables 1 and 2 from evaluation rows: one table per (table id, evaluation dataset), one row per
 * configuration and evaluation context, n / mean ± std / 95 % interval over its seeds (the newest
 * evaluation of each training run counts).
 */
export function buildResultTables(rowsIn: readonly EvalRow[], columns: readonly ResultColumn[] = RESULT_COLUMNS): ResultTable[] {
  const rows = latestPerTrainRun(rowsIn);
  const byTable = new Map<string, EvalRow[]>();
  for (const r of rows) {
    const k = `${tableIdOf(r)}\u0000${r.evalDataset}`;
    byTable.set(k, [...(byTable.get(k) ?? []), r]);
  }
  const uniq = <T>(xs: T[]): T[] => [...new Set(xs)].sort();
  const tables: ResultTable[] = [];
  for (const [k, list] of byTable) {
    const [id, evalDataset] = k.split('\u0000');
    const { rows: resultRows, differing } = groupsToRows(aggregateEvalRows(list, columns.map((c) => c.key)), columns);
    const trainDatasets = uniq(list.filter((r) => !r.reference).map((r) => r.trainDataset));
    const splits = uniq(list.map((r) => r.split));
    const trainOverlap = Math.max(0, ...list.map((r) => r.trainOverlap));
    const sameData = trainDatasets.length === 1 && trainDatasets[0] === evalDataset;
    // "In-distribution" only for held-out val/test splits of the training dataset.
    const heldOut = splits.every((s) => s === 'val' || s === 'test') && trainOverlap === 0;
    const gallerySizes = uniq(list.map((r) => r.metrics.gallerySize).filter((x): x is number => x !== undefined)).sort((a, b) => a - b);
    tables.push({
      id,
      title: sameData
        ? heldOut
          ? `Table ${id}: in-distribution — trained and evaluated on ${evalDataset} (${splits.join(', ')} split)`
          : `Table ${id}: trained and evaluated on ${evalDataset} (${splits.join(', ')} split — NOT held out: includes or may include training clips)`
        : `Table ${id}: out-of-distribution — trained on ${trainDatasets.join(', ')}, evaluated on ${evalDataset} (${splits.join(', ')} split)`,
      experiment: uniq(list.map((r) => r.experiment)).join(', '),
      trainDatasets,
      evalDataset,
      evalDatasetKind: list[0].evalDatasetKind,
      synthetic: list.some((r) => r.synthetic),
      splits,
      gallerySizes,
      evalProtocols: uniq(list.map((r) => r.evalProtocol)),
      retrievalProtocols: uniq(list.map((r) => r.retrievalProtocol)),
      directions: uniq(list.map((r) => r.direction)),
      differing,
      trainOverlap,
      flags: flagsOf(resultRows, gallerySizes, trainOverlap),
      columns,
      rows: resultRows,
    });
  }
  return tables.sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }) || a.evalDataset.localeCompare(b.evalDataset));
}

export type CompareBy = 'features' | 'model' | 'lambda';

export interface ComparisonGroup {
  /** The grouping value (a feature name, a model, or the canonical λ). */
  value: string;
  /** The configuration's other differing columns. */
  label: string;
  config: Record<string, string>;
  runs: number;
  seeds: number[];
  reference: boolean;
  cells: Partial<Record<EvalMetricKey, CellStats>>;
}

export interface Comparison {
  by: CompareBy;
  evalDataset: string;
  split: string;
  synthetic: boolean;
  /** Configuration keys that differ between the groups (beyond the compared attribute). */
  differing: string[];
  gallerySizes: number[];
  flags: string[];
  /** Other attributes held by the compared runs (e.g. the models when comparing features). */
  spans: Record<string, string[]>;
  groups: ComparisonGroup[];
}

/**
 * Compare evaluations by one attribute, per evaluation dataset and split: one group per configuration
 * (never mixing configurations), ordered by the attribute, its other differing columns shown.
 */
export function compareEvalRows(rowsIn: readonly EvalRow[], by: CompareBy, columns: readonly ResultColumn[] = RESULT_COLUMNS): Comparison[] {
  const rows = latestPerTrainRun(rowsIn);
  const attr = by === 'lambda' ? 'λ' : by;
  const byData = new Map<string, EvalRow[]>();
  for (const r of rows) {
    const k = `${r.evalDataset}\u0000${r.split}`;
    byData.set(k, [...(byData.get(k) ?? []), r]);
  }
  const out: Comparison[] = [];
  for (const [k, list] of byData) {
    const [evalDataset, split] = k.split('\u0000');
    const { rows: rr, differing } = groupsToRows(aggregateEvalRows(list, columns.map((c) => c.key)), columns);
    const others = differing.filter((d) => d !== attr);
    const groups: ComparisonGroup[] = rr
      .map((r) => ({
        value: attr === 'λ' ? (r.config['λ'] ?? `(${r.model}: no λ)`) : attr === 'model' ? r.model : r.features,
        label: configurationLabel(r.config, others),
        config: r.config,
        runs: r.runs,
        seeds: r.seeds,
        reference: r.reference,
        cells: r.cells,
      }))
      .sort((a, b) => Number(a.reference) - Number(b.reference) || a.value.localeCompare(b.value, undefined, { numeric: true }) || a.label.localeCompare(b.label));
    const span = (f: (r: EvalRow) => string) => [...new Set(list.map(f))].sort();
    const gallerySizes = [...new Set(list.map((r) => r.metrics.gallerySize).filter((x): x is number => x !== undefined))].sort((a, b) => a - b);
    out.push({
      by,
      evalDataset,
      split,
      synthetic: list.some((r) => r.synthetic),
      differing: others,
      gallerySizes,
      flags: flagsOf(rr, gallerySizes, Math.max(0, ...list.map((r) => r.trainOverlap))),
      spans: {
        ...(by !== 'model' ? { model: span((r) => r.model) } : {}),
        ...(by !== 'features' ? { features: span((r) => r.features) } : {}),
        seeds: span((r) => String(r.seed)),
      },
      groups,
    });
  }
  return out.sort((a, b) => a.evalDataset.localeCompare(b.evalDataset) || a.split.localeCompare(b.split));
}
