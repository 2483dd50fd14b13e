/**
 * `vmr report sweep`: a sweep's trials ranked by its metric, the Pareto front of retrieval (Recall@1)
 * against alignment (AV-Align) across the swept settings, and a comparison by feature extractor.
 */
import Table from 'cli-table3';
import { InvalidArgumentError } from '@vmr/core';
import { formatNumber, type Tracker } from '@vmr/tracking';
import { findSweep, listTrials, type SweepInfo } from './sweep-store';

export interface ReportTrial {
  runId: string;
  index: number;
  key: string;
  status: string;
  attempts: number;
  values: Record<string, unknown>;
  metrics: Record<string, number>;
  /** A λ alias (not run): the canonical trial's key; its status reads `alias`, so it is not ranked or averaged twice. */
  aliasOf?: string;
}

export interface ParetoPoint {
  x: number;
  y: number;
}

export interface FeatureRow {
  features: string;
  trials: number;
  finished: number;
  mean: number | null;
  std: number | null;
  best: number | null;
  bestRun: string | null;
}

export interface SweepReport {
  sweep: { id: string; name: string; experiment: string; status: string };
  metric: { name: string; direction: 'max' | 'min' } | null;
  /** Keys the trials vary (columns of the tables). */
  varied: string[];
  /** Finished trials with the metric, best first; then the rest in index order. */
  ranked: ReportTrial[];
  pareto: { x: string; y: string; front: ReportTrial[] } | null;
  byFeatures: FeatureRow[];
  counts: Record<string, number>;
}

/**
 * Indices of the points no other point dominates (both objectives maximised): a point is dominated
 * when another is ≥ on both and > on at least one. Sorted by x descending.
 */
export function paretoFront(points: ParetoPoint[]): number[] {
  const idx: number[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
    let dominated = false;
    for (let j = 0; j < points.length && !dominated; j++) {
      if (j === i) continue;
      const q = points[j];
      if (!Number.isFinite(q.x) || !Number.isFinite(q.y)) continue;
      if (q.x >= p.x && q.y >= p.y && (q.x > p.x || q.y > p.y)) dominated = true;
    }
    if (!dominated) idx.push(i);
  }
  return idx.sort((a, b) => points[b].x - points[a].x || points[b].y - points[a].y || a - b);
}

/** Mean and sample standard deviation (null for n < 2). */
function meanStd(v: number[]): { mean: number | null; std: number | null } {
  if (v.length === 0) return { mean: null, std: null };
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  if (v.length < 2) return { mean, std: null };
  const ss = v.reduce((s, x) => s + (x - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (v.length - 1)) };
}

/** First metric key matching a pattern, preferring one that shares the ranking metric's dataset prefix. */
function pickKey(keys: string[], re: RegExp, near?: string): string | undefined {
  const matches = keys.filter((k) => re.test(k)).sort();
  if (near) {
    const prefix = near.split('.').slice(0, -1).join('.');
    const same = matches.find((k) => k.startsWith(prefix + '.'));
    if (same) return same;
  }
  return matches[0];
}

export interface SweepReportOptions {
  /** Metric to rank by (default: the sweep's). */
  metric?: string;
  direction?: 'max' | 'min';
  /** Pareto axes (default: a `*.r1` key and an AV-Align key from the trial metrics). */
  x?: string;
  y?: string;
  experiment?: string;
}

export async function buildSweepReport(tracker: Tracker, sweepRef: string, opts: SweepReportOptions = {}): Promise<SweepReport> {
  const sweep: SweepInfo = await findSweep(tracker, sweepRef, opts.experiment);
  const states = await listTrials(tracker, sweep.id);
  const trials: ReportTrial[] = [];
  for (const t of states) {
    const lm = await tracker.latestMetrics(t.runId);
    trials.push({ runId: t.runId, index: t.index, key: t.key, status: t.aliasOf ? 'alias' : t.status, attempts: t.attempts, values: t.values, metrics: Object.fromEntries(Object.values(lm).map((m) => [m.key, m.value])), ...(t.aliasOf ? { aliasOf: t.aliasOf } : {}) });
  }
  const metricName = opts.metric ?? sweep.metric?.name;
  const direction = opts.direction ?? sweep.metric?.direction ?? 'max';
  const allKeys = [...new Set(trials.flatMap((t) => Object.keys(t.metrics)))];
  if (opts.metric && !allKeys.includes(opts.metric) && trials.some((t) => t.status === 'finished')) {
    throw new InvalidArgumentError(`--metric '${opts.metric}': no trial of sweep ${sweep.name} has it (metrics: ${allKeys.sort().join(', ') || 'none'})`);
  }
  const varied = [...new Set(trials.flatMap((t) => Object.keys(t.values)))].filter((k) => new Set(trials.map((t) => JSON.stringify(t.values[k]))).size > 1 || k === 'features');
  const sign = direction === 'max' ? -1 : 1;
  const hasMetric = (t: ReportTrial) => metricName !== undefined && t.status === 'finished' && Number.isFinite(t.metrics[metricName]);
  const ranked = [...trials.filter(hasMetric).sort((a, b) => sign * (a.metrics[metricName!] - b.metrics[metricName!]) || a.index - b.index), ...trials.filter((t) => !hasMetric(t)).sort((a, b) => a.index - b.index)];
  const x = opts.x ?? pickKey(allKeys, /(^|\.)r1$/, metricName);
  const y = opts.y ?? pickKey(allKeys, /av[_-]?align(?!.*got)/i, x);
  let pareto: SweepReport['pareto'] = null;
  if (x && y) {
    const cands = trials.filter((t) => t.status === 'finished' && Number.isFinite(t.metrics[x]) && Number.isFinite(t.metrics[y]));
    const front = paretoFront(cands.map((t) => ({ x: t.metrics[x], y: t.metrics[y] }))).map((i) => cands[i]);
    pareto = { x, y, front };
  }
  const groups = new Map<string, ReportTrial[]>();
  for (const t of trials) {
    const f = String(t.values.features ?? '(base)');
    groups.set(f, [...(groups.get(f) ?? []), t]);
  }
  const byFeatures: FeatureRow[] = [...groups.entries()].map(([features, ts]) => {
    const fin = ts.filter(hasMetric);
    const vals = fin.map((t) => t.metrics[metricName!]);
    const { mean, std } = meanStd(vals);
    const bestT = fin.sort((a, b) => sign * (a.metrics[metricName!] - b.metrics[metricName!]))[0];
    return { features, trials: ts.length, finished: ts.filter((t) => t.status === 'finished').length, mean, std, best: bestT ? bestT.metrics[metricName!] : null, bestRun: bestT?.runId ?? null };
  });
  byFeatures.sort((a, b) => (a.mean === null ? 1 : 0) - (b.mean === null ? 1 : 0) || (a.mean !== null && b.mean !== null ? sign * (a.mean - b.mean) : 0) || a.features.localeCompare(b.features));
  const counts: Record<string, number> = {};
  for (const t of trials) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return {
    sweep: { id: sweep.id, name: sweep.name, experiment: sweep.experiment, status: sweep.status },
    metric: metricName ? { name: metricName, direction } : null,
    varied,
    ranked,
    pareto,
    byFeatures,
    counts,
  };
}

export type ReportFormat = 'text' | 'markdown' | 'csv' | 'json';

const fmt = (v: unknown): string => (typeof v === 'number' ? formatNumber(v) : v === undefined || v === null ? '' : String(v));

function grid(format: ReportFormat, head: string[], rows: string[][]): string {
  if (format === 'markdown') {
    return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`)].join('\n');
  }
  if (format === 'csv') {
    const q = (c: string) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
    return [head.map(q).join(','), ...rows.map((r) => r.map(q).join(','))].join('\n');
  }
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r);
  return t.toString();
}

/** Render a report as text tables, Markdown, CSV (three sections) or JSON. */
export function formatSweepReport(r: SweepReport, format: ReportFormat = 'text', top?: number): string {
  if (format === 'json') return JSON.stringify(r, null, 2);
  const h = (s: string) => (format === 'markdown' ? `## ${s}` : format === 'csv' ? `# ${s}` : s);
  const out: string[] = [];
  const counts = Object.entries(r.counts).map(([k, v]) => `${v} ${k}`).join(', ');
  out.push(format === 'markdown' ? `# Sweep ${r.sweep.name}` : `sweep ${r.sweep.name} (${r.sweep.id.slice(0, 8)}, experiment ${r.sweep.experiment}): ${r.sweep.status}`);
  if (format === 'markdown') out.push(`Run ${r.sweep.id}, experiment ${r.sweep.experiment}, status ${r.sweep.status}.`);
  out.push(`trials: ${counts}${r.metric ? `; ranked by ${r.metric.name} (${r.metric.direction})` : '; no metric to rank by'}`);
  const metricCols = [r.metric?.name, r.pareto?.x, r.pareto?.y].filter((k, i, a): k is string => !!k && a.indexOf(k) === i);
  const trialRow = (t: ReportTrial, rank: number | string) => [String(rank), t.runId.slice(0, 8), t.status, String(t.attempts), ...r.varied.map((k) => fmt(t.values[k])), ...metricCols.map((k) => fmt(t.metrics[k]))];
  const ranked = top ? r.ranked.slice(0, top) : r.ranked;
  out.push('', h('Trials ranked'));
  out.push(grid(format, ['rank', 'trial', 'status', 'attempts', ...r.varied, ...metricCols], ranked.map((t, i) => trialRow(t, t.status === 'finished' && r.metric && Number.isFinite(t.metrics[r.metric.name]) ? i + 1 : '-'))));
  out.push('', h(r.pareto ? `Pareto front: ${r.pareto.x} vs ${r.pareto.y} (both maximised)` : 'Pareto front: no Recall@1 / AV-Align metrics in this sweep'));
  if (r.pareto) out.push(grid(format, ['trial', ...r.varied, r.pareto.x, r.pareto.y], r.pareto.front.map((t) => [t.runId.slice(0, 8), ...r.varied.map((k) => fmt(t.values[k])), fmt(t.metrics[r.pareto!.x]), fmt(t.metrics[r.pareto!.y])])));
  out.push('', h(`By feature extractor${r.metric ? ` (${r.metric.name})` : ''}`));
  out.push(
    grid(
      format,
      ['features', 'trials', 'finished', 'mean', 'std', 'best', 'best trial'],
      r.byFeatures.map((f) => [f.features, String(f.trials), String(f.finished), fmt(f.mean), fmt(f.std), fmt(f.best), f.bestRun?.slice(0, 8) ?? '']),
    ),
  );
  return out.join('\n');
}
