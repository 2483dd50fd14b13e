/**
 * The metric registry (DESIGN.md §2.5): one place that knows each evaluation metric's label, direction
 * (FAD and ranks: lower is better), chance level for a gallery of N items, and how a run's per-query
 * results give the metric (for bootstrap intervals). Tables, `vmr report sweep`, Pareto fronts and the
 * HTML charts read directions from here. Lives in @vmr/tracking (core only) so every report may import it.
 */
import { InvalidArgumentError } from '@vmr/core';
import type { QueryStatistic } from './statistics';

export type MetricDirection = 'higher' | 'lower';

export interface MetricDef {
  /** Key without prefixes (`r1`; a run logs `eval.r1`, a sweep trial `eval.<dataset>.r1`). */
  key: string;
  label: string;
  direction: MetricDirection;
  /** Marked best in tables (AV-ALIGN (GOT) is a property of the data, never ranked). */
  ranked: boolean;
  /** Expected value of a random ranking over a gallery of N items (undefined: no closed form). */
  chance?: (gallery: number) => number;
  /** R@k: k (the metric is meaningless when k ≥ gallery). */
  k?: number;
  /** How per-query values make the metric; null for set statistics (FAD): no per-query interval. */
  perQuery: QueryStatistic | null;
  /** The values the metric can take; a t-interval reaching past them is truncated (ranks ≥ 1, FAD ≥ 0). */
  range?: readonly [number, number];
  digits: number;
}

const recall = (k: number): MetricDef => ({ key: `r${k}`, label: `R@${k}`, direction: 'higher', ranked: true, k, chance: (n) => Math.min(1, k / n), perQuery: 'mean', range: [0, 1], digits: 3 });

/** Every metric a report knows, in table column order. */
export const METRICS: readonly MetricDef[] = [
  { key: 'avAlignGot', label: 'AV-ALIGN (GOT)', direction: 'higher', ranked: false, perQuery: 'mean', range: [0, 1], digits: 3 },
  { key: 'avAlign', label: 'AV-ALIGN', direction: 'higher', ranked: true, perQuery: 'mean', range: [0, 1], digits: 3 },
  { key: 'fad', label: 'FAD', direction: 'lower', ranked: true, perQuery: null, range: [0, Infinity], digits: 3 },
  recall(1),
  recall(5),
  recall(10),
  { key: 'medianRank', label: 'MedR', direction: 'lower', ranked: true, chance: (n) => (n + 1) / 2, perQuery: 'median', range: [1, Infinity], digits: 1 },
  { key: 'meanRank', label: 'MeanR', direction: 'lower', ranked: true, chance: (n) => (n + 1) / 2, perQuery: 'mean', range: [1, Infinity], digits: 1 },
  { key: 'mAP', label: 'mAP', direction: 'higher', ranked: true, perQuery: null, range: [0, 1], digits: 3 },
  { key: 'loss', label: 'loss', direction: 'lower', ranked: true, perQuery: null, digits: 4 },
];

const BY_KEY = new Map(METRICS.map((m) => [m.key, m]));
const norm = (s: string) => s.replace(/[_-]/g, '').toLowerCase();
const BY_NORM = new Map(METRICS.map((m) => [norm(m.key), m]));

/** The registry entry of a metric key, or undefined. Accepts prefixed keys (`eval.val.r1`, `train.val.r1`) and snake case (`av_align`). */
export function findMetric(key: string): MetricDef | undefined {
  const last = key.split('.').pop() ?? key;
  return BY_KEY.get(last) ?? BY_NORM.get(norm(last));
}

/** The registry entry of a metric key; an unknown key is an error listing the known ones. */
export function metricDef(key: string, flag = 'metric'): MetricDef {
  const m = findMetric(key);
  if (!m) throw new InvalidArgumentError(`${flag} '${key}' is not a known metric (known: ${METRICS.map((x) => x.key).join(', ')}; prefixes such as eval.<dataset>. are allowed)`);
  return m;
}

/** −1 / +1 so that `sign * (a − b)` sorts best first. */
export function betterSign(m: MetricDef): number {
  return m.direction === 'higher' ? -1 : 1;
}

/** True when a is better than b for this metric. */
export function isBetter(m: MetricDef, a: number, b: number): boolean {
  return m.direction === 'higher' ? a > b : a < b;
}

/** R@k with k ≥ gallery size: every query is a hit; not a result. */
export function undefinedForGallery(m: MetricDef, gallery: number | undefined): boolean {
  return m.k !== undefined && gallery !== undefined && m.k >= gallery;
}

/** R@k whose mean is within 2× its chance level k/N (barely above a random ranking). */
export function nearChance(m: MetricDef, value: number, gallery: number | undefined): boolean {
  if (m.k === undefined || gallery === undefined || !m.chance) return false;
  return value <= 2 * m.chance(gallery);
}

/** Galleries smaller than this are flagged in table footers and on the page. */
export const SMALL_GALLERY = 100;
