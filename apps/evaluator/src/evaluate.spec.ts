import { retrievalMetrics } from '@vmr/metrics';
import { top1 } from './evaluate';

describe('top1 (used for FAD / AV-Align) follows R@1\'s tie policy', () => {
  // query 0 ties its ground truth (0) with item 1; query 1 ties items 0 and 1 with ground truth 1; query 2 is unique
  const sim = { rows: 3, cols: 3, data: [0.5, 0.5, 0.1, 0.9, 0.9, 0.0, 0.2, 0.3, 0.8] };
  it('pessimistic (the evaluator\'s): a tied incorrect item wins, so top-1 = ground truth ⇔ rank 1', () => {
    const t = top1(sim, 'video-to-music');
    expect(t).toEqual([1, 0, 2]);
    const r = retrievalMetrics(sim, { ks: [1], tiePolicy: 'pessimistic' });
    expect(r.ranks).toEqual([2, 2, 1]);
    t.forEach((g, q) => expect(g === q).toBe(r.ranks[q] === 1));
  });
  it('music-to-video reads columns; optimistic and stable policies', () => {
    const m = top1(sim, 'music-to-video');
    const r = retrievalMetrics(sim, { ks: [1], direction: 'music-to-video', tiePolicy: 'pessimistic' });
    m.forEach((g, q) => expect(g === q).toBe(r.ranks[q] === 1));
    expect(top1(sim, 'video-to-music', 'optimistic')).toEqual([0, 1, 2]);
    expect(top1(sim, 'video-to-music', 'stable')).toEqual([0, 0, 2]);
  });
});
