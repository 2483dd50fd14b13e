import type { CellStats, Comparison, ResultTable } from '@vmr/tracking';

export const REPORT_FORMATS = ['markdown', 'csv', 'latex', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const MODEL_LABELS: Record<string, string> = { 'vm-net': 'VM-Net', 'of-vm-net': 'OF-VM-Net' };
const FEATURE_LABELS: Record<string, string> = { resnet: 'ResNet', clip: 'CLIP', i3d: 'I3D' };

export const modelLabel = (m: string): string => MODEL_LABELS[m] ?? m;
export const featureLabel = (f: string): string => FEATURE_LABELS[f] ?? f;

function digitsFor(key: string): number {
  return key === 'medianRank' || key === 'meanRank' ? 1 : 3;
}

/** `mean ± std` (± omitted for a single run). */
export function formatCell(cell: CellStats | undefined, key: string): string {
  if (!cell) return '—';
  const d = digitsFor(key);
  return cell.n > 1 ? `${cell.mean.toFixed(d)} ± ${cell.std.toFixed(d)}` : cell.mean.toFixed(d);
}

const SYNTHETIC_NOTE = 'SYNTHETIC data (vmr synth stand-in features named resnet/clip/i3d/vggish): these numbers test the pipeline; they are not the paper\'s HIMV/SymMV results.';

/** The lines printed under a table: gallery size, protocol, direction, seeds, synthetic label. */
export function tableNotes(t: ResultTable): string[] {
  const gallery = t.gallerySizes.length === 0 ? 'unknown' : t.gallerySizes.length === 1 ? `${t.gallerySizes[0]} clips` : `${t.gallerySizes.join(' / ')} clips (differs between rows)`;
  const runs = [...new Set(t.rows.map((r) => r.runs))];
  const notes = [
    `Gallery: ${gallery} per query (${t.retrievalProtocols.join(', ')}); direction ${t.directions.join(', ')}; split ${t.splits.join(', ')}; ties pessimistic.`,
    `Protocol: ${t.evalProtocols.join(', ')} · dataset ${t.evalDataset} (${t.evalDatasetKind}) · experiment ${t.experiment} · ${runs.length === 1 ? `${runs[0]} run(s) per row` : `${runs.join('/')} runs per row`}${runs.some((n) => n > 1) ? ', mean ± sample std over seeds' : ''}; best value per column marked.`,
  ];
  if (t.synthetic) notes.push(SYNTHETIC_NOTE);
  return notes;
}

function markdownTable(t: ResultTable): string {
  const head = ['Model', 'Features', ...t.columns.map((c) => c.label)];
  const lines = [`### ${t.title}${t.synthetic ? ' [SYNTHETIC]' : ''}`, '', `| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? ':--' : '--:')).join('|')}|`];
  for (const r of t.rows) {
    const cells = t.columns.map((c) => {
      const s = formatCell(r.cells[c.key], c.key);
      return r.cells[c.key]?.best ? `**${s}**` : s;
    });
    lines.push(`| ${[modelLabel(r.model), featureLabel(r.features), ...cells].join(' | ')} |`);
  }
  lines.push('', ...tableNotes(t).map((n) => `_${n}_`));
  return lines.join('\n');
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvTables(ts: ResultTable[]): string {
  const cols = ts[0]?.columns ?? [];
  const head = ['table', 'eval_dataset', 'synthetic', 'model', 'features', 'runs', 'seeds', 'gallery_size', 'protocol', ...cols.flatMap((c) => [`${c.key}_mean`, `${c.key}_std`, `${c.key}_best`])];
  const lines = [head.join(',')];
  for (const t of ts) {
    for (const r of t.rows) {
      lines.push(
        [
          t.id,
          t.evalDataset,
          String(t.synthetic),
          r.model,
          r.features,
          String(r.runs),
          r.seeds.join(' '),
          t.gallerySizes.join(' '),
          t.evalProtocols.join(' '),
          ...cols.flatMap((c) => {
            const cell = r.cells[c.key];
            return cell ? [String(cell.mean), String(cell.std), String(cell.best)] : ['', '', ''];
          }),
        ]
          .map(csvField)
          .join(','),
      );
    }
  }
  return lines.join('\n');
}

function latexEscape(s: string): string {
  return s.replace(/([\\&%$#_{}])/g, '\\$1').replace(/~/g, '\\textasciitilde{}').replace(/\^/g, '\\textasciicircum{}');
}

function latexTable(t: ResultTable): string {
  const lines = [
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{${latexEscape(t.title)}${t.synthetic ? ' (synthetic data)' : ''}}`,
    `\\begin{tabular}{ll${'r'.repeat(t.columns.length)}}`,
    '\\toprule',
    `Model & Features & ${t.columns.map((c) => latexEscape(c.label)).join(' & ')} \\\\`,
    '\\midrule',
  ];
  for (const r of t.rows) {
    const cells = t.columns.map((c) => {
      const s = latexEscape(formatCell(r.cells[c.key], c.key)).replace(' ± ', ' $\\pm$ ');
      return r.cells[c.key]?.best ? `\\textbf{${s}}` : s;
    });
    lines.push(`${latexEscape(modelLabel(r.model))} & ${latexEscape(featureLabel(r.features))} & ${cells.join(' & ')} \\\\`);
  }
  lines.push('\\bottomrule', '\\end{tabular}', '', ...tableNotes(t).map((n) => `% ${n}`), '\\end{table}');
  return lines.join('\n');
}

/** Render Tables 1 and 2 in one of the report formats. */
export function formatTables(ts: ResultTable[], format: ReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(ts, null, 2);
    case 'csv':
      return csvTables(ts);
    case 'latex':
      return ts.map(latexTable).join('\n\n');
    case 'markdown':
    default:
      return ts.map(markdownTable).join('\n\n');
  }
}

/** Render comparisons (markdown / csv / latex share the markdown layout except csv; json as is). */
export function formatComparisons(cs: Comparison[], format: ReportFormat): string {
  if (format === 'json') return JSON.stringify(cs, null, 2);
  if (format === 'csv') {
    const cols = ['avAlignGot', 'avAlign', 'fad', 'r1', 'r5', 'r10', 'medianRank'];
    const lines = [['by', 'eval_dataset', 'split', 'value', 'runs', ...cols.flatMap((c) => [`${c}_mean`, `${c}_std`])].join(',')];
    for (const c of cs) {
      for (const g of c.groups) {
        lines.push([c.by, c.evalDataset, c.split, g.value, String(g.runs), ...cols.flatMap((k) => {
          const cell = g.cells[k as keyof typeof g.cells];
          return cell ? [String(cell.mean), String(cell.std)] : ['', ''];
        })].map(csvField).join(','));
      }
    }
    return lines.join('\n');
  }
  const out: string[] = [];
  const labels: Array<[string, string]> = [['avAlignGot', 'AV-ALIGN (GOT)'], ['avAlign', 'AV-ALIGN'], ['fad', 'FAD'], ['r1', 'R@1'], ['r5', 'R@5'], ['r10', 'R@10'], ['medianRank', 'MedR']];
  for (const c of cs) {
    const head = [c.by, 'runs', ...labels.map(([, l]) => l)];
    out.push(`### by ${c.by} on ${c.evalDataset} (${c.split} split)${c.synthetic ? ' [SYNTHETIC]' : ''}`, '', `| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 1 ? ':--' : '--:')).join('|')}|`);
    for (const g of c.groups) {
      const cells = labels.map(([k]) => {
        const cell = g.cells[k as keyof typeof g.cells];
        const s = formatCell(cell, k);
        return cell?.best ? `**${s}**` : s;
      });
      const value = c.by === 'model' ? modelLabel(g.value) : c.by === 'features' ? featureLabel(g.value) : g.value;
      out.push(`| ${[value, String(g.runs), ...cells].join(' | ')} |`);
    }
    out.push('', `_Across ${Object.entries(c.spans).map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ')}. Best per column marked._`);
    if (c.synthetic) out.push(`_${SYNTHETIC_NOTE}_`);
    out.push('');
  }
  return out.join('\n').trimEnd();
}
