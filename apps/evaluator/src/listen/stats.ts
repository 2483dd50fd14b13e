/**
 * Statistics of a listening test: Wilson score intervals for preference rates, Fleiss' and Cohen's
 * kappa for agreement between raters, Pearson correlation with a Fisher-z interval. Pure functions.
 */

export interface Interval {
  lo: number;
  hi: number;
}

/** 95 % two-sided normal quantile. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval for a binomial proportion k/n (default 95 %). n = 0 gives [0, 1].
 * centre = (p + z²/2n) / (1 + z²/n), half-width = z·sqrt(p(1−p)/n + z²/4n²) / (1 + z²/n).
 */
export function wilsonInterval(k: number, n: number, z = Z95): Interval {
  if (n <= 0) return { lo: 0, hi: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

export interface KappaResult {
  kappa: number;
  /** Observed agreement P̄ and chance agreement P̄e. */
  observed: number;
  expected: number;
  /** Items that entered (≥ 2 ratings). */
  items: number;
  ratings: number;
}

/**
 * Fleiss' kappa from a count table `counts[item][category]` (raters who put the item in the category).
 * Items may have different numbers of raters (the usual generalisation: P_i = (Σ_j n_ij² − n_i) /
 * (n_i(n_i − 1)), P̄ = mean of P_i, p_j = Σ_i n_ij / Σ_i n_i); items with fewer than 2 ratings are
 * left out. NaN when fewer than one such item or when chance agreement is 1 (every rating in one category).
 */
export function fleissKappa(counts: readonly (readonly number[])[]): KappaResult {
  const rows = counts.filter((r) => r.reduce((s, x) => s + x, 0) >= 2);
  const m = rows.length ? rows[0].length : 0;
  let total = 0;
  const catTotals = new Array<number>(m).fill(0);
  let pSum = 0;
  for (const r of rows) {
    const n = r.reduce((s, x) => s + x, 0);
    let sq = 0;
    r.forEach((x, j) => {
      sq += x * x;
      catTotals[j] += x;
    });
    pSum += (sq - n) / (n * (n - 1));
    total += n;
  }
  const observed = rows.length ? pSum / rows.length : NaN;
  const expected = total ? catTotals.reduce((s, c) => s + (c / total) ** 2, 0) : NaN;
  const kappa = rows.length && expected < 1 ? (observed - expected) / (1 - expected) : NaN;
  return { kappa, observed, expected, items: rows.length, ratings: total };
}

/** Cohen's kappa of two raters' labels on the same items (κ = (p_o − p_e)/(1 − p_e)); NaN when p_e = 1 or no items. */
export function cohenKappa(a: readonly string[], b: readonly string[]): KappaResult {
  if (a.length !== b.length) throw new Error(`cohenKappa: ${a.length} vs ${b.length} labels`);
  const n = a.length;
  if (n === 0) return { kappa: NaN, observed: NaN, expected: NaN, items: 0, ratings: 0 };
  const cats = [...new Set([...a, ...b])];
  let agree = 0;
  for (let i = 0; i < n; i++) if (a[i] === b[i]) agree++;
  const po = agree / n;
  let pe = 0;
  for (const c of cats) pe += (a.filter((x) => x === c).length / n) * (b.filter((x) => x === c).length / n);
  return { kappa: pe < 1 ? (po - pe) / (1 - pe) : NaN, observed: po, expected: pe, items: n, ratings: 2 * n };
}

export interface Correlation {
  r: number;
  n: number;
  /** 95 % interval by Fisher's z (tanh(atanh r ± z/√(n−3))); null when n ≤ 3 or |r| = 1. */
  ci95: Interval | null;
}

/** Pearson's r of paired samples (point-biserial when one side is ±1); NaN when a side is constant or n < 2. */
export function pearson(x: readonly number[], y: readonly number[]): Correlation {
  if (x.length !== y.length) throw new Error(`pearson: ${x.length} vs ${y.length} values`);
  const n = x.length;
  if (n < 2) return { r: NaN, n, ci95: null };
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const r = sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
  let ci95: Interval | null = null;
  if (Number.isFinite(r) && n > 3 && Math.abs(r) < 1) {
    const zr = Math.atanh(r);
    const h = Z95 / Math.sqrt(n - 3);
    ci95 = { lo: Math.tanh(zr - h), hi: Math.tanh(zr + h) };
  }
  return { r, n, ci95 };
}
