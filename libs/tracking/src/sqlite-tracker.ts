import { randomUUID, createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type Database from 'better-sqlite3';
import { and, asc, desc, eq, exists, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { ConflictError, InvalidArgumentError, IoError, NotFoundError, copyFileAtomic, errorMessage } from '@vmr/core';
import * as schema from './schema';
import { openStoreDb, withBusyRetry, type StoreDb } from './open-store';
import { currentProcessInfo, pidAlive } from './process-info';
import { validateKey, validateMetricBatch, validateParamValue, validateTagValue } from './validation';
import { likeToRegExp } from './http/search-filter';
import { ATTR_TAGS } from './http/mlflow-mapping';
import {
  RUN_STATUSES,
  type ArtifactInfo,
  type Experiment,
  type FilterClause,
  type MetricPoint,
  type ParamValue,
  type RunDetail,
  type RunInfo,
  type RunQuery,
  type RunStatus,
  type StartRunOptions,
  type StoredMetricPoint,
  type Tracker,
  type ViewType,
} from './types';

export interface SqliteTrackerOptions {
  /** Runs still `running` whose process is gone are marked failed on open. Default true. */
  reapStaleRuns?: boolean;
  /**
   * A running run whose heartbeat is older than this (ms) and whose pid is gone (same host) — or, on
   * another host, whose heartbeat is older than 10× this — is marked failed. Default 60 s.
   */
  heartbeatTimeoutMs?: number;
  /** Send heartbeats for runs started by this tracker every N ms (0 = off). Default 15 s. */
  heartbeatIntervalMs?: number;
  busyTimeoutMs?: number;
}

type RunRow = typeof schema.runs.$inferSelect;

/** An experiment of the local store, whose ids are SQLite integers. */
export type StoredExperiment = Experiment & { id: number };

/** Rows per multi-row INSERT on the metric hot path (5 parameters each, far below SQLite's limit). */
const METRIC_CHUNK = 100;

function fromDbValue(v: number | null): number {
  return v === null ? Number.NaN : v;
}

/** SQLite stores NaN as NULL; we keep NULL as the NaN marker. */
function toDbValue(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}

/** The embedded run store: SQLite through Drizzle (better-sqlite3), artifacts beside it. */
export class SqliteTracker implements Tracker {
  readonly location: string;
  readonly artifactsDir: string;
  readonly sqlite: Database.Database;
  readonly db: StoreDb;
  private readonly heartbeatTimers = new Map<string, NodeJS.Timeout>();
  private readonly heartbeatIntervalMs: number;
  private readonly insertMetric: Database.Statement;
  private readonly insertMetricChunk: Database.Statement;
  private readonly runExists: Database.Statement;
  private readonly requestSeen: Database.Statement;
  private readonly recordRequest: Database.Statement;
  private readonly upsertLatest: Database.Statement;
  private closed = false;

  constructor(file: string, options: SqliteTrackerOptions = {}) {
    this.location = path.resolve(file);
    this.artifactsDir = path.join(path.dirname(this.location), 'artifacts');
    const { sqlite, db } = openStoreDb(this.location, { busyTimeoutMs: options.busyTimeoutMs });
    this.sqlite = sqlite;
    this.db = db;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 15_000;
    this.runExists = sqlite.prepare('SELECT lifecycle_stage FROM runs WHERE id = ?').pluck();
    // MLflow's LIKE is case-sensitive (SQLite's is not): both comparisons are functions of ours.
    const patterns = new Map<string, RegExp>();
    const like = (ci: boolean) => (value: unknown, pattern: unknown): number | null => {
      if (value === null || pattern === null) return null;
      const k = `${ci ? 'i' : 's'}${String(pattern)}`;
      let re = patterns.get(k);
      if (!re) {
        re = likeToRegExp(String(pattern), ci);
        if (patterns.size > 1000) patterns.clear();
        patterns.set(k, re);
      }
      return re.test(String(value)) ? 1 : 0;
    };
    sqlite.function('mlflow_like', { deterministic: true }, like(false));
    sqlite.function('mlflow_ilike', { deterministic: true }, like(true));
    this.requestSeen = sqlite.prepare('SELECT 1 FROM applied_requests WHERE id = ?').pluck();
    this.recordRequest = sqlite.prepare('INSERT INTO applied_requests (id, run_id, created_at) VALUES (?, ?, ?)');
    // Identical points are stored once (the unique index metrics_point_uq), as in MLflow's store.
    this.insertMetric = sqlite.prepare('INSERT OR IGNORE INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)');
    this.insertMetricChunk = sqlite.prepare(`INSERT OR IGNORE INTO metrics (run_id, key, value, step, timestamp) VALUES ${new Array(METRIC_CHUNK).fill('(?, ?, ?, ?, ?)').join(', ')}`);
    this.upsertLatest = sqlite.prepare(
      `INSERT INTO latest_metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value, step = excluded.step, timestamp = excluded.timestamp
       WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)`,
    );
    if (options.reapStaleRuns ?? true) this.reapStaleRuns(options.heartbeatTimeoutMs ?? 60_000);
  }

  /** Run `fn` in an IMMEDIATE write transaction with busy retries. */
  private write<T>(what: string, fn: () => T): T {
    this.assertOpen();
    const tx = this.sqlite.transaction(fn);
    return withBusyRetry(`${what} (${this.location})`, () => tx.immediate());
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidArgumentError(`run store ${this.location} is closed`);
  }

  // ---- experiments -------------------------------------------------------------------------------

  async getOrCreateExperiment(name: string): Promise<StoredExperiment> {
    return this.getOrCreateExperimentSync(name);
  }

  private getOrCreateExperimentSync(name: string): StoredExperiment {
    if (typeof name !== 'string' || name.trim().length === 0 || name.length > 250) {
      throw new InvalidArgumentError(`experiment name must be a non-empty string of at most 250 characters, got ${JSON.stringify(name)}`);
    }
    return this.write(`creating experiment '${name}'`, () => {
      const found = this.db.select().from(schema.experiments).where(eq(schema.experiments.name, name)).get();
      if (found) {
        if (found.lifecycleStage === 'deleted') {
          throw new InvalidArgumentError(`experiment '${name}' (id ${found.id}) is deleted; restore it (MLflow experiments/restore) or use another name`);
        }
        return this.toExperiment(found);
      }
      const row = this.db.insert(schema.experiments).values({ name, createdAt: Date.now() }).returning().get();
      return this.toExperiment(row);
    });
  }

  private toExperiment(row: typeof schema.experiments.$inferSelect, withTags = false): StoredExperiment {
    const e: StoredExperiment = {
      id: row.id,
      name: row.name,
      createdAt: row.createdAt,
      lastUpdateTime: row.lastUpdateTime ?? row.createdAt,
      lifecycleStage: row.lifecycleStage === 'deleted' ? 'deleted' : 'active',
    };
    if (withTags) {
      e.tags = Object.fromEntries(
        this.db.select().from(schema.experimentTags).where(eq(schema.experimentTags.experimentId, row.id)).all().map((t) => [t.key, t.value]),
      );
    }
    return e;
  }

  async getExperimentByName(name: string): Promise<StoredExperiment | undefined> {
    this.assertOpen();
    const row = this.db.select().from(schema.experiments).where(eq(schema.experiments.name, name)).get();
    return row ? this.toExperiment(row, true) : undefined;
  }

  /** One experiment by id, with its tags and lifecycle stage. */
  async getExperiment(id: number): Promise<StoredExperiment> {
    return this.toExperiment(this.requireExperiment(id), true);
  }

  private requireExperiment(id: number): typeof schema.experiments.$inferSelect {
    this.assertOpen();
    const row = this.db.select().from(schema.experiments).where(eq(schema.experiments.id, id)).get();
    if (!row) throw new NotFoundError(`no experiment with id ${id} in ${this.location}`, { details: { experimentId: id } });
    return row;
  }

  /** Experiments (by default all, whatever their lifecycle stage), with their tags. */
  async listExperiments(viewType: ViewType = 'all'): Promise<StoredExperiment[]> {
    this.assertOpen();
    const ex = schema.experiments;
    return this.db
      .select()
      .from(ex)
      .where(viewType === 'all' ? undefined : eq(ex.lifecycleStage, viewType))
      .orderBy(asc(ex.id))
      .all()
      .map((r) => this.toExperiment(r, true));
  }

  /**
   * MLflow's default experiment: id 0, named "Default", used by clients that log without choosing an
   * experiment. Created on first use (an older store that lacks it gets it then).
   */
  ensureDefaultExperiment(): StoredExperiment {
    return this.write('creating the Default experiment', () => {
      const found = this.db.select().from(schema.experiments).where(eq(schema.experiments.id, 0)).get();
      if (found) return this.toExperiment(found);
      const byName = this.db.select().from(schema.experiments).where(eq(schema.experiments.name, 'Default')).get();
      if (byName) return this.toExperiment(byName);
      const row = this.db.insert(schema.experiments).values({ id: 0, name: 'Default', createdAt: Date.now() }).returning().get();
      return this.toExperiment(row);
    });
  }

  setExperimentTag(id: number, key: string, value: string): void {
    const row = this.requireExperiment(id);
    if (row.lifecycleStage !== 'active') throw new InvalidArgumentError(`experiment ${id} must be in the 'active' state to be changed; it is ${row.lifecycleStage}`);
    const k = validateKey('tag', key, `experiment ${id}`);
    const v = validateTagValue(key, value, `experiment ${id}`);
    this.write(`tagging experiment ${id}`, () => {
      this.db
        .insert(schema.experimentTags)
        .values({ experimentId: id, key: k, value: v })
        .onConflictDoUpdate({ target: [schema.experimentTags.experimentId, schema.experimentTags.key], set: { value: v } })
        .run();
      this.db.update(schema.experiments).set({ lastUpdateTime: Date.now() }).where(eq(schema.experiments.id, id)).run();
    });
  }

  deleteExperimentTag(id: number, key: string): void {
    this.requireExperiment(id);
    this.write(`untagging experiment ${id}`, () => {
      this.db.delete(schema.experimentTags).where(and(eq(schema.experimentTags.experimentId, id), eq(schema.experimentTags.key, key))).run();
    });
  }

  /** MLflow's delete/restore of an experiment: a lifecycle stage, the data stays. */
  setExperimentLifecycle(id: number, stage: 'active' | 'deleted'): void {
    const row = this.requireExperiment(id);
    if (stage === 'deleted' && id === 0) throw new InvalidArgumentError('the Default experiment (id 0) cannot be deleted');
    if (stage === 'active' && row.lifecycleStage !== 'deleted') throw new InvalidArgumentError(`cannot restore experiment ${id}: it is not deleted`);
    this.write(`${stage === 'deleted' ? 'deleting' : 'restoring'} experiment ${id}`, () => {
      this.db.update(schema.experiments).set({ lifecycleStage: stage, lastUpdateTime: Date.now() }).where(eq(schema.experiments.id, id)).run();
    });
  }

  renameExperiment(id: number, newName: string): void {
    const row = this.requireExperiment(id);
    if (row.lifecycleStage !== 'active') throw new InvalidArgumentError(`experiment ${id} must be in the 'active' state to be renamed; it is ${row.lifecycleStage}`);
    if (typeof newName !== 'string' || newName.trim().length === 0 || newName.length > 250) {
      throw new InvalidArgumentError(`experiment name must be a non-empty string of at most 250 characters, got ${JSON.stringify(newName)}`);
    }
    this.write(`renaming experiment ${id}`, () => {
      const clash = this.db.select().from(schema.experiments).where(eq(schema.experiments.name, newName)).get();
      if (clash && clash.id !== id) throw new ConflictError(`an experiment named '${newName}' already exists (id ${clash.id})`);
      this.db.update(schema.experiments).set({ name: newName, lastUpdateTime: Date.now() }).where(eq(schema.experiments.id, id)).run();
    });
  }

  // ---- runs --------------------------------------------------------------------------------------

  async startRun(options: StartRunOptions): Promise<RunInfo> {
    const exp = this.getOrCreateExperimentSync(options.experiment);
    if (options.parentId !== undefined) this.requireRun(options.parentId);
    const info = { ...currentProcessInfo(options.command), ...(options.provenance ?? {}) };
    const id = randomUUID().replace(/-/g, '');
    const now = options.startTime ?? Date.now();
    if (!Number.isSafeInteger(now) || now < 0) throw new InvalidArgumentError(`start time must be integer milliseconds, got ${String(options.startTime)}`);
    const tags = options.tags ?? {};
    const tagRows = Object.entries(tags).map(([k, v]) => ({ runId: id, key: validateKey('tag', k, id), value: validateTagValue(k, v, id) }));
    if (options.seed !== undefined && !Number.isSafeInteger(options.seed)) {
      throw new InvalidArgumentError(`seed must be an integer, got ${options.seed}`);
    }
    const existing = this.write('starting a run', () => {
      if (options.requestId !== undefined) {
        const prior = this.sqlite.prepare('SELECT run_id FROM applied_requests WHERE id = ?').pluck().get(options.requestId) as string | undefined;
        if (prior !== undefined) return prior;
        this.recordRequest.run(options.requestId, id, Date.now());
      }
      this.db
        .insert(schema.runs)
        .values({
          id,
          experimentId: exp.id,
          parentId: options.parentId ?? null,
          name: options.name ?? `run-${id.slice(0, 8)}`,
          status: options.status ?? 'running',
          startTime: now,
          heartbeat: Date.now(),
          gitCommit: info.gitCommit,
          gitDirty: info.gitDirty,
          host: info.host,
          pid: info.pid,
          command: info.command,
          nodeVersion: info.nodeVersion,
          packageVersions: JSON.stringify(info.packageVersions),
          seed: options.seed ?? null,
          backend: options.backend ?? null,
          protocol: options.protocol ?? null,
          heartbeats: options.heartbeats ?? true,
        })
        .run();
      if (tagRows.length) this.db.insert(schema.tags).values(tagRows).run();
      return undefined;
    });
    if (existing !== undefined) return this.toRunInfo(this.requireRun(existing));
    if ((options.status ?? 'running') === 'running' && options.provenance?.pid === undefined) this.startHeartbeat(id);
    return this.toRunInfo(this.requireRun(id), exp.name);
  }

  private startHeartbeat(runId: string): void {
    if (this.heartbeatIntervalMs <= 0) return;
    const t = setInterval(() => {
      try {
        this.heartbeatSync(runId);
      } catch {
        /* a missed heartbeat is harmless; the next one retries */
      }
    }, this.heartbeatIntervalMs);
    t.unref();
    this.heartbeatTimers.set(runId, t);
  }

  private stopHeartbeat(runId: string): void {
    const t = this.heartbeatTimers.get(runId);
    if (t) clearInterval(t);
    this.heartbeatTimers.delete(runId);
  }

  /**
   * Cheap existence check for hot paths (a prepared statement, no row mapping). Writes need an active
   * run: a deleted run refuses them until restored, as in MLflow.
   */
  private assertRunExists(runId: string, forWrite = true): void {
    this.assertOpen();
    if (typeof runId !== 'string' || runId.length === 0) throw new InvalidArgumentError(`run id must be a non-empty string, got ${JSON.stringify(runId)}`);
    const stage = this.runExists.get(runId) as string | undefined;
    if (stage === undefined) throw new NotFoundError(`no run with id '${runId}' in ${this.location}`, { details: { runId } });
    if (forWrite && stage !== 'active') throw new InvalidArgumentError(`run ${runId} must be in the 'active' state to be written; its state is '${stage}' (restore it first)`, { details: { runId } });
  }

  private requireRun(runId: string): RunRow {
    this.assertOpen();
    if (typeof runId !== 'string' || runId.length === 0) throw new InvalidArgumentError(`run id must be a non-empty string, got ${JSON.stringify(runId)}`);
    const row = this.db.select().from(schema.runs).where(eq(schema.runs.id, runId)).get();
    if (!row) throw new NotFoundError(`no run with id '${runId}' in ${this.location}`, { details: { runId } });
    return row;
  }

  /** Resolve a unique run-id prefix (as git does for commits). */
  async resolveRunId(prefix: string): Promise<string> {
    this.assertOpen();
    if (!/^[0-9a-f]{1,32}$/i.test(prefix)) throw new InvalidArgumentError(`'${prefix}' is not a run id (32 hex characters, or a unique prefix)`);
    const rows = this.db
      .select({ id: schema.runs.id })
      .from(schema.runs)
      .where(sql`${schema.runs.id} LIKE ${prefix.toLowerCase() + '%'}`)
      .limit(2)
      .all();
    if (rows.length === 0) throw new NotFoundError(`no run with id '${prefix}' in ${this.location}`, { details: { runId: prefix } });
    if (rows.length > 1) throw new InvalidArgumentError(`run id prefix '${prefix}' is ambiguous; give more characters`);
    return rows[0].id;
  }

  private toRunInfo(row: RunRow, experimentName?: string): RunInfo {
    const expName =
      experimentName ?? this.db.select({ name: schema.experiments.name }).from(schema.experiments).where(eq(schema.experiments.id, row.experimentId)).get()?.name ?? '';
    return {
      id: row.id,
      experimentId: row.experimentId,
      experimentName: expName,
      parentId: row.parentId,
      name: row.name,
      status: row.status,
      startTime: row.startTime,
      endTime: row.endTime,
      heartbeat: row.heartbeat,
      gitCommit: row.gitCommit,
      gitDirty: row.gitDirty,
      host: row.host,
      pid: row.pid,
      command: row.command,
      nodeVersion: row.nodeVersion,
      packageVersions: JSON.parse(row.packageVersions) as Record<string, string>,
      seed: row.seed,
      backend: row.backend,
      protocol: row.protocol,
      failureReason: row.failureReason,
      lifecycleStage: row.lifecycleStage === 'deleted' ? 'deleted' : 'active',
    };
  }

  async getRun(runId: string): Promise<RunDetail> {
    const row = this.requireRun(runId);
    const params = Object.fromEntries(this.db.select().from(schema.params).where(eq(schema.params.runId, runId)).all().map((p) => [p.key, p.value]));
    const tags = Object.fromEntries(this.db.select().from(schema.tags).where(eq(schema.tags.runId, runId)).all().map((t) => [t.key, t.value]));
    const artifacts = this.db
      .select()
      .from(schema.artifacts)
      .where(eq(schema.artifacts.runId, runId))
      .orderBy(asc(schema.artifacts.path))
      .all()
      .map((a) => ({ path: a.path, sha256: a.sha256, size: a.size, createdAt: a.createdAt }));
    return { ...this.toRunInfo(row), params, tags, metrics: this.latestMetricsSync(runId), artifacts };
  }

  async logParams(runId: string, params: Record<string, ParamValue>): Promise<void> {
    this.logBatchSync(runId, { params });
  }

  private paramRows(runId: string, params: Record<string, ParamValue> | undefined): { runId: string; key: string; value: string }[] {
    if (params === undefined) return [];
    if (params === null || typeof params !== 'object') throw new InvalidArgumentError(`run ${runId}: params must be an object`);
    return Object.entries(params).map(([k, v]) => ({ runId, key: validateKey('param', k, runId), value: validateParamValue(k, v, runId) }));
  }

  /** Inside a write transaction: insert new params, no-op for equal values, ConflictError otherwise. */
  private applyParams(runId: string, rows: { runId: string; key: string; value: string }[]): void {
    if (rows.length === 0) return;
    const existing = new Map(
      this.db
        .select()
        .from(schema.params)
        .where(and(eq(schema.params.runId, runId), inArray(schema.params.key, rows.map((r) => r.key))))
        .all()
        .map((p) => [p.key, p.value]),
    );
    const fresh = new Map<string, { runId: string; key: string; value: string }>();
    for (const r of rows) {
      const old = existing.get(r.key) ?? fresh.get(r.key)?.value;
      if (old === undefined) fresh.set(r.key, r);
      else if (old !== r.value) {
        throw new ConflictError(`run ${runId}: param '${r.key}' is already logged as '${old}'; params are immutable, cannot change it to '${r.value}'`, { details: { runId, key: r.key, old, new: r.value } });
      }
    }
    if (fresh.size) this.db.insert(schema.params).values([...fresh.values()]).run();
  }

  /**
   * Log metrics, params and tags in one transaction (all or nothing). With `requestId`, a request
   * already applied is acknowledged without being applied again (idempotent retries); returns false then.
   */
  logBatchSync(
    runId: string,
    batch: { metrics?: MetricPoint[]; params?: Record<string, ParamValue>; tags?: Record<string, string> },
    requestId?: string,
  ): boolean {
    this.assertRunExists(runId);
    const points = batch.metrics === undefined ? [] : validateMetricBatch(batch.metrics, runId);
    const paramRows = this.paramRows(runId, batch.params);
    const tagRows = this.tagRows(runId, batch.tags);
    if (points.length + paramRows.length + tagRows.length === 0) return true;
    return this.write(`logging to run ${runId}`, () => {
      if (requestId !== undefined) {
        if (this.requestSeen.get(requestId) !== undefined) return false;
        this.recordRequest.run(requestId, runId, Date.now());
      }
      this.applyParams(runId, paramRows);
      this.applyMetrics(runId, points);
      this.applyTags(tagRows);
      return true;
    });
  }

  async logMetrics(runId: string, points: MetricPoint[]): Promise<void> {
    this.logMetricsSync(runId, points);
  }

  /** Synchronous batch insert (hot path: prepared statements in one IMMEDIATE transaction). */
  logMetricsSync(runId: string, points: MetricPoint[]): void {
    this.assertRunExists(runId);
    const batch = validateMetricBatch(points, runId);
    if (batch.length === 0) return;
    this.write(`logging metrics of run ${runId}`, () => this.applyMetrics(runId, batch));
  }

  /** Inside a write transaction: append points (100-row statements) and update latest values. */
  private applyMetrics(runId: string, batch: ReturnType<typeof validateMetricBatch>): void {
    if (batch.length === 0) return;
    const latest = new Map<string, (typeof batch)[number]>();
    for (const p of batch) {
      const cur = latest.get(p.key);
      if (!cur || p.step > cur.step || (p.step === cur.step && p.timestamp >= cur.timestamp)) latest.set(p.key, p);
    }
    {
      let i = 0;
      if (batch.length >= METRIC_CHUNK) {
        const args: unknown[] = new Array(METRIC_CHUNK * 5);
        for (; i + METRIC_CHUNK <= batch.length; i += METRIC_CHUNK) {
          for (let j = 0; j < METRIC_CHUNK; j++) {
            const p = batch[i + j];
            const o = j * 5;
            args[o] = runId;
            args[o + 1] = p.key;
            args[o + 2] = toDbValue(p.value);
            args[o + 3] = p.step;
            args[o + 4] = p.timestamp;
          }
          this.insertMetricChunk.run(args);
        }
      }
      for (; i < batch.length; i++) {
        const p = batch[i];
        this.insertMetric.run(runId, p.key, toDbValue(p.value), p.step, p.timestamp);
      }
      for (const p of latest.values()) this.upsertLatest.run(runId, p.key, toDbValue(p.value), p.step, p.timestamp);
    }
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    this.logBatchSync(runId, { tags });
  }

  private tagRows(runId: string, tags: Record<string, string> | undefined): { runId: string; key: string; value: string }[] {
    if (tags === undefined) return [];
    if (tags === null || typeof tags !== 'object') throw new InvalidArgumentError(`run ${runId}: tags must be an object`);
    return Object.entries(tags).map(([k, v]) => ({ runId, key: validateKey('tag', k, runId), value: validateTagValue(k, v, runId) }));
  }

  private applyTags(rows: { runId: string; key: string; value: string }[]): void {
    for (const r of rows) {
      this.db.insert(schema.tags).values(r).onConflictDoUpdate({ target: [schema.tags.runId, schema.tags.key], set: { value: r.value } }).run();
    }
  }

  async logArtifact(runId: string, file: string, artifactPath?: string): Promise<ArtifactInfo> {
    this.assertRunExists(runId);
    const logical = artifactPath ?? path.basename(file);
    if (!logical || logical.includes('..') || path.isAbsolute(logical)) {
      throw new InvalidArgumentError(`run ${runId}: artifact path '${logical}' must be relative and must not contain '..'`);
    }
    let sha: string;
    let size: number;
    try {
      const hash = createHash('sha256');
      const fd = fs.openSync(file, 'r');
      try {
        const buf = Buffer.allocUnsafe(1 << 20);
        size = 0;
        for (;;) {
          const n = fs.readSync(fd, buf, 0, buf.length, null);
          if (n === 0) break;
          hash.update(buf.subarray(0, n));
          size += n;
        }
      } finally {
        fs.closeSync(fd);
      }
      sha = hash.digest('hex');
    } catch (e) {
      throw new IoError(`run ${runId}: cannot read artifact ${file}: ${errorMessage(e)}`, { cause: e, details: { path: file } });
    }
    const target = path.join(this.artifactsDir, sha);
    if (!fs.existsSync(target)) copyFileAtomic(file, target);
    const createdAt = Date.now();
    this.write(`logging artifact ${logical} of run ${runId}`, () => {
      this.db
        .insert(schema.artifacts)
        .values({ runId, path: logical, sha256: sha, size, createdAt })
        .onConflictDoUpdate({ target: [schema.artifacts.runId, schema.artifacts.path], set: { sha256: sha, size, createdAt } })
        .run();
    });
    return { path: logical, sha256: sha, size, createdAt };
  }

  async artifactFile(runId: string, artifactPath: string): Promise<string> {
    this.requireRun(runId);
    const row = this.db
      .select()
      .from(schema.artifacts)
      .where(and(eq(schema.artifacts.runId, runId), eq(schema.artifacts.path, artifactPath)))
      .get();
    if (!row) throw new NotFoundError(`run ${runId} has no artifact '${artifactPath}'`, { details: { runId, path: artifactPath } });
    const file = path.join(this.artifactsDir, row.sha256);
    if (!fs.existsSync(file)) throw new NotFoundError(`artifact '${artifactPath}' of run ${runId} is recorded but its file ${file} is missing`);
    return file;
  }

  async setStatus(runId: string, status: RunStatus): Promise<void> {
    this.assertRunExists(runId);
    if (!RUN_STATUSES.includes(status)) throw new InvalidArgumentError(`unknown run status '${status}' (one of ${RUN_STATUSES.join(', ')})`);
    const terminal = status === 'finished' || status === 'failed' || status === 'killed';
    this.write(`setting status of run ${runId}`, () => {
      this.db
        .update(schema.runs)
        .set({ status, heartbeat: Date.now(), ...(terminal ? { endTime: Date.now() } : { endTime: null }) })
        .where(eq(schema.runs.id, runId))
        .run();
    });
    if (terminal) this.stopHeartbeat(runId);
    else if (status === 'running' && !this.heartbeatTimers.has(runId)) this.startHeartbeat(runId);
  }

  async endRun(runId: string, status: 'finished' | 'failed' | 'killed' = 'finished', reason?: string): Promise<void> {
    this.assertRunExists(runId);
    if (!['finished', 'failed', 'killed'].includes(status)) throw new InvalidArgumentError(`endRun status must be finished, failed or killed, got '${status}'`);
    this.write(`ending run ${runId}`, () => {
      this.db
        .update(schema.runs)
        .set({ status, endTime: Date.now(), heartbeat: Date.now(), failureReason: reason ?? null })
        .where(eq(schema.runs.id, runId))
        .run();
    });
    this.stopHeartbeat(runId);
  }

  /** Soft delete (MLflow's lifecycle stage): the run is hidden from searches but its data stays. */
  deleteRun(runId: string): void {
    this.assertRunExists(runId, false);
    this.write(`deleting run ${runId}`, () => {
      this.db.update(schema.runs).set({ lifecycleStage: 'deleted' }).where(eq(schema.runs.id, runId)).run();
    });
    this.stopHeartbeat(runId);
  }

  /** Undo `deleteRun` (MLflow's runs/restore). */
  restoreRun(runId: string): void {
    const row = this.requireRun(runId);
    if (row.lifecycleStage !== 'deleted') throw new InvalidArgumentError(`cannot restore run ${runId}: it is not deleted`);
    this.write(`restoring run ${runId}`, () => {
      this.db.update(schema.runs).set({ lifecycleStage: 'active' }).where(eq(schema.runs.id, runId)).run();
    });
  }

  /** Rename a run (MLflow's runs/update with run_name). */
  setRunName(runId: string, name: string): void {
    this.assertRunExists(runId);
    if (typeof name !== 'string' || name.length > 250) throw new InvalidArgumentError(`run ${runId}: a run name is a string of at most 250 characters`);
    this.write(`renaming run ${runId}`, () => {
      this.db.update(schema.runs).set({ name }).where(eq(schema.runs.id, runId)).run();
    });
  }

  /** Remove a tag (MLflow's runs/delete-tag); a missing tag is a NotFoundError as in MLflow. */
  deleteTag(runId: string, key: string): void {
    this.assertRunExists(runId);
    const removed = this.write(`deleting tag '${key}' of run ${runId}`, () =>
      this.db.delete(schema.tags).where(and(eq(schema.tags.runId, runId), eq(schema.tags.key, key))).run(),
    );
    if (removed.changes === 0) throw new NotFoundError(`no tag with key '${key}' on run ${runId}`, { details: { runId, key } });
  }

  /** Mark a run as sending heartbeats (the first heartbeat of a client that was not known to send them). */
  private markHeartbeats(runId: string): void {
    this.db.update(schema.runs).set({ heartbeats: true }).where(and(eq(schema.runs.id, runId), eq(schema.runs.heartbeats, false))).run();
  }

  async heartbeat(runId: string): Promise<void> {
    this.requireRun(runId);
    this.heartbeatSync(runId);
  }

  private heartbeatSync(runId: string): void {
    this.write(`heartbeat of run ${runId}`, () => {
      this.db.update(schema.runs).set({ heartbeat: Date.now() }).where(eq(schema.runs.id, runId)).run();
      this.markHeartbeats(runId);
    });
  }

  /**
   * Mark `running` runs whose process died as failed: same host and pid gone with a heartbeat older
   * than `timeoutMs`… or pid gone at all when the heartbeat is older than the timeout; another host's
   * runs only when their heartbeat is older than 10× the timeout. Returns the ids marked.
   */
  reapStaleRuns(timeoutMs = 60_000): string[] {
    this.assertOpen();
    const host = currentProcessInfo().host;
    const now = Date.now();
    // Only runs whose client heartbeats: a plain MLflow client never sends one, and its run stays
    // `running` until the client ends it.
    const running = this.db.select().from(schema.runs).where(and(eq(schema.runs.status, 'running'), eq(schema.runs.heartbeats, true))).all();
    const dead: { id: string; reason: string }[] = [];
    for (const r of running) {
      const age = now - r.heartbeat;
      if (r.host === host) {
        if (r.pid !== process.pid && !pidAlive(r.pid) && age >= timeoutMs) dead.push({ id: r.id, reason: `process ${r.pid} on ${host} is gone (last heartbeat ${Math.round(age / 1000)} s ago)` });
      } else if (age >= timeoutMs * 10) {
        dead.push({ id: r.id, reason: `no heartbeat from ${r.host} for ${Math.round(age / 1000)} s` });
      }
    }
    if (dead.length === 0) return [];
    this.write('marking dead runs failed', () => {
      for (const d of dead) {
        this.db
          .update(schema.runs)
          .set({ status: 'failed', endTime: now, failureReason: d.reason })
          .where(and(eq(schema.runs.id, d.id), eq(schema.runs.status, 'running')))
          .run();
      }
    });
    return dead.map((d) => d.id);
  }

  // ---- queries -----------------------------------------------------------------------------------

  async searchRuns(query: RunQuery = {}): Promise<RunInfo[]> {
    this.assertOpen();
    const r = schema.runs;
    const view = query.viewType ?? 'active';
    if (!['active', 'deleted', 'all'].includes(view)) throw new InvalidArgumentError(`unknown view type '${String(view)}' (active, deleted or all)`);
    const conds: SQL[] = view === 'all' ? [] : [eq(r.lifecycleStage, view)];
    for (const c of query.where ?? []) conds.push(this.compileClause(c));
    if (query.experiment !== undefined) {
      const names = Array.isArray(query.experiment) ? query.experiment : [query.experiment];
      const ids = this.db.select({ id: schema.experiments.id }).from(schema.experiments).where(inArray(schema.experiments.name, names)).all().map((e) => e.id);
      if (ids.length === 0) return [];
      conds.push(inArray(r.experimentId, ids));
    }
    if (query.status !== undefined) {
      const sts = Array.isArray(query.status) ? query.status : [query.status];
      for (const s of sts) if (!RUN_STATUSES.includes(s)) throw new InvalidArgumentError(`unknown run status '${s}' (one of ${RUN_STATUSES.join(', ')})`);
      conds.push(inArray(r.status, sts));
    }
    if (query.parentId === null) conds.push(isNull(r.parentId));
    else if (query.parentId !== undefined) conds.push(eq(r.parentId, query.parentId));
    for (const [k, v] of Object.entries(query.params ?? {})) {
      conds.push(exists(this.db.select({ one: sql`1` }).from(schema.params).where(and(eq(schema.params.runId, r.id), eq(schema.params.key, k), eq(schema.params.value, String(v))))));
    }
    for (const [k, v] of Object.entries(query.tags ?? {})) {
      conds.push(exists(this.db.select({ one: sql`1` }).from(schema.tags).where(and(eq(schema.tags.runId, r.id), eq(schema.tags.key, k), eq(schema.tags.value, v)))));
    }
    const ops: Record<string, string> = { '>': '>', '>=': '>=', '<': '<', '<=': '<=', '=': '=', '!=': '!=' };
    for (const m of query.metrics ?? []) {
      const op = ops[m.op];
      if (!op) throw new InvalidArgumentError(`unknown metric comparison '${m.op}' (one of > >= < <= = !=)`);
      if (typeof m.value !== 'number' || Number.isNaN(m.value)) throw new InvalidArgumentError(`metric filter on '${m.key}' needs a numeric threshold`);
      const lm = schema.latestMetrics;
      conds.push(exists(this.db.select({ one: sql`1` }).from(lm).where(and(eq(lm.runId, r.id), eq(lm.key, m.key), sql`${lm.value} ${sql.raw(op)} ${m.value}`))));
    }
    const order: SQL[] = [];
    const attrCols: Record<string, SQL> = {
      start_time: sql`${r.startTime}`,
      end_time: sql`${r.endTime}`,
      name: sql`${r.name}`,
      status: sql`${r.status}`,
      seed: sql`${r.seed}`,
    };
    for (const o of query.orderBy ?? []) {
      let expr: SQL;
      if (o.kind === 'metric') {
        expr = sql`(SELECT value FROM latest_metrics WHERE run_id = ${r.id} AND key = ${o.key})`;
      } else if (o.kind === 'param') {
        expr = sql`(SELECT value FROM params WHERE run_id = ${r.id} AND key = ${o.key})`;
      } else {
        const col = attrCols[o.key];
        if (!col) throw new InvalidArgumentError(`cannot order by attribute '${o.key}' (one of ${Object.keys(attrCols).join(', ')})`);
        expr = col;
      }
      // Missing values last in both directions.
      order.push(sql`(${expr}) IS NULL`, o.desc ? desc(expr) : asc(expr));
    }
    order.push(desc(r.startTime), asc(r.id));
    let q = this.db
      .select()
      .from(r)
      .where(conds.length ? and(...conds) : undefined)
      .orderBy(...order)
      .$dynamic();
    if (query.limit !== undefined) q = q.limit(query.limit);
    if (query.offset !== undefined) q = q.offset(query.offset);
    const rows = q.all();
    const expNames = new Map(this.db.select().from(schema.experiments).all().map((e) => [e.id, e.name]));
    return rows.map((row) => this.toRunInfo(row, expNames.get(row.experimentId)));
  }

  /** One MLflow filter comparison as SQL over `runs` (see search-filter.ts for the grammar). */
  private compileClause(c: FilterClause): SQL {
    const r = schema.runs;
    const what = `filter '${c.entity}s.${c.key} ${c.op} ${Array.isArray(c.value) ? `(${c.value.join(', ')})` : String(c.value)}'`;
    const stringCmp = (col: SQL, allowed: string[], value: FilterClause['value'] = c.value): SQL => {
      if (!allowed.includes(c.op)) throw new InvalidArgumentError(`${what}: comparator '${c.op}' is not one of ${allowed.join(', ')} for ${c.entity === 'attribute' ? `attribute '${c.key}'` : `${c.entity}s`}`);
      const list = Array.isArray(value) ? value.map(String) : undefined;
      if (list !== undefined && c.op !== 'IN' && c.op !== 'NOT IN') throw new InvalidArgumentError(`${what}: a value list needs IN or NOT IN`);
      if (list === undefined && (c.op === 'IN' || c.op === 'NOT IN')) throw new InvalidArgumentError(`${what}: ${c.op} needs a parenthesised list`);
      const v = Array.isArray(value) ? '' : String(value);
      switch (c.op) {
        case '=':
          return sql`${col} = ${v}`;
        case '!=':
          return sql`${col} != ${v}`;
        case 'LIKE':
          return sql`mlflow_like(${col}, ${v}) = 1`;
        case 'ILIKE':
          return sql`mlflow_ilike(${col}, ${v}) = 1`;
        case 'IN':
          return sql`${col} IN (${sql.join(list!.map((x) => sql`${x}`), sql`, `)})`;
        case 'NOT IN':
          return sql`${col} NOT IN (${sql.join(list!.map((x) => sql`${x}`), sql`, `)})`;
        default:
          return sql`${col} ${sql.raw(c.op)} ${v}`;
      }
    };
    const numberCmp = (col: SQL): SQL => {
      const numericOps = ['=', '!=', '<', '<=', '>', '>='];
      if (!numericOps.includes(c.op)) throw new InvalidArgumentError(`${what}: comparator '${c.op}' is not one of ${numericOps.join(', ')} for numeric values`);
      if (typeof c.value !== 'number' || !Number.isFinite(c.value)) throw new InvalidArgumentError(`${what}: needs a number, got ${JSON.stringify(c.value)}`);
      return sql`${col} ${sql.raw(c.op)} ${c.value}`;
    };
    const STRING_OPS = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
    switch (c.entity) {
      case 'metric': {
        const lm = schema.latestMetrics;
        return exists(this.db.select({ one: sql`1` }).from(lm).where(and(eq(lm.runId, r.id), eq(lm.key, c.key), numberCmp(sql`${lm.value}`))));
      }
      case 'param':
        return exists(this.db.select({ one: sql`1` }).from(schema.params).where(and(eq(schema.params.runId, r.id), eq(schema.params.key, c.key), stringCmp(sql`${schema.params.value}`, STRING_OPS))));
      case 'tag': {
        // Run attributes that travel as reserved tags over the MLflow API compare against their columns.
        const cols: Record<string, SQL> = {
          'mlflow.runName': sql`${r.name}`,
          [ATTR_TAGS.parentId]: sql`${r.parentId}`,
          [ATTR_TAGS.gitCommit]: sql`${r.gitCommit}`,
          [ATTR_TAGS.host]: sql`${r.host}`,
          [ATTR_TAGS.backend]: sql`${r.backend}`,
          [ATTR_TAGS.protocol]: sql`${r.protocol}`,
          [ATTR_TAGS.seed]: sql`CAST(${r.seed} AS TEXT)`,
          [ATTR_TAGS.command]: sql`${r.command}`,
        };
        const col = cols[c.key];
        if (col) return stringCmp(col, STRING_OPS);
        return exists(this.db.select({ one: sql`1` }).from(schema.tags).where(and(eq(schema.tags.runId, r.id), eq(schema.tags.key, c.key), stringCmp(sql`${schema.tags.value}`, STRING_OPS))));
      }
      case 'attribute': {
        const key = c.key.toLowerCase();
        const statusExpr = sql`(CASE ${r.status} WHEN 'queued' THEN 'SCHEDULED' ELSE upper(${r.status}) END)`;
        const strings: Record<string, SQL> = {
          run_id: sql`${r.id}`,
          run_uuid: sql`${r.id}`,
          run_name: sql`${r.name}`,
          status: statusExpr,
          lifecycle_stage: sql`${r.lifecycleStage}`,
          user_id: sql`''`,
          artifact_uri: sql`('mlflow-artifacts:/' || ${r.experimentId} || '/' || ${r.id} || '/artifacts')`,
        };
        const numbers: Record<string, SQL> = { start_time: sql`${r.startTime}`, end_time: sql`${r.endTime}`, created: sql`${r.startTime}`, created_at: sql`${r.startTime}` };
        if (strings[key]) {
          // MLflow compares status values in upper case ('FINISHED'); accept any case here.
          if (key === 'status') {
            const up = (x: string | number): string => String(x).toUpperCase();
            return stringCmp(statusExpr, STRING_OPS, Array.isArray(c.value) ? c.value.map(up) : up(c.value));
          }
          return stringCmp(strings[key], STRING_OPS);
        }
        if (numbers[key]) return numberCmp(numbers[key]);
        throw new InvalidArgumentError(`${what}: unknown attribute '${c.key}' (one of ${[...Object.keys(strings), ...Object.keys(numbers)].join(', ')})`);
      }
    }
  }

  async latestMetrics(runId: string): Promise<Record<string, StoredMetricPoint>> {
    this.requireRun(runId);
    return this.latestMetricsSync(runId);
  }

  private latestMetricsSync(runId: string): Record<string, StoredMetricPoint> {
    const rows = this.db.select().from(schema.latestMetrics).where(eq(schema.latestMetrics.runId, runId)).orderBy(asc(schema.latestMetrics.key)).all();
    return Object.fromEntries(rows.map((m) => [m.key, { key: m.key, value: fromDbValue(m.value), step: m.step, timestamp: m.timestamp }]));
  }

  async metricHistory(runId: string, key: string): Promise<StoredMetricPoint[]> {
    this.requireRun(runId);
    return this.db
      .select()
      .from(schema.metrics)
      .where(and(eq(schema.metrics.runId, runId), eq(schema.metrics.key, key)))
      .orderBy(asc(schema.metrics.step), asc(schema.metrics.timestamp), asc(schema.metrics.id))
      .all()
      .map((m) => ({ key: m.key, value: fromDbValue(m.value), step: m.step, timestamp: m.timestamp }));
  }

  /** Row counts, for `vmr store info` and tests. */
  counts(): { experiments: number; runs: number; params: number; metrics: number; tags: number; artifacts: number } {
    this.assertOpen();
    const c = (t: string): number => (this.sqlite.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { experiments: c('experiments'), runs: c('runs'), params: c('params'), metrics: c('metrics'), tags: c('tags'), artifacts: c('artifacts') };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const id of [...this.heartbeatTimers.keys()]) this.stopHeartbeat(id);
    this.closed = true;
    this.sqlite.close();
  }
}
