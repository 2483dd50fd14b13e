import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import type { RunProvenance } from './types';

export type ProcessInfo = RunProvenance;

let cachedGit: { commit: string | null; dirty: boolean | null } | undefined;

/** The git commit and dirty flag of the code that runs (the repository holding this file). */
export function gitState(): { commit: string | null; dirty: boolean | null } {
  if (cachedGit) return cachedGit;
  const cwd = path.resolve(__dirname, '..', '..', '..');
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString();
    cachedGit = { commit, dirty: status.trim().length > 0 };
  } catch {
    cachedGit = { commit: null, dirty: null };
  }
  return cachedGit;
}

const TRACKED_PACKAGES = [
  'drizzle-orm',
  'better-sqlite3',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@techstark/opencv-js',
  'typescript',
];

function readVersion(file: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** A package's installed version, found from its resolved entry (works when `exports` hides package.json). */
function installedVersion(name: string): string | undefined {
  let dir: string;
  try {
    dir = path.dirname(require.resolve(name));
  } catch {
    return undefined;
  }
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version;
      } catch {
        /* keep walking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

let cachedVersions: Record<string, string> | undefined;

/** Versions of VMR Lab and the numeric/storage packages a result depends on (those installed). */
export function packageVersions(): Record<string, string> {
  if (cachedVersions) return cachedVersions;
  const out: Record<string, string> = {};
  for (const name of ['vmr-lab', ...TRACKED_PACKAGES]) {
    try {
      const v = name === 'vmr-lab' ? readVersion(path.resolve(__dirname, '..', '..', '..', 'package.json')) : installedVersion(name);
      if (v) out[name] = v;
    } catch {
      /* not installed */
    }
  }
  cachedVersions = out;
  return out;
}

export function currentProcessInfo(command?: string): ProcessInfo {
  const git = gitState();
  return {
    gitCommit: git.commit,
    gitDirty: git.dirty,
    host: os.hostname(),
    pid: process.pid,
    command: command ?? process.argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' '),
    nodeVersion: process.version,
    packageVersions: packageVersions(),
  };
}

/** Whether a process with this pid exists on this host. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
