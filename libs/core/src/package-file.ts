import * as fs from 'fs';
import * as path from 'path';

/**
 * A file shipped inside a workspace package (a native addon's build output): `direct` (the path from the
 * calling source file) when it exists, else `rel` inside package `pkg` resolved through node_modules (the
 * bundled build in dist/ runs from elsewhere), else `direct` (for the caller's "missing" message).
 */
export function packageFile(direct: string, pkg: string, rel: string): string {
  if (fs.existsSync(direct)) return direct;
  try {
    return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), rel);
  } catch {
    return direct;
  }
}
