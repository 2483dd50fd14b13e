import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileFormatError, repoRoot, sharedPath, writeNpy } from '@vmr/core';
import { fad, loadEmbeddings } from '../src';

const ROOT = repoRoot();
const FIXTURE = sharedPath('fixtures', 'fad', 'case_2_16d_1000_1500.json');

describe('vmr fad', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-fad-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads .npy (float64 kept exact) and .json rows; the CLI prints {fad, rankDeficient, n, d}', () => {
    const fx = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { set1: number[][]; set2: number[][]; expected_fad: number; dim: number };
    const a = path.join(dir, 'a.npy');
    const b = path.join(dir, 'b.json');
    writeNpy(a, Float64Array.from(fx.set1.flat()), [fx.set1.length, fx.dim]);
    fs.writeFileSync(b, JSON.stringify(fx.set2));
    expect(fad(loadEmbeddings(a), loadEmbeddings(b)).fad).toBeCloseTo(fx.expected_fad, 9);
    const out = execFileSync(process.execPath, [path.join(ROOT, 'bin/vmr.js'), 'fad', a, b, '--json'], { encoding: 'utf8' });
    const j = JSON.parse(out);
    expect(Math.abs(j.fad - fx.expected_fad) / fx.expected_fad).toBeLessThan(1e-9);
    expect(j).toMatchObject({ rankDeficient: false, n: [1000, 1500], d: 16 });
  });

  it('names the file on bad input and exits non-zero', () => {
    expect(() => loadEmbeddings(FIXTURE)).toThrow(FileFormatError); // an object, not an array of rows
    expect(() => loadEmbeddings(path.join(dir, 'x.csv'))).toThrow(/x\.csv: unsupported/);
    let code = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'bin/vmr.js'), 'fad', FIXTURE, FIXTURE], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      code = (e as { status: number }).status;
      stderr = (e as { stderr: string }).stderr;
    }
    expect(code).toBe(1);
    expect(stderr).toContain('case_2_16d_1000_1500.json: expected a JSON array of rows');
  });
});
