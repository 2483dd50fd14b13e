import * as fs from 'fs';
import * as path from 'path';
import { NotFoundError } from './errors';

/** The repository root: the nearest ancestor of this file holding nx.json. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'nx.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/**
 * The shared read-only material (media, oracle fixtures): `$VMR_SHARED_DIR`, else `shared/` beside the
 * repository, else `/work/shared`. Tests read media and fixtures through this, never by copying them.
 */
export function sharedDir(): string {
  const candidates = [process.env.VMR_SHARED_DIR, path.resolve(repoRoot(), '..', 'shared'), '/work/shared'].filter((c): c is string => !!c);
  for (const c of candidates) if (fs.existsSync(path.join(c, 'DESIGN.md')) || fs.existsSync(path.join(c, 'fixtures'))) return c;
  throw new NotFoundError(`shared material not found (looked in ${candidates.join(', ')}); set VMR_SHARED_DIR`);
}

/** A path inside the shared material, e.g. `sharedPath('fixtures', 'fad')`. */
export function sharedPath(...parts: string[]): string {
  return path.join(sharedDir(), ...parts);
}
