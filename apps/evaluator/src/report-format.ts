import { findMetric, toTidyCsv, type CellStats, type Comparison, type ResultRow, type ResultTable, type TidyRecord } from '@vmr/tracking';

export const REPORT_FORMATS = ['markdown', 'csv', 'latex', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const MODEL_LABELS: Record<string, string> = { 'vm-net': 'VM-Net', 'of-vm-net': 'OF-VM-Net', 'oracle-style': 'oracle (style)', 'oracle-motion': 'oracle (motion)' };
const FEATURE_LABELS: Record<string, string> = { resnet: 'ResNet', clip: 'CLIP', i3d: 'I3D' };

export const modelLabel = (m: string): string => MODEL_LABELS[m] ?? m;
export const featureLabel = (f: string): string => FEATURE_LABELS[f] ?? f;

function digitsFor(key: string): number {
  return findMetric(key)?.digits ?? 3;
}

/**
 * `mean ± std [low, high]` (the 95 % interval over seeds; ± and interval omitted for a single run unless a
 * bootstrap interval over queries is attached); `—, gallery N` for R@k with k ≥ gallery; `~` marks a
 * value within 2× chance.
 */
export function formatCell(cell: CellStats | undefined, key: string): string {
  if (!cell) return '—';
  if (cell.undefinedFor !== undefined) return `—, gallery ${cell.undefinedFor}`;
  const d = digitsFor(key);
  const ci = Number.isFinite(cell.ciLow) ? ` [${cell.ciLow.toFixed(d)}, ${cell.ciHigh.toFixed(d)}]` : '';
  const base = cell.n > 1 ? `${cell.mean.toFixed(d)} ± ${cell.std.toFixed(d)}${ci}` : `${cell.mean.toFixed(d)}${ci}`;
  return cell.nearChance ? `${base} ~` : base;
}

const SYNTHETIC_NOTE = 'SYNTHETIC data (vmr synth stand-in features named resnet/clip/i3d/vggish): these numbers test the pipeline; they are not the paper\'s HIMV/SymMV results.';

function rowName(r: Pick<ResultRow, 'model' | 'reference'>): string {
  return r.reference ? `${modelLabel(r.model)} [reference]` : modelLabel(r.model);
}

/** The lines printed under a table: gallery size, protocol, direction, seeds, intervals, flags, synthetic label. */
export function tableNotes(t: ResultTable): string[] {
  const gallery = t.gallerySizes.length === 0 ? 'unknown' : t.gallerySizes.length === 1 ? `${t.gallerySizes[0]} clips` : `${t.gallerySizes.join(' / ')} clips (differs between rows)`;
  const runs = [...new Set(t.rows.map((r) => r.runs))].sort((a, b) => a - b);
  const notes = [
    `Gallery: ${gallery} per query (${t.retrievalProtocols.join(', ')}); direction ${t.directions.join(', ')}; split ${t.splits.join(', ')}; ties pessimistic.`,
    `Protocol: ${t.evalProtocols.join(', ')} · dataset ${t.evalDataset} (${t.evalDatasetKind}) · experiment ${t.experiment} · one row per configuration (training config minus seed), n = ${runs.join('/')} seed(s) per row; mean ± sample std [95 % t-interval over seeds; none for n = 1; cut at the metric's range — R@k, AV-Align in [0, 1], ranks ≥ 1, FAD ≥ 0]. Bold = best, only when its interval excludes the runner-up's mean.`,
  ];
  if (t.differing.length) notes.push(`Rows differ in: ${t.differing.join(', ')} (λ shown divided by its first non-zero entry: positive multiples train identically).`);
  if (t.rows.some((r) => r.reference)) notes.push('[reference] rows are oracle retrievers (upper/lower references), not competitors; never marked best.');
  notes.push(...t.flags);
  if (t.synthetic) notes.push(SYNTHETIC_NOTE);
  return notes;
}

function markdownTable(t: ResultTable): string {
  const showCfg = t.rows.some((r) => r.label);
  const head = ['Model', 'Features', ...(showCfg ? ['Configuration'] : []), 'n', ...t.columns.map((c) => c.label)];
  const lines = [`### ${t.title}${t.synthetic ? ' [SYNTHETIC]' : ''}`, '', `| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < (showCfg ? 3 : 2) ? ':--' : '--:')).join('|')}|`];
  for (const r of t.rows) {
    const cells = t.columns.map((c) => {
      const s = formatCell(r.cells[c.key], c.key);
      return r.cells[c.key]?.best ? `**${s}**` : s;
    });
    lines.push(`| ${[rowName(r), featureLabel(r.features), ...(showCfg ? [r.label || '—'] : []), String(r.runs), ...cells].join(' | ')} |`);
  }
  lines.push('', ...tableNotes(t).map((n) => `_${n}_`));
  return lines.join('\n');
}

/** Tidy records of tables: one per row × metric. */
export function tableRecords(ts: readonly ResultTable[]): TidyRecord[] {
  return ts.flatMap((t) =>
    t.rows.flatMap((r) =>
      t.columns
        .filter((c) => r.cells[c.key])
        .map((c) => ({
          report: 'tables',
          table: t.id,
          experiment: t.experiment,
          evalDataset: t.evalDataset,
          split: t.splits.join(' '),
          direction: t.directions.join(' '),
          protocol: `${t.evalProtocols.join(' ')}/${t.retrievalProtocols.join(' ')}`,
          gallerySize: t.gallerySizes.join(' '),
          synthetic: t.synthetic,
          model: r.model,
          features: r.features,
          configuration: r.label,
          reference: r.reference,
          metric: c.key,
          cell: r.cells[c.key]!,
          seeds: r.seeds,
        })),
    ),
  );
}

function latexEscape(s: string): string {
  return s.replace(/([\\&%$#_{}])/g, '\\$1').replace(/~/g, '\\textasciitilde{}').replace(/\^/g, '\\textasciicircum{}');
}

function latexTable(t: ResultTable): string {
  const showCfg = t.rows.some((r) => r.label);
  const lines = [
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{${latexEscape(t.title)}${t.synthetic ? ' (synthetic data)' : ''}}`,
    `\\begin{tabular}{ll${showCfg ? 'l' : ''}r${'r'.repeat(t.columns.length)}}`,
    '\\toprule',
    `Model & Features & ${showCfg ? 'Configuration & ' : ''}n & ${t.columns.map((c) => latexEscape(c.label)).join(' & ')} \\\\`,
    '\\midrule',
  ];
  for (const r of t.rows) {
    const cells = t.columns.map((c) => {
      const s = latexEscape(formatCell(r.cells[c.key], c.key)).replace(' ± ', ' $\\pm$ ');
      return r.cells[c.key]?.best ? `\\textbf{${s}}` : s;
    });
    lines.push(`${latexEscape(rowName(r))} & ${latexEscape(featureLabel(r.features))} & ${showCfg ? `${latexEscape(r.label || '—')} & ` : ''}${r.runs} & ${cells.join(' & ')} \\\\`);
  }
  lines.push('\\bottomrule', '\\end{tabular}', '', ...tableNotes(t).map((n) => `% ${n}`), '\\end{table}');
  return lines.join('\n');
}

/** Render Tables 1 and 2 in one of the report formats (csv: tidy, one row per configuration × dataset × metric). */
export function formatTables(ts: ResultTable[], format: ReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(ts, null, 2);
    case 'csv':
      return toTidyCsv(tableRecords(ts));
    case 'latex':
      return ts.map(latexTable).join('\n\n');
    case 'markdown':
    default:
      return ts.map(markdownTable).join('\n\n');
  }
}

/** Tidy records of comparisons. */
export function comparisonRecords(cs: readonly Comparison[]): TidyRecord[] {
  return cs.flatMap((c) =>
    c.groups.flatMap((g) =>
      Object.entries(g.cells).map(([metric, cell]) => ({
        report: `compare-by-${c.by}`,
        evalDataset: c.evalDataset,
        split: c.split,
        gallerySize: c.gallerySizes.join(' '),
        synthetic: c.synthetic,
        model: g.config.model ?? '',
        features: g.config.features ?? '',
        configuration: [c.by === 'lambda' ? `λ=${g.value}` : '', g.label].filter(Boolean).join(' · '),
        reference: g.reference,
        metric,
        cell: cell!,
        seeds: g.seeds,
      })),
    ),
  );
}

const COMPARE_COLS: Array<[string, string]> = [['avAlignGot', 'AV-ALIGN (GOT)'], ['avAlign', 'AV-ALIGN'], ['fad', 'FAD'], ['r1', 'R@1'], ['r5', 'R@5'], ['r10', 'R@10'], ['medianRank', 'MedR']];

/** Render comparisons (markdown / latex share the markdown layout; csv tidy; json as is). */
export function formatComparisons(cs: Comparison[], format: ReportFormat): string {
  if (format === 'json') return JSON.stringify(cs, null, 2);
  if (format === 'csv') return toTidyCsv(comparisonRecords(cs));
  const out: string[] = [];
  for (const c of cs) {
    const showCfg = c.groups.some((g) => g.label);
    const head = [c.by, ...(c.by !== 'model' ? ['model'] : []), ...(showCfg ? ['configuration'] : []), 'n', ...COMPARE_COLS.map(([, l]) => l)];
    out.push(`### by ${c.by} on ${c.evalDataset} (${c.split} split)${c.synthetic ? ' [SYNTHETIC]' : ''}`, '', `| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < head.length - COMPARE_COLS.length - 1 ? ':--' : '--:')).join('|')}|`);
    for (const g of c.groups) {
      const cells = COMPARE_COLS.map(([k]) => {
        const cell = g.cells[k as keyof typeof g.cells];
        const s = formatCell(cell, k);
        return cell?.best ? `**${s}**` : s;
      });
      const value = c.by === 'model' ? modelLabel(g.value) : c.by === 'features' ? featureLabel(g.value) : g.value;
      const model = g.reference ? `${modelLabel(g.config.model ?? '')} [reference]` : modelLabel(g.config.model ?? '');
      out.push(`| ${[value, ...(c.by !== 'model' ? [model] : []), ...(showCfg ? [g.label || '—'] : []), String(g.runs), ...cells].join(' | ')} |`);
    }
    out.push('', `_One row per configuration (never merged across configurations); n seeds per row, mean ± sample std [95 % t-interval]. Across ${Object.entries(c.spans).map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ')}. Gallery ${c.gallerySizes.join(' / ') || 'unknown'}. Bold = best, only when its interval excludes the runner-up._`);
    for (const f of c.flags) out.push(`_${f}_`);
    if (c.synthetic) out.push(`_${SYNTHETIC_NOTE}_`);
    out.push('');
  }
  return out.join('\n').trimEnd();
}
