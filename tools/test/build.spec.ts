/**
 * bin/build.js on a miniature project (real esbuild, real node processes): the first start builds, a
 * changed source is rebuilt before it runs (never stale code), processes starting together all run the
 * new code, a build that cannot be made falls back to tsx with a one-line notice, VMR_NO_BUILD=1 runs
 * the sources, and bundled code sees its source file's own __dirname and nested node_modules.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const BUILD = path.resolve(__dirname, '..', '..', 'bin', 'build.js');

function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-build-'));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true } }));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.mkdirSync(path.join(dir, 'lib'));
  fs.writeFileSync(path.join(dir, 'bin', 'main.ts'), "import { value, where, nested } from '../lib/value';\nprocess.stdout.write(JSON.stringify({ value, where, nested }));\n");
  // A package installed beside the importing sources only (as libs/features/node_modules/nsfwjs).
  fs.mkdirSync(path.join(dir, 'lib', 'node_modules', 'nested-pkg'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'lib', 'node_modules', 'nested-pkg', 'index.js'), "exports.nested = 'nested ok';\n");
  setValue(dir, 'v1');
  fs.writeFileSync(
    path.join(dir, 'run.js'),
    `require(${JSON.stringify(BUILD)}).runEntry('bin/main.ts', { root: __dirname, entries: ['bin/main.ts'], extraInputs: ['tsconfig.json'] });\n`,
  );
  return dir;
}

function setValue(dir: string, v: string): void {
  // A different length each time, so the change is seen even within one mtime tick.
  fs.writeFileSync(
    path.join(dir, 'lib', 'value.ts'),
    `import { nested as n } from 'nested-pkg';\nexport const value: string = '${v}';\nexport const where: string = __dirname;\nexport const nested: string = n + ' ' + require.resolve('nested-pkg');\n`,
  );
}

function run(dir: string, env: NodeJS.ProcessEnv = {}): { out: { value: string; where: string; nested: string }; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(dir, 'run.js')], { cwd: dir, encoding: 'utf8', env: { ...process.env, VMR_NO_BUILD: '', ...env }, timeout: 60000 });
  if (r.status !== 0) throw new Error(`run.js exited ${r.status}: ${r.stderr}`);
  return { out: JSON.parse(r.stdout), stderr: r.stderr };
}

function current(dir: string): { id: string; inputs: Array<[string, number, number]> } {
  return JSON.parse(fs.readFileSync(path.join(dir, 'dist', 'current.json'), 'utf8'));
}

describe('bin/build.js: the compiled build is never stale', () => {
  let dir: string;
  beforeEach(() => (dir = project()));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds on first start, runs the bundle, and rebuilds when a source changes', () => {
    const a = run(dir);
    expect(a.out.value).toBe('v1');
    expect(a.stderr).toBe('');
    const first = current(dir);
    expect(first.inputs.map((i) => i[0]).sort()).toEqual(['bin/main.ts', 'lib/value.ts', 'tsconfig.json']);
    expect(fs.existsSync(path.join(dir, 'dist', first.id, 'bin', 'main.js'))).toBe(true);
    // Bundled code keeps its source location (migrations, worker scripts are found beside sources).
    expect(a.out.where).toBe(path.join(dir, 'lib'));
    // …and packages installed beside them: imported and require.resolve'd from the source's folder.
    expect(a.out.nested).toBe(`nested ok ${path.join(dir, 'lib', 'node_modules', 'nested-pkg', 'index.js')}`);

    // Unchanged sources: the same build is reused.
    run(dir);
    expect(current(dir).id).toBe(first.id);

    setValue(dir, 'v22');
    expect(run(dir).out.value).toBe('v22');
    expect(current(dir).id).not.toBe(first.id);
  });

  it('processes that start together after a change all run the new code', async () => {
    run(dir);
    setValue(dir, 'v333');
    const outs = await Promise.all(
      Array.from({ length: 5 }, () => {
        const c = spawn(process.execPath, [path.join(dir, 'run.js')], { cwd: dir, env: { ...process.env, VMR_NO_BUILD: '' } });
        let out = '';
        let err = '';
        c.stdout.on('data', (d) => (out += d));
        c.stderr.on('data', (d) => (err += d));
        return new Promise<{ code: number | null; out: string; err: string }>((resolve) => c.on('close', (code) => resolve({ code, out, err })));
      }),
    );
    for (const o of outs) {
      expect(o.err).toBe('');
      expect(o.code).toBe(0);
      expect(JSON.parse(o.out).value).toBe('v333');
    }
    expect(fs.existsSync(path.join(dir, 'dist', '.building'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'dist', current(dir).id, 'bin', 'main.js'))).toBe(true);
  });

  it('falls back to the TypeScript sources (tsx) with a one-line notice when no build can be made', () => {
    fs.writeFileSync(path.join(dir, 'dist'), 'not a directory');
    const r = run(dir);
    expect(r.out.value).toBe('v1');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^vmr: running from TypeScript sources .*the compiled build failed/);
  });

  it('VMR_NO_BUILD=1 runs the sources through tsx and builds nothing', () => {
    const r = run(dir, { VMR_NO_BUILD: '1' });
    expect(r.out.value).toBe('v1');
    expect(r.out.where).toBe(path.join(dir, 'lib'));
    expect(fs.existsSync(path.join(dir, 'dist'))).toBe(false);
  });
});
