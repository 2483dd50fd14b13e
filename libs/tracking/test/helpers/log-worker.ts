/**
 * A real OS process that logs into a run store (used by the concurrency and crash tests).
 * argv: <store path | http URL> <experiment> <points> <batch> [hang]
 *  - logs `points` metric points in batches of `batch`, printing "batch <i>" after each commit;
 *  - with `hang`, never ends the run and waits to be killed.
 */
import { HttpTracker, SqliteTracker, type Tracker } from '../../src';

async function main(): Promise<void> {
  const [store, experiment, pointsArg, batchArg, mode] = process.argv.slice(2);
  const points = Number(pointsArg);
  const batch = Number(batchArg);
  const t: Tracker = /^https?:/.test(store) ? new HttpTracker(store, { heartbeatIntervalMs: 200, retryBudgetMs: 60_000 }) : new SqliteTracker(store, { heartbeatIntervalMs: 200 });
  const run = await t.startRun({ experiment, name: `worker-${process.pid}` });
  process.stdout.write(`run ${run.id}\n`);
  for (let i = 0; i < points; i += batch) {
    const pts = [];
    for (let j = i; j < Math.min(points, i + batch); j++) pts.push({ key: 'loss', value: j / 7, step: j });
    await t.logMetrics(run.id, pts);
    process.stdout.write(`batch ${i / batch}\n`);
  }
  if (mode === 'hang') {
    process.stdout.write('hanging\n');
    setInterval(() => undefined, 1000);
    return;
  }
  await t.endRun(run.id, 'finished');
  await t.close();
}

main().catch((e) => {
  process.stderr.write(`worker error: ${(e as Error).stack}\n`);
  process.exit(3);
});
