/**
 * Reports through a tracking server (issue 22 item 3): every `vmr report` command run through the real
 * CLI against `vmr tracking serve` (a TrackingServer on loopback over a store written with the
 * trainer's / evaluator's / sweeper's names) prints what the same command prints with `--store` on that
 * file — and the served output carries the hand-computed numbers, so "the same" is not "both empty".
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { repoRoot } from '@vmr/core';
import { SqliteTracker, TrackingServer } from '@vmr/tracking';
import { EXPERIMENT, MS_EXPERIMENT, MS_SWEEP, populateMustShow, populateStore } from './html-store';

const run = promisify(execFile);
let dir: string;
let store: string;
let server: TrackingServer;
let url: string;

/** The CLI as a user runs it, asynchronously: the server answers from this process meanwhile. */
async function vmr(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [path.join(repoRoot(), 'bin', 'vmr.js'), ...args], { encoding: 'utf8', env: { ...process.env, VMR_QUIET: '1', VMR_TRACKING_URI: '', MLFLOW_TRACKING_URI: '', VMR_STORE: '' }, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '', stderr: x.stderr ?? String(e) };
  }
}

/** The same command with `--store FILE` and with `--tracking-uri http://…`: both succeed, same stdout. */
async function both(args: string[]): Promise<string> {
  const [local, served] = [await vmr([...args, '--store', store]), await vmr([...args, '--tracking-uri', url])];
  expect({ args, code: local.code, stderr: local.stderr }).toEqual({ args, code: 0, stderr: '' });
  expect({ args, code: served.code, stderr: served.stderr }).toEqual({ args, code: 0, stderr: '' });
  expect(served.stdout.split(url).join('<store>')).toBe(local.stdout.split(store).join('<store>'));
  return served.stdout;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-report-http-'));
  store = path.join(dir, 'runs.db');
  const t = new SqliteTracker(store, { reapStaleRuns: false, heartbeatIntervalMs: 0 });
  try {
    await populateStore(t);
    await populateMustShow(t, dir);
  } finally {
    await t.close();
  }
  server = new TrackingServer({ db: store, port: 0 });
  url = await server.listen();
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('vmr report through a tracking server (--tracking-uri http://…)', () => {
  it('tables: the same Tables 1 and 2 as from the store file, 6 configurations with n = 3 and the hand-computed cells', async () => {
    const json = JSON.parse(await both(['report', 'tables', '-e', MS_EXPERIMENT, '--json'])) as Array<{ rows: Array<{ runs: number; label: string; cells: Record<string, { mean: number; n: number }> }> }>;
    expect(json).toHaveLength(1);
    expect(json[0].rows.map((r) => r.runs)).toEqual([3, 3, 3, 3, 3, 3]);
    const md = await both(['report', 'tables', '-e', MS_EXPERIMENT]);
    expect(md).toContain('| OF-VM-Net | CLIP | λ=1:1:0.25:0.25:0.25:0.25 | 3 | 0.500 ± 0.000 [0.500, 0.500] | 0.300 ± 0.010 [0.275, 0.325] | 6.000 ± 0.500 [4.758, 7.242] | 0.350 ± 0.025 [0.288, 0.412] |');
    expect(await both(['report', 'tables', '-e', EXPERIMENT])).toMatch(/Table 2: out-of-distribution/);
  }, 120_000);

  it('compare (--by and A vs B with paired bootstrap over per-query artifacts) and verdict', async () => {
    await both(['report', 'compare', '--by', 'lambda', '-e', MS_EXPERIMENT, '--format', 'csv']);
    const pair = await both(['report', 'compare', 'lambda=1:1:4:4:4:4', 'lambda=1:1:1:1:1:1', '-e', MS_EXPERIMENT, '--resamples', '200']);
    // The R@1 interval is a paired bootstrap over the 120 queries' ranks: the per-query artifacts were read (downloaded over HTTP).
    expect(pair).toMatch(/A − B AV-ALIGN\s+= \+0\.050 \[\+0\.050, \+0\.050\] — A better/);
    expect(pair).toMatch(/A − B R@1\s+= −0\.050 \[−0\.0\d\d, −0\.0\d\d\] — B better/);
    expect(pair).not.toMatch(/R@1\s+= −0\.050 \[−0\.050, −0\.050\]/);
    const v = await both(['report', 'verdict', '-e', MS_EXPERIMENT, '--resamples', '200']);
    expect(v).toMatch(/beats VM-Net on AV-Align\? Δ AV-Align = \+0\.050 \[\+0\.050, \+0\.050\] → OF-VM-Net better/);
  }, 120_000);

  it('sweep: the same ranking and Pareto front', async () => {
    const rep = JSON.parse(await both(['report', 'sweep', MS_SWEEP, '-y', 'eval.synth-a.fad', '--json'])) as { configurations: Array<{ n: number }>; pareto: { yDirection: string; front: unknown[] } };
    expect(rep.configurations.map((c) => c.n)).toEqual([3, 3, 3, 3, 3, 3]);
    expect(rep.pareto).toMatchObject({ yDirection: 'min' });
    expect(rep.pareto.front).toHaveLength(3);
  }, 120_000);

  it('html: the same page (tables, curves from metric histories, sweep scatter) apart from its store line and time', async () => {
    const norm = (file: string, where: string) =>
      fs
        .readFileSync(file, 'utf8')
        .split(where)
        .join('<store>')
        .replace(/generated \d{4}-\d\d-\d\dT[\d:.]+Z/g, 'generated <time>')
        .replace(/"generatedAt":\d+/g, '"generatedAt":0');
    for (const scope of [['-e', EXPERIMENT], ['--sweep', MS_SWEEP]]) {
      const a = path.join(dir, 'local.html');
      const b = path.join(dir, 'served.html');
      const local = await vmr(['report', 'html', ...scope, '--out', a, '--store', store, '--json']);
      const served = await vmr(['report', 'html', ...scope, '--out', b, '--tracking-uri', url, '--json']);
      expect({ scope, code: served.code, stderr: served.stderr }).toEqual({ scope, code: 0, stderr: '' });
      expect(local.code).toBe(0);
      const sa = JSON.parse(local.stdout) as { charts: number; tables: number; runs: number };
      const sb = JSON.parse(served.stdout) as { charts: number; tables: number; runs: number };
      expect({ charts: sb.charts, tables: sb.tables, runs: sb.runs }).toEqual({ charts: sa.charts, tables: sa.tables, runs: sa.runs });
      expect(sb.charts).toBeGreaterThan(0);
      expect(sb.runs).toBeGreaterThan(0);
      expect(norm(b, url) === norm(a, store)).toBe(true);
      expect(fs.readFileSync(b, 'utf8')).toContain(`store <code>${url}</code>`);
    }
  }, 180_000);
});
