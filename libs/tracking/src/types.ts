/** Run lifecycle states (MLflow's, plus `queued` for sweeps). */
export const RUN_STATUSES = ['queued', 'running', 'finished', 'failed', 'killed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * An experiment id: a number in the local store; over HTTP the server's id as given (MLflow's file
 * store uses 18-digit ids, beyond a double's exact integers, so they stay strings).
 */
export type ExperimentId = number | string;

export interface Experiment {
  id: ExperimentId;
  name: string;
  createdAt: number;
  lastUpdateTime?: number;
  /** MLflow's lifecycle stage (a deleted experiment keeps its runs but refuses new ones). */
  lifecycleStage?: 'active' | 'deleted';
  tags?: Record<string, string>;
}

/** One metric observation. `value` may be NaN or ±Infinity (stored and read back as such). */
export interface MetricPoint {
  key: string;
  value: number;
  /** Training step / epoch; integer, default 0. */
  step?: number;
  /** Milliseconds since the epoch; default now. */
  timestamp?: number;
}

export interface StoredMetricPoint {
  key: string;
  value: number;
  step: number;
  timestamp: number;
}

export type ParamValue = string | number | boolean;

/** Where and from what code a run executes (recorded on every run). */
export interface RunProvenance {
  gitCommit: string | null;
  gitDirty: boolean | null;
  host: string;
  pid: number;
  command: string;
  nodeVersion: string;
  packageVersions: Record<string, string>;
}

export interface RunInfo extends RunProvenance {
  id: string;
  experimentId: ExperimentId;
  experimentName: string;
  parentId: string | null;
  name: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  heartbeat: number;
  seed: number | null;
  backend: string | null;
  protocol: string | null;
  failureReason: string | null;
  /** MLflow's lifecycle stage: a deleted run is hidden from searches and refuses writes until restored. */
  lifecycleStage?: 'active' | 'deleted';
}

export interface ArtifactInfo {
  path: string;
  sha256: string;
  size: number;
  createdAt: number;
}

export interface RunDetail extends RunInfo {
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Latest value per metric key (highest step, then latest timestamp). */
  metrics: Record<string, StoredMetricPoint>;
  artifacts: ArtifactInfo[];
}

export interface StartRunOptions {
  /** Experiment name; created when missing. */
  experiment: string;
  name?: string;
  parentId?: string;
  tags?: Record<string, string>;
  seed?: number;
  backend?: string;
  protocol?: string;
  /** Initial status; `running` by default (`queued` for sweep trials). */
  status?: 'queued' | 'running';
  /** Command line to record; default: this process's argv. */
  command?: string;
  /**
   * Provenance of the process that runs the experiment, when it is not this process (the tracking
   * server records its clients' host, pid, git state…). Missing fields default to this process's.
   */
  provenance?: Partial<RunProvenance>;
  /** Start time (ms since the epoch); default now. */
  startTime?: number;
  /** Idempotency key: a retried start with the same key returns the run the first attempt created. */
  requestId?: string;
  /**
   * Whether the run's client sends heartbeats (default true: vmr processes do). Runs of clients that
   * never heartbeat (plain MLflow clients) are not reaped for a stale heartbeat.
   */
  heartbeats?: boolean;
}

export type MetricOp = '>' | '>=' | '<' | '<=' | '=' | '!=';

export interface MetricFilter {
  key: string;
  op: MetricOp;
  value: number;
}

export interface OrderBy {
  /** `metric` orders by the latest value; `attribute` by a run column (start_time, name, status…). */
  kind: 'metric' | 'param' | 'attribute';
  key: string;
  desc?: boolean;
}

export type FilterEntity = 'metric' | 'param' | 'tag' | 'attribute';
export type FilterOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';
export type FilterValue = string | number | (string | number)[];

/** One comparison of an MLflow search filter (`metrics.acc > 0.5`, `tags.\`a b\` LIKE 'x%'`…). */
export interface FilterClause {
  entity: FilterEntity;
  key: string;
  op: FilterOp;
  value: FilterValue;
}

/** MLflow's run_view_type: active runs (default), deleted runs, or both. */
export type ViewType = 'active' | 'deleted' | 'all';

export interface RunQuery {
  experiment?: string | string[];
  status?: RunStatus | RunStatus[];
  /** `null`: top-level runs only; a run id: its children. */
  parentId?: string | null;
  params?: Record<string, string>;
  tags?: Record<string, string>;
  metrics?: MetricFilter[];
  /** Further AND-ed comparisons in MLflow's filter grammar (see `parseSearchFilter`). */
  where?: FilterClause[];
  /** Which lifecycle stages to include (default: active runs only). */
  viewType?: ViewType;
  orderBy?: OrderBy[];
  limit?: number;
  offset?: number;
}

/**
 * The tracking API. Two implementations share it: `SqliteTracker` (embedded run store) and, later,
 * an HTTP tracker speaking the MLflow REST subset.
 */
export interface Tracker {
  /** Where the store lives (file path or URI). */
  readonly location: string;
  getOrCreateExperiment(name: string): Promise<Experiment>;
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  listExperiments(): Promise<Experiment[]>;
  startRun(options: StartRunOptions): Promise<RunInfo>;
  getRun(runId: string): Promise<RunDetail>;
  /** Immutable: re-logging the same value is a no-op, a different value is a `ConflictError`. */
  logParams(runId: string, params: Record<string, ParamValue>): Promise<void>;
  /** Append a batch of points atomically (all or nothing). */
  logMetrics(runId: string, points: MetricPoint[]): Promise<void>;
  setTags(runId: string, tags: Record<string, string>): Promise<void>;
  /** Copy a file into the content-addressed artifact store under a logical path. */
  logArtifact(runId: string, file: string, artifactPath?: string): Promise<ArtifactInfo>;
  /** Absolute path of a stored artifact's bytes (local stores) for reading. */
  artifactFile(runId: string, artifactPath: string): Promise<string>;
  setStatus(runId: string, status: RunStatus): Promise<void>;
  endRun(runId: string, status?: Exclude<RunStatus, 'queued' | 'running'>, reason?: string): Promise<void>;
  heartbeat(runId: string): Promise<void>;
  searchRuns(query?: RunQuery): Promise<RunInfo[]>;
  /** Resolve a full run id or a unique prefix of one. */
  resolveRunId(prefix: string): Promise<string>;
  latestMetrics(runId: string): Promise<Record<string, StoredMetricPoint>>;
  metricHistory(runId: string, key: string): Promise<StoredMetricPoint[]>;
  close(): Promise<void>;
}
