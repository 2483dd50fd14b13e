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
import { SqliteTracker, reportSourceOf, TIDY_COLUMNS, type ResultTable } from '@vmr/tracking';
import { buildTables, comparePair, compareRuns } from '../src/report';
import { formatCell, formatTables } from '../src/report-format';
import { formatPairComparisons } from '../src/report-compare';
import { buildVerdict } from '../src/report-verdict';
import { collectHtmlReportData, writeHtmlReport } from '../src/html';
import { EXPERIMENT, EXPERIMENT_RUNS, MS_CONFIGS, MS_EXPERIMENT, MS_SWEEP, SWEEP_EXPERIMENT, SWEEP_NAME, SWEEP_POINTS, populateMustShow, populateStore, type PopulatedStore } from './html-store';

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

/**
 * RFC 4180 CSV parsed strictly: one header, every record the header's field count, quotes only around
 * whole fields, no stray quotes; records as objects keyed by the header.
 */
function parseCsvStrict(text: string): { header: string[]; rows: Array<Record<string, string>> } {
  const records: string[][] = [];
  let field = '';
  let rec: string[] = [];
  let i = 0;
  let quoted = false;
  while (i <= text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === undefined) throw new Error('CSV: unterminated quoted field');
      if (ch === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
      else if (ch === '"') {
        quoted = false;
        i++;
        if (text[i] !== ',' && text[i] !== '\n' && text[i] !== undefined) throw new Error(`CSV: text after a closing quote at ${i}`);
      } else (field += ch), i++;
      continue;
    }
    if (ch === '"') {
      if (field !== '') throw new Error(`CSV: quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
    } else if (ch === ',') (rec.push(field), (field = ''), i++);
    else if (ch === '\n' || ch === undefined) {
      rec.push(field);
      records.push(rec);
      (rec = []), (field = ''), i++;
    } else if (ch === '\r') throw new Error('CSV: CR line ending');
    else (field += ch), i++;
  }
  const [header, ...body] = records;
  for (const [n, r] of body.entries()) if (r.length !== header.length) throw new Error(`CSV: record ${n + 2} has ${r.length} fields, the header ${header.length}`);
  return { header, rows: body.map((r) => Object.fromEntries(header.map((h, j) => [h, r[j]]))) };
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
        const cfg = (tr as HTMLElement).dataset.config;
        out[id][`${(tr as HTMLElement).dataset.model}/${(tr as HTMLElement).dataset.features}${cfg ? `/${cfg}` : ''}`] = row;
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
      // VM-Net/ResNet R@1 over seeds 0.30, 0.34: mean 0.32, sample std 0.04/√2 = 0.0283, 95 % t-interval
      // 0.32 ± 12.706205 · 0.0283 / √2 = 0.32 ± 0.254 → [0.066, 0.574].
      expect(cells['1']['vm-net/resnet'].r1.text).toBe('0.320 ± 0.028 [0.066, 0.574]');
      // OF-VM-Net/ResNet AV-Align 0.30, 0.34: the highest mean, but its interval contains the runner-up → not marked.
      expect(cells['1']['of-vm-net/resnet'].avAlign).toEqual({ text: '0.320 ± 0.028 [0.066, 0.574]', best: false });
      // Single-seed rows: no ±, no interval, never marked best (nothing shows the difference is not seed noise).
      expect(cells['1']['vm-net/clip'].r1).toEqual({ text: '0.400', best: false });
      expect(cells['1']['of-vm-net/clip'].fad).toEqual({ text: '3.200', best: false });
      // Table 2 (out of distribution): MedR 9, 8 → 8.5 ± 0.7 (one decimal for ranks), interval 8.5 ± 6.4.
      expect(cells['2']['vm-net/resnet'].medianRank.text).toBe('8.5 ± 0.7 [2.1, 14.9]');
      expect(Object.keys(cells['2']).sort()).toEqual(['of-vm-net/resnet', 'vm-net/resnet']);
      const tables: ResultTable[] = await buildTables(EXPERIMENT, { tracker });
      for (const t of tables) {
        for (const row of t.rows) {
          for (const c of t.columns) {
            expect(cells[t.id][`${row.model}/${row.features}${row.label ? `/${row.label}` : ''}`][c.key]).toEqual({ text: formatCell(row.cells[c.key], c.key), best: row.cells[c.key]?.best ?? false });
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
      expect(pareto.rule).toBe(8); // R@1 and AV-Align whiskers per point
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
    const byId = await collectHtmlReportData(reportSourceOf(tracker), { sweep: store.sweepId.slice(0, 10), maxCurveRuns: 0 });
    expect(byId.runs.map((x) => x.id).sort()).toEqual([...store.sweepTrainRuns].sort());
    fs.copyFileSync(out, path.join(ARTIFACTS, 'sweep.html'));

    const { page, external, errors } = await open(out);
    try {
      // the sweep's own table: one row per λ setting (5 configurations, one seed each) — never one row over all 5
      const cells = await tableCells(page);
      expect(Object.keys(cells)).toEqual(['1']);
      const canon = (p: (typeof SWEEP_POINTS)[number]) => Object.values({ l1: 1, l2: 1, l3: 1, l4: 1, l5: 1, l6: 1, ...p.lambdas }).join(':');
      expect(Object.keys(cells['1']).sort()).toEqual(SWEEP_POINTS.map((p) => `of-vm-net/resnet/λ=${canon(p)}`).sort());
      for (const p of SWEEP_POINTS) expect(cells['1'][`of-vm-net/resnet/λ=${canon(p)}`].r1.text).toBe(p.r1.toFixed(3));
      const charts = await chartMarks(page);
      expect(charts['pareto-synth-a-test'].marks).toEqual({ line: 1, rule: 2 * SWEEP_POINTS.length, symbol: SWEEP_POINTS.length, text: SWEEP_POINTS.filter((p) => p.front).length });
      // R@1 and AV-Align against the λ ratio: a line with a point per setting, a band each
      expect(charts['ratio-r1-synth-a-test'].marks.symbol).toBe(SWEEP_POINTS.length);
      const rows = await page.$$eval('table.lambda-points tbody tr', (trs) =>
        trs.map((tr) => ({ lambdas: tr.querySelector('code')?.textContent ?? '', r1: tr.querySelector('td[data-metric="r1"]')?.textContent ?? '', pareto: tr.classList.contains('pareto') })),
      );
      const expected = SWEEP_POINTS.map((p) => ({ lambdas: canon(p), r1: p.r1.toFixed(3), pareto: p.front }));
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

  it('issue 14 must-show: 2 models × 3 settings × 3 seeds → tables, compare, sweep report, verdict and the page all show 6 rows with n = 3 and hand-computed statistics; none mixes λ; FAD fronts minimise; tidy CSV', async () => {
    const msDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-must-show-'));
    const msStore = path.join(msDir, 'runs.db');
    const t = new SqliteTracker(msStore, { reapStaleRuns: false, heartbeatIntervalMs: 0 });
    try {
      await populateMustShow(t, msDir);
      // t(2) = 4.302653: half-widths of the 95 % interval over 3 seeds = 4.302653 · std / √3
      const half = (std: number) => (4.302653 * std) / Math.sqrt(3);
      const STD = { r1: 0.025, avAlign: 0.01, fad: 0.5 };
      const labelOf = (c: (typeof MS_CONFIGS)[number]) => (c.canonical ? `λ=${c.canonical}` : `vmNetLoss.margin=${c.margin}`);

      // --- tables (vmr report tables): one in-distribution table, 6 configuration rows, n = 3 each
      const tables = await buildTables(MS_EXPERIMENT, { tracker: t });
      expect(tables).toHaveLength(1);
      const tb = tables[0];
      expect(tb.title).toMatch(/in-distribution — trained and evaluated on synth-a \(test split\)/);
      expect(tb.rows).toHaveLength(6);
      expect(new Set(tb.rows.map((r) => r.label)).size).toBe(6); // none mixes λ (or margins)
      for (const c of MS_CONFIGS) {
        const row = tb.rows.find((r) => r.model === c.model && r.label === labelOf(c))!;
        expect({ c: c.name, runs: row.runs, seeds: row.seeds }).toEqual({ c: c.name, runs: 3, seeds: [0, 1, 2] });
        for (const k of ['r1', 'avAlign', 'fad'] as const) {
          const cell = row.cells[k]!;
          expect(cell.n).toBe(3);
          expect(cell.mean).toBeCloseTo(c.base[k], 10);
          expect(cell.std).toBeCloseTo(STD[k], 10);
          expect(cell.ciLow).toBeCloseTo(c.base[k] - half(STD[k]), 6);
          expect(cell.ciHigh).toBeCloseTo(c.base[k] + half(STD[k]), 6);
        }
      }
      // best only where the interval excludes the runner-up: AV-Align of C (0.40 ± 0.025 excludes 0.35); R@1 of B (0.35 ± 0.062) does not exclude 0.30; FAD of C (4 ± 1.24) does not exclude 5
      const best = (k: 'r1' | 'avAlign' | 'fad') => tb.rows.filter((r) => r.cells[k]!.best).map((r) => r.label);
      expect([best('avAlign'), best('r1'), best('fad')]).toEqual([['λ=1:1:4:4:4:4'], [], []]);
      const md = formatTables(tables, 'markdown');
      expect(md).toContain('| OF-VM-Net | CLIP | λ=1:1:0.25:0.25:0.25:0.25 | 3 | 0.500 ± 0.000 [0.500, 0.500] | 0.300 ± 0.010 [0.275, 0.325] | 6.000 ± 0.500 [4.758, 7.242] | 0.350 ± 0.025 [0.288, 0.412] |');
      expect(md).toMatch(/Rows differ in: λ, vmNetLoss\.margin/);

      // --- tidy CSV parsed strictly: one row per configuration × metric, numbers as computed
      const csv = formatTables(tables, 'csv');
      const parsed = parseCsvStrict(csv);
      expect(parsed.header).toEqual([...TIDY_COLUMNS]);
      const r1Rows = parsed.rows.filter((r) => r.metric === 'r1');
      expect(r1Rows).toHaveLength(6);
      for (const r of parsed.rows) expect(r.n).toBe('3');
      const b = r1Rows.find((r) => r.configuration === 'λ=1:1:0.25:0.25:0.25:0.25')!;
      expect(Number(b.mean)).toBeCloseTo(0.35, 10);
      expect(Number(b.ci_low)).toBeCloseTo(0.35 - half(0.025), 6);
      expect(parsed.rows.find((r) => r.metric === 'fad')!.direction_better).toBe('lower');
      fs.writeFileSync(path.join(msDir, 'tables.csv'), csv + '\n');
      const pandas = spawnSync('python3', ['-c', 'import pandas'], { encoding: 'utf8' });
      if (pandas.status === 0) {
        const py = spawnSync('python3', ['-c', `import pandas as pd; d = pd.read_csv(${JSON.stringify(path.join(msDir, 'tables.csv'))}); print(len(d), d[d.metric == 'r1'].n.tolist())`], { encoding: 'utf8' });
        expect(py.stdout.trim()).toBe(`${parsed.rows.length} [3, 3, 3, 3, 3, 3]`);
      }

      // --- compare: by λ (one group per configuration) and A − B with paired intervals
      const byLambda = await compareRuns('lambda', MS_EXPERIMENT, { tracker: t });
      expect(byLambda[0].groups.map((g) => g.runs)).toEqual([3, 3, 3, 3, 3, 3]);
      const [pc] = await comparePair('model=of-vm-net,λ=1:1:1:1:1:1', 'model=vm-net,vmNetLoss.margin=0.1', MS_EXPERIMENT, { seed: 1 }, { tracker: t });
      expect(pc.seedPairing).toBe('paired');
      const d = Object.fromEntries(pc.differences.map((x) => [x.metric, x]));
      // AV-Align per query is constant and the seed offsets cancel in pairs: exactly 0.35 − 0.30 = 0.05 [0.05, 0.05]
      expect([d.avAlign.diff, d.avAlign.low, d.avAlign.high].map((x) => Number(x.toFixed(10)))).toEqual([0.05, 0.05, 0.05]);
      expect(d.avAlign).toMatchObject({ distinguishable: true, favours: 'A' });
      expect(d.r1.diff).toBeCloseTo(0.1, 10);
      expect(d.r1.low).toBeLessThan(0.1);
      expect(d.r1.high).toBeGreaterThan(0.1);
      // FAD (set statistic): bootstrap over paired seeds only; 5 − 7 = −2 exactly, lower is better → A
      expect([d.fad.diff, d.fad.low, d.fad.high].map((x) => Number(x.toFixed(10)))).toEqual([-2, -2, -2]);
      expect(d.fad).toMatchObject({ method: 'bootstrap over seeds (set statistic)', favours: 'A' });
      // λ selectors are compared in canonical form: 4:4:1:1:1:1 is the configuration 1:1:0.25:0.25:0.25:0.25
      const [byMultiple] = await comparePair('λ=4:4:1:1:1:1', 'λ=1:1:1:1:1:1', MS_EXPERIMENT, {}, { tracker: t });
      expect([byMultiple.a.label, byMultiple.a.n]).toEqual(['λ=1:1:0.25:0.25:0.25:0.25', 3]);
      await expect(comparePair('model=of-vm-net', 'model=vm-net', MS_EXPERIMENT, {}, { tracker: t })).rejects.toThrow(/'model=of-vm-net' matches 3 configurations on synth-a, differing in λ/);
      expect(formatPairComparisons([pc])).toMatch(/A − B AV-ALIGN +\s*= \+0\.050 \[\+0\.050, \+0\.050\] — A better/);

      // --- verdict (library and CLI)
      const v = await buildVerdict(reportSourceOf(t), MS_EXPERIMENT, { seed: 1 });
      expect(v.comparisons).toHaveLength(1);
      expect(v.comparisons[0].avAlign!.diff).toBeCloseTo(0.05, 10);
      expect(v.tradeOffs).toHaveLength(1);
      expect(v.tradeOffs[0]).toMatchObject({ settings: 3, seeds: [0, 1, 2], verdict: 'trade-off' });
      expect(v.tradeOffs[0].r).toBeCloseTo(-1, 5); // tanh(atanh(−0.999999)): r is clamped inside (−1, 1) for Fisher's z
      const verdictCli = spawnSync(process.execPath, [path.join(repoRoot(), 'bin', 'vmr.js'), 'report', 'verdict', '-e', MS_EXPERIMENT, '--store', msStore], { encoding: 'utf8', env: { ...process.env, VMR_QUIET: '1' } });
      expect(verdictCli.status).toBe(0);
      expect(verdictCli.stdout).toMatch(/beats VM-Net on AV-Align\? Δ AV-Align = \+0\.050 \[\+0\.050, \+0\.050\] → OF-VM-Net better/);
      expect(verdictCli.stdout).toMatch(/trade-off R@1 vs AV-Align over 3 λ settings .* r = −1\.000 \[−1\.000, −1\.000\] over 3 seed\(s\) → trade-off/);

      // --- sweep report (the sweeper's CLI): 6 configurations, n = 3, the killed attempt listed but not averaged; FAD front minimised
      const sw = spawnSync(process.execPath, [path.join(repoRoot(), 'bin', 'vmr.js'), 'report', 'sweep', MS_SWEEP, '--store', msStore, '-y', 'eval.synth-a.fad', '--json'], { encoding: 'utf8', env: { ...process.env, VMR_QUIET: '1' } });
      expect(sw.stderr).toBe('');
      const rep = JSON.parse(sw.stdout) as { configurations: Array<{ label: string; n: number; cells: Record<string, { mean: number; std: number; ciLow: number }>; unfinished: Array<{ status: string }> }>; pareto: { yDirection: string; front: Array<{ label: string }> } };
      expect(rep.configurations).toHaveLength(6);
      expect(rep.configurations.map((c) => c.n)).toEqual([3, 3, 3, 3, 3, 3]);
      const a = rep.configurations.find((c) => c.label.includes('λ=1:1:1:1:1:1'))!;
      expect(a.cells['eval.synth-a.r1'].mean).toBeCloseTo(0.3, 10); // the killed attempt's 0.99 is not in it
      expect(a.unfinished).toEqual([expect.objectContaining({ status: 'killed' })]);
      expect(a.cells['eval.synth-a.r1'].ciLow).toBeCloseTo(0.3 - half(0.025), 6);
      // R@1 (max) vs FAD (min): B (0.35, 6), A (0.30, 5), C (0.25, 4) trade off; V5 (0.275, 9) is dominated by A
      expect(rep.pareto.yDirection).toBe('min');
      expect(rep.pareto.front.map((c) => c.label.match(/λ=[^ ]+/)?.[0])).toEqual(['λ=1:1:0.25:0.25:0.25:0.25', 'λ=1:1:1:1:1:1', 'λ=1:1:4:4:4:4']);
      const swCsv = spawnSync(process.execPath, [path.join(repoRoot(), 'bin', 'vmr.js'), 'report', 'sweep', MS_SWEEP, '--store', msStore, '--format', 'csv'], { encoding: 'utf8', env: { ...process.env, VMR_QUIET: '1' } });
      const sp = parseCsvStrict(swCsv.stdout.trim());
      expect(sp.rows.filter((r) => r.metric === 'r1').map((r) => r.n)).toEqual(['3', '3', '3', '3', '3', '3']);

      // --- the page (headless Chromium): tables and λ points show 6 rows with n = 3
      const out = path.join(msDir, 'must-show.html');
      const r = await writeHtmlReport(out, { sweep: MS_SWEEP }, { tracker: t });
      expect(r.warnings).toEqual([]);
      fs.copyFileSync(out, path.join(ARTIFACTS, 'must-show.html'));
      const { page, external, errors } = await open(out);
      try {
        const cells = await tableCells(page);
        expect(Object.keys(cells['1'])).toHaveLength(6);
        const ns = await page.$$eval('table[data-table] tbody tr td[data-n=""]', (tds) => tds.map((td) => td.textContent));
        expect(ns).toEqual(['3', '3', '3', '3', '3', '3']);
        expect(cells['1']['of-vm-net/clip/λ=1:1:0.25:0.25:0.25:0.25'].r1.text).toBe('0.350 ± 0.025 [0.288, 0.412]');
        expect(cells['1']['of-vm-net/clip/λ=1:1:4:4:4:4'].avAlign).toEqual({ text: '0.400 ± 0.010 [0.375, 0.425]', best: true });
        const pts = await page.$$eval('table.lambda-points tbody tr', (trs) => trs.map((tr) => tr.querySelector('td[data-n]')?.textContent));
        expect(pts).toEqual(['3', '3', '3', '3', '3', '3']);
        const charts = await chartMarks(page);
        expect(charts['pareto-synth-a-test'].marks.symbol).toBe(6);
        expect(charts['ratio-avAlign-synth-a-test'].marks.symbol).toBe(3); // the 3 λ settings of OF-VM-Net
        expect(charts['ratio-avAlign-synth-a-test'].marks.area).toBe(1); // one seed band per (model, features) line, not one per point
        // the runs table fits a 1400 px window
        await page.setViewportSize({ width: 1400, height: 900 });
        const width = await page.evaluate(() => document.querySelector('table.runs')!.getBoundingClientRect().right);
        expect(width).toBeLessThanOrEqual(1400);
        await page.screenshot({ path: path.join(ARTIFACTS, 'must-show.png'), fullPage: true });
        expect(external).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await page.context().close();
      }
    } finally {
      await t.close();
      fs.rmSync(msDir, { recursive: true, force: true });
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
