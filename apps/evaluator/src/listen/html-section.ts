import { escapeHtml } from '../retrieve/page';
import type { ListeningSummary } from './report';
import type { Correlation, Interval } from './stats';

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '—');
const ci = (c: Interval) => `${pct(c.lo)} – ${pct(c.hi)}`;
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');
const corr = (c: Correlation) => `r = ${num(c.r)}${c.ci95 ? ` [${num(c.ci95.lo)}, ${num(c.ci95.hi)}]` : ''}, n = ${c.n}`;

/**
 * An HTML fragment (a `<section>`, no scripts, inline-styled by the host page's CSS) with one table per
 * listening test: preference rates with Wilson intervals, A over B, agreement and correlations. For
 * `vmr report html` to include when `listeningSummaries()` returns any; empty string when none.
 */
export function listeningSectionHtml(summaries: readonly ListeningSummary[]): string {
  if (summaries.length === 0) return '';
  const tests = summaries.map((s) => {
    const rows = Object.entries(s.systems)
      .map(([name, r]) => `<tr><td>${escapeHtml(name === 'truth' ? 'ground truth' : `${name} (run ${s.runs[name as 'A' | 'B'].slice(0, 8)})`)}</td><td class="num">${r.chosen}/${r.n}</td><td class="num">${pct(r.rate)}</td><td class="num">${ci(r.ci95)}</td><td class="num">${r.meanRating === null ? '—' : `${r.meanRating.toFixed(2)} (n = ${r.ratings})`}</td></tr>`)
      .join('');
    return `<div class="listening-test" data-run="${escapeHtml(s.runId)}">
<h3>${escapeHtml(s.name)} <small>(${escapeHtml(s.status)})</small></h3>
<p>gallery ${escapeHtml(s.gallery.name)}, split ${escapeHtml(s.gallery.split)} (${s.gallery.size} clips) · ${s.items} items (${s.itemsJudged} judged) · ${s.raters.length} rater(s) · ${s.judgments} judgments</p>
<table><thead><tr><th>system</th><th>chosen</th><th>rate</th><th>95 % interval (Wilson)</th><th>mean rating 1–5</th></tr></thead><tbody>${rows}
<tr><td>A over B (A/B choices only)</td><td class="num">${s.aOverB.k}/${s.aOverB.n}</td><td class="num">${pct(s.aOverB.rate)}</td><td class="num">${ci(s.aOverB.ci95)}</td><td></td></tr></tbody></table>
<p>Agreement: Fleiss' κ = ${num(s.agreement.fleiss.kappa)} over ${s.agreement.fleiss.items} items with ≥ 2 ratings${s.agreement.cohen.map((c) => `; Cohen's κ ${escapeHtml(c.raters[0])}/${escapeHtml(c.raters[1])} = ${num(c.kappa.kappa)} (n = ${c.kappa.items})`).join('')}.</p>
<p>Preference for A (+1) vs B (−1) per judgment, Pearson with Fisher-z 95 %: AV-Align difference ${corr(s.correlation.avAlign)}; similarity difference under model A ${corr(s.correlation.similarityA)}, under model B ${corr(s.correlation.similarityB)}.</p>
</div>`;
  });
  return `<section id="listening-tests"><h2>Listening tests (human preference)</h2>
<p>${escapeHtml(summaries[0].intervalMethod)}.</p>
${tests.join('\n')}
</section>`;
}
