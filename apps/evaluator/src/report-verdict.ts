/**
 * `vmr report verdict -e NAME`: short conclusions computed from the store's numbers, for the end of the
 * quickstart. Per evaluation context and feature extractor: does OF-VM-Net beat VM-Net on AV-Align and
 * does it lose on R@1 (paired bootstrap differences over queries and seeds; "not distinguishable" when
 * the interval contains 0), and across OF-VM-Net's λ settings, is there a trade-off between R@1 and
 * AV-Align (Pearson r across settings per seed, 95 % t-interval over seeds). Oracle / reference rows
 * are reported as references, never as competitors.
 */
import { NotFoundError } from '@vmr/core';
import {
  aggregateEvalRows,
  configurationKey,
  configurationLabel,
  differingKeys,
  evalContext,
  formatLambdaRatio,
  lambdaRatio,
  latestPerTrainRun,
  seedSummary,
  slopeAndCorrelation,
  type AggregatedGroup,
  type EvalRow,
  type ReportSource,
} from '@vmr/tracking';
import { pairedDifferences, type PairedDifference } from './report-compare';
import { featureLabel, modelLabel } from './report-format';

export interface VerdictComparison {
  context: string;
  features: string;
  ofConfig: string;
  vmConfig: string;
  nOf: number;
  nVm: number;
  avAlign: PairedDifference | null;
  r1: PairedDifference | null;
}

export interface VerdictTradeOff {
  context: string;
  features: string;
  settings: number;
  /** Seeds present in every setting (one r per seed). */
  seeds: number[];
  /** Pearson r between R@1 and AV-Align across λ settings, per seed. */
  perSeedR: number[];
  /** tanh of the mean Fisher z over seeds, and its 95 % t-interval (on z, mapped back). */
  r: number;
  rLow: number;
  rHigh: number;
  /** Slope of AV-Align on R@1 across settings (mean over seeds). */
  slope: number;
  verdict: 'trade-off' | 'no trade-off detected' | 'move together' | 'one seed: no interval' | 'too few settings';
}

export interface Verdict {
  experiment: string;
  comparisons: VerdictComparison[];
  tradeOffs: VerdictTradeOff[];
  references: Array<{ context: string; model: string; r1: number | undefined; avAlign: number | undefined; n: number }>;
  synthetic: boolean;
  lines: string[];
}

const DEFAULT_LAMBDA = '1:1:1:1:1:1';

function contextLabel(r: EvalRow): string {
  return `${r.evalDataset} (${r.split}, ${r.direction}, gallery ${r.metrics.gallerySize ?? '?'})`;
}

/** The configuration to speak for a model: the paper's λ = all ones when present, else the one with most seeds (ties: first by configuration key). */
function pick(gs: Array<AggregatedGroup<EvalRow>>): AggregatedGroup<EvalRow> | undefined {
  return gs.find((g) => g.config['λ'] === DEFAULT_LAMBDA) ?? [...gs].sort((a, b) => b.n - a.n || configurationKey(a.config).localeCompare(configurationKey(b.config)))[0];
}

/** A configuration's values on the keys that differ from its model's other configurations. */
function labelAmong(g: AggregatedGroup<EvalRow>, all: Array<AggregatedGroup<EvalRow>>): string {
  return configurationLabel(g.config, differingKeys(all.map((x) => x.config)));
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;

function diffText(d: PairedDifference | null, what: string): string {
  if (!d) return `${what}: not available`;
  if (!Number.isFinite(d.low)) return `${what} = ${signed(d.diff)} (no interval: ${d.note ?? 'not computable'})`;
  return `${what} = ${signed(d.diff)} [${signed(d.low)}, ${signed(d.high)}]`;
}

/** Build the verdict of an experiment from the store. */
export async function buildVerdict(tracker: ReportSource, experiment: string, options: { seed?: number; resamples?: number } = {}): Promise<Verdict> {
  const rows = latestPerTrainRun(await tracker.evalRows({ experiment }));
  if (rows.length === 0) throw new NotFoundError(`no finished evaluations in experiment '${experiment}' of ${tracker.location}; nothing to conclude`);
  const groups = aggregateEvalRows(rows, ['r1', 'avAlign', 'fad']);
  const byCtx = new Map<string, Array<AggregatedGroup<EvalRow>>>();
  for (const g of groups) byCtx.set(evalContext(g.members[0]), [...(byCtx.get(evalContext(g.members[0])) ?? []), g]);
  const comparisons: VerdictComparison[] = [];
  const tradeOffs: VerdictTradeOff[] = [];
  const references: Verdict['references'] = [];
  const lines: string[] = [];
  for (const [, gs] of byCtx) {
    const ctx = contextLabel(gs[0].members[0]);
    for (const ref of gs.filter((g) => g.reference)) references.push({ context: ctx, model: ref.members[0].model, r1: ref.cells.r1?.mean, avAlign: ref.cells.avAlign?.mean, n: ref.n });
    const features = [...new Set(gs.filter((g) => !g.reference).map((g) => g.members[0].features))].sort();
    for (const f of features) {
      const of = gs.filter((g) => !g.reference && g.members[0].model === 'of-vm-net' && g.members[0].features === f);
      const vm = gs.filter((g) => !g.reference && g.members[0].model === 'vm-net' && g.members[0].features === f);
      const a = pick(of);
      const b = pick(vm);
      if (a && b) {
        const pc = await pairedDifferences(tracker, a, b, options);
        const av = pc.differences.find((d) => d.metric === 'avAlign') ?? null;
        const r1 = pc.differences.find((d) => d.metric === 'r1') ?? null;
        comparisons.push({ context: ctx, features: f, ofConfig: labelAmong(a, of), vmConfig: labelAmong(b, vm), nOf: a.n, nVm: b.n, avAlign: av, r1 });
        const avWord = !av || av.distinguishable === null ? 'cannot tell' : !av.distinguishable ? 'not distinguishable' : av.favours === 'A' ? 'OF-VM-Net better' : 'VM-Net better';
        const r1Word = !r1 || r1.distinguishable === null ? 'cannot tell' : !r1.distinguishable ? 'not distinguishable' : r1.favours === 'A' ? 'OF-VM-Net better (no loss)' : 'OF-VM-Net loses';
        const la = labelAmong(a, of);
        const lb = labelAmong(b, vm);
        lines.push(`${featureLabel(f)} on ${ctx}: OF-VM-Net${la ? ` (${la})` : ''}, n = ${a.n} vs VM-Net${lb ? ` (${lb})` : ''}, n = ${b.n}${of.length > 1 || vm.length > 1 ? ` — of ${of.length} / ${vm.length} configurations; compare others with vmr report compare` : ''}`);
        lines.push(`  beats VM-Net on AV-Align? ${diffText(av, 'Δ AV-Align')} → ${avWord}`);
        lines.push(`  loses on R@1?             ${diffText(r1, 'Δ R@1')} → ${r1Word}`);
      }
      // trade-off across λ settings of OF-VM-Net (configurations differing only in λ)
      const settings = of.filter((g) => g.config['λ'] && lambdaRatio(g.config) !== null);
      if (settings.length >= 3) {
        const seedSets = settings.map((g) => new Set(g.members.map((m) => m.seed)));
        const seeds = [...seedSets[0]].filter((s): s is number => s !== null && seedSets.every((ss) => ss.has(s))).sort((x, y) => x - y);
        const perSeed = seeds.map((s) => {
          const pts = settings.map((g) => g.members.find((m) => m.seed === s)!.metrics);
          return slopeAndCorrelation(pts.map((p) => p.r1 ?? NaN), pts.map((p) => p.avAlign ?? NaN));
        });
        const rs = perSeed.map((p) => p.r).filter(Number.isFinite);
        // interval on Fisher's z = atanh(r) over seeds, mapped back with tanh (stays inside [−1, 1])
        const zs = seedSummary(rs.map((r) => Math.atanh(Math.max(-0.999999, Math.min(0.999999, r)))));
        const sum = { mean: Math.tanh(zs.mean), ciLow: Math.tanh(zs.ciLow), ciHigh: Math.tanh(zs.ciHigh) };
        const slope = perSeed.map((p) => p.slope).filter(Number.isFinite).reduce((x, y, _, arr) => x + y / arr.length, 0);
        const verdict: VerdictTradeOff['verdict'] = rs.length === 0 ? 'too few settings' : rs.length < 2 ? 'one seed: no interval' : sum.ciHigh < 0 ? 'trade-off' : sum.ciLow > 0 ? 'move together' : 'no trade-off detected';
        tradeOffs.push({ context: ctx, features: f, settings: settings.length, seeds, perSeedR: rs, r: sum.mean, rLow: sum.ciLow, rHigh: sum.ciHigh, slope, verdict });
        const iv = Number.isFinite(sum.ciLow) ? ` [${signed(sum.ciLow)}, ${signed(sum.ciHigh)}]` : '';
        lines.push(`  trade-off R@1 vs AV-Align over ${settings.length} λ settings (ratio ${settings.map((g) => formatLambdaRatio(lambdaRatio(g.config))).join(', ')}): r = ${Number.isFinite(sum.mean) ? signed(sum.mean) : '—'}${iv} over ${rs.length} seed(s) → ${verdict}`);
      }
    }
  }
  for (const r of references) lines.push(`reference (not a competitor): ${modelLabel(r.model)} on ${r.context}: R@1 ${r.r1?.toFixed(3) ?? '—'}, AV-Align ${r.avAlign?.toFixed(3) ?? '—'} (n = ${r.n})`);
  const synthetic = rows.some((r) => r.synthetic);
  if (lines.length === 0) lines.push(`experiment ${experiment}: no OF-VM-Net / VM-Net pair with the same features and evaluation to compare`);
  lines.push(`(paired bootstrap over queries and seeds, 95 % intervals; "not distinguishable" = the interval contains 0${synthetic ? '; SYNTHETIC data: these verdicts test the pipeline, not the paper' : ''})`);
  return { experiment, comparisons, tradeOffs, references, synthetic, lines };
}
