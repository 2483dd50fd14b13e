/** Shared bench helper: run `fn` once to warm up (JIT), then `reps` times; best and median in ms. */
export function timeIt(fn: () => void, reps: number): { best: number; median: number } {
  fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ts.sort((a, b) => a - b);
  return { best: ts[0], median: ts[Math.floor(ts.length / 2)] };
}
