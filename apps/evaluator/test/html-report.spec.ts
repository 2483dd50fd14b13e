/// <reference lib="dom" />
/**
 * `vmr report html` end to end: a run store written through the Tracker API with the trainer's /
 * evaluator's / sweeper's names (test/html-store.ts), the report built from it, then opened in headless
 * Debian Chromium (playwright-core): table values, chart marks, hover titles, config rows, no network.
 * Screenshots and the pages go to .test-artifacts/html-report/ at the repository root.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { InvalidArgumentError, NotFoundError, repoRoot } from '@vmr/core';
import { SqliteTracker, type ResultTable } from '@vmr/tracking';
import { buildTables } from '../src/report';
import { formatCell } from '../src/report-format';
import { collectHtmlReportData, writeHtmlReport } from '../src/html';
import { EXPERIMENT, EXPERIMENT_RUNS, SWEEP_EXPERIMENT, SWEEP_NAME, SWEEP_POINTS, populateStore, type PopulatedStore } from './html-store';

const CHROMIUM = process.env.VMR_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(repoRoot(), '.test-artifacts', 'html-report');

let dir: string;
let tracker: SqliteTracker;
let store: PopulatedStore;
let browser: Browser;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian chromium (.ci/system-deps does) or set VMR_CHROMIUM`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-html-report-'));
  tracker = new SqliteTracker(path.join(dir, 'runs.db'), { reapStaleRuns: false, heartbeatIntervalMs: 0 });
  store = await populateStore(tracker);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await tracker?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Open a report file with every non-file request blocked and recorded. */
async function open(file: string): Promise<{ page: Page; external: string[]; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1300, height: 900 } });
  const external: string[] = [];
  const errors: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    external.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return { page, external, errors };
}

/** Per chart: data-mark items (children of vega's `g.role-mark` groups) by mark type, and the laid-out size. */
async function chartMarks(page: Page): Promise<Record<string, { marks: Record<string, number>; width: number; height: number }>> {
  return page.evaluate(() => {
    const out: Record<string, { marks: Record<string, number>; width: number; height: number }> = {};
    for (const fig of Array.from(document.querySelectorAll('figure[data-chart]'))) {
      const svg = fig.querySelector('svg');
      const marks: Record<string, number> = {};
      for (const g of Array.from(fig.querySelectorAll('svg g.role-mark'))) {
        const type = (Array.from(g.classList).find((c) => c.startsWith('mark-')) ?? 'mark-?').slice(5);
        marks[type] = (marks[type] ?? 0) + g.querySelectorAll(':scope > path, :scope > text, :scope > line').length;
      }
      const box = svg?.getBoundingClientRect();
      out[(fig as HTMLElement).dataset.chart as string] = { marks, width: box?.width ?? 0, height: box?.height ?? 0 };
    }
    return out;
  });
}

/** Table cells as shown: table id → "model/features" → metric → text. */
async function tableCells(page: Page): Promise<Record<string, Record<string, Record<string, { text: string; best: boolean }>>>> {
  return page.evaluate(() => {
    const out: Record<string, Record<string, Record<string, { text: string; best: boolean }>>> = {};
    for (const t of Array.from(document.querySelectorAll('table[data-table]'))) {
      const id = (t as HTMLElement).dataset.table as string;
      out[id] = {};
      for (const tr of Array.from(t.querySelectorAll('tbody tr'))) {
        const row: Record<string, { text: string; best: boolean }> = {};
        for (const td of Array.from(tr.querySelectorAll('td[data-metric]'))) {
          row[(td as HTMLElement).dataset.metric as string] = { text: (td.textContent ?? '').trim(), best: td.classList.contains('best') };
        }
        out[id][`${(tr as HTMLElement).dataset.model}/${(tr as HTMLElement).dataset.features}`] = row;
      }
    }
    return out;
  });
}

describe('vmr report html (headless Chromium)', () => {
  it('experiment report: Tables 1 and 2 as `vmr report tables` computes them, every chart drawn, configs on hover and in details rows, no network', async () => {
    const out = path.join(dir, 'out', 'report.html');
    const r = await writeHtmlReport(out, { experiment: EXPERIMENT }, { tracker });
    expect(r.warnings).toEqual([]);
    expect(r.runs).toBe(EXPERIMENT_RUNS.length);
    const html = fs.readFileSync(out, 'utf8');
    // Self-contained: nothing loaded from elsewhere (SVG namespace URIs are identifiers, not fetches).
    expect(html).not.toMatch(/\s(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<script|<link|@import|url\(/);
    fs.copyFileSync(out, path.join(ARTIFACTS, 'experiment.html'));

    const { page, external, errors } = await open(out);
    try {
      // --- tables: hand-computed values, and the same numbers as `vmr report tables` (buildTables)
      const cells = await tableCells(page);
      expect(Object.keys(cells).sort()).toEqual(['1', '2']);
      // VM-Net/ResNet R@1 over seeds 0.30, 0.34: mean 0.32, sample std 0.04/√2 = 0.0283.
      expect(cells['1']['vm-net/resnet'].r1.text).toBe('0.320 ± 0.028');
      // OF-VM-Net/ResNet AV-Align 0.30, 0.34 → 0.320 ± 0.028, the column's best.
      expect(cells['1']['of-vm-net/resnet'].avAlign).toEqual({ text: '0.320 ± 0.028', best: true });
      // Single-seed rows: no ±; VM-Net/CLIP has the best R@1 (0.40); OF-VM-Net/CLIP the best FAD (3.2).
      expect(cells['1']['vm-net/clip'].r1).toEqual({ text: '0.400', best: true });
      expect(cells['1']['of-vm-net/clip'].fad).toEqual({ text: '3.200', best: true });
      // Table 2 (out of distribution): MedR 9, 8 → 8.5 ± 0.7 (one decimal for ranks).
      expect(cells['2']['vm-net/resnet'].medianRank.text).toBe('8.5 ± 0.7');
      expect(Object.keys(cells['2']).sort()).toEqual(['of-vm-net/resnet', 'vm-net/resnet']);
      const tables: ResultTable[] = await buildTables(EXPERIMENT, { tracker });
      for (const t of tables) {
        for (const row of t.rows) {
          for (const c of t.columns) {
            expect(cells[t.id][`${row.model}/${row.features}`][c.key]).toEqual({ text: formatCell(row.cells[c.key], c.key), best: row.cells[c.key]?.best ?? false });
          }
        }
      }

      // --- charts: every figure is a laid-out SVG with data marks; counts where the data fixes them
      const charts = await chartMarks(page);
      const ids = Object.keys(charts);
      expect(ids.length).toBe(2 + 2 + 1 + 2 * EXPERIMENT_RUNS.length); // extractor ×2, Pareto ×2, overview, loss+val per run
      for (const id of ids) {
        const total = Object.values(charts[id].marks).reduce((a, b) => a + b, 0);
        expect({ id, hasMarks: total > 0, laidOut: charts[id].width > 100 && charts[id].height > 100 }).toEqual({ id, hasMarks: true, laidOut: true });
      }
      // Table 1 bars: 4 panels (R@1, R@10, AV-ALIGN, FAD) × 4 (model, features) rows, a whisker each.
      expect(charts['extractor-1-synth-a'].marks).toEqual({ rect: 16, rule: 16 });
      // λ scatter on synth-a: 4 settings (one per model × features), front line, labels on the front.
      const pareto = charts['pareto-synth-a-test'].marks;
      expect(pareto.symbol).toBe(4);
      expect(pareto.line).toBe(1);
      for (const runId of store.trainRuns) {
        const spec = EXPERIMENT_RUNS[store.trainRuns.indexOf(runId)];
        // total + l1…l6 (OF-VM-Net) or total + mv, vm, sm, sv (VM-Net)
        expect(charts[`loss-${runId}`].marks).toEqual({ line: spec.model === 'of-vm-net' ? 7 : 5 });
        // R@1, R@5, R@10 lines with a point per epoch (3 epochs)
        expect(charts[`val-${runId}`].marks).toEqual({ line: 3, symbol: 9 });
      }
      expect(charts['val-overview'].marks).toEqual({ line: EXPERIMENT_RUNS.length, symbol: 3 * EXPERIMENT_RUNS.length });

      // --- hover: chart points carry <title> tooltips; run rows a config summary; details rows every param
      const pointTitle = await page.locator('figure[data-chart="pareto-synth-a-test"] g.mark-symbol.role-mark > path > title').first().textContent();
      expect(pointTitle).toMatch(/λ: .*R@1: 0\.\d{3}/);
      const firstRun = store.trainRuns[0];
      const row = page.locator(`tr.run-row[data-run="${firstRun}"]`);
      expect(await row.getAttribute('title')).toContain('model=vm-net');
      const details = page.locator(`tr.run-config[data-run="${firstRun}"] details`);
      expect(await details.locator('table.kv').first().isVisible()).toBe(false);
      await details.locator('summary').click();
      expect(await details.locator('table.kv').first().isVisible()).toBe(true);
      expect(await details.textContent()).toContain('dataset.name');
      const lambdaRow = page.locator(`tr.run-config[data-run="${store.trainRuns[2]}"]`);
      expect(await lambdaRow.textContent()).toContain('loss.lambdas.l3');

      await page.screenshot({ path: path.join(ARTIFACTS, 'experiment.png'), fullPage: true });
      expect(fs.statSync(path.join(ARTIFACTS, 'experiment.png')).size).toBeGreaterThan(10_000);
      expect(external).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('sweep report through the CLI (vmr report html --sweep): the λ grid as a scatter with the hand-computed Pareto front', async () => {
    const out = path.join(dir, 'sweep.html');
    const cli = spawnSync(process.execPath, [path.join(repoRoot(), 'bin', 'vmr.js'), 'report', 'html', '--store', tracker.location, '--sweep', SWEEP_NAME, '--out', out, '--json'], { encoding: 'utf8', env: { ...process.env, VMR_QUIET: '1' } });
    expect({ status: cli.status, stderr: cli.stderr }).toEqual({ status: 0, stderr: expect.not.stringContaining('chart warning') });
    const summary = JSON.parse(cli.stdout);
    expect(summary).toMatchObject({ out, experiment: SWEEP_EXPERIMENT, runs: SWEEP_POINTS.length, sweep: { id: store.sweepId, name: SWEEP_NAME, trials: SWEEP_POINTS.length } });
    // the sweep by run-id prefix resolves to the same training runs
    const byId = await collectHtmlReportData(tracker, { sweep: store.sweepId.slice(0, 10), maxCurveRuns: 0 });
    expect(byId.runs.map((x) => x.id).sort()).toEqual([...store.sweepTrainRuns].sort());
    fs.copyFileSync(out, path.join(ARTIFACTS, 'sweep.html'));

    const { page, external, errors } = await open(out);
    try {
      // the sweep's own table: one (model, features) row over its 5 evaluations, R@1 mean by hand = 0.28
      const cells = await tableCells(page);
      expect(Object.keys(cells)).toEqual(['1']);
      expect(Object.keys(cells['1'])).toEqual(['of-vm-net/resnet']);
      expect(cells['1']['of-vm-net/resnet'].r1.text).toMatch(/^0\.280 ± /);
      const charts = await chartMarks(page);
      expect(charts['pareto-synth-a-test'].marks).toEqual({ line: 1, symbol: SWEEP_POINTS.length, text: SWEEP_POINTS.filter((p) => p.front).length });
      const rows = await page.$$eval('table.lambda-points tbody tr', (trs) =>
        trs.map((tr) => ({ lambdas: tr.querySelector('code')?.textContent ?? '', r1: tr.querySelector('td[data-metric="r1"]')?.textContent ?? '', pareto: tr.classList.contains('pareto') })),
      );
      const expected = SWEEP_POINTS.map((p) => {
        const l = { l1: 1, l2: 1, l3: 1, l4: 1, l5: 1, l6: 1, ...p.lambdas };
        return { lambdas: Object.entries(l).map(([k, v]) => `${k}=${v}`).join(','), r1: p.r1.toFixed(3), pareto: p.front };
      });
      expect(rows.sort((a, b) => a.lambdas.localeCompare(b.lambdas))).toEqual(expected.sort((a, b) => a.lambdas.localeCompare(b.lambdas)));
      // the front line passes through the front's points in R@1 order: 3 vertices
      const d = await page.locator('figure[data-chart="pareto-synth-a-test"] g.mark-line.role-mark > path').getAttribute('d');
      expect((d ?? '').match(/[ML]/g)).toHaveLength(3);
      await page.screenshot({ path: path.join(ARTIFACTS, 'sweep.png'), fullPage: true });
      expect(external).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('bad input: clear typed errors and no file written', async () => {
    const out = path.join(dir, 'never.html');
    await expect(writeHtmlReport(out, { experiment: 'nope' }, { tracker })).rejects.toThrow(NotFoundError);
    await expect(writeHtmlReport(out, { experiment: 'nope' }, { tracker })).rejects.toThrow(/no experiment 'nope'.*experiments: .*html-e2e/);
    await expect(writeHtmlReport(out, { sweep: store.trainRuns[0] }, { tracker })).rejects.toThrow(InvalidArgumentError);
    await expect(writeHtmlReport(out, { sweep: 'no-such-sweep' }, { tracker })).rejects.toThrow(/--sweep 'no-such-sweep'/);
    await expect(writeHtmlReport(out, { sweep: SWEEP_NAME, experiment: EXPERIMENT }, { tracker })).rejects.toThrow(/belongs to experiment 'html-sweep'/);
    await expect(writeHtmlReport(dir, { experiment: EXPERIMENT }, { tracker })).rejects.toThrow(/is a directory/);
    await expect(writeHtmlReport(out, {}, { tracker })).rejects.toThrow(/--experiment/);
    await expect(writeHtmlReport(out, { experiment: EXPERIMENT }, { store: path.join(dir, 'missing.db') })).rejects.toThrow(/does not exist/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('never'))).toEqual([]);
  });
});
