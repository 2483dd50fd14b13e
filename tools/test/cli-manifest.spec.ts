/**
 * The `vmr` command manifest (bin/commands.ts) against the packages' `commands` exports, and what the
 * lazy CLI loads: `vmr --help` and `vmr runs list` run without TensorFlow.js, vega, BullMQ or axios.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { VmrCommand } from '@vmr/core';
import { commandName, manifest } from '../../bin/commands';

const ROOT = path.resolve(__dirname, '..', '..');
const VMR = path.join(ROOT, 'bin', 'vmr.js');

/** Every package that contributes commands, by the import its manifest lines use. */
const PACKAGES: Record<string, () => Promise<{ commands: VmrCommand[] }>> = {
  '@vmr/tracking': () => import('@vmr/tracking'),
  '@vmr/trainer': () => import('@vmr/trainer'),
  '@vmr/evaluator': () => import('@vmr/evaluator'),
  '@vmr/sweeper': () => import('@vmr/sweeper'),
  '@vmr/segmentation': () => import('@vmr/segmentation'),
  '@vmr/metrics': () => import('@vmr/metrics'),
  '@vmr/features': () => import('@vmr/features'),
  '@vmr/data': () => import('@vmr/data'),
};

/** Which package a manifest entry loads (the module specifier inside its `load` arrow). */
function packageOf(load: () => unknown): string {
  const m = /import\(['"]([^'"]+)['"]\)|require\(['"]([^'"]+)['"]\)/.exec(load.toString());
  if (!m) throw new Error(`cannot read the package of manifest loader ${load.toString()}`);
  return m[1] ?? m[2];
}

/** Run `vmr …` with a preload that records every package loaded from node_modules. */
function vmrLoading(argsIn: (dir: string) => string[], env: NodeJS.ProcessEnv = {}): { stdout: string; packages: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-loads-'));
  const log = path.join(dir, 'loaded.json');
  const preload = path.join(dir, 'trace.js');
  fs.writeFileSync(
    preload,
    `const M = require('module'); const P = require('path'); const F = require('fs'); const seen = new Set(); const orig = M._load;
M._load = function (req) { if (!req.startsWith('.') && !P.isAbsolute(req) && !req.startsWith('node:') && !M.builtinModules.includes(req)) seen.add(req.split('/').slice(0, req.startsWith('@') ? 2 : 1).join('/')); return orig.apply(this, arguments); };
process.on('exit', () => F.writeFileSync(${JSON.stringify(log)}, JSON.stringify([...seen])));\n`,
  );
  try {
    const args = argsIn(dir);
    const r = spawnSync(process.execPath, ['--require', preload, VMR, ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, VMR_NO_BUILD: '', ...env },
      timeout: 120000,
    });
    if (r.status !== 0) throw new Error(`vmr ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return { stdout: r.stdout, packages: JSON.parse(fs.readFileSync(log, 'utf8')) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('vmr command manifest', () => {
  it('lists exactly the commands the packages export, with their descriptions', async () => {
    const problems: string[] = [];
    const listed = new Set(manifest.map((e) => `${packageOf(e.load)} ${commandName(e)}`));
    for (const [pkg, load] of Object.entries(PACKAGES)) {
      for (const c of (await load()).commands) {
        const entry = manifest.find((e) => packageOf(e.load) === pkg && commandName(e) === commandName(c));
        const line = `{ command: ${JSON.stringify(String(c.command))}, describe: ${JSON.stringify(String(c.describe))}, load: () => require('${pkg}') },`;
        if (!entry) problems.push(`${pkg} exports \`vmr ${commandName(c)}\` but bin/commands.ts does not list it; add:\n  ${line}`);
        else if (entry.command !== c.command || entry.describe !== c.describe) problems.push(`bin/commands.ts line for \`vmr ${commandName(c)}\` (${pkg}) differs from the package's command; make it:\n  ${line}`);
        listed.delete(`${pkg} ${commandName(c)}`);
      }
    }
    for (const gone of listed) problems.push(`bin/commands.ts lists \`${gone}\` but that package exports no such command`);
    if (problems.length) throw new Error(problems.join('\n'));
  });

  it('`vmr --help` lists every command and loads no package that only some commands need', () => {
    const r = vmrLoading(() => ['--help']);
    for (const e of manifest) expect(r.stdout).toContain(`vmr ${e.command}`);
    for (const heavy of ['@tensorflow/tfjs', '@tensorflow/tfjs-core', 'vega', 'vega-lite', 'bullmq', 'ioredis', 'axios', 'drizzle-orm', 'better-sqlite3', '@techstark/opencv-js', 'onnxruntime-node']) expect(r.packages).not.toContain(heavy);
  });

  it('`vmr runs list` on an empty store opens the store without TensorFlow.js, vega, BullMQ or axios', () => {
    const r = vmrLoading((dir) => ['runs', 'list', '--store', path.join(dir, 'runs.db')]);
    expect(r.stdout).toContain('(no runs)');
    expect(r.packages).toEqual(expect.arrayContaining(['better-sqlite3', 'drizzle-orm']));
    for (const heavy of ['@tensorflow/tfjs', '@tensorflow/tfjs-core', 'vega', 'vega-lite', 'bullmq', 'ioredis', 'axios', '@techstark/opencv-js', 'onnxruntime-node']) expect(r.packages).not.toContain(heavy);
  });

  it('runs the same lazy way from the TypeScript sources (VMR_NO_BUILD=1, tsx)', () => {
    const r = vmrLoading((dir) => ['runs', 'list', '--store', path.join(dir, 'runs.db')], { VMR_NO_BUILD: '1' });
    expect(r.stdout).toContain('(no runs)');
    expect(r.packages).toContain('tsx');
    for (const heavy of ['@tensorflow/tfjs', 'vega', 'bullmq', 'axios']) expect(r.packages).not.toContain(heavy);
  });
});
