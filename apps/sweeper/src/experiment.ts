/**
 * The experiment front end of the sweep engine (`vmr experiment run FILE`, `vmr quickstart`): after the
 * sweep, Tables 1 and 2 of exactly this expansion's training runs, built from the run store by the
 * evaluator's report functions.
 */
import { formatTables } from '@vmr/evaluator';
import { buildResultTables, withReportSource, type ResultTable } from '@vmr/tracking';
import type { SweepRunResult } from './coordinator';

export interface ExperimentRunResult extends SweepRunResult {
  file: string;
  tables: ResultTable[];
  seconds: number;
}

/**
 * Tables of the sweep's current trials (their training runs' finished evaluations; an alias trial shares
 * its canonical trial's run, counted once), from the local store or the tracking server the sweep
 * logged to. Empty when nothing was evaluated.
 */
export async function experimentTables(r: SweepRunResult, src: { store?: string; trackingUri?: string }): Promise<ResultTable[]> {
  const ids = [...new Set(r.trialList.map((t) => t.trainRunId).filter((x): x is string => !!x))];
  if (ids.length === 0) return [];
  return withReportSource(src, async (t) => buildResultTables(await t.evalRows({ experiment: r.experiment, trainRunIds: ids })));
}

function formatSeconds(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`;
}

/** Human summary of an experiment: trials, then the tables. */
export function formatExperimentResult(r: ExperimentRunResult): string {
  const lines: string[] = [];
  const reused = r.skipped;
  lines.push(
    `experiment ${r.experiment}: ${r.finished}/${r.trials} trials finished` +
      `${reused ? ` (${reused} reused from the store)` : ''}${r.aliases ? `, ${r.aliases} λ aliases` : ''}${r.datasetsGenerated.length ? `, ${r.datasetsGenerated.length} synthetic dataset(s) generated` : ''} in ${formatSeconds(r.seconds)} (code ${r.codeVersion.slice(0, 16)})`,
  );
  for (const t of r.trialList) if (t.status !== 'finished') lines.push(`  ${t.status}: ${t.label}${t.runId ? ` (trial run ${t.runId.slice(0, 8)})` : ''}`);
  lines.push('');
  lines.push(r.tables.length ? formatTables(r.tables, 'markdown') : '(no evaluations to tabulate)');
  lines.push('', `reprint: vmr report tables -e ${r.experiment}   ·   compare: vmr report compare --by features -e ${r.experiment}   ·   trials: vmr sweep status ${r.name}`);
  return lines.join('\n');
}
