import { cohenKappa, fleissKappa, pearson, wilsonInterval } from './stats';

describe('listening-test statistics (hand-checked values)', () => {
  it('Wilson 95 % interval of 8/10 and edge cases', () => {
    // p = 0.8, z² = 3.8415: centre = (0.8 + 0.19207)/1.38415 = 0.71673; half = 1.96·sqrt(0.016 + 0.0096037)/1.38415 = 0.22656
    const w = wilsonInterval(8, 10);
    expect(w.lo).toBeCloseTo(0.4902, 4);
    expect(w.hi).toBeCloseTo(0.9433, 4);
    const zero = wilsonInterval(0, 5); // 0/5: [0, z²/(n+z²)] = [0, 3.8415/8.8415]
    expect(zero.lo).toBe(0);
    expect(zero.hi).toBeCloseTo(3.8415 / 8.8415, 4);
    expect(wilsonInterval(0, 0)).toEqual({ lo: 0, hi: 1 });
  });

  it("Fleiss' kappa: the classic 10 items × 14 raters × 5 categories example = 0.210", () => {
    // Fleiss (1971) worked example as reproduced on Wikipedia: P̄ = 0.378, P̄e = 0.213, κ = 0.210
    const t = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    const k = fleissKappa(t);
    expect(k.observed).toBeCloseTo(0.378, 3);
    expect(k.expected).toBeCloseTo(0.213, 3);
    expect(k.kappa).toBeCloseTo(0.21, 3);
    expect(k.items).toBe(10);
  });

  it("Fleiss' kappa: perfect agreement = 1, items with one rating left out, all one category = NaN", () => {
    expect(fleissKappa([[2, 0], [0, 2], [2, 0]]).kappa).toBeCloseTo(1, 12);
    const k = fleissKappa([[2, 0], [0, 2], [1, 0]]);
    expect(k.items).toBe(2);
    expect(fleissKappa([[2, 0], [2, 0]]).kappa).toBeNaN();
  });

  it("Cohen's kappa of two raters: hand-computed value", () => {
    // 2 raters, 10 items: agree on 7 (A,A ×4; B,B ×3); rater1 A 6/B 4, rater2 A 5/B 5
    const r1 = ['A', 'A', 'A', 'A', 'B', 'B', 'B', 'A', 'A', 'B'];
    const r2 = ['A', 'A', 'A', 'A', 'B', 'B', 'B', 'B', 'B', 'A'];
    const k = cohenKappa(r1, r2);
    // p_o = 0.7, p_e = 0.6·0.5 + 0.4·0.5 = 0.5 → κ = 0.4
    expect(k.observed).toBeCloseTo(0.7, 12);
    expect(k.expected).toBeCloseTo(0.5, 12);
    expect(k.kappa).toBeCloseTo(0.4, 12);
  });

  it('Pearson r with n and a Fisher-z interval', () => {
    // x = 1..5, y = 2,4,5,4,5: Sxy = 6, Sxx = 10, Syy = 6 → r = 6/sqrt(60) = 0.774597
    const c = pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]);
    expect(c.r).toBeCloseTo(0.774597, 6);
    expect(c.n).toBe(5);
    const h = 1.959963984540054 / Math.sqrt(2);
    expect(c.ci95!.lo).toBeCloseTo(Math.tanh(Math.atanh(0.774597) - h), 5);
    expect(c.ci95!.hi).toBeCloseTo(Math.tanh(Math.atanh(0.774597) + h), 5);
    expect(pearson([1, 1, 1], [1, 2, 3]).r).toBeNaN();
  });
});
