/**
 * The dependency arrows of DESIGN.md §2 (.dependency-cruiser.js), checked by the real dependency-cruiser
 * CLI: the repository has no forbidden import, and each kind of forbidden import in a fixture tree fails
 * the check with the offending file named. This test runs in `npm test`, so a forbidden import fails
 * `.ci/run`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = path.join(ROOT, '.dependency-cruiser.js');

function cruise(cwd: string, dirs: string[]): { status: number | null; out: string } {
  if (!fs.existsSync(CLI)) throw new Error(`dependency-cruiser is not installed (${CLI} missing): run npm install`);
  const r = spawnSync(process.execPath, [CLI, ...dirs, '--config', CONFIG, '--output-type', 'err'], { cwd, encoding: 'utf8', timeout: 180000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function write(root: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
}

/** A miniature workspace: the real layout and tsconfig paths, a few packages, one import per file. */
function fixture(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-arrows-'));
  const pkgs = { core: 'libs', metrics: 'libs', tracking: 'libs', data: 'libs', segmentation: 'libs', trainer: 'apps', evaluator: 'apps', sweeper: 'apps' };
  const paths: Record<string, string[]> = { '@vmr/core/tf': ['libs/core/src/tf/index.ts'] };
  for (const [name, kind] of Object.entries(pkgs)) {
    paths[`@vmr/${name}`] = [`${kind}/${name}/src/index.ts`];
    write(dir, `${kind}/${name}/src/index.ts`, `export const ${name} = 1;\n`);
    write(dir, `${kind}/${name}/src/internal.ts`, `export const internal = 1;\n`);
  }
  write(dir, 'libs/core/src/tf/index.ts', "export * from '@tensorflow/tfjs';\n");
  write(dir, 'node_modules/@tensorflow/tfjs/package.json', JSON.stringify({ name: '@tensorflow/tfjs', main: 'index.js' }));
  write(dir, 'node_modules/@tensorflow/tfjs/index.js', 'module.exports = {};\n');
  for (const [name, kind] of Object.entries(pkgs)) {
    write(dir, `${kind}/${name}/package.json`, JSON.stringify({ name: `@vmr/${name}`, main: 'src/index.ts' }));
    fs.mkdirSync(path.join(dir, 'node_modules', '@vmr'), { recursive: true });
    fs.symlinkSync(path.join('..', '..', kind, name), path.join(dir, 'node_modules', '@vmr', name));
  }
  write(dir, 'tsconfig.base.json', JSON.stringify({ compilerOptions: { baseUrl: '.', paths } }));
  for (const [rel, text] of Object.entries(files)) write(dir, rel, text);
  return dir;
}

describe('dependency arrows (dependency-cruiser)', () => {
  it('the repository has no forbidden import', () => {
    const r = cruise(ROOT, ['libs', 'apps', 'bin', 'bench', 'tools']);
    if (r.status !== 0) throw new Error(`forbidden imports in the repository (fix them or, if DESIGN.md §2 changed, .dependency-cruiser.js):\n${r.out}`);
    expect(r.out).toMatch(/no dependency violations found/);
  });

  it('a fixture that follows the arrows passes (the checks below fail for their injected import only)', () => {
    const dir = fixture({
      'libs/data/src/ok.ts': "import { core } from '@vmr/core';\nimport { segmentation } from '@vmr/segmentation';\nexport const x = core + segmentation;\n",
      'apps/sweeper/src/ok.ts': "import { trainer } from '@vmr/trainer';\nimport { tf } from '@vmr/core/tf';\nexport const x = [trainer, tf];\n",
      'libs/metrics/test/uses-data.spec.ts': "import { data } from '@vmr/data';\nexport const x = data;\n",
    });
    try {
      const r = cruise(dir, ['libs', 'apps']);
      expect(r.out).toMatch(/no dependency violations found/);
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('each kind of forbidden import fails the check, naming the file, the imported file and the rule', () => {
    const cases: Array<{ what: string; rule: string; file: string; text: string; target: string }> = [
      { what: 'a lib importing an app', rule: 'lib-imports-app', file: 'libs/data/src/bad-app.ts', text: "import { trainer } from '@vmr/trainer';\nexport const x = trainer;\n", target: 'apps/trainer/src/index.ts' },
      { what: 'a lib importing a lib outside its arrows', rule: 'arrow-metrics', file: 'libs/metrics/src/bad.ts', text: "import { tracking } from '@vmr/tracking';\nexport const x = tracking;\n", target: 'libs/tracking/src/index.ts' },
      { what: "a deep import '@vmr/x/src/...'", rule: 'deep-import', file: 'apps/sweeper/src/bad.ts', text: "import { internal } from '@vmr/data/src/internal';\nexport const x = internal;\n", target: 'libs/data/src/internal.ts' },
      { what: 'a relative import into another package', rule: 'deep-import', file: 'libs/data/src/bad-relative.ts', text: "import { internal } from '../../segmentation/src/internal';\nexport const x = internal;\n", target: 'libs/segmentation/src/internal.ts' },
      { what: "an app importing another app (not the sweeper)", rule: 'app-imports-app', file: 'apps/evaluator/src/bad.ts', text: "import { trainer } from '@vmr/trainer';\nexport const x = trainer;\n", target: 'apps/trainer/src/index.ts' },
      { what: 'an @vmr import that resolves to nothing', rule: 'unresolvable-vmr-import', file: 'libs/tracking/src/bad.ts', text: "import { y } from '@vmr/core/src/nowhere';\nexport const x = y;\n", target: '@vmr/core/src/nowhere' },
      { what: "tfjs reachable from @vmr/core's barrel", rule: 'tfjs-in-shell-barrel', file: 'libs/core/src/index.ts', text: "export * from './tf';\n", target: 'node_modules/@tensorflow/tfjs/index.js' },
    ];
    const dir = fixture(Object.fromEntries(cases.map((c) => [c.file, c.text])));
    try {
      const r = cruise(dir, ['libs', 'apps']);
      expect(r.status).not.toBe(0);
      // dependency-cruiser's err format: "error <rule>: <from> → <to>"
      const lines = r.out.split('\n').filter((l) => /^\s*error /.test(l));
      for (const c of cases) {
        const line = lines.find((l) => l.includes(`error ${c.rule}: ${c.file} `) && l.includes(c.target));
        if (!line) throw new Error(`${c.what} (${c.file}) was not reported as ${c.rule}; the report was:\n${r.out}`);
      }
      expect(lines).toHaveLength(cases.length);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
