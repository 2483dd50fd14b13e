import { execFileSync } from 'child_process';
import { repoRoot } from '@vmr/core';

/**
 * The code version that goes into trial keys. `git`: the checkout's HEAD commit, with `+dirty` when
 * tracked files have uncommitted changes (so a rerun on a new commit re-runs every trial, and two
 * runs on the same dirty tree share keys); outside a git checkout, `unknown`. Any other string is
 * used as given. `$VMR_CODE_VERSION` overrides both.
 */
export function resolveCodeVersion(setting: string, cwd: string = repoRoot()): string {
  const env = process.env.VMR_CODE_VERSION;
  if (env) return env;
  if (setting !== 'git') return setting;
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    let dirty = false;
    try {
      execFileSync('git', ['diff', '--quiet', 'HEAD', '--'], { cwd, stdio: 'ignore' });
    } catch {
      dirty = true;
    }
    return dirty ? `${commit}+dirty` : commit;
  } catch {
    return 'unknown';
  }
}
