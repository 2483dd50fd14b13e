import { listeningSectionHtml } from './html-section';
import { summariseListening } from './report';
import type { Judgment } from './session';
import type { ListeningTest, SystemName } from './test-set';

const cand = (track: string, systems: SystemName[], simA: number, simB: number, avAlign: number) => ({ track, systems, source: `/m/${track}.mp4`, similarity: { A: simA, B: simB }, avAlign });

const test: ListeningTest = {
  runs: { A: 'runA', B: 'runB' },
  experiment: 'x',
  gallery: { path: '/g', name: 'g', split: 'test', size: 10 },
  truth: true,
  seed: 0,
  skipped: [],
  items: [
    { index: 0, video: 'v0', source: '/m/v0.mp4', durationSec: 10, candidates: [cand('t1', ['A'], 0.9, 0.1, 0.5), cand('t2', ['B'], 0.2, 0.8, 0.3), cand('v0', ['truth'], 0.5, 0.5, 0.9)] },
    { index: 1, video: 'v1', source: '/m/v1.mp4', durationSec: 10, candidates: [cand('v1', ['A', 'truth'], 0.7, 0.4, 0.6), cand('t3', ['B'], 0.3, 0.6, 0.2)] },
  ],
};

function j(rater: string, item: number, chosen: string, rating?: number): Judgment {
  const it = test.items[item];
  const c = it.candidates.find((x) => x.track === chosen)!;
  return { rater, item, video: it.video, shown: it.candidates.map((x) => x.track), shownSystems: it.candidates.map((x) => x.systems), choice: it.candidates.indexOf(c), chosenTrack: chosen, chosenSystems: c.systems, ...(rating ? { rating } : {}), time: 1 };
}

describe('summariseListening (hand-counted)', () => {
  const js = [j('r1', 0, 't1', 4), j('r2', 0, 'v0', 5), j('r1', 1, 'v1', 3), j('r2', 1, 'v1')];
  const s = summariseListening({ id: 'L', name: 'listen', status: 'finished', experimentName: 'x' }, test, js);

  it('preference rates per system over all judgments, with ratings', () => {
    expect(s.judgments).toBe(4);
    expect(s.raters).toEqual(['r1', 'r2']);
    expect(s.systems.A).toMatchObject({ chosen: 3, n: 4, rate: 0.75, meanRating: 3.5, ratings: 2 }); // t1, v1, v1
    expect(s.systems.B).toMatchObject({ chosen: 0, n: 4, rate: 0 });
    expect(s.systems.truth).toMatchObject({ chosen: 3, n: 4, meanRating: 4, ratings: 2 }); // v0, v1, v1
    // A over B: judgments choosing exactly one of A/B's picks: t1, v1, v1 (v0 = truth only is left out)
    expect(s.aOverB).toMatchObject({ k: 3, n: 3, rate: 1 });
    expect(s.aOverB.ci95.hi).toBe(1);
    expect(s.aOverB.ci95.lo).toBeCloseTo(3 / (3 + 1.959963984540054 ** 2), 10); // Wilson lower bound at k = n
  });

  it('agreement on the chosen system set and correlation inputs', () => {
    // item 0: r1 'A', r2 'truth' (disagree); item 1: both 'A+truth' → observed P̄ = (0 + 1)/2
    expect(s.agreement.fleiss.items).toBe(2);
    expect(s.agreement.fleiss.observed).toBeCloseTo(0.5, 12);
    // p(A) = 1/4, p(truth) = 1/4, p(A+truth) = 2/4 → P̄e = 1/16 + 1/16 + 4/16 = 0.375; κ = (0.5 − 0.375)/0.625 = 0.2
    expect(s.agreement.fleiss.expected).toBeCloseTo(0.375, 12);
    expect(s.agreement.fleiss.kappa).toBeCloseTo(0.2, 12);
    expect(s.agreement.cohen).toHaveLength(1);
    expect(s.agreement.cohen[0].kappa.observed).toBeCloseTo(0.5, 12);
    // all three A/B judgments prefer A: y is constant → r undefined (NaN), n still reported
    expect(s.correlation.similarityA.n).toBe(3);
    expect(s.correlation.similarityA.r).toBeNaN();
  });

  it('renders an HTML section for the report (empty without tests)', () => {
    expect(listeningSectionHtml([])).toBe('');
    const html = listeningSectionHtml([s]);
    expect(html).toContain('<section id="listening-tests">');
    expect(html).toContain('<td class="num">3/4</td><td class="num">75.0 %</td>');
    expect(html).toContain("Fleiss' κ = 0.200 over 2 items");
    expect(html).not.toContain('<script');
  });
});
