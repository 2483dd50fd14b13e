/**
 * The experiment front end of the sweep engine (`vmr experiment run FILE`, `vmr quickstart`): after the
 * sweep, the oracle reference rows on every synthetic evaluation dataset, Tables 1 and 2 of exactly this
 * expansion's training runs (plus those reference rows), the λ sections' R@1-vs-AV-Align fronts, the
 * verdict computed from the numbers, and the HTML report beside the store — all built from the run
 * store by the evaluator's and the sweep report's functions.
 */
import * as path from 'path';
import { errorMessage } from '@vmr/core';
import { ORACLE_KINDS } from '@vmr/data';
import { buildVerdict, evaluateOracle, formatTables, writeHtmlReport, type OracleEvalResult } from '@vmr/evaluator';
import { openDataset } from '@vmr/pipeline';
import { SqliteTracker, buildResultTables, formatLambdaRatio, formatNumber, lambdaRatio, reportSourceOf, resolveTrackingUri, withReportSource, type CellStats, type ResultTable } from '@vmr/tracking';
import type { SweepRunResult } from './coordinator';
import { buildSweepReport, paretoFront } from './report';
import type { SweepSpec } from './spec';

/** One λ setting of a sweep section on one evaluation dataset: over seeds. */
export interface FrontPoint {
  label: string;
  /** λ1 = λ2 over λ3–λ6 (Infinity: λ3–λ6 = 0; JSON writes that as null, so see ratioLabel). */
  ratio: number | null;
  /** The ratio as printed (`∞ (λ3–λ6 = 0)` for λ3–λ6 = 0). */
  ratioLabel: string;
  n: number;
  r1?: CellStats;
  avAlign?: CellStats;
  onFront: boolean;
}

/** A λ section's R@1-vs-AV-Align front on one evaluation dataset. */
export interface LambdaFront {
  section: string;
  dataset: string;
  x: string;
  y: string;
  gallery?: number;
  points: FrontPoint[];
}

export interface ExperimentRunResult extends SweepRunResult {
  file: string;
  tables: ResultTable[];
  /** Oracle reference rows evaluated (or reused) for the synthetic evaluation datasets. */
  oracles: Array<Pick<OracleEvalResult, 'evalRunId' | 'oracle' | 'reused' | 'split'> & { dataset: string }>;
  fronts: LambdaFront[];
  verdict: string[];
  html?: { out: string; bytes: number };
  /** What could not be produced (and why): printed, never silent. */
  notes: string[];
  seconds: number;
}

export type ExperimentExtras = Pick<ExperimentRunResult, 'tables' | 'oracles' | 'fronts' | 'verdict' | 'html' | 'notes'>;


function isSynthetic(dir: string): boolean {
  try {
    return openDataset(dir).manifest.kind === 'synthetic';
  } catch {
    return false;
  }
}

/** The configurations of a λ section (its trials, aliases counted as their canonical trial) on each evaluation dataset. */
async function lambdaFronts(t: SqliteTracker, spec: SweepSpec, r: SweepRunResult): Promise<LambdaFront[]> {
  const out: LambdaFront[] = [];
  const byKey = new Map(r.trialList.map((x) => [x.key, x]));
  for (const sec of spec.sweeps ?? []) {
    const runIds = new Set(
      r.trialList
        .filter((x) => x.section === sec.name)
        .map((x) => (x.aliasOf ? byKey.get(x.aliasOf)?.runId : x.runId))
        .filter((x): x is string => !!x),
    );
    if (runIds.size === 0) continue;
    for (const e of spec.evaluate) {
      const x = `eval.${e.name}.r1`;
      const y = `eval.${e.name}.avAlign`;
      let rep;
      try {
        rep = await buildSweepReport(t, r.sweepId, { x, y });
      } catch {
        continue; // e.g. no trial has the metric yet
      }
      // The section's settings, plus any trial elsewhere with one of its configurations but another λ (a
      // section point identical to a top-level trial is that trial: expanded once).
      const withoutLambda = (c: Record<string, string>) => JSON.stringify(Object.entries(c).filter(([k]) => k !== 'λ').sort());
      const bases = new Set(rep.trials.filter((x) => runIds.has(x.runId)).map((x) => withoutLambda(x.config)));
      const cs = rep.configurations.filter((c) => c.n > 0 && c.config['λ'] !== undefined && bases.has(withoutLambda(c.config)));
      const pts = cs.map((c) => ({ x: c.cells[x]?.mean ?? NaN, y: c.cells[y]?.mean ?? NaN }));
      const ok = pts.map((p, i) => (Number.isFinite(p.x) && Number.isFinite(p.y) ? i : -1)).filter((i) => i >= 0);
      const front = new Set(paretoFront(ok.map((i) => pts[i])).map((j) => ok[j]));
      const points: FrontPoint[] = cs.map((c, i) => ({ label: c.label, ratio: lambdaRatio(c.config), ratioLabel: formatLambdaRatio(lambdaRatio(c.config)), n: c.n, r1: c.cells[x], avAlign: c.cells[y], onFront: front.has(i) }));
      points.sort((a, b) => (a.ratio ?? NaN) - (b.ratio ?? NaN));
      out.push({ section: sec.name, dataset: e.name, x, y, gallery: rep.galleries[e.name], points });
    }
  }
  return out;
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

/**
 * Everything after the trials: oracle reference rows on the synthetic evaluation datasets (reused when
 * already in the store), the tables (this expansion's training runs + those rows), the λ fronts, the
 * verdict, and the HTML report written beside the store (`<store dir>/<experiment>.html`). Needs the
 * local store file; with a tracking server only the notes say why nothing was built.
 */
export async function experimentExtras(spec: SweepSpec, r: SweepRunResult, src: { store?: string; trackingUri?: string }, opts: { quiet?: boolean; html?: boolean } = {}): Promise<ExperimentExtras> {
  const res: ExperimentExtras = { tables: [], oracles: [], fronts: [], verdict: [], notes: [] };
  const uri = resolveTrackingUri(src);
  if (r.interrupted) {
    res.notes.push('interrupted: oracle rows, λ fronts, verdict and HTML report are made when the run is resumed and finishes');
    return res;
  }
  if (/^https?:\/\//.test(uri)) {
    res.tables = await experimentTables(r, src);
    res.notes.push(`oracle rows, λ fronts, verdict and HTML report are made beside a local store; with ${uri}, run vmr eval --oracle / vmr report verdict / vmr report html --tracking-uri ${uri}`);
    return res;
  }
  const t = new SqliteTracker(uri, { reapStaleRuns: false, heartbeatIntervalMs: 0 });
  try {
    const oracleIds = new Set<string>();
    for (const e of spec.evaluate) {
      if (!isSynthetic(e.dataset)) continue;
      for (const kind of ORACLE_KINDS) {
        try {
          const o = await evaluateOracle(kind, e.dataset, {
            tracker: t,
            experiment: r.experiment,
            ...(e.split ? { split: e.split as never } : {}),
            ...(e.table ? { table: e.table } : {}),
            segmentation: (spec.baseConfig.segmentation ?? {}) as never,
            progress: !opts.quiet,
          });
          oracleIds.add(o.evalRunId);
          res.oracles.push({ evalRunId: o.evalRunId, oracle: o.oracle, reused: o.reused, split: o.split, dataset: e.name });
        } catch (err) {
          res.notes.push(`oracle-${kind} on ${e.name}: ${errorMessage(err)}`);
        }
      }
    }
    const ids = new Set(r.trialList.map((x) => x.trainRunId).filter((x): x is string => !!x));
    if (ids.size > 0 || oracleIds.size > 0) {
      const rows = (await reportSourceOf(t).evalRows({ experiment: r.experiment })).filter((row) => ids.has(row.trainRunId) || oracleIds.has(row.evalRunId));
      res.tables = buildResultTables(rows);
    }
    if (r.finished > 0) {
      res.fronts = await lambdaFronts(t, spec, r);
      try {
        res.verdict = (await buildVerdict(reportSourceOf(t), r.experiment)).lines;
      } catch (err) {
        res.notes.push(`verdict: ${errorMessage(err)}`);
      }
      if (opts.html !== false) {
        const out = path.join(path.dirname(uri), `${r.experiment}.html`);
        try {
          const h = await writeHtmlReport(out, { experiment: r.experiment }, { tracker: t });
          res.html = { out: h.out, bytes: h.bytes };
        } catch (err) {
          res.notes.push(`HTML report ${out}: ${errorMessage(err)}`);
        }
      }
    }
  } finally {
    await t.close();
  }
  return res;
}

function formatSeconds(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`;
}

const cell = (c: CellStats | undefined) => (c && Number.isFinite(c.mean) ? `${formatNumber(c.mean)}${Number.isFinite(c.ciLow) ? ` [${formatNumber(c.ciLow)}, ${formatNumber(c.ciHigh)}]` : ''}` : '—');

/** A λ front as a markdown table. */
export function formatFront(f: LambdaFront): string {
  const lines = [
    `### λ sweep '${f.section}' on ${f.dataset}${f.gallery ? ` (gallery ${f.gallery})` : ''}: Recall@1 vs AV-Align, mean over seeds [95 % t-interval]`,
    '',
    '| λ1=λ2 : λ3–λ6 | configuration | n | R@1 | AV-Align | Pareto front |',
    '|---|---|---|---|---|---|',
    ...f.points.map((p) => `| ${p.ratioLabel} | ${p.label} | ${p.n} | ${cell(p.r1)} | ${cell(p.avAlign)} | ${p.onFront ? '★' : ''} |`),
  ];
  return lines.join('\n');
}

/** Human summary of an experiment: trials, tables (with reference rows), λ fronts, verdict, where the HTML is. */
export function formatExperimentResult(r: ExperimentRunResult): string {
  const lines: string[] = [];
  const reused = r.skipped;
  lines.push(
    `experiment ${r.experiment}: ${r.finished}/${r.trials} trials finished` +
      `${reused ? ` (${reused} reused from the store)` : ''}${r.aliases ? `, ${r.aliases} λ aliases` : ''}${r.datasetsGenerated.length ? `, ${r.datasetsGenerated.length} synthetic dataset(s) generated` : ''} in ${formatSeconds(r.seconds)} (code ${/^[0-9a-f]{40}/.test(r.codeVersion) ? r.codeVersion.slice(0, 12) + r.codeVersion.slice(40) : r.codeVersion})`,
  );
  for (const t of r.trialList) if (t.status !== 'finished') lines.push(`  ${t.status}: ${t.label}${t.runId ? ` (trial run ${t.runId.slice(0, 8)})` : ''}`);
  if (r.oracles.length) {
    const reusedO = r.oracles.filter((o) => o.reused).length;
    lines.push(`  reference rows: ${r.oracles.map((o) => `oracle-${o.oracle} on ${o.dataset} (${o.split})`).join(', ')}${reusedO ? ` — ${reusedO} reused from the store` : ''}`);
  }
  lines.push('');
  lines.push(r.tables.length ? formatTables(r.tables, 'markdown') : '(no evaluations to tabulate)');
  for (const f of r.fronts) lines.push('', formatFront(f));
  if (r.verdict.length) lines.push('', '### Verdict (computed from the numbers above; paired bootstrap over queries and seeds, 95 % intervals)', '', ...r.verdict);
  if (r.notes.length) lines.push('', ...r.notes.map((n) => `note: ${n}`));
  if (r.html) lines.push('', `HTML report: ${r.html.out} (${(r.html.bytes / 1024).toFixed(0)} KiB)`);
  lines.push('', `reprint: vmr report tables -e ${r.experiment}   ·   verdict: vmr report verdict -e ${r.experiment}   ·   sweep: vmr report sweep ${r.name}   ·   trials: vmr sweep status ${r.name}`);
  return lines.join('\n');
}
