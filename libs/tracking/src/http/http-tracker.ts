/**
 * `HttpTracker`: the `Tracker` API over the MLflow REST subset served by `vmr tracking serve`
 * (or an MLflow server, for the parts MLflow has). Retries connection errors and 5xx with backoff;
 * writes carry an idempotency key, so a retried batch is never applied twice.
 */
import type * as Axios from 'axios';
import type { AxiosInstance, AxiosRequestConfig } from 'axios';

/** axios is loaded only when a tracker talks HTTP, not by every `vmr` process. */
const axios = (): typeof Axios => require('axios') as typeof Axios;
import { createHash, randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError, InvalidArgumentError, IoError, NotFoundError, VmrError, errorMessage, writeFileAtomic } from '@vmr/core';
import { currentProcessInfo } from '../process-info';
import type {
  ArtifactInfo,
  Experiment,
  ExperimentId,
  FilterClause,
  MetricPoint,
  ParamValue,
  RunDetail,
  RunInfo,
  RunQuery,
  RunStatus,
  StartRunOptions,
  StoredMetricPoint,
  Tracker,
} from '../types';
import { ATTR_TAGS, MLFLOW_STATUS, decodeValue, encodeValue, fromMlflowRun, type MlflowRun } from './mlflow-mapping';
import { formatSearchFilter } from './search-filter';

export interface HttpTrackerOptions {
  /** Bearer token (default: $VMR_TRACKING_TOKEN, else $MLFLOW_TRACKING_TOKEN). */
  token?: string;
  /** Give up retrying a request after this long (ms, default 120 s). */
  retryBudgetMs?: number;
  /** Per-request timeout (ms, default 30 s). */
  timeoutMs?: number;
  /** Heartbeat interval for runs this client started (ms, default 15 s; 0 = off). */
  heartbeatIntervalMs?: number;
}

/** The tracking server could not be reached within the retry budget. */
export class TrackingUnavailableError extends VmrError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('IO_ERROR', message, options);
  }
}

const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN', 'ENOTFOUND', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function compareIds(a: ExperimentId, b: ExperimentId): number {
  const x = String(a);
  const y = String(b);
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
}

export class HttpTracker implements Tracker {
  readonly location: string;
  private readonly http: AxiosInstance;
  private readonly retryBudgetMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly heartbeats = new Map<string, NodeJS.Timeout>();
  private readonly expNames = new Map<string, string>();
  /** Set once the server answered that it has no vmr-only endpoints (a plain MLflow server). */
  private plainMlflow = false;
  private warned = false;

  constructor(baseUrl: string, options: HttpTrackerOptions = {}) {
    if (!/^https?:\/\//.test(baseUrl)) throw new InvalidArgumentError(`tracking URI '${baseUrl}' is not an http(s) URL`);
    this.location = baseUrl.replace(/\/+$/, '');
    const token = options.token ?? process.env.VMR_TRACKING_TOKEN ?? process.env.MLFLOW_TRACKING_TOKEN;
    this.http = axios().default.create({
      baseURL: this.location,
      timeout: options.timeoutMs ?? 30_000,
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
      validateStatus: () => true,
    });
    this.retryBudgetMs = options.retryBudgetMs ?? 120_000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 15_000;
  }

  /** One request with retries on connection errors and 5xx; MLflow error bodies become VmrErrors. */
  private async call<T>(config: AxiosRequestConfig, what: string): Promise<T> {
    const start = Date.now();
    let delay = 50;
    for (let attempt = 1; ; attempt++) {
      let retryReason: string;
      try {
        const res = await this.http.request(config);
        if (res.status >= 200 && res.status < 300) return res.data as T;
        const body = (res.data ?? {}) as { error_code?: string; message?: string; vmr_code?: string };
        const msg = body.message ?? `HTTP ${res.status}`;
        if (res.status >= 500) {
          retryReason = `HTTP ${res.status}: ${msg}`;
        } else {
          if (res.status === 404 || body.vmr_code === 'NOT_FOUND') throw new NotFoundError(msg, { details: { status: res.status, errorCode: body.error_code } });
          if (body.vmr_code === 'CONFLICT') throw new ConflictError(msg);
          if (res.status === 401) throw new InvalidArgumentError(`${this.location} refused the request (401 ${body.error_code ?? ''}): ${msg}; set VMR_TRACKING_TOKEN`);
          if (res.status === 413) throw new InvalidArgumentError(`${what}: request too large (413): ${msg}`);
          throw new InvalidArgumentError(msg, { details: { status: res.status, errorCode: body.error_code } });
        }
      } catch (e) {
        if (e instanceof VmrError) throw e;
        const code = e instanceof axios().AxiosError ? (e.code ?? '') : ((e as NodeJS.ErrnoException).code ?? '');
        const retryable = RETRYABLE_CODES.has(code) || /socket hang up|ECONNRESET|ECONNREFUSED/.test(errorMessage(e));
        if (!retryable) throw new IoError(`${what}: request to ${this.location} failed: ${errorMessage(e)}`, { cause: e });
        retryReason = `${code || 'connection error'}: ${errorMessage(e)}`;
      }
      if (Date.now() - start > this.retryBudgetMs) {
        throw new TrackingUnavailableError(`${what}: tracking server ${this.location} unavailable after ${attempt} attempts over ${Math.round((Date.now() - start) / 1000)} s (${retryReason})`);
      }
      await sleep(delay * (0.5 + Math.random()));
      delay = Math.min(delay * 2, 2000);
    }
  }

  private post<T>(endpoint: string, data: unknown, requestId?: string): Promise<T> {
    return this.call<T>({ method: 'POST', url: `/api/2.0/${endpoint}`, data, headers: requestId ? { 'X-VMR-Request-Id': requestId } : {} }, `POST ${endpoint}`);
  }

  private get<T>(endpoint: string, params: Record<string, string>): Promise<T> {
    return this.call<T>({ method: 'GET', url: `/api/2.0/${endpoint}`, params }, `GET ${endpoint}`);
  }

  // ---- experiments -------------------------------------------------------------------------------

  /** MLflow's experiment ids stay strings (the file store's are 18 digits, past a double's exact range). */
  private toExperiment(e: { experiment_id: string; name: string; creation_time?: number; lifecycle_stage?: string }): Experiment {
    const id = String(e.experiment_id);
    this.expNames.set(id, e.name);
    return { id, name: e.name, createdAt: Number(e.creation_time ?? 0), lifecycleStage: e.lifecycle_stage === 'deleted' ? 'deleted' : 'active' };
  }

  /** A vmr-only endpoint is missing: say once that this is a plain MLflow server and what is lost. */
  private noteVmrEndpointMissing(what: string): void {
    this.plainMlflow = true;
    if (this.warned) return;
    this.warned = true;
    process.stderr.write(`warning: ${this.location} has no vmr endpoints (${what}); treating it as a plain MLflow server: no heartbeats (dead runs are not marked failed), artifact lists through MLflow's artifacts/list\n`);
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const r = await this.get<{ experiment: { experiment_id: string; name: string; creation_time?: number } }>('mlflow/experiments/get-by-name', { experiment_name: name });
      return this.toExperiment(r.experiment);
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  }

  async getOrCreateExperiment(name: string): Promise<Experiment> {
    if (typeof name !== 'string' || name.trim().length === 0 || name.length > 250) {
      throw new InvalidArgumentError(`experiment name must be a non-empty string of at most 250 characters, got ${JSON.stringify(name)}`);
    }
    const found = await this.getExperimentByName(name);
    if (found) return found;
    try {
      await this.post('mlflow/experiments/create', { name });
    } catch (e) {
      if (!(e instanceof InvalidArgumentError && /already exists/.test(e.message))) throw e;
    }
    const made = await this.getExperimentByName(name);
    if (!made) throw new NotFoundError(`experiment '${name}' vanished after creation on ${this.location}`);
    return made;
  }

  async listExperiments(): Promise<Experiment[]> {
    const out: Experiment[] = [];
    let token: string | undefined;
    do {
      const r = await this.post<{ experiments?: { experiment_id: string; name: string; creation_time?: number }[]; next_page_token?: string }>('mlflow/experiments/search', {
        max_results: 1000,
        ...(token ? { page_token: token } : {}),
      });
      for (const e of r.experiments ?? []) out.push(this.toExperiment(e));
      token = r.next_page_token;
    } while (token);
    return out.sort((a, b) => compareIds(a.id, b.id));
  }

  private async experimentName(id: ExperimentId): Promise<string> {
    const key = String(id);
    if (!this.expNames.has(key)) {
      const r = await this.get<{ experiment: { experiment_id: string; name: string } }>('mlflow/experiments/get', { experiment_id: key });
      this.toExperiment(r.experiment);
    }
    return this.expNames.get(key) ?? '';
  }

  // ---- runs --------------------------------------------------------------------------------------

  async startRun(options: StartRunOptions): Promise<RunInfo> {
    const exp = await this.getOrCreateExperiment(options.experiment);
    const info = { ...currentProcessInfo(options.command), ...(options.provenance ?? {}) };
    const tags: Record<string, string> = {
      ...(options.tags ?? {}),
      [ATTR_TAGS.host]: info.host,
      [ATTR_TAGS.pid]: String(info.pid),
      [ATTR_TAGS.command]: info.command,
      [ATTR_TAGS.nodeVersion]: info.nodeVersion,
      [ATTR_TAGS.packageVersions]: JSON.stringify(info.packageVersions),
    };
    if (options.parentId) tags[ATTR_TAGS.parentId] = options.parentId;
    if (info.gitCommit) tags[ATTR_TAGS.gitCommit] = info.gitCommit;
    if (info.gitDirty !== null) tags[ATTR_TAGS.gitDirty] = String(info.gitDirty);
    if (options.seed !== undefined) tags[ATTR_TAGS.seed] = String(options.seed);
    if (options.backend) tags[ATTR_TAGS.backend] = options.backend;
    if (options.protocol) tags[ATTR_TAGS.protocol] = options.protocol;
    const r = await this.post<{ run: MlflowRun }>(
      'mlflow/runs/create',
      {
        experiment_id: String(exp.id),
        ...(options.name ? { run_name: options.name } : {}),
        start_time: options.startTime ?? Date.now(),
        status: options.status === 'queued' ? 'SCHEDULED' : 'RUNNING',
        tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      },
      options.requestId ?? randomUUID(),
    );
    const run = fromMlflowRun(r.run, exp.name);
    if ((options.status ?? 'running') === 'running') this.startHeartbeat(run.id);
    return run;
  }

  private startHeartbeat(runId: string): void {
    if (this.heartbeatIntervalMs <= 0) return;
    const t = setInterval(() => void this.heartbeat(runId).catch(() => undefined), this.heartbeatIntervalMs);
    t.unref();
    this.heartbeats.set(runId, t);
  }

  private stopHeartbeat(runId: string): void {
    const t = this.heartbeats.get(runId);
    if (t) clearInterval(t);
    this.heartbeats.delete(runId);
  }

  async getRun(runId: string): Promise<RunDetail> {
    if (typeof runId !== 'string' || runId.length === 0) throw new InvalidArgumentError(`run id must be a non-empty string, got ${JSON.stringify(runId)}`);
    const r = await this.get<{ run: MlflowRun }>('mlflow/runs/get', { run_id: runId });
    const detail = fromMlflowRun(r.run, await this.experimentName(r.run.info.experiment_id));
    if (!this.plainMlflow) {
      try {
        const a = await this.get<{ artifacts: ArtifactInfo[] }>('vmr/runs/artifacts', { run_id: runId });
        detail.artifacts = a.artifacts;
        return detail;
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
        this.noteVmrEndpointMissing('GET vmr/runs/artifacts');
      }
    }
    detail.artifacts = await this.listArtifactsMlflow(runId);
    return detail;
  }

  /** Every artifact of a run through MLflow's public `artifacts/list`, walking directories (no hashes). */
  private async listArtifactsMlflow(runId: string): Promise<ArtifactInfo[]> {
    const out: ArtifactInfo[] = [];
    const dirs = [''];
    while (dirs.length) {
      const dir = dirs.shift()!;
      const r = await this.get<{ files?: { path: string; is_dir?: boolean; file_size?: number | string }[] }>('mlflow/artifacts/list', { run_id: runId, ...(dir ? { path: dir } : {}) });
      for (const f of r.files ?? []) {
        if (f.is_dir) dirs.push(f.path);
        else out.push({ path: f.path, sha256: '', size: Number(f.file_size ?? 0), createdAt: 0 });
      }
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async resolveRunId(prefix: string): Promise<string> {
    if (/^[0-9a-f]{32}$/i.test(prefix)) return (await this.getRun(prefix.toLowerCase())).id;
    if (!/^[0-9a-f]{1,32}$/i.test(prefix)) throw new InvalidArgumentError(`'${prefix}' is not a run id (32 hex characters, or a unique prefix)`);
    // MLflow cannot match an id prefix in a filter: list the runs of every experiment and match here.
    const matches = (await this.searchRuns({ viewType: 'all' })).filter((r) => r.id.startsWith(prefix.toLowerCase()));
    if (matches.length === 0) throw new NotFoundError(`no run with id '${prefix}' on ${this.location}`);
    if (matches.length > 1) throw new InvalidArgumentError(`run id prefix '${prefix}' is ambiguous; give more characters`);
    return matches[0].id;
  }

  async logParams(runId: string, params: Record<string, ParamValue>): Promise<void> {
    if (params === null || typeof params !== 'object') throw new InvalidArgumentError(`run ${runId}: params must be an object`);
    const entries = Object.entries(params).map(([key, value]) => {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new InvalidArgumentError(`run ${runId}: param '${key}' must be a string, number or boolean, got ${value === null ? 'null' : typeof value}`);
      }
      return { key, value: String(value) };
    });
    for (let i = 0; i < entries.length; i += 100) {
      await this.post('mlflow/runs/log-batch', { run_id: runId, params: entries.slice(i, i + 100) }, randomUUID());
    }
  }

  async logMetrics(runId: string, points: MetricPoint[]): Promise<void> {
    if (!Array.isArray(points)) throw new InvalidArgumentError(`run ${runId}: metrics must be an array of points`);
    const now = Date.now();
    const encoded = points.map((p, i) => {
      if (p === null || typeof p !== 'object') throw new InvalidArgumentError(`run ${runId}: metric point #${i} is not an object`);
      if (typeof p.value !== 'number') throw new InvalidArgumentError(`run ${runId}: metric '${String(p.key)}' (point #${i}) has a non-numeric value ${JSON.stringify(p.value)}`);
      return { key: p.key, value: encodeValue(p.value), step: p.step ?? 0, timestamp: p.timestamp ?? now };
    });
    // ≤ 1000 points per request (MLflow's limit); each request carries its own idempotency key,
    // generated once and reused by every retry of that request.
    for (let i = 0; i < encoded.length; i += 1000) {
      await this.post('mlflow/runs/log-batch', { run_id: runId, metrics: encoded.slice(i, i + 1000) }, randomUUID());
    }
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    const entries = Object.entries(tags).map(([key, value]) => ({ key, value }));
    for (let i = 0; i < entries.length; i += 100) {
      await this.post('mlflow/runs/log-batch', { run_id: runId, tags: entries.slice(i, i + 100) }, randomUUID());
    }
  }

  async logArtifact(runId: string, file: string, artifactPath?: string): Promise<ArtifactInfo> {
    const logical = artifactPath ?? path.basename(file);
    if (!logical || logical.split('/').includes('..') || path.isAbsolute(logical)) {
      throw new InvalidArgumentError(`run ${runId}: artifact path '${logical}' must be relative and must not contain '..'`);
    }
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch (e) {
      throw new IoError(`run ${runId}: cannot read artifact ${file}: ${errorMessage(e)}`, { cause: e, details: { path: file } });
    }
    const run = await this.getRun(runId);
    await this.call(
      {
        method: 'PUT',
        url: `/api/2.0/mlflow-artifacts/artifacts/${run.experimentId}/${runId}/artifacts/${logical.split('/').map(encodeURIComponent).join('/')}`,
        data,
        headers: { 'Content-Type': 'application/octet-stream' },
      },
      `uploading artifact ${logical}`,
    );
    return { path: logical, sha256: createHash('sha256').update(data).digest('hex'), size: data.length, createdAt: Date.now() };
  }

  async artifactFile(runId: string, artifactPath: string): Promise<string> {
    const run = await this.getRun(runId);
    const info = run.artifacts.find((a) => a.path === artifactPath);
    const cacheDir = path.join(os.tmpdir(), 'vmr-artifact-cache');
    if (info?.sha256) {
      const cached = path.join(cacheDir, info.sha256);
      if (fs.existsSync(cached)) return cached;
    }
    const data = await this.call<ArrayBuffer>(
      { method: 'GET', url: `/api/2.0/mlflow-artifacts/artifacts/${run.experimentId}/${runId}/artifacts/${artifactPath.split('/').map(encodeURIComponent).join('/')}`, responseType: 'arraybuffer' },
      `downloading artifact ${artifactPath}`,
    );
    const buf = Buffer.from(data);
    const target = path.join(cacheDir, createHash('sha256').update(buf).digest('hex'));
    writeFileAtomic(target, buf);
    return target;
  }

  async setStatus(runId: string, status: RunStatus): Promise<void> {
    await this.post('mlflow/runs/update', { run_id: runId, status: MLFLOW_STATUS[status] });
    if (status !== 'running') this.stopHeartbeat(runId);
  }

  async endRun(runId: string, status: 'finished' | 'failed' | 'killed' = 'finished', reason?: string): Promise<void> {
    await this.post('mlflow/runs/update', { run_id: runId, status: MLFLOW_STATUS[status], end_time: Date.now(), ...(reason ? { failure_reason: reason } : {}) });
    this.stopHeartbeat(runId);
  }

  async heartbeat(runId: string): Promise<void> {
    if (this.plainMlflow) return;
    try {
      await this.post('vmr/runs/heartbeat', { run_id: runId });
    } catch (e) {
      // A missing endpoint (MLflow answers 404, vmr ENDPOINT_NOT_FOUND), not a missing run.
      if (!(e instanceof NotFoundError) || (e.details as { errorCode?: string } | undefined)?.errorCode === 'RESOURCE_DOES_NOT_EXIST') throw e;
      this.noteVmrEndpointMissing('POST vmr/runs/heartbeat');
      for (const id of [...this.heartbeats.keys()]) this.stopHeartbeat(id);
    }
  }

  async searchRuns(query: RunQuery = {}): Promise<RunInfo[]> {
    const clauses: FilterClause[] = [];
    for (const [k, v] of Object.entries(query.params ?? {})) clauses.push({ entity: 'param', key: k, op: '=', value: String(v) });
    for (const [k, v] of Object.entries(query.tags ?? {})) clauses.push({ entity: 'tag', key: k, op: '=', value: v });
    for (const m of query.metrics ?? []) clauses.push({ entity: 'metric', key: m.key, op: m.op, value: m.value });
    if (typeof query.parentId === 'string') clauses.push({ entity: 'tag', key: ATTR_TAGS.parentId, op: '=', value: query.parentId });
    const statuses = query.status === undefined ? [] : Array.isArray(query.status) ? query.status : [query.status];
    if (statuses.length === 1) clauses.push({ entity: 'attribute', key: 'status', op: '=', value: MLFLOW_STATUS[statuses[0]] });
    clauses.push(...(query.where ?? []));
    // MLflow searches need experiment ids: without a name, every experiment.
    const names = query.experiment === undefined ? undefined : Array.isArray(query.experiment) ? query.experiment : [query.experiment];
    const exps = await this.listExperiments();
    const experimentIds = exps.filter((e) => !names || names.includes(e.name)).map((e) => String(e.id));
    if (experimentIds.length === 0) return [];
    const viewType = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' }[query.viewType ?? 'active'];
    const orderBy = (query.orderBy ?? []).map((o) => {
      const field = o.kind === 'metric' ? `metrics.\`${o.key}\`` : o.kind === 'param' ? `params.\`${o.key}\`` : `attributes.${o.key}`;
      return `${field} ${o.desc ? 'DESC' : 'ASC'}`;
    });
    const out: RunInfo[] = [];
    let token: string | undefined;
    const want = (query.offset ?? 0) + (query.limit ?? Number.POSITIVE_INFINITY);
    do {
      const r = await this.post<{ runs?: MlflowRun[]; next_page_token?: string }>('mlflow/runs/search', {
        experiment_ids: experimentIds,
        filter: formatSearchFilter(clauses),
        run_view_type: viewType,
        order_by: orderBy,
        max_results: 1000,
        ...(token ? { page_token: token } : {}),
      });
      for (const run of r.runs ?? []) {
        const d = fromMlflowRun(run, await this.experimentName(run.info.experiment_id));
        if (statuses.length > 1 && !statuses.includes(d.status)) continue;
        if (query.parentId === null && d.parentId !== null) continue;
        const { params: _p, tags: _t, metrics: _m, artifacts: _a, ...info } = d;
        out.push(info);
      }
      token = r.next_page_token;
    } while (token && out.length < want);
    return out.slice(query.offset ?? 0, want);
  }

  async latestMetrics(runId: string): Promise<Record<string, StoredMetricPoint>> {
    return (await this.getRun(runId)).metrics;
  }

  async metricHistory(runId: string, key: string): Promise<StoredMetricPoint[]> {
    // Paged as MLflow 2.x pages it; run_uuid as well as run_id for servers that read the older name.
    const points: { key: string; value: unknown; step?: number; timestamp?: number }[] = [];
    let token: string | undefined;
    do {
      const r = await this.get<{ metrics?: { key: string; value: unknown; step?: number; timestamp?: number }[]; next_page_token?: string }>('mlflow/metrics/get-history', {
        run_id: runId,
        run_uuid: runId,
        metric_key: key,
        max_results: '25000',
        ...(token ? { page_token: token } : {}),
      });
      points.push(...(r.metrics ?? []));
      token = r.next_page_token;
    } while (token);
    return points
      .map((m) => ({ key: m.key, value: decodeValue(m.value) ?? Number.NaN, step: Number(m.step ?? 0), timestamp: Number(m.timestamp ?? 0) }))
      .sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  }

  async close(): Promise<void> {
    for (const id of [...this.heartbeats.keys()]) this.stopHeartbeat(id);
  }
}

