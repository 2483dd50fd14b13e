/**
 * Mapping between our run model and MLflow's REST JSON. Our run attributes that MLflow does not have
 * travel as reserved tags (`vmr.*`), MLflow's own conventions where they exist
 * (`mlflow.parentRunId`, `mlflow.source.git.commit`, `mlflow.runName`).
 */
import type { RunDetail, RunInfo, RunStatus, StoredMetricPoint } from '../types';

export const MLFLOW_STATUS: Record<RunStatus, string> = {
  queued: 'SCHEDULED',
  running: 'RUNNING',
  finished: 'FINISHED',
  failed: 'FAILED',
  killed: 'KILLED',
};

export const VMR_STATUS: Record<string, RunStatus> = Object.fromEntries(Object.entries(MLFLOW_STATUS).map(([k, v]) => [v, k as RunStatus]));

/** Reserved tags carrying run attributes over the MLflow API. */
export const ATTR_TAGS = {
  parentId: 'mlflow.parentRunId',
  gitCommit: 'mlflow.source.git.commit',
  gitDirty: 'vmr.git_dirty',
  host: 'vmr.host',
  pid: 'vmr.pid',
  command: 'vmr.command',
  nodeVersion: 'vmr.node_version',
  packageVersions: 'vmr.package_versions',
  seed: 'vmr.seed',
  backend: 'vmr.backend',
  protocol: 'vmr.protocol',
  failureReason: 'vmr.failure_reason',
} as const;

/** Dataset inputs (MLflow's log-inputs) are kept as one reserved run tag holding their JSON. */
export const DATASET_INPUTS_TAG = 'vmr.dataset_inputs';

const RESERVED = new Set<string>([...Object.values(ATTR_TAGS), 'mlflow.runName', DATASET_INPUTS_TAG]);

export function isReservedTag(key: string): boolean {
  return RESERVED.has(key);
}

/** JSON has no NaN/Infinity: encode non-finite metric values as MLflow's Python client does. */
export function encodeValue(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return 'Infinity';
  if (v === Number.NEGATIVE_INFINITY) return '-Infinity';
  return v;
}

export function decodeValue(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity' || v === 'inf') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity' || v === '-inf') return Number.NEGATIVE_INFINITY;
  return undefined;
}

export interface MlflowRunInfo {
  run_id: string;
  run_uuid: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: {
    metrics: { key: string; value: number | string; step: number; timestamp: number }[];
    params: { key: string; value: string }[];
    tags: { key: string; value: string }[];
  };
  inputs?: { dataset_inputs: unknown[] };
}

export function attributeTags(run: RunInfo): Record<string, string> {
  const t: Record<string, string> = {
    [ATTR_TAGS.host]: run.host,
    [ATTR_TAGS.pid]: String(run.pid),
    [ATTR_TAGS.command]: run.command,
    [ATTR_TAGS.nodeVersion]: run.nodeVersion,
    [ATTR_TAGS.packageVersions]: JSON.stringify(run.packageVersions),
    'mlflow.runName': run.name,
  };
  if (run.parentId) t[ATTR_TAGS.parentId] = run.parentId;
  if (run.gitCommit) t[ATTR_TAGS.gitCommit] = run.gitCommit;
  if (run.gitDirty !== null) t[ATTR_TAGS.gitDirty] = String(run.gitDirty);
  if (run.seed !== null) t[ATTR_TAGS.seed] = String(run.seed);
  if (run.backend) t[ATTR_TAGS.backend] = run.backend;
  if (run.protocol) t[ATTR_TAGS.protocol] = run.protocol;
  if (run.failureReason) t[ATTR_TAGS.failureReason] = run.failureReason;
  return t;
}

export function toMlflowRun(run: RunDetail): MlflowRun {
  const metrics = Object.values(run.metrics).map((m: StoredMetricPoint) => ({ key: m.key, value: encodeValue(m.value), step: m.step, timestamp: m.timestamp }));
  const { [DATASET_INPUTS_TAG]: inputs, ...userTags } = run.tags;
  const tags = { ...userTags, ...attributeTags(run) };
  let datasetInputs: unknown[] = [];
  try {
    datasetInputs = inputs ? (JSON.parse(inputs) as unknown[]) : [];
  } catch {
    datasetInputs = [];
  }
  return {
    info: toMlflowInfo(run),
    data: {
      metrics,
      params: Object.entries(run.params).map(([key, value]) => ({ key, value })),
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    },
    inputs: { dataset_inputs: datasetInputs },
  };
}

export function toMlflowInfo(run: RunInfo): MlflowRunInfo {
  return {
    run_id: run.id,
    run_uuid: run.id,
    run_name: run.name,
    experiment_id: String(run.experimentId),
    user_id: '',
    status: MLFLOW_STATUS[run.status],
    start_time: run.startTime,
    ...(run.endTime !== null ? { end_time: run.endTime } : {}),
    artifact_uri: `mlflow-artifacts:/${run.experimentId}/${run.id}/artifacts`,
    lifecycle_stage: run.lifecycleStage ?? 'active',
  };
}

/** Rebuild our RunDetail from an MLflow run (reserved tags → attributes). */
export function fromMlflowRun(r: MlflowRun, experimentName: string): RunDetail {
  const tagMap = Object.fromEntries((r.data.tags ?? []).map((t) => [t.key, t.value]));
  const num = (s: string | undefined): number | null => (s === undefined || s === '' ? null : Number(s));
  const metrics: Record<string, StoredMetricPoint> = {};
  for (const m of r.data.metrics ?? []) metrics[m.key] = { key: m.key, value: decodeValue(m.value) ?? Number.NaN, step: Number(m.step ?? 0), timestamp: Number(m.timestamp ?? 0) };
  const userTags = Object.fromEntries(Object.entries(tagMap).filter(([k]) => !isReservedTag(k)));
  return {
    id: r.info.run_id,
    experimentId: String(r.info.experiment_id),
    experimentName,
    parentId: tagMap[ATTR_TAGS.parentId] ?? null,
    name: r.info.run_name ?? tagMap['mlflow.runName'] ?? '',
    status: VMR_STATUS[r.info.status] ?? 'running',
    startTime: Number(r.info.start_time),
    endTime: r.info.end_time === undefined || r.info.end_time === null ? null : Number(r.info.end_time),
    heartbeat: Number(r.info.start_time),
    gitCommit: tagMap[ATTR_TAGS.gitCommit] ?? null,
    gitDirty: tagMap[ATTR_TAGS.gitDirty] === undefined ? null : tagMap[ATTR_TAGS.gitDirty] === 'true',
    host: tagMap[ATTR_TAGS.host] ?? '',
    pid: num(tagMap[ATTR_TAGS.pid]) ?? 0,
    command: tagMap[ATTR_TAGS.command] ?? '',
    nodeVersion: tagMap[ATTR_TAGS.nodeVersion] ?? '',
    packageVersions: tagMap[ATTR_TAGS.packageVersions] ? (JSON.parse(tagMap[ATTR_TAGS.packageVersions]) as Record<string, string>) : {},
    seed: num(tagMap[ATTR_TAGS.seed]),
    backend: tagMap[ATTR_TAGS.backend] ?? null,
    protocol: tagMap[ATTR_TAGS.protocol] ?? null,
    failureReason: tagMap[ATTR_TAGS.failureReason] ?? null,
    params: Object.fromEntries((r.data.params ?? []).map((p) => [p.key, p.value])),
    tags: userTags,
    metrics,
    artifacts: [],
  };
}
