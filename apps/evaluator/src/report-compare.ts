/**
 * `vmr report compare A B`: the difference of every metric between two configurations evaluated on the
 * same gallery, with a paired bootstrap interval over queries (and seeds), recomputed from each
 * evaluation's per-query results artifact. FAD is a set statistic: its difference gets an interval over
 * seeds only (a bootstrap of the seed means), none with one seed per side.
 */
import * as fs from 'fs';
import { InvalidArgumentError, NotFoundError } from '@vmr/core';
import {
  METRICS,
  aggregateEvalRows,
  canonicalLambdas,
  configurationLabel,
  csvField,
  differingKeys,
  evalContext,
  latestPerTrainRun,
  pairedBootstrap,
  bootstrapQueries,
  markBest,
  type AggregatedGroup,
  type CellStats,
  type ResultTable,
  type EvalRow,
  type MetricDef,
  type ReportSource,
} from '@vmr/tracking';
import { PER_QUERY_ARTIFACT } from './evaluate';

/** What an evaluation stored per query (retrieval.json). */
export interface PerQueryResults {
  clips: string[];
  ranks: number[];
  ranksInClipOrder: boolean;
  avAlign: number[] | null;
  avAlignGot: number[] | null;
}

export async function readPerQuery(tracker: ReportSource, row: EvalRow): Promise<PerQueryResults | null> {
  let file: string;
  try {
    file = await tracker.artifactFile(row.evalRunId, PER_QUERY_ARTIFACT);
  } catch {
    return null;
  }
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<PerQueryResults> & { clips?: string[]; ranks?: number[] };
  if (!Array.isArray(j.clips) || !Array.isArray(j.ranks)) return null;
  const inOrder = j.ranksInClipOrder ?? (row.retrievalProtocol === 'full' && j.ranks.length === j.clips.length);
  return { clips: j.clips, ranks: j.ranks, ranksInClipOrder: inOrder, avAlign: j.avAlign ?? null, avAlignGot: j.avAlignGot ?? null };
}

/** Per-query values of a metric (R@k as 0/1 hits, ranks, AV-Align), or null when not recoverable. */
export function perQueryValues(p: PerQueryResults, m: MetricDef): number[] | null {
  if (m.key === 'avAlign') return p.avAlign;
  if (m.key === 'avAlignGot') return p.avAlignGot;
  if (!p.ranksInClipOrder) return null;
  if (m.k !== undefined) return p.ranks.map((r) => (r <= m.k! ? 1 : 0));
  if (m.key === 'medianRank' || m.key === 'meanRank') return p.ranks;
  return null;
}

export interface PairedDifference {
  metric: string;
  label: string;
  direction: 'higher' | 'lower';
  /** mean(A) − mean(B) over seeds. */
  diff: number;
  low: number;
  high: number;
  method: 'paired bootstrap over queries and seeds' | 'bootstrap over seeds (set statistic)' | 'none';
  /** The interval contains 0: the two configurations are not distinguishable on this metric. */
  distinguishable: boolean | null;
  /** Which side the difference favours (direction-aware), when distinguishable. */
  favours: 'A' | 'B' | null;
  note?: string;
}

export interface PairComparison {
  context: { evalDataset: string; split: string; direction: string; protocol: string; gallerySize: number | undefined; queries: number };
  a: { label: string; config: Record<string, string>; seeds: number[]; n: number };
  b: { label: string; config: Record<string, string>; seeds: number[]; n: number };
  seedPairing: 'paired' | 'independent';
  resamples: number;
  differences: PairedDifference[];
  synthetic: boolean;
}

const COMPARED = ['avAlignGot', 'avAlign', 'fad', 'r1', 'r5', 'r10', 'medianRank', 'meanRank'];

/** A selector: a run id / prefix (its configuration), or `key=value[,key=value…]` over configuration keys (`model=of-vm-net,features=clip,λ=1:1:1:1:1:1`). */
export function matchesSelector(g: AggregatedGroup<EvalRow>, sel: string): boolean {
  if (/=/.test(sel)) {
    return sel.split(',').every((kv) => {
      const [k, ...rest] = kv.split('=');
      const key = k.trim() === 'lambda' ? 'λ' : k.trim();
      let value = rest.join('=').trim();
      // λ may be given un-normalised (2:2:1:1:1:1): compare canonical forms
      if (key === 'λ') {
        const v = value.split(':').map(Number);
        if (v.length === 6 && v.every(Number.isFinite)) value = canonicalLambdas(v);
      }
      return g.config[key] === value;
    });
  }
  return g.members.some((r) => r.trainRunId.startsWith(sel) || r.evalRunId.startsWith(sel));
}

/** Paired differences for one pair of configuration groups in one evaluation context. */
export async function pairedDifferences(tracker: ReportSource, A: AggregatedGroup<EvalRow>, B: AggregatedGroup<EvalRow>, options: { seed?: number; resamples?: number } = {}): Promise<PairComparison> {
  const load = async (g: AggregatedGroup<EvalRow>) => Promise.all(g.members.map(async (r) => ({ row: r, pq: await readPerQuery(tracker, r) })));
  const la = await load(A);
  const lb = await load(B);
  const clipsOf = (x: { pq: PerQueryResults | null }) => x.pq?.clips.join('\u0000');
  const ref = clipsOf(la[0]) ?? clipsOf(lb[0]);
  const sameGallery = [...la, ...lb].every((x) => x.pq !== null && clipsOf(x) === ref);
  const resamples = options.resamples ?? 2000;
  let pairing: 'paired' | 'independent' = 'independent';
  const differences: PairedDifference[] = [];
  for (const key of COMPARED) {
    const def = METRICS.find((m) => m.key === key)!;
    const va = la.map((x) => x.row.metrics[key as keyof EvalRow['metrics']]);
    const vb = lb.map((x) => x.row.metrics[key as keyof EvalRow['metrics']]);
    if (va.some((v) => v === undefined) || vb.some((v) => v === undefined) || !va.length) {
      const undefinedFor = A.cells[key]?.undefinedFor ?? B.cells[key]?.undefinedFor;
      if (undefinedFor !== undefined) differences.push({ metric: key, label: def.label, direction: def.direction, diff: NaN, low: NaN, high: NaN, method: 'none', distinguishable: null, favours: null, note: `not reported: k ≥ gallery ${undefinedFor}` });
      continue;
    }
    const seedsA = la.map((x) => x.row.seed ?? NaN);
    const seedsB = lb.map((x) => x.row.seed ?? NaN);
    let res: { estimate: number; low: number; high: number } | null = null;
    let method: PairedDifference['method'] = 'none';
    let note: string | undefined;
    if (def.perQuery && sameGallery) {
      const qa = la.map((x) => perQueryValues(x.pq!, def));
      const qb = lb.map((x) => perQueryValues(x.pq!, def));
      if (qa.every((q) => q) && qb.every((q) => q)) {
        const p = pairedBootstrap({ a: qa as number[][], b: qb as number[][], seedsA, seedsB }, def.perQuery, { seed: options.seed ?? 0, resamples });
        pairing = p.seedPairing;
        res = p;
        method = 'paired bootstrap over queries and seeds';
      } else note = 'per-query values not stored (batch-128 protocol or an older evaluation)';
    } else if (!def.perQuery) {
      if (la.length >= 2 && lb.length >= 2) {
        const p = pairedBootstrap({ a: va.map((v) => [v as number]), b: vb.map((v) => [v as number]), seedsA, seedsB }, 'mean', { seed: options.seed ?? 0, resamples });
        res = p;
        method = 'bootstrap over seeds (set statistic)';
      } else note = 'set statistic: no per-query interval, and one seed on a side gives no interval over seeds';
    } else note = 'the two configurations were not evaluated on the same gallery (or per-query results are missing)';
    const mean = (xs: Array<number | undefined>) => xs.reduce((s: number, x) => s + (x as number), 0) / xs.length;
    const diff = res ? res.estimate : mean(va) - mean(vb);
    const low = res ? res.low : NaN;
    const high = res ? res.high : NaN;
    const known = Number.isFinite(low);
    const distinguishable = known ? !(low <= 0 && high >= 0) : null;
    const favours = distinguishable ? ((diff > 0) === (def.direction === 'higher') ? 'A' : 'B') : null;
    differences.push({ metric: key, label: def.label, direction: def.direction, diff, low, high, method, distinguishable, favours, ...(note ? { note } : {}) });
  }
  const m = A.members[0];
  return {
    context: { evalDataset: m.evalDataset, split: m.split, direction: m.direction, protocol: `${m.evalProtocol}/${m.retrievalProtocol}`, gallerySize: m.metrics.gallerySize, queries: la[0].pq?.clips.length ?? 0 },
    a: { label: '', config: A.config, seeds: A.seeds, n: A.n },
    b: { label: '', config: B.config, seeds: B.seeds, n: B.n },
    seedPairing: pairing,
    resamples,
    differences,
    synthetic: [...A.members, ...B.members].some((r) => r.synthetic),
  };
}

/** Resolve selectors A and B to one configuration each per evaluation context and compare them. */
export async function compareConfigurations(tracker: ReportSource, selA: string, selB: string, options: { experiment?: string | string[]; seed?: number; resamples?: number } = {}): Promise<PairComparison[]> {
  const rows = latestPerTrainRun(await tracker.evalRows(options.experiment ? { experiment: options.experiment } : {}));
  if (rows.length === 0) throw new NotFoundError(`no finished evaluations${options.experiment ? ` in experiment ${String(options.experiment)}` : ''} in ${tracker.location}`);
  const groups = aggregateEvalRows(rows, COMPARED);
  const byContext = new Map<string, Array<AggregatedGroup<EvalRow>>>();
  for (const g of groups) {
    const c = evalContext(g.members[0]);
    byContext.set(c, [...(byContext.get(c) ?? []), g]);
  }
  const out: PairComparison[] = [];
  for (const [, gs] of byContext) {
    const as = gs.filter((g) => matchesSelector(g, selA));
    const bs = gs.filter((g) => matchesSelector(g, selB));
    if (as.length === 0 || bs.length === 0) continue;
    for (const [sel, xs] of [[selA, as], [selB, bs]] as const) {
      if (xs.length > 1) {
        const keys = differingKeys(xs.map((x) => x.config));
        throw new InvalidArgumentError(`'${sel}' matches ${xs.length} configurations on ${xs[0].members[0].evalDataset}, differing in ${keys.join(', ')} (${xs.map((x) => configurationLabel(x.config, keys)).join(' | ')}); add those keys to the selector, e.g. '${sel.includes('=') ? sel + ',' : ''}${keys[0]}=${xs[0].config[keys[0]]}'`);
      }
    }
    if (as[0] === bs[0]) throw new InvalidArgumentError(`'${selA}' and '${selB}' select the same configuration`);
    const pc = await pairedDifferences(tracker, as[0], bs[0], options);
    const keys = differingKeys([as[0].config, bs[0].config]);
    pc.a.label = configurationLabel(as[0].config, keys);
    pc.b.label = configurationLabel(bs[0].config, keys);
    out.push(pc);
  }
  if (out.length === 0) throw new NotFoundError(`no evaluation context (dataset, split, direction, protocol) has evaluations of both '${selA}' and '${selB}'; selectors are a run id prefix or key=value[,key=value] over configuration keys (model, features, λ, dataset.name, lr, …)`);
  return out;
}

/** Tidy CSV of paired differences: one row per context × metric. */
export function pairComparisonsCsv(cs: readonly PairComparison[]): string {
  const head = ['eval_dataset', 'split', 'direction', 'protocol', 'gallery_size', 'queries', 'a', 'b', 'n_a', 'n_b', 'seed_pairing', 'metric', 'diff', 'ci_low', 'ci_high', 'method', 'distinguishable', 'favours'];
  const num = (x: number) => (Number.isFinite(x) ? String(x) : '');
  const lines = [head.join(',')];
  for (const c of cs) {
    for (const d of c.differences) {
      lines.push(
        [c.context.evalDataset, c.context.split, c.context.direction, c.context.protocol, String(c.context.gallerySize ?? ''), String(c.context.queries), c.a.label, c.b.label, String(c.a.n), String(c.b.n), c.seedPairing, d.metric, num(d.diff), num(d.low), num(d.high), d.method, d.distinguishable === null ? '' : String(d.distinguishable), d.favours ?? '']
          .map(csvField)
          .join(','),
      );
    }
  }
  return lines.join('\n');
}

const signed = (x: number, d = 3) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(d)}` : '—');

/** Human lines for paired comparisons. */
export function formatPairComparisons(cs: readonly PairComparison[]): string {
  const out: string[] = [];
  for (const c of cs) {
    out.push(`A = ${c.a.label} (n = ${c.a.n}, seeds ${c.a.seeds.join(', ')})`, `B = ${c.b.label} (n = ${c.b.n}, seeds ${c.b.seeds.join(', ')})`);
    out.push(`on ${c.context.evalDataset} (${c.context.split} split, ${c.context.direction}, ${c.context.protocol}), gallery ${c.context.gallerySize ?? '?'}, ${c.context.queries} queries; seeds ${c.seedPairing}; ${c.resamples} resamples; 95 % intervals${c.synthetic ? '; SYNTHETIC data' : ''}`);
    for (const d of c.differences) {
      const def = METRICS.find((m) => m.key === d.metric)!;
      const iv = Number.isFinite(d.low) ? ` [${signed(d.low, def.digits)}, ${signed(d.high, def.digits)}]` : '';
      const verdict = d.distinguishable === null ? (d.note ? ` — ${d.note}` : '') : d.distinguishable ? ` — ${d.favours} better (${d.direction} is better)` : ' — not distinguishable (interval contains 0)';
      out.push(`  A − B ${d.label.padEnd(14)} = ${signed(d.diff, def.digits)}${iv}${verdict}`);
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}

/**
 * For rows of a single run (n = 1: no interval over seeds), a 95 % percentile bootstrap interval over
 * the run's queries for every metric its per-query results give (not FAD: a set statistic); best
 * marks are then recomputed with these intervals.
 */
export async function attachQueryIntervals(tracker: ReportSource, tables: ResultTable[], evalRows: readonly EvalRow[], options: { seed?: number; resamples?: number } = {}): Promise<ResultTable[]> {
  const rows = new Map(evalRows.map((r) => [r.evalRunId, r]));
  for (const t of tables) {
    let attached = false;
    for (const row of t.rows) {
      if (row.runs !== 1 || row.evalRunIds.length !== 1) continue;
      const er = rows.get(row.evalRunIds[0]);
      const pq = er ? await readPerQuery(tracker, er) : null;
      if (!pq) continue;
      for (const c of t.columns) {
        const cell = row.cells[c.key];
        const def = METRICS.find((m) => m.key === c.key);
        if (!cell || cell.n !== 1 || !def?.perQuery || cell.undefinedFor !== undefined) continue;
        const vals = perQueryValues(pq, def);
        if (!vals || vals.length < 2) continue;
        const iv = bootstrapQueries(vals, def.perQuery, { seed: options.seed ?? 0, resamples: options.resamples ?? 1000 });
        cell.ciLow = iv.low;
        cell.ciHigh = iv.high;
        cell.ciMethod = 'bootstrap-over-queries';
        attached = true;
      }
    }
    if (attached) {
      markBest(t.rows.map((r) => ({ cells: r.cells as Record<string, CellStats>, reference: r.reference })), t.columns.map((c) => c.key));
      t.flags.push('Rows with n = 1: the interval is a 95 % bootstrap over the run\'s queries (query sampling only, not seed variation).');
    }
  }
  return tables;
}
