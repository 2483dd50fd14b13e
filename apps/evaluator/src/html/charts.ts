/**
 * The report's charts as Vega-Lite specs, rendered to SVG strings at report time with vega's Node
 * renderer (no browser, no canvas, no network): `vega-lite` compiles the spec to Vega, `vega` lays it
 * out headless and serialises the scenegraph to SVG.
 */
import type * as Vega from 'vega';
import type * as VegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

/** vega and vega-lite are loaded only when a chart is rendered, not by every `vmr` process. */
const vega = (): typeof Vega => require('vega') as typeof Vega;
const compile: typeof VegaLite.compile = (...a) => (require('vega-lite') as typeof VegaLite).compile(...a);
import { metricDef, type ResultTable } from '@vmr/tracking';
import { featureLabel, formatCell, modelLabel } from '../report-format';
import type { LambdaScatter, RunSummary } from './collect';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

const BASE_CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 260 },
  title: { fontSize: 13, subtitleFontSize: 11, anchor: 'start' as const, subtitleColor: '#666' },
};

/** Collects vega-lite / vega warnings instead of printing them (the report lists them). */
function collectingLogger(sink: string[]) {
  let lvl = vega().Warn;
  const logger = {
    level(l?: number) {
      if (l === undefined) return lvl;
      lvl = l;
      return logger;
    },
    error(...args: readonly unknown[]) {
      sink.push(`error: ${args.map(String).join(' ')}`);
      return logger;
    },
    warn(...args: readonly unknown[]) {
      sink.push(args.map(String).join(' '));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger;
}

/**
 * Compile a Vega-Lite spec and render it to an SVG string (headless vega View, renderer `none`).
 * Warnings from either compiler go to `warnings` when given (else they are dropped).
 */
export async function renderSvg(spec: TopLevelSpec, warnings: string[] = []): Promise<string> {
  const logger = collectingLogger(warnings);
  const { spec: vgSpec } = compile({ ...spec, config: { ...BASE_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec, { logger: logger as never });
  const view = new (vega().View)(vega().parse(vgSpec), { renderer: 'none', logger: logger as never });
  try {
    return addHoverTitles(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * Native hover tooltips without scripts: vega writes each data item's tooltip / description as its
 * `aria-label`; copy it into an SVG `<title>` child of that item (what browsers show on hover).
 */
export function addHoverTitles(svg: string): string {
  return svg.replace(/<(path|rect|line|circle)\b([^>]*?\srole="graphics-symbol"[^>]*?)\/>/g, (whole, tag: string, attrs: string) => {
    const m = /\saria-label="([^"]*)"/.exec(attrs);
    return m ? `<${tag}${attrs}><title>${m[1]}</title></${tag}>` : whole;
  });
}

/** `val.r1` → `R@1`, `train.l3` → `l3`, `train.loss` → `total`. */
export function metricLabel(key: string): string {
  const val = /^val\.r(\d+)$/.exec(key);
  if (val) return `R@${val[1]}`;
  if (key === 'train.loss') return 'total';
  return key.replace(/^train\./, '');
}

export function runLabel(r: Pick<RunSummary, 'id' | 'name'>): string {
  return `${r.name} (${r.id.slice(0, 8)})`;
}

/** Integer epoch ticks: the epochs themselves when few, else integer-formatted automatic ticks. */
function epochAxis(epochs: number[]): Record<string, unknown> {
  const distinct = [...new Set(epochs)].sort((a, b) => a - b);
  return distinct.length <= 16 ? { values: distinct, format: 'd' } : { tickMinStep: 1, format: 'd' };
}

/** Loss terms per step of one training run (binned means when the run is long). */
export function lossCurveSpec(run: RunSummary): TopLevelSpec {
  const labels = run.lossKeys.map(metricLabel);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `Training loss${run.lambda ? ` — λ ${run.lambda}` : ''}`, subtitle: `${run.lossBin > 1 ? `mean over bins of ${run.lossBin} steps` : 'per step'}; total = weighted sum, terms unweighted; seed ${run.seed ?? '—'}` },
    width: 380,
    height: 200,
    data: { values: run.loss.map((p) => ({ term: metricLabel(p.key), step: p.step, value: p.value })) },
    mark: { type: 'line', strokeWidth: 1.5, interpolate: 'linear' },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'value', type: 'quantitative', title: 'loss' },
      color: { field: 'term', type: 'nominal', title: 'term', sort: labels, scale: { scheme: 'tableau10' } },
      strokeDash: { condition: { test: "datum.term === 'total'", value: [1, 0] }, value: [4, 2] },
    },
  } as TopLevelSpec;
}

/** Validation Recall@1/5/10 per epoch of one training run. */
export function valCurveSpec(run: RunSummary): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `Validation Recall@k${run.lambda ? ` — λ ${run.lambda}` : ''}`, subtitle: `per epoch (validation split); seed ${run.seed ?? '—'}` },
    width: 300,
    height: 200,
    data: { values: run.val.map((p) => ({ metric: metricLabel(p.key), epoch: p.step, value: p.value })) },
    mark: { type: 'line', point: true, strokeWidth: 1.5 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: epochAxis(run.val.map((p) => p.step)) },
      y: { field: 'value', type: 'quantitative', title: 'recall', scale: { domain: [0, 1] } },
      color: { field: 'metric', type: 'nominal', title: 'metric', sort: ['R@1', 'R@5', 'R@10'], scale: { scheme: 'set1' } },
    },
  } as TopLevelSpec;
}

/** Validation Recall@1 per epoch of every run with curves, one line per run. */
export function valOverviewSpec(runs: readonly RunSummary[]): TopLevelSpec {
  const values = runs.flatMap((r) => r.val.filter((p) => p.key === 'val.r1').map((p) => ({ run: runLabel(r), epoch: p.step, value: p.value })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'Validation Recall@1 per epoch, all runs' },
    width: 520,
    height: 240,
    data: { values },
    mark: { type: 'line', point: true, strokeWidth: 1.5 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: epochAxis(values.map((v) => v.epoch)) },
      y: { field: 'value', type: 'quantitative', title: 'validation R@1' },
      color: { field: 'run', type: 'nominal', title: 'run', scale: { scheme: 'tableau20' } },
    },
  } as TopLevelSpec;
}

/**
 * Recall@1 against AV-Align, one point per configuration (mean over its seeds), coloured by its λ setting
 * (or differing configuration), 95 % t-interval whiskers over seeds on both axes, the Pareto front drawn
 * as a line; reference (oracle) rows drawn hollow and never on the front.
 */
export function paretoSpec(s: LambdaScatter): TopLevelSpec {
  const values = s.points.map((p) => ({
    r1: p.r1,
    avAlign: p.avAlign,
    r1Low: Number.isFinite(p.r1Low) ? p.r1Low : p.r1,
    r1High: Number.isFinite(p.r1High) ? p.r1High : p.r1,
    avLow: Number.isFinite(p.avAlignLow) ? p.avAlignLow : p.avAlign,
    avHigh: Number.isFinite(p.avAlignHigh) ? p.avAlignHigh : p.avAlign,
    features: featureLabel(p.features),
    model: modelLabel(p.model),
    setting: p.reference ? `${modelLabel(p.model)} (reference)` : p.label || modelLabel(p.model),
    lambdas: p.lambda || `${modelLabel(p.model)} (no λ)`,
    runs: p.runs,
    front: p.pareto ? 'Pareto front' : 'dominated',
    short: p.lambda ? `λ ${p.lambda}` : modelLabel(p.model),
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `Recall@1 vs AV-Align across λ settings — ${s.evalDataset} (${s.split})`, subtitle: 'one point per configuration: mean over its seeds, whiskers = 95 % t-interval over seeds (none for n = 1); both maximised; the dashed line joins the Pareto front' },
    width: 520,
    height: 320,
    data: { values },
    layer: [
      {
        transform: [{ filter: "datum.front === 'Pareto front'" }],
        mark: { type: 'line', color: '#888', strokeDash: [5, 3], strokeWidth: 1.5 },
        encoding: {
          x: { field: 'r1', type: 'quantitative' },
          y: { field: 'avAlign', type: 'quantitative' },
          order: { field: 'r1', type: 'quantitative' },
        },
      },
      {
        mark: { type: 'rule', strokeWidth: 1, opacity: 0.7 },
        encoding: { x: { field: 'r1Low', type: 'quantitative' }, x2: { field: 'r1High' }, y: { field: 'avAlign', type: 'quantitative' }, color: { field: 'setting', type: 'nominal' } },
      },
      {
        mark: { type: 'rule', strokeWidth: 1, opacity: 0.7 },
        encoding: { x: { field: 'r1', type: 'quantitative' }, y: { field: 'avLow', type: 'quantitative' }, y2: { field: 'avHigh' }, color: { field: 'setting', type: 'nominal' } },
      },
      {
        mark: { type: 'point', filled: true, opacity: 0.95 },
        encoding: {
          x: { field: 'r1', type: 'quantitative', title: 'Recall@1 (mean over seeds)', scale: { zero: false, nice: true, padding: 28 } },
          y: { field: 'avAlign', type: 'quantitative', title: 'AV-Align (mean over seeds)', scale: { zero: false, nice: true, padding: 22 } },
          color: { field: 'setting', type: 'nominal', title: 'setting', scale: { scheme: 'tableau10' } },
          shape: { field: 'model', type: 'nominal', title: 'model' },
          size: { field: 'front', type: 'ordinal', title: '', scale: { domain: ['Pareto front', 'dominated'], range: [170, 60] } },
          tooltip: [
            { field: 'setting', title: 'setting' },
            { field: 'lambdas', title: 'λ' },
            { field: 'model' },
            { field: 'features' },
            { field: 'r1', format: '.3f', title: 'R@1' },
            { field: 'avAlign', format: '.3f', title: 'AV-Align' },
            { field: 'runs', title: 'seeds' },
          ],
        },
      },
      {
        transform: [{ filter: "datum.front === 'Pareto front'" }],
        mark: { type: 'text', align: 'center', dy: -13, fontSize: 10, color: '#374151' },
        encoding: { x: { field: 'r1', type: 'quantitative' }, y: { field: 'avAlign', type: 'quantitative' }, text: { field: 'short' } },
      },
    ],
  } as TopLevelSpec;
}

/**
 * A metric against the λ ratio mean(λ1, λ2) / mean(λ3…λ6) (log scale), one line per (model, features),
 * a band for the 95 % t-interval over seeds (±std when it has one seed per point: no band). Points
 * without λ or without optical-flow terms (ratio ∞) are not drawn (counted in the caption).
 */
export function lambdaRatioSpec(s: LambdaScatter, metric: 'r1' | 'avAlign' | 'fad'): TopLevelSpec {
  const def = metricDef(metric);
  const values = s.points
    .filter((p) => p.ratio !== null && Number.isFinite(p.ratio) && (p.ratio as number) > 0 && p.cells[metric])
    .map((p) => {
      const c = p.cells[metric];
      return { ratio: p.ratio as number, mean: c.mean, low: Number.isFinite(c.ciLow) ? c.ciLow : c.mean, high: Number.isFinite(c.ciHigh) ? c.ciHigh : c.mean, series: `${modelLabel(p.model)} / ${featureLabel(p.features)}`, lambda: p.lambda, runs: p.runs };
    });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `${def.label} vs λ ratio — ${s.evalDataset} (${s.split})`, subtitle: `x = mean(λ1, λ2) / mean(λ3…λ6); mean over seeds, band = 95 % t-interval; ${def.direction} is better` },
    width: 360,
    height: 220,
    data: { values },
    layer: [
      {
        mark: { type: 'area', opacity: 0.18 },
        encoding: { x: { field: 'ratio', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color: { field: 'series', type: 'nominal' } },
      },
      {
        mark: { type: 'line', point: true, strokeWidth: 1.5 },
        encoding: {
          x: { field: 'ratio', type: 'quantitative', title: 'λ ratio GT / optical-flow (log)', scale: { type: 'log' } },
          y: { field: 'mean', type: 'quantitative', title: def.label, scale: { zero: false } },
          color: { field: 'series', type: 'nominal', title: 'model / features', scale: { scheme: 'tableau10' } },
          order: { field: 'ratio', type: 'quantitative' },
          tooltip: [{ field: 'lambda', title: 'λ' }, { field: 'series' }, { field: 'mean', format: '.3f', title: def.label }, { field: 'low', format: '.3f', title: '95 % low' }, { field: 'high', format: '.3f', title: '95 % high' }, { field: 'runs', title: 'seeds' }],
        },
      },
    ],
  } as TopLevelSpec;
}

/** `l1=1,l2=1,l3=0,…` → `l3=0` (the λs that differ from 1; `all λ=1` when none; VM-Net when empty). */
export function shortLambdas(lambdas: string): string {
  if (!lambdas) return 'VM-Net';
  const off = lambdas.split(',').filter((kv) => Number(kv.split('=')[1]) !== 1);
  return off.length ? off.join(',') : 'all λ=1';
}

/** Panels of the per-extractor chart; labels and directions from the metric registry. */
const EXTRACTOR_METRICS: Array<{ key: 'r1' | 'r10' | 'avAlign' | 'fad'; label: string }> = (['r1', 'r10', 'avAlign', 'fad'] as const).map((key) => {
  const m = metricDef(key);
  return { key, label: m.direction === 'lower' ? `${m.label} (lower is better)` : m.label };
});

/** One table's rows as grouped bars: features on x, model side by side, one panel per metric, ±std whiskers. */
export function extractorSpec(t: ResultTable): TopLevelSpec {
  const values = t.rows.flatMap((r) =>
    EXTRACTOR_METRICS.filter((m) => r.cells[m.key] && r.cells[m.key]!.undefinedFor === undefined).map((m) => {
      const c = r.cells[m.key]!;
      const iv = Number.isFinite(c.ciLow);
      return { features: featureLabel(r.features), model: `${modelLabel(r.model)}${r.label ? ` ${r.label}` : ''}`, metric: m.label, mean: c.mean, lo: iv ? c.ciLow : c.mean, hi: iv ? c.ciHigh : c.mean, text: formatCell(c, m.key) };
    }),
  );
  const metricsPresent = EXTRACTOR_METRICS.map((m) => m.label).filter((l) => values.some((v) => v.metric === l));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `Per-extractor comparison — Table ${t.id}: ${t.evalDataset}`, subtitle: 'one bar per configuration: mean over its seeds, whiskers = 95 % t-interval over seeds (none for one seed)' },
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: metricsPresent, header: { labelFontSize: 12 } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 150,
      height: 180,
      layer: [
        {
          mark: { type: 'bar' },
          encoding: {
            x: { field: 'features', type: 'nominal', title: 'features', axis: { labelAngle: 0 } },
            xOffset: { field: 'model', type: 'nominal' },
            y: { field: 'mean', type: 'quantitative', title: null },
            color: { field: 'model', type: 'nominal', title: 'model', scale: { scheme: 'tableau10' } },
            tooltip: [{ field: 'model' }, { field: 'features' }, { field: 'metric' }, { field: 'text', title: 'mean ± std' }],
          },
        },
        {
          mark: { type: 'rule', color: '#333' },
          encoding: {
            x: { field: 'features', type: 'nominal' },
            xOffset: { field: 'model', type: 'nominal' },
            y: { field: 'lo', type: 'quantitative' },
            y2: { field: 'hi' },
          },
        },
      ],
    },
  } as TopLevelSpec;
}
