import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot, sha256Hex } from '@vmr/core';

/** Directories whose sources make up "the code" of an installed VMR Lab. */
const SOURCE_ROOTS = ['apps', 'libs', 'bin', 'experiments'];
const SOURCE_EXT = /\.(ts|js|mjs|cjs|json|ya?ml|c|cc|cpp|h|hpp|gyp)$/;
/** Files at the root that change what runs: the locked dependency versions (tfjs, onnxruntime…). */
const ROOT_FILES = ['package.json', 'package-lock.json'];

function listSources(dir: string, out: string[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) listSources(p, out);
    else if (e.isFile() && SOURCE_EXT.test(e.name)) out.push(p);
  }
}

const installedCache = new Map<string, string>();

/**
 * The version of an installed copy that is not a git checkout: `<package>@<version>+src.<sha256[:16]>`,
 * the hash over the relative path and bytes of every source file under apps/, libs/, bin/ and
 * experiments/ (node_modules excluded) and of package.json / package-lock.json, so an edited install never
 * shares trial keys with a pristine one — while documentation (README, *.md) is not part of it.
 */
export function installedSourcesVersion(root: string = repoRoot()): string {
  const cached = installedCache.get(root);
  if (cached) return cached;
  let pkg = { name: 'vmr-lab', version: '0.0.0' };
  try {
    pkg = { ...pkg, ...(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name?: string; version?: string }) };
  } catch {
    /* defaults */
  }
  const files: string[] = [];
  for (const d of SOURCE_ROOTS) listSources(path.join(root, d), files);
  for (const f of ROOT_FILES) if (fs.existsSync(path.join(root, f))) files.push(path.join(root, f));
  files.sort();
  const parts: string[] = [];
  for (const f of files) parts.push(`${path.relative(root, f)}\0${sha256Hex(fs.readFileSync(f))}`);
  const v = `${pkg.name}@${pkg.version}+src.${sha256Hex(parts.join('\n')).slice(0, 16)}`;
  installedCache.set(root, v);
  return v;
}

/**
 * The code version that goes into trial keys. `git`: the checkout's HEAD commit, with `+dirty` when
 * tracked files have uncommitted changes (so a rerun on a new commit re-runs every trial, and two
 * runs on the same dirty tree share keys); outside a git checkout (or without git), the package
 * version plus a hash of the installed sources — never a constant such as `unknown`. `sources`: that
 * hash even inside a checkout, so a commit that changes only documentation keeps the trials (the run
 * provenance still records the commit). Any other string is used as given. `$VMR_CODE_VERSION`
 * overrides all.
 */
export function resolveCodeVersion(setting: string, cwd: string = repoRoot()): string {
  const env = process.env.VMR_CODE_VERSION;
  if (env) return env;
  if (setting === 'sources') return installedSourcesVersion(cwd);
  if (setting !== 'git') return setting;
  let commit: string;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    // a checkout that is not this code's (e.g. an install inside some other repository)
    const top = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (fs.realpathSync(top) !== fs.realpathSync(cwd)) return installedSourcesVersion(cwd);
  } catch {
    return installedSourcesVersion(cwd);
  }
  let dirty = false;
  try {
    execFileSync('git', ['diff', '--quiet', 'HEAD', '--'], { cwd, stdio: 'ignore' });
  } catch {
    dirty = true;
  }
  return dirty ? `${commit}+dirty` : commit;
}
