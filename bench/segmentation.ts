/**
 * `npm run bench -- segmentation`: exact change-point DP (CostNormal, 1-D) on synthetic flow
 * trajectories of n = 600, 1,800, 3,600 and 36,000 samples, minSize 30, jump 3, 7 and 9 breakpoints;
 * plus PELT and whole-clip planning. Peer figure (../shared/BENCHMARKS.md): ruptures 1.1.9 Dynp,
 * 9 breakpoints: n = 600 0.27 s · 1,800 5.6 s · 3,600 47.2 s. Target: n = 3,600, K = 9 under 50 ms.
 */
import { Rng } from '@vmr/core';
import { createCost, dynp, pelt, planClipSegments, toSignal } from '@vmr/segmentation';
import { timeIt } from './timing';

/** A flow-magnitude-like trajectory: regimes of random length, level and noise, non-negative. */
function trajectory(rng: Rng, n: number): Float64Array {
  const y = new Float64Array(n);
  let i = 0;
  while (i < n) {
    const len = rng.int(20, 400);
    const level = rng.uniform(0.2, 8);
    const sd = rng.uniform(0.05, 1.5);
    for (let k = 0; k < len && i < n; k++, i++) y[i] = Math.abs(level + sd * rng.normal());
  }
  return y;
}

const rng = new Rng(7);
const sizes = [600, 1800, 3600, 36000];
const peer: Record<number, string> = { 600: '0.27 s', 1800: '5.6 s', 3600: '47.2 s' };
console.log('Exact DP (Dynp semantics), CostNormal 1-D, minSize 30, jump 3 — prefix sums + DP, ms');
const rows: { n: number; k: number; median: number }[] = [];
for (const n of sizes) {
  const signal = toSignal(trajectory(rng, n), `synthetic n=${n}`);
  for (const k of [7, 9]) {
    let bkps: number[] = [];
    const t = timeIt(() => {
      bkps = dynp(createCost('normal', signal), { nBkps: k, minSize: 30, jump: 3 }).breakpoints;
    }, n >= 36000 ? 3 : 9);
    rows.push({ n, k, median: t.median });
    console.log(
      `  n=${String(n).padStart(6)} K=${k}: best ${t.best.toFixed(2).padStart(8)} ms, median ${t.median.toFixed(2).padStart(8)} ms` +
        (k === 9 && peer[n] ? `   (ruptures: ${peer[n]})` : '') +
        `   bkps ${bkps.slice(0, 3).join(',')}…`,
    );
  }
}
console.log('Growth (K = 9, median): ' + rows.filter((r) => r.k === 9).map((r, i, a) => (i === 0 ? `n=${r.n}` : `n=${r.n} ×${(r.median / a[i - 1].median).toFixed(1)}`)).join(', '));

console.log('PELT, CostNormal 1-D, minSize 30, jump 3, penalty 20, ms');
for (const n of sizes) {
  const signal = toSignal(trajectory(rng, n));
  let nb = 0;
  const t = timeIt(() => {
    nb = pelt(createCost('normal', signal), { penalty: 20, minSize: 30, jump: 3 }).breakpoints.length;
  }, n >= 36000 ? 3 : 9);
  console.log(`  n=${String(n).padStart(6)}: median ${t.median.toFixed(2).padStart(8)} ms  (${nb} segments)`);
}

console.log('Clip planning (S = 10 segments, 3 fps, DP + ranks + [10, 200] index/mask), 200 clips of 2–10 min');
const clips = Array.from({ length: 200 }, () => {
  const seconds = rng.int(120, 600);
  return { flow: trajectory(rng, seconds * 3), seconds };
});
const t = timeIt(() => {
  for (const c of clips) planClipSegments(c.flow, { flowFps: 3, featureLength: c.seconds });
}, 3);
console.log(`  ${(t.median / clips.length).toFixed(2)} ms per clip (median of 3 runs over 200 clips)`);
