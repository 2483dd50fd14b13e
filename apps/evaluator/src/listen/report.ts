import * as fs from 'fs';
import { RUN_KIND_TAG, useTracker, type RunInfo, type Tracker, type TrackerReader } from '@vmr/tracking';
import { LISTEN_KIND, LISTEN_TEST_ARTIFACT, judgmentsFromParams, type Judgment } from './session';
import { cohenKappa, fleissKappa, pearson, wilsonInterval, type Correlation, type Interval, type KappaResult } from './stats';
import type { ListeningTest, SystemName } from './test-set';

export interface PreferenceRate {
  /** Judgments whose chosen track was this system's pick. */
  chosen: number;
  /** Judgments that could choose it (every judgment). */
  n: number;
  rate: number;
  /** 95 % Wilson score interval over judgments. */
  ci95: Interval;
  /** Mean optional 1–5 rating when this system's pick was chosen (null: no ratings). */
  meanRating: number | null;
  ratings: number;
}

export interface ListeningSummary {
  runId: string;
  name: string;
  status: string;
  experiment: string;
  runs: { A: string; B: string };
  gallery: ListeningTest['gallery'];
  truth: boolean;
  items: number;
  raters: string[];
  judgments: number;
  /** Items judged by at least one rater. */
  itemsJudged: number;
  /** Per system: share of all judgments whose choice was that system's pick. */
  systems: Partial<Record<SystemName, PreferenceRate>>;
  /** A over B: among judgments that chose A's pick or B's pick but not both, the share for A. */
  aOverB: { k: number; n: number; rate: number; ci95: Interval };
  /** Agreement between raters on the chosen system(s): Fleiss' κ over items (≥ 2 ratings), Cohen's κ per rater pair. */
  agreement: { fleiss: KappaResult; cohen: Array<{ raters: [string, string]; kappa: KappaResult }> };
  /**
   * Judgment-level correlation of human preference (+1 chose A's pick, −1 chose B's) with the pair's
   * differences (A's pick − B's pick): AV-Align, similarity under model A, similarity under model B.
   */
  correlation: { avAlign: Correlation; similarityA: Correlation; similarityB: Correlation };
  intervalMethod: string;
}

const INTERVAL_METHOD = 'Wilson score 95 % over judgments (judgments of one item by different raters are treated as independent)';

/** Summarise one listening-test run from its stored judgments and test definition. */
export function summariseListening(run: { id: string; name: string; status: string; experimentName: string }, test: ListeningTest, judgments: Judgment[]): ListeningSummary {
  const systems: SystemName[] = test.truth ? ['A', 'B', 'truth'] : ['A', 'B'];
  const n = judgments.length;
  const rates: ListeningSummary['systems'] = {};
  for (const s of systems) {
    const chosen = judgments.filter((j) => j.chosenSystems.includes(s));
    const rated = chosen.filter((j) => j.rating !== undefined);
    rates[s] = {
      chosen: chosen.length,
      n,
      rate: n ? chosen.length / n : NaN,
      ci95: wilsonInterval(chosen.length, n),
      meanRating: rated.length ? rated.reduce((a, j) => a + j.rating!, 0) / rated.length : null,
      ratings: rated.length,
    };
  }
  const ab = judgments.filter((j) => j.chosenSystems.includes('A') !== j.chosenSystems.includes('B'));
  const kA = ab.filter((j) => j.chosenSystems.includes('A')).length;
  const label = (j: Judgment) => [...j.chosenSystems].sort().join('+');
  // Fleiss over items: categories = the chosen system set
  const cats = [...new Set(judgments.map(label))].sort();
  const byItem = new Map<number, Judgment[]>();
  for (const j of judgments) byItem.set(j.item, [...(byItem.get(j.item) ?? []), j]);
  const table = [...byItem.values()].map((js) => cats.map((c) => js.filter((j) => label(j) === c).length));
  const raters = [...new Set(judgments.map((j) => j.rater))].sort();
  const cohen: ListeningSummary['agreement']['cohen'] = [];
  for (let a = 0; a < raters.length; a++) {
    for (let b = a + 1; b < raters.length; b++) {
      const ja = new Map(judgments.filter((j) => j.rater === raters[a]).map((j) => [j.item, label(j)]));
      const common = judgments.filter((j) => j.rater === raters[b] && ja.has(j.item));
      if (common.length >= 2) cohen.push({ raters: [raters[a], raters[b]], kappa: cohenKappa(common.map((j) => ja.get(j.item)!), common.map(label)) });
    }
  }
  // correlation with the pair's differences
  const y: number[] = [];
  const dAv: number[] = [];
  const dSa: number[] = [];
  const dSb: number[] = [];
  const yAv: number[] = [];
  for (const j of ab) {
    const it = test.items[j.item];
    const a = it.candidates.find((c) => c.systems.includes('A'))!;
    const b = it.candidates.find((c) => c.systems.includes('B'))!;
    const pref = j.chosenSystems.includes('A') ? 1 : -1;
    y.push(pref);
    dSa.push(a.similarity.A - b.similarity.A);
    dSb.push(a.similarity.B - b.similarity.B);
    if (a.avAlign !== null && b.avAlign !== null) {
      yAv.push(pref);
      dAv.push(a.avAlign - b.avAlign);
    }
  }
  return {
    runId: run.id,
    name: run.name,
    status: run.status,
    experiment: run.experimentName,
    runs: test.runs,
    gallery: test.gallery,
    truth: test.truth,
    items: test.items.length,
    raters,
    judgments: n,
    itemsJudged: byItem.size,
    systems: rates,
    aOverB: { k: kA, n: ab.length, rate: ab.length ? kA / ab.length : NaN, ci95: wilsonInterval(kA, ab.length) },
    agreement: { fleiss: fleissKappa(table), cohen },
    correlation: { avAlign: pearson(dAv, yAv), similarityA: pearson(dSa, y), similarityB: pearson(dSb, y) },
    intervalMethod: INTERVAL_METHOD,
  };
}

/**
 * Listening-test summaries from the run store (for `vmr listen report` and the HTML report): every
 * human-evaluation run of the given experiments (all when none), or the one run given, newest first.
 */
export async function listeningSummaries(
  opts: { experiment?: string[]; runId?: string; tracker?: Tracker; store?: string; trackingUri?: string } = {},
): Promise<ListeningSummary[]> {
  return useTracker(opts, (tracker) => listeningSummariesFrom(tracker, opts));
}

/** The listening tests visible through any read-only tracker (the HTML report's report source too). */
export async function listeningSummariesFrom(tracker: TrackerReader, opts: { experiment?: string[]; runId?: string } = {}): Promise<ListeningSummary[]> {
  {
    let runs: RunInfo[];
    if (opts.runId) runs = [await tracker.getRun(await tracker.resolveRunId(opts.runId))];
    else runs = await tracker.searchRuns({ ...(opts.experiment?.length ? { experiment: opts.experiment } : {}), tags: { [RUN_KIND_TAG]: LISTEN_KIND } });
    const out: ListeningSummary[] = [];
    for (const r of runs) {
      const d = await tracker.getRun(r.id);
      if (d.tags[RUN_KIND_TAG] !== LISTEN_KIND) continue;
      const test = JSON.parse(fs.readFileSync(await tracker.artifactFile(r.id, LISTEN_TEST_ARTIFACT), 'utf8')) as ListeningTest;
      out.push(summariseListening(d, test, judgmentsFromParams(d.params)));
    }
    return out;
  }
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '—');
const ci = (c: Interval) => `[${pct(c.lo)}, ${pct(c.hi)}]`;
const num = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const corr = (c: Correlation) => `r = ${num(c.r)}${c.ci95 ? ` [${num(c.ci95.lo)}, ${num(c.ci95.hi)}]` : ''} (n = ${c.n})`;

/** Plain-text summary of one listening test. */
export function formatListeningSummary(s: ListeningSummary): string {
  const lines = [
    `listening test ${s.runId.slice(0, 8)} (${s.status}) in ${s.experiment}: A = run ${s.runs.A.slice(0, 8)}, B = run ${s.runs.B.slice(0, 8)}${s.truth ? ', plus the ground-truth track' : ''}`,
    `gallery ${s.gallery.name} split ${s.gallery.split} (${s.gallery.size} clips); ${s.items} items, ${s.itemsJudged} judged; ${s.raters.length} rater(s); ${s.judgments} judgments`,
    'preference (share of judgments choosing the system\'s pick, ' + INTERVAL_METHOD + '):',
  ];
  for (const [name, r] of Object.entries(s.systems)) {
    lines.push(`  ${name.padEnd(5)} ${String(r.chosen).padStart(4)}/${r.n}  ${pct(r.rate).padStart(7)}  ${ci(r.ci95)}${r.meanRating !== null ? `  mean rating ${r.meanRating.toFixed(2)} (n = ${r.ratings})` : ''}`);
  }
  lines.push(`  A over B: ${s.aOverB.k}/${s.aOverB.n} = ${pct(s.aOverB.rate)} ${ci(s.aOverB.ci95)}`);
  const f = s.agreement.fleiss;
  lines.push(`agreement: Fleiss' κ = ${num(f.kappa)} over ${f.items} items with ≥ 2 ratings (observed ${num(f.observed)}, chance ${num(f.expected)})`);
  for (const c of s.agreement.cohen) lines.push(`  Cohen's κ ${c.raters[0]} vs ${c.raters[1]} = ${num(c.kappa.kappa)} (n = ${c.kappa.items} items)`);
  lines.push('correlation of preference for A (+1 A, −1 B, per judgment) with the pair\'s differences (A\'s pick − B\'s), Pearson with Fisher-z 95 %:');
  lines.push(`  AV-Align difference:           ${corr(s.correlation.avAlign)}`);
  lines.push(`  similarity difference, model A: ${corr(s.correlation.similarityA)}`);
  lines.push(`  similarity difference, model B: ${corr(s.correlation.similarityB)}`);
  return lines.join('\n');
}
