import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeNpy, sharedPath } from '@vmr/core';

const ROOT = path.resolve(__dirname, '../../..');
const FIX = sharedPath('fixtures', 'ruptures');

function vmr(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/vmr.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const fixture = (id: string): { signal: number[] | number[][]; dynp: { n_bkps: number; expected_bkps?: number[]; expected_total_cost?: number }[]; pelt: { pen: number; expected_bkps?: number[]; expected_total_cost?: number }[] } =>
  JSON.parse(fs.readFileSync(path.join(FIX, `${id}.json`), 'utf8'));

describe('vmr segment', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-seg-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('.npy 2-D signal, dynp --json prints the oracle breakpoints and total cost', () => {
    const fx = fixture('p13_mean2d'); // 150 × 2, min 10, jump 5
    const rows = fx.signal as number[][];
    const file = path.join(dir, 'p13.npy');
    writeNpy(file, Float64Array.from(rows.flat()), [rows.length, 2]);
    const c = fx.dynp.find((d) => d.n_bkps === 3)!;
    const r = vmr('segment', file, '--segments', '4', '--min-size', '10', '--jump', '5', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { breakpoints: number[]; cost: number };
    expect(out.breakpoints).toEqual(c.expected_bkps);
    expect(Math.abs(out.cost - (c.expected_total_cost as number))).toBeLessThan(1e-6);
  });

  test('.json 1-D signal with --method pelt --penalty', () => {
    const fx = fixture('p20_real_bbb_0_30'); // min 9, jump 3
    const file = path.join(dir, 'bbb.json');
    fs.writeFileSync(file, JSON.stringify(fx.signal));
    const c = fx.pelt.find((p) => p.pen === 20)!;
    const r = vmr('segment', file, '--method', 'pelt', '--penalty', '20', '--min-size', '9', '--jump', '3', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { breakpoints: number[]; cost: number; penalizedCost: number };
    expect(out.breakpoints).toEqual(c.expected_bkps);
    expect(Math.abs(out.cost - (c.expected_total_cost as number))).toBeLessThan(1e-6);
    // the human format without --json, and a typed error for a too-short signal
    const h = vmr('segment', file, '-K', '2', '--min-size', '9', '--jump', '3', '--cost', 'l2');
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/breakpoints: \d+, \d+, 90/);
    const e = vmr('segment', file, '--segments', '10');
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/INSUFFICIENT_DATA.*bbb\.json: 90 samples are too few for 9 breakpoint\(s\).*at least 300 samples/);
  });

  test('bad inputs: unknown type, bad JSON values, conflicting flags', () => {
    const txt = path.join(dir, 's.txt');
    fs.writeFileSync(txt, '1 2 3');
    expect(vmr('segment', txt, '-K', '1').stderr).toMatch(/s\.txt: unsupported signal file type "\.txt"/);
    const nan = path.join(dir, 'nan.json');
    fs.writeFileSync(nan, '[1, 2, "x", 4]');
    const r = vmr('segment', nan, '-K', '1', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'BAD_FILE_FORMAT' });
    expect(r.stderr).toMatch(/nan\.json: value \[2\] is not a number/);
    expect(vmr('segment', nan, '-K', '1', '-S', '2').stderr).toMatch(/either --segments S or --breakpoints K/);
    expect(vmr('segment', path.join(dir, 'missing.npy'), '-K', '1').stderr).toMatch(/cannot read .*missing\.npy/);
  });
});
