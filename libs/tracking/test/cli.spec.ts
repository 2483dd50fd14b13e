/**
 * `vmr smoke` and `vmr runs list|show|compare` through the real CLI entry and a real store file.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { SqliteTracker } from '../src';

const run = promisify(execFile);
const VMR = path.resolve(__dirname, '..', '..', '..', 'bin', 'vmr.js');

async function vmr(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [VMR, ...args], { env: { ...process.env, VMR_TRACKING_URI: '', MLFLOW_TRACKING_URI: '' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('vmr runs CLI', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-cli-'));
  const store = path.join(dir, 'runs.db');
  let a: string;
  let b: string;

  beforeAll(async () => {
    const t = new SqliteTracker(store, { heartbeatIntervalMs: 0 });
    const r1 = await t.startRun({ experiment: 'table1', name: 'of-vm-net/clip' });
    await t.logParams(r1.id, { model: 'of-vm-net', lr: 0.0001 });
    await t.logMetrics(r1.id, [{ key: 'eval.r1', value: 0.25, step: 0 }]);
    await t.endRun(r1.id);
    const r2 = await t.startRun({ experiment: 'table1', name: 'vm-net/clip' });
    await t.logParams(r2.id, { model: 'vm-net', lr: 0.0001 });
    await t.logMetrics(r2.id, [{ key: 'eval.r1', value: 0.4, step: 0 }]);
    await t.endRun(r2.id, 'failed', 'test');
    a = r1.id;
    b = r2.id;
    await t.close();
  });

  it('smoke opens a new store, logs a run and prints where the store is (--json)', async () => {
    const fresh = path.join(dir, 'fresh', 'runs.db');
    const r = await vmr(['smoke', '--store', fresh, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.store).toBe(fresh);
    expect(out.counts).toMatchObject({ runs: 1, metrics: 3 });
    expect(fs.existsSync(fresh)).toBe(true);
  });

  it('runs list filters and orders; --json is machine-readable', async () => {
    const r = await vmr(['runs', 'list', '--store', store, '--json', '--order-by', 'metric.eval.r1 desc']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; metrics: Record<string, number> }[];
    expect(rows.map((x) => x.id)).toEqual([b, a]);
    expect(rows[0].metrics['eval.r1']).toBe(0.4);
    const f = await vmr(['runs', 'list', '--store', store, '--json', '--param', 'model=of-vm-net', '--status', 'finished']);
    expect((JSON.parse(f.stdout) as { id: string }[]).map((x) => x.id)).toEqual([a]);
    const table = await vmr(['runs', 'list', '--store', store]);
    expect(table.stdout).toMatch(/of-vm-net\/clip/);
    expect(table.stdout).toMatch(/eval\.r1/);
  });

  it('runs show resolves an id prefix; runs compare marks differing rows', async () => {
    const s = await vmr(['runs', 'show', a.slice(0, 8), '--store', store, '--json']);
    expect(JSON.parse(s.stdout)).toMatchObject({ id: a, params: { model: 'of-vm-net' } });
    const c = await vmr(['runs', 'compare', a, b, '--store', store]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/\*\s*│\s*param model/);
    expect(c.stdout).not.toMatch(/\*\s*│\s*param lr/);
  });

  it('errors are one clear line and a non-zero exit: unknown run, corrupt store', async () => {
    const u = await vmr(['runs', 'show', 'abcdef', '--store', store]);
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/vmr: error \[NOT_FOUND\]: no run with id 'abcdef'/);
    expect(u.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    const bad = path.join(dir, 'bad.db');
    fs.writeFileSync(bad, 'not sqlite at all, just text');
    const c = await vmr(['runs', 'list', '--store', bad]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/STORE_CORRUPT.*bad\.db is not a SQLite database/);
    expect(fs.readFileSync(bad, 'utf8')).toBe('not sqlite at all, just text');
  });
});
