/**
 * `vmr report html` at scale: a store with R training runs (OF-VM-Net, λ settings varied), each logging
 * S steps of 7 loss series + lr and validation Recall@k per epoch, one evaluation each; then the time to
 * read the store (collect) — from the file (SQL) and through `vmr tracking serve` over the same file
 * (HTTP, the Tracker API), same run — to render the page (Vega-Lite → vega SVG for every chart) and the
 * page size.
 * Usage: npm run bench -- report-html [runs=24] [steps=5000]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HttpTracker, SqliteTracker, TrackingServer, reportSourceOf } from '@vmr/tracking';
import { collectHtmlReportData, renderReportHtml } from '@vmr/evaluator';

const RUNS = Number(process.argv[2] ?? 24);
const STEPS = Number(process.argv[3] ?? 5000);
const EPOCHS = 50;

async function main(): Promise<void> {
  if (!Number.isInteger(RUNS) || RUNS < 1 || !Number.isInteger(STEPS) || STEPS < EPOCHS) throw new Error(`usage: report-html [runs ≥ 1] [steps ≥ ${EPOCHS}]`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-bench-report-html-'));
  let tracker = new SqliteTracker(path.join(dir, 'runs.db'), { reapStaleRuns: false, heartbeatIntervalMs: 0 });
  try {
    let t0 = process.hrtime.bigint();
    const secs = () => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      t0 = process.hrtime.bigint();
      return s;
    };
    for (let r = 0; r < RUNS; r++) {
      const l3 = [0, 0.5, 1, 2, 4][r % 5];
      const features = ['resnet', 'clip', 'i3d'][r % 3];
      const run = await tracker.startRun({ experiment: 'bench', name: `of-vm-net/${features}/l3=${l3}/${r}`, seed: r, tags: { 'vmr.kind': 'train' } });
      await tracker.logParams(run.id, { model: 'of-vm-net', features, seed: r, 'dataset.name': 'a', ...Object.fromEntries(['l1', 'l2', 'l3', 'l4', 'l5', 'l6'].map((l) => [`loss.lambdas.${l}`, l === 'l3' ? l3 : 1])) });
      let batch = [];
      for (let t = 1; t <= STEPS; t++) {
        batch.push({ key: 'train.loss', value: 6 * Math.exp(-t / STEPS) + Math.sin(t) * 0.01, step: t }, { key: 'train.lr', value: 1e-3, step: t });
        for (let k = 1; k <= 6; k++) batch.push({ key: `train.l${k}`, value: Math.exp(-t / STEPS) * (1 + k / 10), step: t });
        if (batch.length >= 8000) {
          await tracker.logMetrics(run.id, batch);
          batch = [];
        }
      }
      for (let e = 1; e <= EPOCHS; e++) batch.push({ key: 'val.r1', value: (0.3 * e) / EPOCHS, step: e }, { key: 'val.r5', value: (0.6 * e) / EPOCHS, step: e }, { key: 'val.r10', value: (0.8 * e) / EPOCHS, step: e });
      await tracker.logMetrics(run.id, batch);
      await tracker.endRun(run.id);
      const ev = await tracker.startRun({ experiment: 'bench', parentId: run.id, tags: { 'vmr.kind': 'eval' } });
      await tracker.logParams(ev.id, { 'eval.dataset.name': 'a', 'eval.split': 'test', 'eval.protocol': 'paper' });
      await tracker.logMetrics(ev.id, [
        { key: 'eval.r1', value: 0.2 + 0.02 * (r % 7) },
        { key: 'eval.r10', value: 0.7 },
        { key: 'eval.avAlign', value: 0.3 + 0.015 * (r % 5) },
        { key: 'eval.fad', value: 3 },
        { key: 'eval.gallerySize', value: 100 },
      ]);
      await tracker.endRun(ev.id);
    }
    const populate = secs();
    await tracker.close();
    tracker = new SqliteTracker(path.join(dir, 'runs.db'), { reapStaleRuns: false, heartbeatIntervalMs: 0 });
    const server = new TrackingServer({ db: path.join(dir, 'runs.db'), port: 0 });
    const http = new HttpTracker(await server.listen(), { heartbeatIntervalMs: 0 });
    secs();
    const data = await collectHtmlReportData(reportSourceOf(tracker), { experiment: 'bench', maxCurveRuns: RUNS });
    const collect = secs();
    const served = await collectHtmlReportData(reportSourceOf(http), { experiment: 'bench', maxCurveRuns: RUNS });
    const collectHttp = secs();
    await http.close();
    await server.close();
    if (JSON.stringify({ ...served, store: '', generatedAt: 0 }) !== JSON.stringify({ ...data, store: '', generatedAt: 0 })) throw new Error('the page data read through the server differs from the file');
    secs();
    const warnings: string[] = [];
    const html = await renderReportHtml(data, warnings);
    const render = secs();
    const charts = (html.match(/<figure data-chart=/g) ?? []).length;
    process.stdout.write(
      `report-html: ${RUNS} runs × ${STEPS} steps × 8 per-step series (${(RUNS * STEPS * 8).toLocaleString('en')} points) + ${EPOCHS} epochs of validation\n` +
        `  populate store  ${populate.toFixed(1)} s\n` +
        `  collect         ${collect.toFixed(2)} s from the file (SQL; metric histories read, loss binned to 200 points per series)\n` +
        `  collect (HTTP)  ${collectHttp.toFixed(2)} s through vmr tracking serve on loopback (same data; ${(collectHttp / collect).toFixed(1)}× the file)\n` +
        `  render          ${render.toFixed(2)} s for ${charts} charts (${((render * 1000) / charts).toFixed(0)} ms per chart)\n` +
        `  page            ${(Buffer.byteLength(html) / 1024 / 1024).toFixed(2)} MiB${warnings.length ? `, ${warnings.length} chart warnings` : ''}\n`,
    );
  } finally {
    await tracker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
