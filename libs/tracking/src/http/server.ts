/**
 * `vmr tracking serve`: an HTTP server over the run store speaking the MLflow REST subset under
 * /api/2.0/mlflow/ (plus artifacts under /api/2.0/mlflow-artifacts/ and a heartbeat under /api/2.0/vmr/).
 * It is the single writer of the store, so many processes and machines can log at once.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { ConflictError, InvalidArgumentError, NotFoundError, VmrError, errorMessage, tempPathFor } from '@vmr/core';
import { SqliteTracker } from '../sqlite-tracker';
import { StoreBusyError } from '../open-store';
import type { MetricPoint, RunStatus } from '../types';
import { ATTR_TAGS, DATASET_INPUTS_TAG, VMR_STATUS, decodeValue, isReservedTag, toMlflowInfo, toMlflowRun, encodeValue } from './mlflow-mapping';
import { parseMlflowOrderBy } from './filter';
import { matchesClause, parseSearchFilter } from './search-filter';
import type { ViewType } from '../types';
import type { StoredExperiment as Experiment } from '../sqlite-tracker';

export interface TrackingServerOptions {
  /** Run-store file. */
  db: string;
  host?: string;
  port?: number;
  /** Bearer token required on every request (mandatory when binding a non-loopback address). */
  token?: string;
  /** Max JSON body bytes (default 1 MiB + slack, MLflow's log-batch limit). */
  maxBodyBytes?: number;
  /** Max artifact upload bytes (default 2 GiB). */
  maxArtifactBytes?: number;
  /** Heartbeat timeout for reaping dead runs (ms, default 60 s); the reaper runs every timeout/4. */
  heartbeatTimeoutMs?: number;
  /** Log one line per request to this function (default: silent). */
  log?: (line: string) => void;
  /**
   * Serve vmr's own endpoints (heartbeats, artifact hashes, request ids) besides MLflow's (default
   * true). `false` answers like a plain MLflow server, for checking vmr clients against one.
   */
  vmrEndpoints?: boolean;
}

/** MLflow's error shape and status codes. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    /** Our VmrError code, so VMR clients can rethrow the same error class. */
    readonly vmrCode?: string,
  ) {
    super(message);
  }
}

const LIMITS = { metrics: 1000, params: 100, tags: 100, totalItems: 1000 };

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof NotFoundError) return new HttpError(404, 'RESOURCE_DOES_NOT_EXIST', e.message, e.code);
  if (e instanceof ConflictError) return new HttpError(400, 'INVALID_PARAMETER_VALUE', e.message, e.code);
  if (e instanceof StoreBusyError) return new HttpError(503, 'TEMPORARILY_UNAVAILABLE', e.message, e.code);
  if (e instanceof VmrError && (e.code === 'INVALID_ARGUMENT' || e.code === 'INVALID_CONFIG')) return new HttpError(400, 'INVALID_PARAMETER_VALUE', e.message, e.code);
  if (e instanceof URIError) return new HttpError(400, 'INVALID_PARAMETER_VALUE', `malformed percent-encoding in the request path: ${e.message}`);
  return new HttpError(500, 'INTERNAL_ERROR', errorMessage(e));
}

type Json = Record<string, unknown>;

function str(body: Json, key: string, required = true): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) {
    if (required) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `Missing value for required parameter '${key}'`);
    return undefined;
  }
  if (typeof v !== 'string') throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `Invalid value ${JSON.stringify(v)} for parameter '${key}': expected a string`);
  return v;
}

function int(body: Json, key: string, required = false): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) {
    if (required) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `Missing value for required parameter '${key}'`);
    return undefined;
  }
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `Invalid value ${JSON.stringify(v)} for parameter '${key}': expected an integer`);
  return n;
}

function metricPoint(m: unknown, where: string): MetricPoint {
  if (m === null || typeof m !== 'object') throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `${where}: expected an object`);
  const o = m as Json;
  const key = str(o, 'key')!;
  const value = decodeValue(o.value);
  if (value === undefined) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `${where}: metric '${key}' has a non-numeric value ${JSON.stringify(o.value)}`);
  return { key, value, step: int(o, 'step') ?? 0, timestamp: int(o, 'timestamp') ?? Date.now() };
}

function keyValues(list: unknown, what: string): Record<string, string> {
  if (list === undefined || list === null) return {};
  if (!Array.isArray(list)) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `'${what}' must be a list of {key, value}`);
  const out: Record<string, string> = {};
  list.forEach((kv, i) => {
    if (kv === null || typeof kv !== 'object') throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `${what}[${i}] must be an object`);
    const o = kv as Json;
    const key = str(o, 'key')!;
    const v = o.value;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `${what}[${i}] '${key}': value must be a string`);
    out[key] = String(v);
  });
  return out;
}

export class TrackingServer {
  readonly store: SqliteTracker;
  private server: http.Server | undefined;
  private readonly opts: Required<Omit<TrackingServerOptions, 'token' | 'log' | 'vmrEndpoints'>> & Pick<TrackingServerOptions, 'token' | 'log'>;
  private readonly vmrEndpoints: boolean;
  private inFlight = 0;
  private reaper: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(options: TrackingServerOptions) {
    const host = options.host ?? '127.0.0.1';
    if (!isLoopback(host) && !options.token) {
      throw new InvalidArgumentError(`refusing to bind ${host} without a token: the tracking server accepts writes from anyone who can reach it; pass --token (or VMR_TRACKING_TOKEN) or bind 127.0.0.1`);
    }
    this.opts = {
      db: options.db,
      host,
      port: options.port ?? 5000,
      token: options.token,
      maxBodyBytes: options.maxBodyBytes ?? 1_100_000,
      maxArtifactBytes: options.maxArtifactBytes ?? 2 * 1024 ** 3,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 60_000,
      log: options.log,
    };
    this.vmrEndpoints = options.vmrEndpoints ?? true;
    this.store = new SqliteTracker(options.db, { heartbeatIntervalMs: 0, heartbeatTimeoutMs: this.opts.heartbeatTimeoutMs });
  }

  /** Start listening; resolves with the bound URL (port 0 picks a free port). */
  async listen(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const interval = Math.max(250, Math.floor(this.opts.heartbeatTimeoutMs / 4));
    this.reaper = setInterval(() => {
      try {
        this.store.reapStaleRuns(this.opts.heartbeatTimeoutMs);
      } catch {
        /* next tick retries */
      }
    }, interval);
    this.reaper.unref();
    return this.url;
  }

  get url(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) return '';
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return `http://${host}:${addr.port}`;
  }

  /** Graceful shutdown: stop accepting, let in-flight requests finish their writes, close the store. */
  async close(): Promise<void> {
    if (this.reaper) clearInterval(this.reaper);
    const srv = this.server;
    this.server = undefined;
    if (srv) {
      const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
      srv.closeIdleConnections();
      if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      srv.closeAllConnections();
      await closed;
    }
    await this.store.close();
  }

  private send(res: http.ServerResponse, status: number, body: unknown): void {
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
    res.end(data);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.inFlight += 1;
    const started = Date.now();
    let status = 200;
    try {
      if (this.opts.token) {
        const auth = req.headers.authorization ?? '';
        const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
        const a = Buffer.from(given);
        const b = Buffer.from(this.opts.token);
        if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) throw new HttpError(401, 'UNAUTHENTICATED', 'missing or wrong bearer token');
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/api/2.0/mlflow-artifacts/artifacts' && req.method === 'GET') {
        this.send(res, 200, await this.listProxiedArtifacts(url.searchParams.get('path') ?? ''));
        return;
      }
      if (url.pathname.startsWith('/api/2.0/mlflow-artifacts/artifacts/')) {
        await this.handleArtifact(req, res, decodeURIComponent(url.pathname.slice('/api/2.0/mlflow-artifacts/artifacts/'.length)));
        return;
      }
      if (url.pathname === '/health') {
        this.send(res, 200, { status: 'OK' });
        return;
      }
      const body = req.method === 'GET' ? Object.fromEntries(url.searchParams.entries()) : await this.readJson(req);
      const out = await this.route(req.method ?? 'GET', url.pathname, body, req);
      this.send(res, 200, out);
    } catch (e) {
      const he = toHttpError(e);
      status = he.status;
      if (!res.headersSent) this.send(res, he.status, { error_code: he.errorCode, message: he.message, ...(he.vmrCode ? { vmr_code: he.vmrCode } : {}) });
      else res.destroy();
    } finally {
      this.opts.log?.(`${req.method} ${req.url} ${status} ${Date.now() - started}ms`);
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private readJson(req: http.IncomingMessage): Promise<Json> {
    const limit = this.opts.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      req.resume();
      return Promise.reject(new HttpError(413, 'REQUEST_LIMIT_EXCEEDED', `request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      req.on('data', (c: Buffer) => {
        if (failed) return;
        size += c.length;
        if (size > limit) {
          failed = true;
          reject(new HttpError(413, 'REQUEST_LIMIT_EXCEEDED', `request body exceeds the limit of ${limit} bytes`));
          return;
        }
        chunks.push(c);
      });
      req.on('error', (e) => reject(e));
      req.on('end', () => {
        if (failed) return;
        const text = Buffer.concat(chunks).toString('utf8');
        if (!text.trim()) return resolve({});
        try {
          const v = JSON.parse(text) as unknown;
          if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('the body must be a JSON object');
          resolve(v as Json);
        } catch (e) {
          reject(new HttpError(400, 'MALFORMED_REQUEST', `malformed JSON body: ${errorMessage(e)}`));
        }
      });
    });
  }

  private async route(method: string, pathname: string, body: Json, req: http.IncomingMessage): Promise<unknown> {
    const s = this.store;
    const p = pathname.replace(/^\/ajax-api\//, '/api/');
    if (!this.vmrEndpoints && p.startsWith('/api/2.0/vmr/')) throw new HttpError(404, 'ENDPOINT_NOT_FOUND', `not found: ${method} ${p}`);
    const key = `${method} ${p}`;
    switch (key) {
      case 'POST /api/2.0/mlflow/experiments/create': {
        const name = str(body, 'name')!;
        if (await s.getExperimentByName(name)) throw new HttpError(400, 'RESOURCE_ALREADY_EXISTS', `Experiment '${name}' already exists.`);
        const tags = keyValues(body.tags, 'tags');
        const e = await s.getOrCreateExperiment(name);
        for (const [k, v] of Object.entries(tags)) s.setExperimentTag(e.id, k, v);
        return { experiment_id: String(e.id) };
      }
      case 'GET /api/2.0/mlflow/experiments/get': {
        const id = int(body, 'experiment_id', true)!;
        return { experiment: this.expJson(await this.experimentById(id)) };
      }
      case 'POST /api/2.0/mlflow/experiments/delete':
        s.setExperimentLifecycle((await this.experimentById(int(body, 'experiment_id', true)!)).id, 'deleted');
        return {};
      case 'POST /api/2.0/mlflow/experiments/restore':
        s.setExperimentLifecycle((await this.experimentById(int(body, 'experiment_id', true)!)).id, 'active');
        return {};
      case 'POST /api/2.0/mlflow/experiments/update': {
        const e = await this.experimentById(int(body, 'experiment_id', true)!);
        const newName = str(body, 'new_name', false);
        if (newName !== undefined) s.renameExperiment(e.id, newName);
        return {};
      }
      case 'POST /api/2.0/mlflow/experiments/set-experiment-tag': {
        const e = await this.experimentById(int(body, 'experiment_id', true)!);
        s.setExperimentTag(e.id, str(body, 'key')!, str(body, 'value')!);
        return {};
      }
      case 'POST /api/2.0/mlflow/experiments/delete-experiment-tag': {
        const e = await this.experimentById(int(body, 'experiment_id', true)!);
        s.deleteExperimentTag(e.id, str(body, 'key')!);
        return {};
      }
      case 'GET /api/2.0/mlflow/experiments/get-by-name': {
        const name = str(body, 'experiment_name')!;
        const e = await s.getExperimentByName(name);
        if (!e) throw new HttpError(404, 'RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
        return { experiment: this.expJson(e) };
      }
      case 'GET /api/2.0/mlflow/experiments/list': // MLflow 1.x; kept for older clients
        return { experiments: (await s.listExperiments(this.viewType(body.view_type, 'view_type'))).map((e) => this.expJson(e)) };
      case 'POST /api/2.0/mlflow/experiments/search':
      case 'GET /api/2.0/mlflow/experiments/search': {
        const max = int(body, 'max_results') ?? 1000;
        if (max < 1 || max > 50000) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `max_results must be between 1 and 50000, got ${max}`);
        const offset = this.pageOffset(body.page_token);
        let all = await s.listExperiments(this.viewType(body.view_type, 'view_type'));
        const clauses = parseSearchFilter(typeof body.filter === 'string' ? body.filter : undefined);
        all = all.filter((e) => clauses.every((c) => matchesClause(c, this.experimentField(e, c.entity, c.key))));
        all = this.orderExperiments(all, Array.isArray(body.order_by) ? (body.order_by as unknown[]) : typeof body.order_by === 'string' ? [body.order_by] : []);
        const page = all.slice(offset, offset + max);
        return { experiments: page.map((e) => this.expJson(e)), ...(offset + max < all.length ? { next_page_token: this.pageToken(offset + max) } : {}) };
      }
      case 'POST /api/2.0/mlflow/runs/create': {
        const expId = int(body, 'experiment_id') ?? 0;
        const exp = await this.experimentById(expId);
        if (exp.lifecycleStage === 'deleted') throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `experiment ${expId} ('${exp.name}') is deleted; restore it before starting runs in it`);
        const tags = keyValues(body.tags, 'tags');
        let packageVersions: Record<string, string> = {};
        if (tags[ATTR_TAGS.packageVersions]) {
          try {
            const v = JSON.parse(tags[ATTR_TAGS.packageVersions]) as unknown;
            if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
            packageVersions = v as Record<string, string>;
          } catch {
            throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `tag '${ATTR_TAGS.packageVersions}' must be a JSON object of package versions, got ${JSON.stringify(tags[ATTR_TAGS.packageVersions].slice(0, 80))}`);
          }
        }
        const userTags = Object.fromEntries(Object.entries(tags).filter(([k]) => !isReservedTag(k)));
        const pid = tags[ATTR_TAGS.pid] !== undefined ? Number(tags[ATTR_TAGS.pid]) : undefined;
        const seed = tags[ATTR_TAGS.seed] !== undefined ? Number(tags[ATTR_TAGS.seed]) : undefined;
        const run = await s.startRun({
          experiment: exp.name,
          name: str(body, 'run_name', false) ?? tags['mlflow.runName'],
          parentId: tags[ATTR_TAGS.parentId],
          tags: userTags,
          seed,
          backend: tags[ATTR_TAGS.backend],
          protocol: tags[ATTR_TAGS.protocol],
          status: body.status === 'SCHEDULED' ? 'queued' : 'running',
          startTime: int(body, 'start_time'),
          requestId: this.requestId(req),
          // vmr clients announce their process (vmr.pid) and heartbeat; plain MLflow clients do neither.
          heartbeats: tags[ATTR_TAGS.pid] !== undefined,
          provenance: {
            host: tags[ATTR_TAGS.host] ?? req.socket.remoteAddress ?? 'unknown',
            pid: Number.isSafeInteger(pid) ? pid : 0,
            command: tags[ATTR_TAGS.command] ?? '',
            nodeVersion: tags[ATTR_TAGS.nodeVersion] ?? '',
            gitCommit: tags[ATTR_TAGS.gitCommit] ?? null,
            gitDirty: tags[ATTR_TAGS.gitDirty] === undefined ? null : tags[ATTR_TAGS.gitDirty] === 'true',
            packageVersions,
          },
        });
        return { run: toMlflowRun(await s.getRun(run.id)) };
      }
      case 'GET /api/2.0/mlflow/runs/get':
        return { run: toMlflowRun(await s.getRun(this.runId(body))) };
      case 'POST /api/2.0/mlflow/runs/update': {
        const runId = this.runId(body);
        const status = str(body, 'status', false);
        const runName = str(body, 'run_name', false);
        if (runName !== undefined) s.setRunName(runId, runName);
        if (status !== undefined) {
          const st = VMR_STATUS[status];
          if (!st) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `Invalid status '${status}'`);
          if (st === 'finished' || st === 'failed' || st === 'killed') await s.endRun(runId, st, typeof body.failure_reason === 'string' ? body.failure_reason : undefined);
          else await s.setStatus(runId, st);
        }
        return { run_info: toMlflowInfo(await s.getRun(runId)) };
      }
      case 'POST /api/2.0/mlflow/runs/delete': {
        const runId = this.runId(body);
        await s.getRun(runId);
        s.deleteRun(runId);
        return {};
      }
      case 'POST /api/2.0/mlflow/runs/restore':
        s.restoreRun(this.runId(body));
        return {};
      case 'POST /api/2.0/mlflow/runs/delete-tag':
        s.deleteTag(this.runId(body), str(body, 'key')!);
        return {};
      case 'POST /api/2.0/mlflow/runs/log-inputs': {
        const runId = this.runId(body);
        const datasets = body.datasets ?? [];
        if (!Array.isArray(datasets)) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', "'datasets' must be a list of dataset inputs");
        const prior = (await s.getRun(runId)).tags[DATASET_INPUTS_TAG];
        const list = prior ? (JSON.parse(prior) as DatasetInput[]) : [];
        datasets.forEach((d, i) => {
          const ds = (d as Json | null)?.dataset as Json | undefined;
          if (!ds || typeof ds.name !== 'string' || typeof ds.digest !== 'string') throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `datasets[${i}].dataset needs a name and a digest`);
          const input: DatasetInput = { tags: Array.isArray((d as Json).tags) ? ((d as Json).tags as { key: string; value: string }[]) : [], dataset: ds };
          const at = list.findIndex((x) => x.dataset.name === ds.name && x.dataset.digest === ds.digest);
          if (at >= 0) list[at] = input;
          else list.push(input);
        });
        let text = JSON.stringify(list);
        // Keep within a tag's limit: drop the bulky schema/profile fields before refusing.
        if (text.length > 8000) text = JSON.stringify(list.map((x) => ({ tags: x.tags, dataset: { ...x.dataset, schema: undefined, profile: undefined } })));
        if (text.length > 8000) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `run ${runId}: too many dataset inputs to store (${text.length} characters of metadata; the limit is 8000)`);
        s.logBatchSync(runId, { tags: { [DATASET_INPUTS_TAG]: text } }, this.requestId(req));
        return {};
      }
      case 'GET /api/2.0/mlflow/artifacts/list': {
        const runId = this.runId(body);
        const run = await s.getRun(runId);
        const sub = this.cleanArtifactDir(typeof body.path === 'string' ? body.path : '');
        const files = this.listArtifactDir(run.artifacts, sub).map((f) => ({ ...f, path: sub ? `${sub}/${f.path}` : f.path }));
        return { root_uri: `mlflow-artifacts:/${run.experimentId}/${run.id}/artifacts`, files };
      }
      case 'POST /api/2.0/mlflow/runs/search': {
        const ids = body.experiment_ids;
        if (ids !== undefined && !Array.isArray(ids)) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', 'experiment_ids must be a list');
        const exps = await s.listExperiments();
        const names = (ids as unknown[] | undefined)?.map((i) => exps.find((e) => String(e.id) === String(i))?.name).filter((n): n is string => !!n);
        if (ids !== undefined && names && names.length === 0) return { runs: [] };
        const max = int(body, 'max_results') ?? 1000;
        if (max < 1 || max > 50000) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `max_results must be between 1 and 50000, got ${max}`);
        const offset = this.pageOffset(body.page_token);
        const where = parseSearchFilter(typeof body.filter === 'string' ? body.filter : undefined);
        const orderBy = parseMlflowOrderBy(Array.isArray(body.order_by) ? (body.order_by as string[]) : undefined);
        const viewType = this.viewType(body.run_view_type, 'run_view_type');
        const runs = await s.searchRuns({ where, viewType, experiment: names, orderBy, limit: max + 1, offset });
        const page = runs.slice(0, max);
        const detailed = [];
        for (const r of page) detailed.push(toMlflowRun(await s.getRun(r.id)));
        return { runs: detailed, ...(runs.length > max ? { next_page_token: this.pageToken(offset + max) } : {}) };
      }
      case 'POST /api/2.0/mlflow/runs/log-metric': {
        const runId = this.runId(body);
        s.logBatchSync(runId, { metrics: [metricPoint(body, 'log-metric')] }, this.requestId(req));
        return {};
      }
      case 'POST /api/2.0/mlflow/runs/log-parameter': {
        const runId = this.runId(body);
        const k = str(body, 'key')!;
        const v = body.value;
        if (typeof v !== 'string') throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `param '${k}': value must be a string`);
        s.logBatchSync(runId, { params: { [k]: v } }, this.requestId(req));
        return {};
      }
      case 'POST /api/2.0/mlflow/runs/set-tag': {
        const runId = this.runId(body);
        const k = str(body, 'key')!;
        if (isReservedTag(k)) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `tag '${k}' is reserved`);
        s.logBatchSync(runId, { tags: { [k]: str(body, 'value')! } }, this.requestId(req));
        return {};
      }
      case 'POST /api/2.0/mlflow/runs/log-batch': {
        const runId = this.runId(body);
        const metrics = body.metrics ?? [];
        if (!Array.isArray(metrics)) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', "'metrics' must be a list");
        const params = keyValues(body.params, 'params');
        const tags = keyValues(body.tags, 'tags');
        const np = Object.keys(params).length;
        const nt = Object.keys(tags).length;
        if (metrics.length > LIMITS.metrics || np > LIMITS.params || nt > LIMITS.tags || metrics.length + np + nt > LIMITS.totalItems) {
          throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `log-batch limits exceeded: ${metrics.length} metrics (max ${LIMITS.metrics}), ${np} params (max ${LIMITS.params}), ${nt} tags (max ${LIMITS.tags}), ${LIMITS.totalItems} items in all`);
        }
        for (const k of Object.keys(tags)) if (isReservedTag(k)) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `tag '${k}' is reserved`);
        const points = metrics.map((m, i) => metricPoint(m, `metrics[${i}]`));
        s.logBatchSync(runId, { metrics: points, params, tags }, this.requestId(req));
        return {};
      }
      case 'GET /api/2.0/mlflow/metrics/get-history': {
        const runId = this.runId(body);
        const k = str(body, 'metric_key')!;
        const hist = await s.metricHistory(runId, k);
        return { metrics: hist.map((m) => ({ key: m.key, value: encodeValue(m.value), step: m.step, timestamp: m.timestamp })) };
      }
      case 'POST /api/2.0/vmr/runs/heartbeat': {
        await s.heartbeat(this.runId(body));
        return {};
      }
      case 'GET /api/2.0/vmr/runs/artifacts': {
        const run = await s.getRun(this.runId(body));
        return { artifacts: run.artifacts };
      }
      default:
        if (/^\/api\/2\.0\/(mlflow|vmr)\//.test(p)) throw new HttpError(404, 'ENDPOINT_NOT_FOUND', `no endpoint ${method} ${p}`);
        throw new HttpError(404, 'ENDPOINT_NOT_FOUND', `not found: ${method} ${p}`);
    }
  }

  private runId(body: Json): string {
    const id = str(body, 'run_id', false) ?? str(body, 'run_uuid', false);
    if (!id) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'run_id'");
    return id;
  }

  private requestId(req: http.IncomingMessage): string | undefined {
    if (!this.vmrEndpoints) return undefined;
    const h = req.headers['x-vmr-request-id'];
    if (typeof h !== 'string' || !h) return undefined;
    if (!/^[\w-]{8,128}$/.test(h)) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', 'X-VMR-Request-Id must be 8–128 word characters');
    return h;
  }

  private expJson(e: Experiment): Json {
    return {
      experiment_id: String(e.id),
      name: e.name,
      artifact_location: `mlflow-artifacts:/${e.id}`,
      lifecycle_stage: e.lifecycleStage ?? 'active',
      creation_time: e.createdAt,
      last_update_time: e.lastUpdateTime ?? e.createdAt,
      tags: Object.entries(e.tags ?? {}).map(([key, value]) => ({ key, value })),
    };
  }

  private async experimentById(id: number): Promise<Experiment> {
    // MLflow clients that log without choosing an experiment use experiment 0, "Default": made on first use.
    if (id === 0) return this.store.ensureDefaultExperiment();
    try {
      return await this.store.getExperiment(id);
    } catch (e) {
      if (e instanceof NotFoundError) throw new HttpError(404, 'RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${id} exists`);
      throw e;
    }
  }

  /** MLflow's view types: ACTIVE_ONLY (default), DELETED_ONLY, ALL (also as the enum's numbers 1–3). */
  private viewType(v: unknown, name: string): ViewType {
    if (v === undefined || v === null || v === '') return 'active';
    const map: Record<string, ViewType> = { ACTIVE_ONLY: 'active', DELETED_ONLY: 'deleted', ALL: 'all', '1': 'active', '2': 'deleted', '3': 'all' };
    const t = map[String(v).toUpperCase()];
    if (!t) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `${name} must be ACTIVE_ONLY, DELETED_ONLY or ALL, got ${JSON.stringify(v)}`);
    return t;
  }

  private experimentField(e: Experiment, entity: string, key: string): string | number | undefined {
    if (entity === 'tag') return e.tags?.[key];
    if (entity !== 'attribute') throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `experiment filters compare attributes (name, creation_time, last_update_time) and tags, not ${entity}s`);
    switch (key.toLowerCase()) {
      case 'name':
        return e.name;
      case 'experiment_id':
        return String(e.id);
      case 'creation_time':
        return e.createdAt;
      case 'last_update_time':
        return e.lastUpdateTime ?? e.createdAt;
      case 'lifecycle_stage':
        return e.lifecycleStage ?? 'active';
      default:
        throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `unknown experiment attribute '${key}' (name, experiment_id, creation_time, last_update_time)`);
    }
  }

  private orderExperiments(list: Experiment[], orderBy: unknown[]): Experiment[] {
    if (orderBy.length === 0) return list;
    const keys = orderBy.map((o) => {
      const m = /^\s*(?:attributes?\.)?(name|experiment_id|creation_time|last_update_time)\s*(asc|desc)?\s*$/i.exec(String(o));
      if (!m) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `cannot order experiments by '${String(o)}' (name, experiment_id, creation_time, last_update_time, each ASC or DESC)`);
      return { key: m[1].toLowerCase(), desc: (m[2] ?? '').toLowerCase() === 'desc' };
    });
    return [...list].sort((a, b) => {
      for (const k of keys) {
        const x = this.experimentField(a, 'attribute', k.key)!;
        const y = this.experimentField(b, 'attribute', k.key)!;
        const c = k.key === 'experiment_id' ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
        if (c !== 0) return k.desc ? -c : c;
      }
      return a.id - b.id;
    });
  }

  /** A relative artifact directory ('' = the root), refusing traversal. */
  private cleanArtifactDir(p: string): string {
    const d = p.replace(/^\/+|\/+$/g, '');
    if (!d) return '';
    if (d.split('/').some((x) => x === '..' || x === '.' || x === '') || d.includes('\\') || d.includes('\0')) {
      throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `invalid artifact path '${p}': path traversal is not allowed`);
    }
    return d;
  }

  /** Direct children of `dir` among a run's artifacts: files with sizes, sub-directories once each. */
  private listArtifactDir(artifacts: { path: string; size: number }[], dir: string): { path: string; is_dir: boolean; file_size?: number }[] {
    const prefix = dir ? `${dir}/` : '';
    const out = new Map<string, { path: string; is_dir: boolean; file_size?: number }>();
    for (const a of artifacts) {
      if (!a.path.startsWith(prefix)) continue;
      const rest = a.path.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash < 0) out.set(rest, { path: rest, is_dir: false, file_size: a.size });
      else if (!out.has(rest.slice(0, slash))) out.set(rest.slice(0, slash), { path: rest.slice(0, slash), is_dir: true });
    }
    return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** `GET /api/2.0/mlflow-artifacts/artifacts?path=<experiment_id>/<run_id>/artifacts[/dir]`: names relative to `dir`. */
  private async listProxiedArtifacts(p: string): Promise<Json> {
    const m = /^\/?(\d+)\/([0-9a-f]{32})\/artifacts(?:\/(.*))?$/.exec(p);
    if (!m) {
      // MLflow answers an unknown location with an empty listing.
      if (p === '' || /^\/?\d+\/?$/.test(p)) return { files: [] };
      throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `artifact listing path must be <experiment_id>/<run_id>/artifacts[/dir], got '${p}'`);
    }
    const run = await this.store.getRun(m[2]);
    const dir = this.cleanArtifactDir(m[3] ?? '');
    return { files: this.listArtifactDir(run.artifacts, dir) };
  }

  private pageOffset(token: unknown): number {
    if (token === undefined || token === null || token === '') return 0;
    if (typeof token !== 'string') throw new HttpError(400, 'INVALID_PARAMETER_VALUE', 'page_token must be a string');
    const n = Number(Buffer.from(token, 'base64').toString('utf8'));
    if (!Number.isSafeInteger(n) || n < 0) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `invalid page_token '${token}'`);
    return n;
  }

  private pageToken(offset: number): string {
    return Buffer.from(String(offset)).toString('base64');
  }

  /**
   * Artifacts: `PUT|GET /api/2.0/mlflow-artifacts/artifacts/<experiment_id>/<run_id>/artifacts/<path>`
   * (MLflow's layout). Uploads stream to a temp file while hashing, then enter the content store.
   */
  private async handleArtifact(req: http.IncomingMessage, res: http.ServerResponse, rel: string): Promise<void> {
    const m = /^(\d+)\/([0-9a-f]{32})\/artifacts\/(.+)$/.exec(rel);
    if (!m) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `artifact path must be <experiment_id>/<run_id>/artifacts/<path>, got '${rel}'`);
    const [, , runId, artifactPath] = m;
    const parts = artifactPath.split('/');
    if (parts.some((x) => x === '..' || x === '.' || x === '') || artifactPath.includes('\\') || artifactPath.includes('\0')) {
      throw new HttpError(400, 'INVALID_PARAMETER_VALUE', `invalid artifact path '${artifactPath}': path traversal is not allowed`);
    }
    await this.store.getRun(runId);
    if (req.method === 'GET') {
      const file = await this.store.artifactFile(runId, artifactPath);
      const st = fs.statSync(file);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': st.size });
      await new Promise<void>((resolve, reject) => fs.createReadStream(file).on('error', reject).pipe(res).on('finish', () => resolve()));
      return;
    }
    if (req.method !== 'PUT') throw new HttpError(405, 'BAD_REQUEST', `artifacts support GET and PUT, not ${req.method}`);
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > this.opts.maxArtifactBytes) {
      req.resume();
      throw new HttpError(413, 'REQUEST_LIMIT_EXCEEDED', `artifact of ${declared} bytes exceeds the limit of ${this.opts.maxArtifactBytes} bytes`);
    }
    fs.mkdirSync(this.store.artifactsDir, { recursive: true });
    const tmp = tempPathFor(path.join(this.store.artifactsDir, 'upload'));
    try {
      await new Promise<void>((resolve, reject) => {
        const out = fs.createWriteStream(tmp);
        let size = 0;
        req.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.opts.maxArtifactBytes) {
            req.unpipe(out);
            out.destroy();
            reject(new HttpError(413, 'REQUEST_LIMIT_EXCEEDED', `artifact exceeds the limit of ${this.opts.maxArtifactBytes} bytes`));
          }
        });
        req.pipe(out);
        out.on('finish', () => resolve());
        out.on('error', reject);
        req.on('error', reject);
      });
      await this.store.logArtifact(runId, tmp, artifactPath);
      this.send(res, 200, {});
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
}

interface DatasetInput {
  tags: { key: string; value: string }[];
  dataset: Json;
}

/** Start a tracking server (used by `vmr tracking serve` and by sweeps that spawn their own). */
export async function startTrackingServer(options: TrackingServerOptions): Promise<TrackingServer> {
  const s = new TrackingServer(options);
  await s.listen();
  return s;
}

export type { RunStatus };
