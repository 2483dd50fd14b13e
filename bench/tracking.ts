/**
 * Run-store write throughput: metric points per second for one process logging batches of 1,000, and
 * for 4 concurrent OS processes writing into one store. Usage: npm run bench -- tracking [points]
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HttpTracker, SqliteTracker, startTrackingServer } from '@vmr/tracking';

const POINTS = Number(process.argv[2] ?? 200_000);
const BATCH = 1000;

async function singleProcess(file: string, points: number, batch: number, ready?: () => Promise<void>): Promise<{ rate: number; start: number; end: number }> {
  const t = new SqliteTracker(file, { heartbeatIntervalMs: 0 });
  const run = await t.startRun({ experiment: 'bench' });
  const batches: { key: string; value: number; step: number }[][] = [];
  for (let i = 0; i < points; i += batch) {
    const b = [];
    for (let j = i; j < Math.min(points, i + batch); j++) b.push({ key: j % 2 ? 'loss' : 'acc', value: Math.sin(j), step: j });
    batches.push(b);
  }
  if (ready) await ready();
  const startMs = Date.now();
  const start = process.hrtime.bigint();
  for (const b of batches) t.logMetricsSync(run.id, b);
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const endMs = Date.now();
  await t.endRun(run.id);
  await t.close();
  return { rate: points / secs, start: startMs, end: endMs };
}

/** HTTP client worker: logs `points` in log-batch requests of 1,000 through a tracking server. */
async function httpWorker(): Promise<void> {
  const [, , , url, pointsArg] = process.argv;
  const points = Number(pointsArg);
  const t = new HttpTracker(url, { heartbeatIntervalMs: 0 });
  const run = await t.startRun({ experiment: 'bench-http' });
  await new Promise<void>((resolve) => {
    process.stdout.write('ready\n');
    process.stdin.once('data', () => resolve());
  });
  const start = Date.now();
  for (let i = 0; i < points; i += BATCH) {
    const b = [];
    for (let j = i; j < Math.min(points, i + BATCH); j++) b.push({ key: 'loss', value: Math.sin(j), step: j });
    await t.logMetrics(run.id, b);
  }
  const end = Date.now();
  await t.endRun(run.id);
  process.stdout.write(JSON.stringify({ rate: points / ((end - start) / 1000), start, end }) + '\n');
  process.stdin.destroy();
}

/** Spawn `n` workers in `mode`, release them together, return their results. */
async function runWorkers(mode: string, target: string, n: number, per: number): Promise<{ rate: number; start: number; end: number }[]> {
  const children = Array.from({ length: n }, () => spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), __filename, mode, target, String(per)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  let readyCount = 0;
  return Promise.all(
    children.map((child) => {
      let out = '';
      let ready = false;
      child.stdout.on('data', (d) => {
        out += d;
        if (!ready && out.startsWith('ready\n')) {
          ready = true;
          readyCount += 1;
          if (readyCount === children.length) for (const c of children) c.stdin.write('go\n');
        }
      });
      return new Promise<{ rate: number; start: number; end: number }>((resolve, reject) =>
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length))) : reject(new Error(`${mode} exited ${code}`)))),
      );
    }),
  );
}

async function worker(): Promise<void> {
  const [, , , file, pointsArg] = process.argv;
  // barrier: say ready, wait for the parent's "go" so the four writers really overlap
  const ready = () =>
    new Promise<void>((resolve) => {
      process.stdout.write('ready\n');
      process.stdin.once('data', () => resolve());
    });
  const r = await singleProcess(file, Number(pointsArg), BATCH, ready);
  process.stdout.write(JSON.stringify(r) + '\n');
  process.stdin.destroy();
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-bench-tracking-'));
  console.log(`run-store write throughput (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''})`);
  // best of 3 fresh runs (the machine may be shared; the best run is the least disturbed)
  let single = 0;
  for (let rep = 0; rep < 3; rep++) single = Math.max(single, (await singleProcess(path.join(dir, `single-${rep}.db`), POINTS, BATCH)).rate);
  console.log(`1 process, batches of ${BATCH}: ${Math.round(single).toLocaleString('en-US')} points/s (${POINTS.toLocaleString('en-US')} points, best of 3)`);
  const small = (await singleProcess(path.join(dir, 'small.db'), Math.min(POINTS, 20_000), 10)).rate;
  console.log(`1 process, batches of 10: ${Math.round(small).toLocaleString('en-US')} points/s`);

  const file = path.join(dir, 'concurrent.db');
  const per = Math.round(POINTS / 4);
  const results = await runWorkers('worker', file, 4, per);
  const wall = (Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start))) / 1000;
  const t = new SqliteTracker(file, { heartbeatIntervalMs: 0 });
  const rows = t.counts().metrics;
  await t.close();
  console.log(
    `4 processes × ${per.toLocaleString('en-US')} points, batches of ${BATCH}: ${Math.round(rows / wall).toLocaleString('en-US')} points/s aggregate ` +
      `(${wall.toFixed(2)} s from the first write to the last; per-process rates ${results.map((r) => Math.round(r.rate).toLocaleString('en-US')).join(', ')}); rows = ${rows}`,
  );

  // through the tracking server (in this process) from 8 client processes
  const server = await startTrackingServer({ db: path.join(dir, 'http.db'), port: 0 });
  const perHttp = Math.round(POINTS / 8);
  const http = await runWorkers('http-worker', server.url, 8, perHttp);
  const httpWall = (Math.max(...http.map((r) => r.end)) - Math.min(...http.map((r) => r.start))) / 1000;
  const httpRows = server.store.counts().metrics;
  await server.close();
  console.log(`8 processes × ${perHttp.toLocaleString('en-US')} points via HTTP (log-batch of ${BATCH}): ${Math.round(httpRows / httpWall).toLocaleString('en-US')} points/s aggregate (${httpWall.toFixed(2)} s); rows = ${httpRows}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === 'worker') void worker();
else if (process.argv[2] === 'http-worker') void httpWorker();
else void main();
