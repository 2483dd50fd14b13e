/**
 * Tidy machine-readable output shared by every report's `--format csv`: one row per configuration ×
 * dataset × metric with n, mean, std and interval bounds (RFC 4180 quoting, one header, no comments),
 * which `pandas.read_csv` loads as is.
 */
import type { CellStats } from './aggregate';
import { findMetric } from './metric-registry';

export const TIDY_COLUMNS = ['report', 'table', 'experiment', 'eval_dataset', 'split', 'direction', 'protocol', 'gallery_size', 'synthetic', 'model', 'features', 'configuration', 'reference', 'metric', 'direction_better', 'n', 'mean', 'std', 'ci_low', 'ci_high', 'ci_method', 'best', 'not_reported', 'seeds'] as const;

export interface TidyRecord {
  report: string;
  table?: string;
  experiment?: string;
  evalDataset: string;
  split?: string;
  direction?: string;
  protocol?: string;
  gallerySize?: number | string;
  synthetic: boolean;
  model: string;
  features: string;
  /** The configuration's values on the differing columns. */
  configuration: string;
  reference: boolean;
  metric: string;
  cell: CellStats;
  seeds: readonly number[];
}

export function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const num = (x: number): string => (Number.isFinite(x) ? String(x) : '');

/** Tidy CSV text (header + one line per record). */
export function toTidyCsv(records: readonly TidyRecord[]): string {
  const lines = [TIDY_COLUMNS.join(',')];
  for (const r of records) {
    const c = r.cell;
    const def = findMetric(r.metric);
    lines.push(
      [
        r.report,
        r.table ?? '',
        r.experiment ?? '',
        r.evalDataset,
        r.split ?? '',
        r.direction ?? '',
        r.protocol ?? '',
        r.gallerySize === undefined ? '' : String(r.gallerySize),
        String(r.synthetic),
        r.model,
        r.features,
        r.configuration,
        String(r.reference),
        r.metric,
        def ? (def.ranked ? def.direction : 'none') : '',
        String(c.n),
        num(c.mean),
        num(c.std),
        num(c.ciLow),
        num(c.ciHigh),
        c.ciTruncated ? `${c.ciMethod} (cut at the metric's range)` : c.ciMethod,
        String(c.best),
        c.undefinedFor !== undefined ? `k >= gallery ${c.undefinedFor}` : '',
        r.seeds.filter(Number.isFinite).join(' '),
      ]
        .map(csvField)
        .join(','),
    );
  }
  return lines.join('\n');
}
