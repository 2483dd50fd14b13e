import Table from 'cli-table3';
import type { RunDetail, RunInfo } from './types';

export function formatTime(ms: number | null): string {
  if (ms === null) return '-';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function formatDuration(start: number, end: number | null): string {
  const s = Math.round(((end ?? Date.now()) - start) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Inf' : '-Inf';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : v.toFixed(4);
}

function table(head: string[]): Table.Table {
  return new Table({
    head,
    style: { head: [], border: [] },
    wordWrap: true,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
}

export function runsTable(runs: RunInfo[], metrics: Map<string, Record<string, number>>, metricKeys: string[]): string {
  if (runs.length === 0) return '(no runs)';
  const t = table(['id', 'experiment', 'name', 'status', 'started', 'duration', ...metricKeys]);
  for (const r of runs) {
    const m = metrics.get(r.id) ?? {};
    t.push([r.id.slice(0, 8), r.experimentName, r.name, r.status, formatTime(r.startTime), formatDuration(r.startTime, r.endTime), ...metricKeys.map((k) => (k in m ? formatNumber(m[k]) : ''))]);
  }
  return t.toString();
}

export function runDetailText(run: RunDetail): string {
  const lines: string[] = [];
  lines.push(`run ${run.id}  (${run.name})`);
  const info = table(['field', 'value']);
  info.push(
    ['experiment', run.experimentName],
    ['status', run.status + (run.failureReason ? ` (${run.failureReason})` : '')],
    ['parent', run.parentId ?? '-'],
    ['started', formatTime(run.startTime)],
    ['ended', formatTime(run.endTime)],
    ['duration', formatDuration(run.startTime, run.endTime)],
    ['git', run.gitCommit ? `${run.gitCommit.slice(0, 12)}${run.gitDirty ? ' (dirty)' : ''}` : '-'],
    ['host / pid', `${run.host} / ${run.pid}`],
    ['command', run.command],
    ['node', run.nodeVersion],
    ['seed', run.seed === null ? '-' : String(run.seed)],
    ['backend', run.backend ?? '-'],
    ['protocol', run.protocol ?? '-'],
  );
  lines.push(info.toString());
  const sections: [string, [string, string][]][] = [
    ['params', Object.entries(run.params)],
    ['tags', Object.entries(run.tags)],
    ['metrics (latest)', Object.values(run.metrics).map((m) => [m.key, `${formatNumber(m.value)}  (step ${m.step})`])],
    ['artifacts', run.artifacts.map((a) => [a.path, `${a.size} B  sha256 ${a.sha256.slice(0, 12)}`])],
  ];
  for (const [title, rows] of sections) {
    if (rows.length === 0) continue;
    const t = table([title, 'value']);
    for (const r of rows) t.push(r);
    lines.push(t.toString());
  }
  return lines.join('\n');
}

/** Side-by-side params and latest metrics; rows whose values differ are marked with `*`. */
export function compareTable(runs: RunDetail[]): string {
  const t = table(['', 'key', ...runs.map((r) => `${r.id.slice(0, 8)} ${r.name}`)]);
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  for (const k of paramKeys) {
    const vals = runs.map((r) => r.params[k] ?? '');
    t.push([new Set(vals).size > 1 ? '*' : '', `param ${k}`, ...vals]);
  }
  for (const k of metricKeys) {
    const vals = runs.map((r) => (k in r.metrics ? formatNumber(r.metrics[k].value) : ''));
    t.push([new Set(vals).size > 1 ? '*' : '', `metric ${k}`, ...vals]);
  }
  return t.toString();
}
