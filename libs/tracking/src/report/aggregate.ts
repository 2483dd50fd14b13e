/**
 * The one aggregation model of every report (tables, comparisons, sweep report, HTML page): items
 * (evaluations or sweep trials) are grouped by configuration (+ evaluation context) and each metric is
 * summarised over the seeds of that group only — n, mean, sample std, 95 % t-interval.
 */
import { configurationKey, differingKeys } from './configuration';
import { findMetric, isBetter, type MetricDef } from './metric-registry';
import { seedSummary, type SeedSummary } from './statistics';

export interface CellStats extends SeedSummary {
  /** Where the interval comes from: seeds (n ≥ 2), a bootstrap over queries (one run), or none. */
  ciMethod: 't-over-seeds' | 'bootstrap-over-queries' | 'none';
  /** The best of its column, and its interval excludes the runner-up's mean. */
  best: boolean;
  /** Not a result: R@k with k ≥ the gallery (`—, gallery N`). */
  undefinedFor?: number;
  /** Mean within 2× the chance level (R@k = k/N). */
  nearChance?: boolean;
  /** The t-interval reached past the metric's range (a rank below 1, a negative FAD) and was cut there. */
  ciTruncated?: boolean;
  values: number[];
}

export interface AggregatedGroup<T> {
  /** Configuration + context key. */
  key: string;
  config: Record<string, string>;
  seeds: number[];
  /** Items (runs) in the group. */
  n: number;
  members: T[];
  cells: Record<string, CellStats>;
  /** A reference row (an oracle retriever): shown, never ranked against the models. */
  reference: boolean;
}

export interface Aggregatable {
  config: Record<string, string>;
  seed: number | null;
  metrics: Record<string, number | undefined>;
  /** Evaluation context that must not be mixed (dataset, split, direction, protocol). */
  context?: string;
  gallery?: number;
  reference?: boolean;
}

/** Group items by configuration (+ context) and summarise every metric over the group's seeds. */
export function aggregateOverSeeds<T extends Aggregatable>(items: readonly T[], metricKeys: readonly string[]): AggregatedGroup<T>[] {
  const groups = new Map<string, T[]>();
  for (const it of items) {
    const k = `${it.context ?? ''}\u0000${configurationKey(it.config)}`;
    groups.set(k, [...(groups.get(k) ?? []), it]);
  }
  return [...groups.entries()].map(([key, members]) => {
    const cells: Record<string, CellStats> = {};
    const galleries = members.map((m) => m.gallery).filter((g): g is number => g !== undefined);
    const gallery = galleries.length ? Math.min(...galleries) : undefined;
    for (const mk of metricKeys) {
      const def = findMetric(mk);
      if (def?.k !== undefined && gallery !== undefined && def.k >= gallery) {
        cells[mk] = { n: 0, mean: NaN, std: NaN, ciLow: NaN, ciHigh: NaN, ciMethod: 'none', best: false, undefinedFor: gallery, values: [] };
        continue;
      }
      const xs = members.map((m) => m.metrics[mk]).filter((x): x is number => x !== undefined && Number.isFinite(x));
      if (xs.length === 0) continue;
      const s = seedSummary(xs);
      // a symmetric t-interval can reach values the metric cannot take: cut it at the metric's range, and say so
      let ciTruncated = false;
      if (def?.range && Number.isFinite(s.ciLow) && (s.ciLow < def.range[0] || s.ciHigh > def.range[1])) {
        s.ciLow = Math.max(def.range[0], s.ciLow);
        s.ciHigh = Math.min(def.range[1], s.ciHigh);
        ciTruncated = true;
      }
      const chance = def?.k !== undefined && def.chance && gallery !== undefined ? s.mean <= 2 * def.chance(gallery) : false;
      cells[mk] = { ...s, ciMethod: xs.length >= 2 ? 't-over-seeds' : 'none', best: false, values: xs, ...(chance ? { nearChance: true } : {}), ...(ciTruncated ? { ciTruncated: true } : {}) };
    }
    return {
      key,
      config: members[0].config,
      seeds: members.map((m) => m.seed ?? NaN).sort((a, b) => a - b),
      n: members.length,
      members,
      cells,
      reference: members.some((m) => m.reference === true),
    };
  });
}

/**
 * Mark the best cell per metric among non-reference groups — only when the best mean's interval
 * excludes the runner-up's mean (a best that seed noise could reverse is not marked). Ranked metrics only.
 */
export function markBest(groups: ReadonlyArray<{ cells: Record<string, CellStats>; reference: boolean }>, metricKeys: readonly string[]): void {
  for (const mk of metricKeys) {
    const def: MetricDef | undefined = findMetric(mk);
    if (!def || !def.ranked) continue;
    const cand = groups.filter((g) => !g.reference && g.cells[mk] && Number.isFinite(g.cells[mk].mean)).map((g) => g.cells[mk]);
    for (const c of cand) c.best = false;
    if (cand.length < 2) continue;
    const sorted = [...cand].sort((a, b) => (isBetter(def, a.mean, b.mean) ? -1 : isBetter(def, b.mean, a.mean) ? 1 : 0));
    const [best, runner] = sorted;
    if (best.mean === runner.mean) continue;
    const excludes = Number.isFinite(best.ciLow) && (runner.mean < best.ciLow || runner.mean > best.ciHigh);
    if (excludes) best.best = true;
  }
}

/** Configuration keys that differ between groups (the columns a table must show to keep rows apart). */
export function differingConfigKeys(groups: ReadonlyArray<{ config: Record<string, string> }>): string[] {
  return differingKeys(groups.map((g) => g.config));
}
