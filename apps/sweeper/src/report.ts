/**
 * `vmr report sweep`: a sweep's configurations (trial config minus seed) ranked by its metric — each
 * metric aggregated over the seeds of one configuration only (n, mean ± std, 95 % t-interval), through
 * the same aggregation model as `vmr report tables` — the Pareto front of two metrics over configuration
 * means (directions from the metric registry: FAD and ranks are minimised), the best configuration per
 * feature extractor, and every trial with its status (failed / killed attempts are listed, never
 * aggregated).
 */
import Table from 'cli-table3';
import { InvalidArgumentError } from '@vmr/core';
import {
  aggregateOverSeeds,
  configurationLabel,
  configurationOf,
  differingConfigKeys,
  findMetric,
  formatNumber,
  isBetter,
  markBest,
  SMALL_GALLERY,
  metricDef,
  toTidyCsv,
  type AggregatedGroup,
  type CellStats,
  type MetricDef,
  type TidyRecord,
  type Tracker,
} from '@vmr/tracking';
import { findSweep, listTrials, type SweepInfo } from './sweep-store';

export interface ReportTrial {
  runId: string;
  index: number;
  key: string;
  status: string;
  attempts: number;
  seed: number | null;
  values: Record<string, unknown>;
  metrics: Record<string, number>;
  /** A λ alias (not run): the canonical trial's key; its status reads `alias`, so it is not ranked or averaged twice. */
  aliasOf?: string;
  /** The trial's configuration (its config minus the seed; λ canonical). */
  config: Record<string, string>;
}

export interface ParetoPoint {
  x: number;
  y: number;
}

/** One configuration of the sweep: its finished trials' metrics over seeds. */
export interface SweepConfiguration {
  /** The configuration's values on the varied keys (`λ=1:1:0.25:… · features=clip`). */
  label: string;
  config: Record<string, string>;
  /** Finished trials (seeds) aggregated. */
  n: number;
  seeds: number[];
  trialRunIds: string[];
  /** Trials of this configuration that are not finished (failed, killed, running…): not aggregated. */
  unfinished: Array<{ runId: string; status: string }>;
  cells: Record<string, CellStats>;
  /** 1-based rank by the ranking metric's mean (null without it). */
  rank: number | null;
}

export interface FeatureRow {
  features: string;
  configurations: number;
  /** The best configuration of this extractor by the ranking metric (mean over its seeds). */
  best: SweepConfiguration | null;
}

export interface SweepReport {
  sweep: { id: string; name: string; experiment: string; status: string };
  metric: { name: string; direction: 'max' | 'min'; label: string } | null;
  /** Configuration keys that differ between the sweep's configurations (columns of the tables). */
  varied: string[];
  /** Configurations best first by the metric's mean (over seeds); those without it last. */
  configurations: SweepConfiguration[];
  /** Every trial in index order, with its status. */
  trials: ReportTrial[];
  pareto: { x: string; y: string; xDirection: 'max' | 'min'; yDirection: 'max' | 'min'; front: SweepConfiguration[] } | null;
  byFeatures: FeatureRow[];
  counts: Record<string, number>;
  /** Metric keys summarised per configuration. */
  metricKeys: string[];
  /** Gallery size per evaluation dataset (`eval.<ds>.gallerySize` of the finished trials; smallest). */
  galleries: Record<string, number>;
}

/**
 * Indices of the non-dominated points. Directions per axis (default both maximised): a point is
 * dominated when another is at least as good on both and strictly better on one. Sorted by x, best first.
 */
export function paretoFront(points: ParetoPoint[], directions: { x: 'max' | 'min'; y: 'max' | 'min' } = { x: 'max', y: 'max' }): number[] {
  const sx = directions.x === 'max' ? 1 : -1;
  const sy = directions.y === 'max' ? 1 : -1;
  const idx: number[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
    let dominated = false;
    for (let j = 0; j < points.length && !dominated; j++) {
      if (j === i) continue;
      const q = points[j];
      if (!Number.isFinite(q.x) || !Number.isFinite(q.y)) continue;
      if (sx * q.x >= sx * p.x && sy * q.y >= sy * p.y && (sx * q.x > sx * p.x || sy * q.y > sy * p.y)) dominated = true;
    }
    if (!dominated) idx.push(i);
  }
  return idx.sort((a, b) => sx * (points[b].x - points[a].x) || sy * (points[b].y - points[a].y) || a - b);
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
  /** Metric to rank by (default: the sweep's); its direction comes from the metric registry. */
  metric?: string;
  /** Pareto axes (default: a `*.r1` key and an AV-Align key from the trial metrics). */
  x?: string;
  y?: string;
  experiment?: string;
}

const dirOf = (m: MetricDef): 'max' | 'min' => (m.direction === 'higher' ? 'max' : 'min');

export async function buildSweepReport(tracker: Tracker, sweepRef: string, opts: SweepReportOptions = {}): Promise<SweepReport> {
  const sweep: SweepInfo = await findSweep(tracker, sweepRef, opts.experiment);
  const states = await listTrials(tracker, sweep.id);
  const trials: ReportTrial[] = [];
  for (const t of states) {
    const run = await tracker.getRun(t.runId);
    const seedParam = run.params.seed !== undefined ? Number(run.params.seed) : NaN;
    trials.push({
      runId: t.runId,
      index: t.index,
      key: t.key,
      status: t.aliasOf ? 'alias' : t.status,
      attempts: t.attempts,
      seed: run.seed ?? (Number.isFinite(seedParam) ? seedParam : null),
      values: t.values,
      metrics: Object.fromEntries(Object.values(run.metrics).map((m) => [m.key, m.value])),
      config: configurationOf(run.params),
      ...(t.aliasOf ? { aliasOf: t.aliasOf } : {}),
    });
  }
  const allKeys = [...new Set(trials.flatMap((t) => Object.keys(t.metrics)))].sort();
  const known = allKeys.filter((k) => findMetric(k));
  const check = (key: string | undefined, flag: string) => {
    if (key === undefined) return undefined;
    metricDef(key, flag); // unknown metric: an error listing the known ones
    if (!allKeys.includes(key) && trials.some((t) => t.status === 'finished')) {
      throw new InvalidArgumentError(`${flag} '${key}': no trial of sweep ${sweep.name} has it (metrics: ${allKeys.join(', ') || 'none'})`);
    }
    return key;
  };
  const metricName = check(opts.metric, '--metric') ?? (sweep.metric?.name && findMetric(sweep.metric.name) ? sweep.metric.name : undefined);
  const x = check(opts.x, '--x') ?? pickKey(allKeys, /(^|\.)r1$/, metricName);
  const y = check(opts.y, '--y') ?? pickKey(allKeys, /av[_-]?align(?!.*got)/i, x);
  const metricKeys = [...new Set([...(metricName ? [metricName] : []), ...(x ? [x] : []), ...(y ? [y] : []), ...known])];

  const finished = trials.filter((t) => t.status === 'finished');
  const groups: Array<AggregatedGroup<ReportTrial>> = aggregateOverSeeds(
    finished.map((t) => ({ ...t, metrics: t.metrics as Record<string, number | undefined>, gallery: galleryOf(t.metrics) })),
    metricKeys,
  ) as unknown as Array<AggregatedGroup<ReportTrial>>;
  markBest(groups, metricKeys);
  // Unfinished trials are listed with their configuration, never aggregated.
  const allGroups = [...groups];
  const varied = differingConfigKeys([...groups, ...trials.filter((t) => t.status !== 'finished')].map((g) => ({ config: g.config })));
  const cfgKey = (c: Record<string, string>) => configurationLabel(c, Object.keys(c).sort());
  const configurations: SweepConfiguration[] = allGroups.map((g) => ({
    label: configurationLabel(g.config, varied),
    config: g.config,
    n: g.n,
    seeds: g.seeds,
    trialRunIds: g.members.map((m) => m.runId),
    unfinished: trials.filter((t) => t.status !== 'finished' && cfgKey(t.config) === cfgKey(g.config)).map((t) => ({ runId: t.runId, status: t.status })),
    cells: g.cells,
    rank: null,
  }));
  for (const t of trials.filter((t) => t.status !== 'finished')) {
    if (!configurations.some((c) => cfgKey(c.config) === cfgKey(t.config))) {
      configurations.push({ label: configurationLabel(t.config, varied), config: t.config, n: 0, seeds: [], trialRunIds: [], unfinished: [{ runId: t.runId, status: t.status }], cells: {}, rank: null });
    }
  }
  const mdef = metricName ? metricDef(metricName) : undefined;
  const has = (c: SweepConfiguration) => mdef !== undefined && Number.isFinite(c.cells[metricName!]?.mean);
  configurations.sort((a, b) => {
    if (has(a) !== has(b)) return has(a) ? -1 : 1;
    if (has(a) && has(b)) {
      const ma = a.cells[metricName!].mean;
      const mb = b.cells[metricName!].mean;
      if (isBetter(mdef!, ma, mb)) return -1;
      if (isBetter(mdef!, mb, ma)) return 1;
    }
    return a.label.localeCompare(b.label, undefined, { numeric: true });
  });
  configurations.forEach((c, i) => (c.rank = has(c) ? i + 1 : null));

  let pareto: SweepReport['pareto'] = null;
  if (x && y) {
    const xd = dirOf(metricDef(x));
    const yd = dirOf(metricDef(y));
    const cands = configurations.filter((c) => c.n > 0 && Number.isFinite(c.cells[x]?.mean) && Number.isFinite(c.cells[y]?.mean));
    const front = paretoFront(cands.map((c) => ({ x: c.cells[x].mean, y: c.cells[y].mean })), { x: xd, y: yd }).map((i) => cands[i]);
    pareto = { x, y, xDirection: xd, yDirection: yd, front };
  }
  const byF = new Map<string, SweepConfiguration[]>();
  for (const c of configurations) byF.set(c.config.features ?? '(base)', [...(byF.get(c.config.features ?? '(base)') ?? []), c]);
  const byFeatures: FeatureRow[] = [...byF.entries()].map(([features, cs]) => ({ features, configurations: cs.length, best: cs.find(has) ?? null }));
  byFeatures.sort((a, b) => (a.best?.rank ?? Infinity) - (b.best?.rank ?? Infinity) || a.features.localeCompare(b.features));
  const counts: Record<string, number> = {};
  for (const t of trials) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return {
    sweep: { id: sweep.id, name: sweep.name, experiment: sweep.experiment, status: sweep.status },
    metric: mdef ? { name: metricName!, direction: dirOf(mdef), label: mdef.label } : null,
    varied,
    configurations,
    trials: [...trials].sort((a, b) => a.index - b.index),
    pareto,
    byFeatures,
    counts,
    metricKeys,
    galleries: Object.fromEntries(
      [...new Set(allKeys.filter((k) => k.endsWith('.gallerySize')))].map((k) => [splitKey(k).dataset, Math.min(...finished.map((t) => t.metrics[k]).filter(Number.isFinite))]),
    ),
  };
}

/** The gallery of a trial's evaluation (`eval.<ds>.gallerySize`), for the R@k guard. */
function galleryOf(metrics: Record<string, number>): number | undefined {
  const g = Object.entries(metrics).filter(([k]) => k.endsWith('.gallerySize')).map(([, v]) => v);
  return g.length ? Math.min(...g) : undefined;
}

export type ReportFormat = 'text' | 'markdown' | 'csv' | 'json';

const fmt = (v: unknown): string => (typeof v === 'number' ? formatNumber(v) : v === undefined || v === null ? '' : String(v));

/** `mean ± std [low, high]` (n = 1: the value alone; `—, gallery N` for R@k beyond the gallery). */
export function formatStat(c: CellStats | undefined): string {
  if (!c) return '';
  if (c.undefinedFor !== undefined) return `—, gallery ${c.undefinedFor}`;
  const iv = Number.isFinite(c.ciLow) ? ` [${formatNumber(c.ciLow)}, ${formatNumber(c.ciHigh)}]` : '';
  return `${formatNumber(c.mean)}${c.n > 1 ? ` ± ${formatNumber(c.std)}` : ''}${iv}${c.nearChance ? ' ~' : ''}`;
}

function grid(format: ReportFormat, head: string[], rows: string[][]): string {
  if (format === 'markdown') {
    return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`)].join('\n');
  }
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r);
  return t.toString();
}

/** `eval.<dataset>.<metric>` → dataset and metric; `train.val.r1` → (train-val, r1). */
function splitKey(k: string): { dataset: string; metric: string } {
  const parts = k.split('.');
  const metric = parts.pop() ?? k;
  return { dataset: parts[0] === 'eval' ? parts.slice(1).join('.') : parts.join('-') || '(trial)', metric };
}

/** Tidy records: one per configuration × dataset × metric. */
export function sweepRecords(r: SweepReport): TidyRecord[] {
  return r.configurations.flatMap((c) =>
    Object.entries(c.cells).map(([k, cell]) => {
      const { dataset, metric } = splitKey(k);
      return {
        report: `sweep:${r.sweep.name}`,
        experiment: r.sweep.experiment,
        evalDataset: dataset,
        synthetic: c.config['dataset.synthetic'] === 'true',
        model: c.config.model ?? '',
        features: c.config.features ?? '',
        configuration: c.label,
        reference: false,
        metric,
        cell,
        seeds: c.seeds,
        gallerySize: undefined,
      };
    }),
  );
}

/** Render a report as text tables, Markdown, tidy CSV or JSON. */
export function formatSweepReport(r: SweepReport, format: ReportFormat = 'text', top?: number): string {
  if (format === 'json') return JSON.stringify(r, null, 2);
  if (format === 'csv') return toTidyCsv(sweepRecords(r));
  const h = (s: string) => (format === 'markdown' ? `## ${s}` : s);
  const out: string[] = [];
  const counts = Object.entries(r.counts).map(([k, v]) => `${v} ${k}`).join(', ');
  out.push(format === 'markdown' ? `# Sweep ${r.sweep.name}` : `sweep ${r.sweep.name} (${r.sweep.id.slice(0, 8)}, experiment ${r.sweep.experiment}): ${r.sweep.status}`);
  if (format === 'markdown') out.push(`Run ${r.sweep.id}, experiment ${r.sweep.experiment}, status ${r.sweep.status}.`);
  out.push(`trials: ${counts}; ${r.configurations.length} configuration(s)${r.metric ? `; ranked by ${r.metric.name} (${r.metric.direction === 'max' ? 'higher' : 'lower'} is better) over seeds` : '; no metric to rank by'}`);
  out.push('Each row is one configuration (trial config minus seed; λ divided by its first non-zero entry); n = finished seeds; mean ± sample std [95 % t-interval over seeds; none for n = 1; cut at the range of the metric]. Failed / killed trials are listed, never averaged.');
  const metricCols = [r.metric?.name, r.pareto?.x, r.pareto?.y].filter((k, i, a): k is string => !!k && a.indexOf(k) === i);
  const cfgs = top ? r.configurations.slice(0, top) : r.configurations;
  out.push('', h('Configurations ranked'));
  out.push(
    grid(
      format,
      ['rank', ...r.varied, 'n', 'seeds', ...metricCols, 'not aggregated'],
      cfgs.map((c) => [c.rank === null ? '-' : String(c.rank), ...r.varied.map((k) => fmt(c.config[k])), String(c.n), c.seeds.join(' '), ...metricCols.map((k) => (c.cells[k]?.best ? `*${formatStat(c.cells[k])}` : formatStat(c.cells[k]))), c.unfinished.map((u) => `${u.runId.slice(0, 8)} ${u.status}`).join(', ')]),
    ),
  );
  const d = (x: 'max' | 'min') => (x === 'max' ? 'maximised' : 'minimised');
  out.push('', h(r.pareto ? `Pareto front over configuration means: ${r.pareto.x} (${d(r.pareto.xDirection)}) vs ${r.pareto.y} (${d(r.pareto.yDirection)})` : 'Pareto front: no Recall@1 / AV-Align metrics in this sweep'));
  if (r.pareto) out.push(grid(format, [...r.varied, 'n', r.pareto.x, r.pareto.y], r.pareto.front.map((c) => [...r.varied.map((k) => fmt(c.config[k])), String(c.n), formatStat(c.cells[r.pareto!.x]), formatStat(c.cells[r.pareto!.y])])));
  out.push('', h(`Best configuration per feature extractor${r.metric ? ` (${r.metric.name})` : ''}`));
  out.push(grid(format, ['features', 'configurations', 'best', 'n', r.metric?.name ?? 'metric'], r.byFeatures.map((f) => [f.features, String(f.configurations), f.best?.label ?? '', String(f.best?.n ?? ''), f.best && r.metric ? formatStat(f.best.cells[r.metric.name]) : ''])));
  out.push('', h('Trials'));
  out.push(grid(format, ['#', 'trial', 'status', 'attempts', 'seed', ...r.varied, ...metricCols], r.trials.map((t) => [String(t.index), t.runId.slice(0, 8), t.status, String(t.attempts), fmt(t.seed), ...r.varied.map((k) => fmt(t.config[k])), ...metricCols.map((k) => fmt(t.metrics[k]))])));
  if (r.metric) out.push('', `* = best, marked only when its interval excludes the runner-up's mean; ~ = within 2× chance (R@k = k/N).`);
  const g = Object.entries(r.galleries);
  if (g.length) out.push(`Galleries: ${g.map(([d, n]) => `${d} ${n} clips${n < SMALL_GALLERY ? ` (< ${SMALL_GALLERY}: Recall@k is coarse, chance R@1 = ${(1 / n).toFixed(3)})` : ''}`).join('; ')}.`);
  return out.join('\n');
}
