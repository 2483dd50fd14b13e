/**
 * @vmr/tracking — the run store (DESIGN.md §2.3): experiments, runs, immutable params, append-only
 * metrics, tags and content-addressed artifacts in SQLite through Drizzle, behind the `Tracker` API.
 */
export * from './types';
export { LIMITS } from './validation';
export { SqliteTracker, type SqliteTrackerOptions, type StoredExperiment } from './sqlite-tracker';
export { StoreCorruptError, StoreBusyError, MIGRATIONS_FOLDER } from './open-store';
export { DEFAULT_STORE_PATH, resolveStorePath, openRunStore, resolveTrackingUri, openTracker, useTracker } from './store-location';
export { HttpTracker, TrackingUnavailableError, type HttpTrackerOptions } from './http/http-tracker';
export { TrackingServer, startTrackingServer, type TrackingServerOptions } from './http/server';
export { MetricBuffer } from './metric-buffer';
export { formatNumber, formatTime, formatDuration } from './format';
export { withStore, withTracker, parseMetricFilter, parseOrderBy, trackingCommands as commands } from './cli';
export * as schema from './schema';
// Report queries (Tables 1 and 2, comparisons) through a ReportSource: any store, shared by every vmr report.
export * from './report';
