/**
 * Run-store schema (MLflow's model in SQLite). Migrations are generated from this file by drizzle-kit
 * (`npx drizzle-kit generate` in libs/tracking) and checked in under `drizzle/`.
 */
import { sql } from 'drizzle-orm';
import { sqliteTable, text, integer, real, primaryKey, index, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const experiments = sqliteTable(
  'experiments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    createdAt: integer('created_at').notNull(),
    lifecycleStage: text('lifecycle_stage').notNull().default('active'),
    lastUpdateTime: integer('last_update_time'),
  },
  (t) => [uniqueIndex('experiments_name_uq').on(t.name)],
);

/** Experiment tags (MLflow's set-experiment-tag). */
export const experimentTags = sqliteTable(
  'experiment_tags',
  {
    experimentId: integer('experiment_id')
      .notNull()
      .references(() => experiments.id),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.experimentId, t.key] })],
);

export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    experimentId: integer('experiment_id')
      .notNull()
      .references(() => experiments.id),
    parentId: text('parent_id'),
    name: text('name').notNull(),
    status: text('status', { enum: ['queued', 'running', 'finished', 'failed', 'killed'] }).notNull(),
    startTime: integer('start_time').notNull(),
    endTime: integer('end_time'),
    heartbeat: integer('heartbeat').notNull(),
    gitCommit: text('git_commit'),
    gitDirty: integer('git_dirty', { mode: 'boolean' }),
    host: text('host').notNull(),
    pid: integer('pid').notNull(),
    command: text('command').notNull(),
    nodeVersion: text('node_version').notNull(),
    packageVersions: text('package_versions').notNull(),
    seed: integer('seed'),
    backend: text('backend'),
    protocol: text('protocol'),
    failureReason: text('failure_reason'),
    lifecycleStage: text('lifecycle_stage').notNull().default('active'),
    /**
     * Whether the run's client sends heartbeats (vmr processes do; plain MLflow clients do not). Only
     * such runs are reaped when their heartbeat goes stale.
     */
    heartbeats: integer('heartbeats', { mode: 'boolean' }).notNull().default(true),
  },
  (t) => [
    index('runs_experiment_idx').on(t.experimentId, t.startTime),
    index('runs_parent_idx').on(t.parentId),
    index('runs_status_idx').on(t.status),
  ],
);

export const params = sqliteTable(
  'params',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.key] })],
);

/**
 * Metric points, append-only. SQLite stores NaN as NULL, so `value` NULL means NaN; ±Inf are stored
 * as IEEE infinities. Identical points (run, key, step, timestamp, value) are stored once, as MLflow's
 * own store does: a retried write whose reply was lost does not duplicate rows.
 */
export const metrics = sqliteTable(
  'metrics',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id),
    key: text('key').notNull(),
    value: real('value'),
    step: integer('step').notNull(),
    timestamp: integer('timestamp').notNull(),
  },
  (t) => [uniqueIndex('metrics_point_uq').on(t.runId, t.key, t.step, t.timestamp, sql`coalesce(${t.value}, 'NaN')`)],
);

/** The latest point per (run, metric): highest step, then latest timestamp (MLflow's rule). */
export const latestMetrics = sqliteTable(
  'latest_metrics',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id),
    key: text('key').notNull(),
    value: real('value'),
    step: integer('step').notNull(),
    timestamp: integer('timestamp').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.key] }), index('latest_metrics_key_value_idx').on(t.key, t.value)],
);

export const tags = sqliteTable(
  'tags',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.key] })],
);

/** Artifacts are content-addressed: the file lives at `artifacts/<sha256>`; `path` is its logical name. */
export const artifacts = sqliteTable(
  'artifacts',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id),
    path: text('path').notNull(),
    sha256: text('sha256').notNull(),
    size: integer('size').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.path] })],
);

/**
 * Idempotency keys of applied write requests (HTTP tracking): a retried request with the same id is
 * acknowledged without being applied twice. Written in the same transaction as the write itself.
 */
export const appliedRequests = sqliteTable(
  'applied_requests',
  {
    id: text('id').primaryKey(),
    runId: text('run_id').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('applied_requests_created_idx').on(t.createdAt)],
);
