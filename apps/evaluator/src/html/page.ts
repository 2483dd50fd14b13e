/**
 * The report as one self-contained HTML document: inline CSS, the charts as inline SVG (rendered by
 * `charts.ts`), no scripts, no external URL to fetch at view time. Structural hooks for tests and
 * scripts: `table[data-table]` (Tables 1/2) with `td[data-metric]` cells, `figure[data-chart]` per
 * chart, `tr.run-row[data-run]` + `tr.run-config` (config in a details row; a summary on hover).
 */
import { RESULT_COLUMNS, type Comparison, type ResultTable } from '@vmr/tracking';
import { featureLabel, formatCell, modelLabel, tableNotes } from '../report-format';
import { extractorSpec, lambdaRatioSpec, lossCurveSpec, metricLabel, paretoSpec, renderSvg, runLabel, valCurveSpec, valOverviewSpec } from './charts';
import type { HtmlReportData, LambdaScatter, RunSummary } from './collect';
import { listeningSectionHtml } from '../listen/html-section';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const esc = escapeHtml;

const CSS = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
header { background: #1f2937; color: #f9fafb; padding: 18px 28px; }
header h1 { margin: 0 0 6px; font-size: 22px; }
header .meta { font-size: 13px; color: #d1d5db; }
nav { padding: 8px 28px; background: #e5e7eb; font-size: 13px; position: sticky; top: 0; z-index: 1; }
nav a { margin-right: 16px; color: #1f2937; }
main { padding: 8px 28px 40px; max-width: 1400px; box-sizing: border-box; }
section > h2 { border-bottom: 2px solid #d1d5db; padding-bottom: 4px; margin-top: 32px; }
.banner { background: #fef3c7; border: 1px solid #f59e0b; padding: 8px 12px; margin: 14px 0; font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; background: white; }
th, td { border: 1px solid #d1d5db; padding: 4px 8px; text-align: right; white-space: nowrap; }
th { background: #f3f4f6; }
td.label, th.label { text-align: left; }
td.best { font-weight: 700; background: #ecfdf5; }
td.near-chance { color: #9a3412; }
.table-wrap { max-width: 100%; overflow-x: auto; }
figure { max-width: 100%; overflow-x: auto; box-sizing: border-box; }
span.ci { display: block; font-size: 11px; color: #4b5563; font-weight: normal; }
tr.reference td { color: #6b7280; font-style: italic; }
p.note.flag { color: #9a3412; font-weight: 600; }
table.runs { table-layout: fixed; width: 100%; }
table.runs td, table.runs th { overflow: hidden; text-overflow: ellipsis; }
table.runs th:nth-child(1), table.runs td:nth-child(1) { width: 18%; }
table.runs th:nth-child(9), table.runs td:nth-child(9) { width: 26%; }
table.runs tr.run-config td { overflow: visible; }
td.wrap, th.wrap { white-space: normal; word-break: break-word; }
tr.status-killed td, tr.status-failed td { color: #991b1b; }
.killed { color: #991b1b; font-size: 12px; font-weight: normal; }
tr.pareto td { background: #eff6ff; }
tr.pareto td:first-child::before { content: "★ "; color: #2563eb; }
p.note { font-size: 12px; color: #4b5563; margin: 2px 0; }
figure { display: inline-block; margin: 8px 16px 8px 0; vertical-align: top; background: white; border: 1px solid #e5e7eb; padding: 6px; }
figure figcaption { font-size: 11px; color: #6b7280; max-width: 520px; }
.run { border-top: 1px solid #e5e7eb; margin-top: 14px; }
.run h3 { font-size: 15px; margin: 10px 0 4px; }
tr.run-row { cursor: help; }
tr.run-config td { text-align: left; background: #fcfcfd; }
tr.run-config table.kv td { white-space: normal; word-break: break-all; }
details summary { cursor: pointer; color: #2563eb; font-size: 12px; }
code { font-size: 12px; }
.empty { color: #6b7280; font-style: italic; font-size: 13px; }
`;

function fmt(x: number | undefined, digits = 3): string {
  return x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'x';
}

async function figure(id: string, svgPromise: Promise<string>, caption?: string): Promise<string> {
  const svg = await svgPromise;
  return `<figure data-chart="${esc(id)}">${svg}${caption ? `<figcaption>${esc(caption)}</figcaption>` : ''}</figure>`;
}

/** A formatted cell as HTML: the interval `[lo, hi]` on its own line (the text content stays the formatted string). */
function cellHtml(text: string): string {
  const i = text.indexOf(' [');
  return i < 0 ? esc(text) : `${esc(text.slice(0, i))} <span class="ci">${esc(text.slice(i + 1))}</span>`;
}

function resultTableHtml(t: ResultTable): string {
  const showCfg = t.rows.some((r) => r.label);
  const head = `<tr><th class="label">Model</th><th class="label">Features</th>${showCfg ? '<th class="label">Configuration</th>' : ''}<th>n</th>${t.columns.map((c) => `<th data-metric="${c.key}" title="${c.better === 'none' ? 'not ranked' : `${c.better} is better`}">${esc(c.label)}</th>`).join('')}</tr>`;
  const body = t.rows
    .map((r) => {
      const hover = `${r.runs} seed(s): ${r.seeds.join(', ')}${r.label ? `; ${r.label}` : ''}`;
      const cells = t.columns
        .map((c) => {
          const cell = r.cells[c.key];
          const title = !cell ? 'no value' : cell.undefinedFor !== undefined ? `not reported: k ≥ gallery ${cell.undefinedFor}` : `n=${cell.n}, mean ${cell.mean}, std ${cell.std}, 95 % interval [${cell.ciLow}, ${cell.ciHigh}] (${cell.ciMethod})`;
          return `<td data-metric="${c.key}" data-mean="${cell && Number.isFinite(cell.mean) ? cell.mean : ''}" data-n="${cell?.n ?? ''}"${cell?.best ? ' class="best"' : cell?.nearChance ? ' class="near-chance"' : ''} title="${esc(title)}">${cellHtml(formatCell(cell, c.key))}</td>`;
        })
        .join('');
      return `<tr data-model="${esc(r.model)}" data-features="${esc(r.features)}" data-config="${esc(r.label)}"${r.reference ? ' class="reference"' : ''} title="${esc(hover)}"><td class="label">${esc(modelLabel(r.model))}${r.reference ? ' <small>[reference]</small>' : ''}</td><td class="label">${esc(featureLabel(r.features))}</td>${showCfg ? `<td class="label"><code>${esc(r.label || '—')}</code></td>` : ''}<td data-n>${r.runs}</td>${cells}</tr>`;
    })
    .join('\n');
  return [
    `<h3>${esc(t.title)}${t.synthetic ? ' <small>[SYNTHETIC]</small>' : ''}</h3>`,
    `<div class="table-wrap"><table class="results" data-table="${esc(t.id)}" data-eval-dataset="${esc(t.evalDataset)}"><thead>${head}</thead><tbody>\n${body}\n</tbody></table></div>`,
    ...tableNotes(t).map((n) => `<p class="note${/^(Small gallery|Not reported|Within 2×|TRAINING OVERLAP)/.test(n) ? ' flag' : ''}">${esc(n)}</p>`),
  ].join('\n');
}

function comparisonHtml(c: Comparison): string {
  const cols = RESULT_COLUMNS;
  const showCfg = c.groups.some((g) => g.label);
  const head = `<tr><th class="label">features</th><th class="label">model</th>${showCfg ? '<th class="label">configuration</th>' : ''}<th>n</th>${cols.map((k) => `<th>${esc(k.label)}</th>`).join('')}</tr>`;
  const body = c.groups
    .map(
      (g) =>
        `<tr data-features="${esc(g.value)}" data-config="${esc(g.label)}"><td class="label">${esc(featureLabel(g.value))}</td><td class="label">${esc(modelLabel(g.config.model ?? ''))}${g.reference ? ' <small>[reference]</small>' : ''}</td>${showCfg ? `<td class="label"><code>${esc(g.label || '—')}</code></td>` : ''}<td>${g.runs}</td>${cols
          .map((k) => `<td data-metric="${k.key}"${g.cells[k.key]?.best ? ' class="best"' : ''}>${cellHtml(formatCell(g.cells[k.key], k.key))}</td>`)
          .join('')}</tr>`,
    )
    .join('\n');
  const spans = Object.entries(c.spans)
    .map(([k, v]) => `${k}: ${v.join(', ')}`)
    .join('; ');
  return `<h3>By feature extractor on ${esc(c.evalDataset)} (${esc(c.split)} split)${c.synthetic ? ' <small>[SYNTHETIC]</small>' : ''}</h3>
<div class="table-wrap"><table class="comparison" data-comparison="features" data-eval-dataset="${esc(c.evalDataset)}"><thead>${head}</thead><tbody>\n${body}\n</tbody></table></div>
<p class="note">One row per configuration (never merged); across ${esc(spans)}; n seeds, mean ± sample std [95 % t-interval]; bold = best only when its interval excludes the runner-up.</p>${c.flags.map((f) => `<p class="note flag">${esc(f)}</p>`).join('')}`;
}

function scatterTableHtml(s: LambdaScatter): string {
  const iv = (lo: number, hi: number) => (Number.isFinite(lo) ? ` [${fmt(lo)}, ${fmt(hi)}]` : '');
  const rows = s.points
    .map(
      (p) =>
        `<tr class="${p.reference ? 'reference' : p.pareto ? 'pareto' : 'dominated'}" data-config="${esc(p.label)}" title="${esc(`training runs: ${p.trainRunIds.join(', ')}; seeds ${p.seeds.join(', ')}`)}"><td class="label"><code>${esc(p.lambda || '—')}</code></td><td class="label">${esc(p.label)}</td><td class="label">${esc(modelLabel(p.model))}${p.reference ? ' <small>[reference]</small>' : ''}</td><td class="label">${esc(featureLabel(p.features))}</td><td data-n>${p.runs}</td><td data-metric="r1">${fmt(p.r1)}${p.runs > 1 ? ` ± ${fmt(p.r1Std)}` : ''}${iv(p.r1Low, p.r1High)}</td><td data-metric="avAlign">${fmt(p.avAlign)}${p.runs > 1 ? ` ± ${fmt(p.avAlignStd)}` : ''}${iv(p.avAlignLow, p.avAlignHigh)}</td><td>${p.pareto ? 'yes' : ''}</td></tr>`,
    )
    .join('\n');
  return `<details open><summary>${s.points.length} configuration(s) — ${s.points.filter((p) => p.pareto).length} on the Pareto front</summary>
<table class="lambda-points" data-eval-dataset="${esc(s.evalDataset)}" data-split="${esc(s.split)}"><thead><tr><th class="label">λ (canonical)</th><th class="label">setting</th><th class="label">model</th><th class="label">features</th><th>n</th><th>R@1</th><th>AV-Align</th><th>Pareto</th></tr></thead><tbody>
${rows}
</tbody></table></details><p class="note">λ divided by its first non-zero entry (positive multiples train identically); n = seeds; mean ± sample std [95 % t-interval over seeds].</p>${s.skipped ? `<p class="note">${s.skipped} evaluation(s) without R@1 or AV-Align not plotted.</p>` : ''}`;
}

/** Short config summary shown on hover over a run's row. */
function configSummary(r: RunSummary): string {
  const p = r.params;
  const keys = ['model', 'features', 'audioFeatures', 'protocol', 'seed', 'epochs', 'batchSize', 'lr', 'dataset.name'];
  const parts = keys.filter((k) => p[k] !== undefined).map((k) => `${k}=${p[k]}`);
  if (r.lambda) parts.push(`λ (canonical): ${r.lambda}`);
  return parts.join('\n');
}

function runsTableHtml(runs: readonly RunSummary[]): string {
  const head = '<tr><th class="label">run</th><th class="label">status</th><th class="label">model</th><th class="label">features</th><th>seed</th><th class="label">λ</th><th>final loss</th><th>val R@1</th><th class="label wrap">evaluations (R@1 / AV-Align)</th></tr>';
  const body = runs
    .map((r) => {
      const evals = r.evals.map((e) => `${e.evalDataset}/${e.split}: ${fmt(e.metrics.r1)} / ${fmt(e.metrics.avAlign)}`).join('; ') || '—';
      const params = Object.entries(r.params)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `<tr><td class="label"><code>${esc(k)}</code></td><td class="label"><code>${esc(v)}</code></td></tr>`)
        .join('');
      const tags = Object.entries(r.tags)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `<tr><td class="label"><code>${esc(k)}</code></td><td class="label"><code>${esc(v)}</code></td></tr>`)
        .join('');
      const latest = Object.entries(r.latest)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `<tr><td class="label"><code>${esc(k)}</code></td><td>${esc(Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v))}</td></tr>`)
        .join('');
      const notAggregated = r.status !== 'finished' ? ' <small>(not in any aggregate)</small>' : '';
      return `<tr class="run-row status-${esc(r.status)}" data-run="${r.id}" title="${esc(configSummary(r))}"><td class="label wrap"><a href="#run-${r.id}">${esc(r.name)}</a> <code>${r.id.slice(0, 8)}</code></td><td class="label">${esc(r.status)}${notAggregated}</td><td class="label">${esc(modelLabel(r.model))}</td><td class="label">${esc(featureLabel(r.features))}</td><td>${r.seed ?? '—'}</td><td class="label"><code>${esc(r.lambda || '—')}</code></td><td>${fmt(r.latest['train.loss'], 4)}</td><td>${fmt(r.latest['val.r1'])}</td><td class="label wrap">${esc(evals)}</td></tr>
<tr class="run-config" data-run="${r.id}"><td colspan="9"><details><summary>config, tags and latest metrics of ${esc(r.name)}</summary><table class="kv"><thead><tr><th class="label" colspan="2">params (config)</th></tr></thead><tbody>${params}</tbody></table><table class="kv"><thead><tr><th class="label" colspan="2">tags</th></tr></thead><tbody>${tags}</tbody></table><table class="kv"><thead><tr><th class="label" colspan="2">latest metrics</th></tr></thead><tbody>${latest}</tbody></table></details></td></tr>`;
    })
    .join('\n');
  return `<table class="runs"><thead>${head}</thead><tbody>\n${body}\n</tbody></table>`;
}

async function runCurvesHtml(r: RunSummary, warnings: string[]): Promise<string> {
  const parts = [`<div class="run status-${esc(r.status)}" id="run-${r.id}"><h3>${esc(runLabel(r))} — ${esc(modelLabel(r.model))} / ${esc(featureLabel(r.features))}${r.lambda ? `, λ ${esc(r.lambda)}` : ''}, seed ${r.seed ?? '—'}, ${esc(r.status)}${r.status !== 'finished' ? ' <span class="killed">— unfinished attempt, not in any table or chart aggregate</span>' : ''}</h3>`];
  if (r.loss.length) {
    const caption = `terms: ${r.lossKeys.map(metricLabel).join(', ')}${r.lossNonFinite ? `; ${r.lossNonFinite} non-finite value(s) skipped` : ''}`;
    parts.push(await figure(`loss-${r.id}`, renderSvg(lossCurveSpec(r), warnings), caption));
  } else parts.push('<p class="empty">No loss metrics logged.</p>');
  if (r.val.length) parts.push(await figure(`val-${r.id}`, renderSvg(valCurveSpec(r), warnings)));
  else parts.push('<p class="empty">No validation metrics logged (validation off or not reached).</p>');
  parts.push('</div>');
  return parts.join('\n');
}

/** Render the whole report page. Chart compiler warnings are appended to `warnings`. */
export async function renderReportHtml(data: HtmlReportData, warnings: string[] = []): Promise<string> {
  const title = `VMR report — ${data.experiment}${data.sweep ? ` / sweep ${data.sweep.name}` : ''}`;
  const out: string[] = [];
  out.push(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="vmr report html">
<title>${esc(title)}</title><style>${CSS}</style></head><body>
<header><h1>${esc(title)}</h1><div class="meta">store <code>${esc(data.store)}</code> · generated ${esc(new Date(data.generatedAt).toISOString())} · ${data.runs.length} training run(s)${data.sweep ? ` · sweep ${esc(data.sweep.id)} (${data.sweep.trials} trials)` : ''}</div></header>
<nav><a href="#tables">Tables 1 &amp; 2</a><a href="#extractors">Per-extractor</a><a href="#lambda">λ trade-off</a><a href="#curves">Training curves</a><a href="#runs">Runs &amp; configs</a></nav>
<main>`);
  if (data.synthetic) out.push('<div class="banner">SYNTHETIC data (vmr synth stand-ins named resnet/clip/i3d/vggish) in this report: the numbers test the pipeline; they are not the paper\'s HIMV/SymMV results.</div>');

  out.push('<section id="tables"><h2>Tables 1 and 2</h2>');
  if (data.tables.length === 0) out.push('<p class="empty">No finished evaluations in this experiment yet (vmr eval).</p>');
  for (const t of data.tables) out.push(resultTableHtml(t));
  out.push('</section>');

  out.push('<section id="extractors"><h2>Per-extractor comparison</h2>');
  const tablesWithBars = data.tables.filter((t) => t.rows.some((r) => r.cells.r1 || r.cells.avAlign));
  for (const t of tablesWithBars) out.push(await figure(`extractor-${slug(t.id)}-${slug(t.evalDataset)}`, renderSvg(extractorSpec(t), warnings)));
  for (const c of data.byFeatures) out.push(comparisonHtml(c));
  if (tablesWithBars.length === 0 && data.byFeatures.length === 0) out.push('<p class="empty">No evaluations to compare.</p>');
  out.push('</section>');

  out.push(`<section id="lambda"><h2>Retrieval vs alignment across λ settings${data.sweep ? ` (sweep ${esc(data.sweep.name)})` : ''}</h2>`);
  const scatters = data.lambdaScatters.filter((s) => s.points.length > 0);
  if (scatters.length === 0) out.push('<p class="empty">No evaluations with both Recall@1 and AV-Align.</p>');
  for (const s of scatters) {
    out.push(await figure(`pareto-${slug(s.evalDataset)}-${slug(s.split)}`, renderSvg(paretoSpec(s), warnings), `${s.points.length} setting(s); ★ in the table = on the Pareto front (no other setting has both higher R@1 and higher AV-Align)`));
    out.push(scatterTableHtml(s));
    const withRatio = s.points.filter((p) => p.ratio !== null && Number.isFinite(p.ratio) && (p.ratio as number) > 0);
    if (new Set(withRatio.map((p) => p.ratio)).size >= 2) {
      for (const m of ['r1', 'avAlign'] as const) out.push(await figure(`ratio-${m}-${slug(s.evalDataset)}-${slug(s.split)}`, renderSvg(lambdaRatioSpec(s, m), warnings), `${withRatio.length} configuration(s) with a finite λ ratio${s.points.length > withRatio.length ? `; ${s.points.length - withRatio.length} without λ or without optical-flow terms not drawn` : ''}`));
    }
  }
  out.push('</section>');

  out.push('<section id="curves"><h2>Training curves</h2>');
  const withCurves = data.runs.filter((r) => r.hasCurves);
  if (withCurves.some((r) => r.val.some((p) => p.key === 'val.r1'))) out.push(await figure('val-overview', renderSvg(valOverviewSpec(withCurves), warnings)));
  for (const r of withCurves) out.push(await runCurvesHtml(r, warnings));
  if (data.runsWithoutCurves > 0) out.push(`<p class="note">${data.runsWithoutCurves} older run(s) listed below without curves (--max-curve-runs).</p>`);
  out.push('</section>');

  if (data.listening?.length) out.push(listeningSectionHtml(data.listening));

  out.push('<section id="runs"><h2>Runs and configs</h2><p class="note">Hover a row for its config summary; open “config” for every param, tag and latest metric.</p>');
  out.push(runsTableHtml(data.runs));
  out.push('</section>');
  out.push('</main></body></html>\n');
  return out.join('\n');
}
