import * as path from 'path';
import { SqliteTracker, type SqliteTrackerOptions } from './sqlite-tracker';
import { HttpTracker, type HttpTrackerOptions } from './http/http-tracker';
import type { Tracker } from './types';

/** Default embedded store: `./vmr-runs/runs.db` (artifacts in `./vmr-runs/artifacts/`). */
export const DEFAULT_STORE_PATH = path.join('vmr-runs', 'runs.db');

/**
 * The run-store file to use: an explicit path (`--store`), else `VMR_STORE`, else the default.
 * `file:` URIs are accepted.
 */
export function resolveStorePath(explicit?: string): string {
  const raw = (explicit && explicit.trim()) || (process.env.VMR_STORE && process.env.VMR_STORE.trim()) || DEFAULT_STORE_PATH;
  const p = raw.startsWith('file://') ? raw.slice('file://'.length) : raw.startsWith('file:') ? raw.slice('file:'.length) : raw;
  return path.resolve(p);
}

/** Open the embedded run store (created and migrated on first open). */
export function openRunStore(explicit?: string, options?: SqliteTrackerOptions): SqliteTracker {
  return new SqliteTracker(resolveStorePath(explicit), options);
}

/**
 * The tracking URI in effect. Explicit flags beat the environment: `--tracking-uri`, else `--store`,
 * else `$VMR_TRACKING_URI`, else `$MLFLOW_TRACKING_URI`, else `$VMR_STORE`, else ./vmr-runs/runs.db.
 * Empty values count as unset.
 */
export function resolveTrackingUri(opts: { trackingUri?: string; store?: string } = {}): string {
  const set = (v: string | undefined): string | undefined => (v && v.trim() ? v.trim() : undefined);
  const uri = set(opts.trackingUri) ?? (set(opts.store) ? undefined : (set(process.env.VMR_TRACKING_URI) ?? set(process.env.MLFLOW_TRACKING_URI)));
  if (uri && /^https?:\/\//.test(uri)) return uri;
  return resolveStorePath(uri ?? set(opts.store) ?? set(process.env.VMR_STORE));
}

/** Open a tracker for a URI: `http(s)://…` → HttpTracker; a path or `file:` URI → local SQLite. */
export function openTracker(
  opts: { trackingUri?: string; store?: string } = {},
  options: { sqlite?: SqliteTrackerOptions; http?: HttpTrackerOptions } = {},
): Tracker {
  const uri = resolveTrackingUri(opts);
  if (/^https?:\/\//.test(uri)) return new HttpTracker(uri, options.http);
  return new SqliteTracker(uri, options.sqlite);
}

/**
 * Run `fn` with a tracker: the caller's own `tracker` when given (left open), else one opened from
 * `trackingUri` / `store` (and their env vars) and closed afterwards.
 */
export async function useTracker<R>(
  opts: { tracker?: Tracker; trackingUri?: string; store?: string },
  fn: (t: Tracker) => Promise<R>,
): Promise<R> {
  if (opts.tracker) return fn(opts.tracker);
  const t = openTracker({ trackingUri: opts.trackingUri, store: opts.store });
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}
