import * as path from 'path';
import { SqliteTracker, type SqliteTrackerOptions } from './sqlite-tracker';

/** Default embedded store: `./vmr-runs/runs.db` (artifacts in `./vmr-runs/artifacts/`). */
export const DEFAULT_STORE_PATH = path.join('vmr-runs', 'runs.db');

/**
 * The run-store file to use: an explicit path (`--store`), else `VMR_STORE`, else the default.
 * `file:` URIs are accepted.
 */
export function resolveStorePath(explicit?: string): string {
  const raw = explicit ?? process.env.VMR_STORE ?? DEFAULT_STORE_PATH;
  const p = raw.startsWith('file://') ? raw.slice('file://'.length) : raw.startsWith('file:') ? raw.slice('file:'.length) : raw;
  return path.resolve(p);
}

/** Open the embedded run store (created and migrated on first open). */
export function openRunStore(explicit?: string, options?: SqliteTrackerOptions): SqliteTracker {
  return new SqliteTracker(resolveStorePath(explicit), options);
}
