/**
 * MLflow compatibility of `vmr tracking serve`, checked with a client nobody here wrote: the npm
 * `mlflow` package (Yuhsak/mlflow 2.0.7, a thin REST client). Calls that client lacks or gets wrong
 * (its set-experiment-tag URL misses a slash; it has no search-experiments, log-inputs or artifact
 * upload) are replayed as the request bodies of MLflow's REST API documentation, over plain HTTP.
 * Each `it` is one call (or one documented behaviour), so the jest report is the compatibility table.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import axios, { type AxiosResponse } from 'axios';
import { SqliteTracker, TrackingServer } from '../src';

// The third-party client (CommonJS, default export).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MLflow = require('mlflow') as new (o: { endpoint: string }) => {
  Experiments: Record<string, (a: Record<string, unknown>) => Promise<any>>;
  Runs: Record<string, (a: Record<string, unknown>) => Promise<any>>;
  Metrics: Record<string, (a: Record<string, unknown>) => Promise<any>>;
  Artifacts: Record<string, (a: Record<string, unknown>) => Promise<any>>;
};

let dir: string;
let server: TrackingServer;
let url: string;
let client: InstanceType<typeof MLflow>;
let logSpy: jest.SpyInstance;

/** Plain HTTP as MLflow's documentation shows it; never throws, returns status and body. */
async function rest(method: 'GET' | 'POST' | 'PUT', p: string, body?: unknown, params?: Record<string, string>): Promise<AxiosResponse> {
  return axios.request({ method, url: `${url}${p}`, data: body, params, validateStatus: () => true, headers: body instanceof Buffer ? { 'Content-Type': 'application/octet-stream' } : undefined });
}

/** The client throws Error(JSON.stringify({status, statusText, data})) on non-200 answers. */
async function clientError(p: Promise<unknown>): Promise<{ status: number; data: { error_code: string; message: string } }> {
  try {
    await p;
  } catch (e) {
    const text = (e as Error).message.replace(/^Error: /, '');
    return JSON.parse(text) as { status: number; data: { error_code: string; message: string } };
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-mlflow-compat-'));
  server = new TrackingServer({ db: path.join(dir, 'runs.db'), port: 0, heartbeatTimeoutMs: 200 });
  url = await server.listen();
  client = new MLflow({ endpoint: url });
  // The client prints every POST body to stdout; keep the test log readable.
  logSpy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterAll(async () => {
  logSpy.mockRestore();
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('experiments', () => {
  let expId: string;

  it('experiments/create and experiments/get', async () => {
    const created = await client.Experiments.create({ name: 'compat', artifact_location: '' });
    expId = created.experiment_id;
    expect(typeof expId).toBe('string');
    const got = await client.Experiments.get({ experiment_id: expId });
    expect(got.experiment).toMatchObject({ experiment_id: expId, name: 'compat', lifecycle_stage: 'active' });
  });

  it('experiments/create of an existing name is RESOURCE_ALREADY_EXISTS', async () => {
    const err = await clientError(client.Experiments.create({ name: 'compat', artifact_location: '' }));
    expect(err.status).toBe(400);
    expect(err.data.error_code).toBe('RESOURCE_ALREADY_EXISTS');
  });

  it('experiments/set-experiment-tag (replayed: the client builds a wrong URL) and tags in experiments/get', async () => {
    const bad = await clientError(client.Experiments.setExperimentTag({ experiment_id: expId, key: 'team', value: 'vmr' }));
    expect(bad.status).toBe(404); // .../mlflow/experimentsset-experiment-tag: the client's bug, answered as MLflow does
    const r = await rest('POST', '/api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: expId, key: 'team', value: 'vmr' });
    expect(r.status).toBe(200);
    const got = await client.Experiments.get({ experiment_id: expId });
    expect(got.experiment.tags).toEqual([{ key: 'team', value: 'vmr' }]);
  });

  it('experiments/update renames', async () => {
    await client.Experiments.update({ experiment_id: expId, new_name: 'compat-renamed' });
    expect((await client.Experiments.get({ experiment_id: expId })).experiment.name).toBe('compat-renamed');
  });

  it('experiments/delete and experiments/restore; a deleted experiment accepts no new runs', async () => {
    await client.Experiments.delete({ experiment_id: expId });
    expect((await client.Experiments.get({ experiment_id: expId })).experiment.lifecycle_stage).toBe('deleted');
    const err = await clientError(client.Runs.create({ experiment_id: expId, user_id: 'u', start_time: Date.now() }));
    expect(err.status).toBe(400);
    const active = await rest('POST', '/api/2.0/mlflow/experiments/search', { max_results: 100 });
    expect(active.data.experiments.map((e: { name: string }) => e.name)).not.toContain('compat-renamed');
    const deleted = await rest('POST', '/api/2.0/mlflow/experiments/search', { view_type: 'DELETED_ONLY' });
    expect(deleted.data.experiments.map((e: { name: string }) => e.name)).toEqual(['compat-renamed']);
    await client.Experiments.restore({ experiment_id: expId });
    expect((await client.Experiments.get({ experiment_id: expId })).experiment.lifecycle_stage).toBe('active');
  });

  it('experiments/list (MLflow 1.x) and experiments/search with a filter on name and tags', async () => {
    await client.Experiments.create({ name: 'other', artifact_location: '' });
    const listed = await client.Experiments.list({ view_type: 'ALL' });
    expect(listed.experiments.map((e: { name: string }) => e.name).sort()).toEqual(['compat-renamed', 'other']);
    const like = await rest('POST', '/api/2.0/mlflow/experiments/search', { filter: "name LIKE 'compat%' AND tags.team = 'vmr'" });
    expect(like.data.experiments.map((e: { name: string }) => e.name)).toEqual(['compat-renamed']);
    const ordered = await rest('POST', '/api/2.0/mlflow/experiments/search', { order_by: ['name DESC'] });
    expect(ordered.data.experiments.map((e: { name: string }) => e.name)).toEqual(['other', 'compat-renamed']);
  });
});

describe('runs', () => {
  let runId: string;
  let expId: string;

  beforeAll(async () => {
    expId = (await client.Experiments.create({ name: 'runs', artifact_location: '' })).experiment_id;
  });

  it('runs/create in the Default experiment 0 (mlflow.start_run() without set_experiment)', async () => {
    const r = await client.Runs.create({ experiment_id: '0', user_id: 'alice', start_time: Date.now(), tags: [{ key: 'mlflow.runName', value: 'default-run' }] });
    expect(r.run.info.experiment_id).toBe('0');
    const e = await client.Experiments.get({ experiment_id: '0' });
    expect(e.experiment.name).toBe('Default');
  });

  it('runs/create, log-parameter, log-metric, set-tag, get', async () => {
    const r = await client.Runs.create({ experiment_id: expId, user_id: 'alice', start_time: Date.now(), tags: [{ key: 'genre', value: 'rock and roll' }] });
    runId = r.run.info.run_id;
    await client.Runs.logParameter({ run_id: runId, key: 'lr', value: '0.001' });
    await client.Runs.logMetric({ run_id: runId, key: 'loss', value: 0.5, timestamp: 1000, step: 1 });
    await client.Runs.setTag({ run_id: runId, key: 'stage', value: 'dev' });
    const got = (await client.Runs.get({ run_id: runId })).run;
    expect(got.data.params).toEqual([{ key: 'lr', value: '0.001' }]);
    expect(got.data.metrics).toEqual([{ key: 'loss', value: 0.5, step: 1, timestamp: 1000 }]);
    expect(got.data.tags).toEqual(expect.arrayContaining([{ key: 'stage', value: 'dev' }, { key: 'genre', value: 'rock and roll' }]));
  });

  it('runs/log-batch with NaN and ±Infinity, metrics/get-history', async () => {
    await client.Runs.logBatch({
      run_id: runId,
      metrics: [
        { key: 'loss', value: 0.25, timestamp: 2000, step: 2 },
        { key: 'odd', value: 'NaN', timestamp: 2000, step: 0 },
        { key: 'odd', value: 'Infinity', timestamp: 2001, step: 1 },
        { key: 'odd', value: '-Infinity', timestamp: 2002, step: 2 },
      ],
      params: [{ key: 'batch', value: '32' }],
      tags: [{ key: 'b', value: '1' }],
    });
    const h = await client.Metrics.getHistory({ run_id: runId, metric_key: 'loss' });
    expect(h.metrics.map((m: { value: number }) => m.value)).toEqual([0.5, 0.25]);
    const odd = await client.Metrics.getHistory({ run_id: runId, metric_key: 'odd' });
    expect(odd.metrics.map((m: { value: unknown }) => m.value)).toEqual(['NaN', 'Infinity', '-Infinity']);
  });

  it('a retried log-batch whose reply was lost stores each point once (identical rows de-duplicated, as MLflow)', async () => {
    const metrics = Array.from({ length: 500 }, (_, i) => ({ key: 'retry', value: i / 7, timestamp: 5000 + i, step: i }));
    await client.Runs.logBatch({ run_id: runId, metrics });
    await client.Runs.logBatch({ run_id: runId, metrics }); // the retry: same body, no vmr request id
    const h = await client.Metrics.getHistory({ run_id: runId, metric_key: 'retry' });
    expect(h.metrics).toHaveLength(500);
    // A genuinely new point with the same step but another timestamp is kept.
    await client.Runs.logMetric({ run_id: runId, key: 'retry', value: 1, timestamp: 9999, step: 0 });
    expect((await client.Metrics.getHistory({ run_id: runId, metric_key: 'retry' })).metrics).toHaveLength(501);
  });

  it('runs/delete-tag', async () => {
    await client.Runs.deleteTag({ run_id: runId, key: 'stage' });
    const tags = (await client.Runs.get({ run_id: runId })).run.data.tags.map((t: { key: string }) => t.key);
    expect(tags).not.toContain('stage');
    const err = await clientError(client.Runs.deleteTag({ run_id: runId, key: 'stage' }));
    expect(err.status).toBe(404);
  });

  it('runs/update with run_name renames; status and end_time end the run', async () => {
    const r = await rest('POST', '/api/2.0/mlflow/runs/update', { run_id: runId, run_name: 'renamed' });
    expect(r.status).toBe(200);
    expect(r.data.run_info.run_name).toBe('renamed');
    const u = await client.Runs.update({ run_id: runId, status: 'FINISHED', end_time: Date.now() });
    expect(u.run_info.status).toBe('FINISHED');
  });

  it('runs/search: =, !=, LIKE, ILIKE, IN, NOT IN, numeric comparisons, attributes.*, quoted values with keywords, back-quoted keys', async () => {
    const mk = async (name: string, lr: string, acc: number, genre: string) => {
      const r = await client.Runs.create({ experiment_id: expId, user_id: 'bob', start_time: Date.now(), tags: [{ key: 'mlflow.runName', value: name }, { key: 'my genre', value: genre }] });
      await client.Runs.logBatch({ run_id: r.run.info.run_id, params: [{ key: 'lr', value: lr }], metrics: [{ key: 'acc', value: acc, timestamp: Date.now(), step: 0 }] });
      return r.run.info.run_id as string;
    };
    const a = await mk('alpha', '0.1', 0.9, 'Rock and roll');
    const b = await mk('beta', '0.01', 0.5, 'jazz');
    const c = await mk('Gamma', '0.001', 0.7, 'rock and roll');
    const search = async (filter: string): Promise<string[]> =>
      ((await client.Runs.search({ experiment_ids: [expId], filter, max_results: 100 })).runs ?? []).map((r: { info: { run_id: string } }) => r.info.run_id).sort();
    const sorted = (...ids: string[]) => [...ids].sort();
    expect(await search("params.lr = '0.1'")).toEqual([a]);
    expect(await search("params.lr != '0.1' AND metrics.acc >= 0.5")).toEqual(sorted(b, c));
    expect(await search('metrics.acc > 0.6 and metrics.acc < 0.95')).toEqual(sorted(a, c));
    expect(await search("attributes.run_name LIKE '%a'")).toEqual(sorted(a, b, c));
    expect(await search("attributes.run_name LIKE 'g%'")).toEqual([]); // LIKE is case-sensitive
    expect(await search("attributes.run_name ILIKE 'g%'")).toEqual([c]);
    expect(await search("tags.`my genre` = 'rock and roll'")).toEqual([c]);
    expect(await search("tags.\"my genre\" ILIKE 'rock AND roll'")).toEqual(sorted(a, c));
    expect(await search(`attributes.run_id IN ('${a}', '${b}')`)).toEqual(sorted(a, b));
    expect(await search(`attributes.run_id NOT IN ('${a}', '${b}') AND params.lr LIKE '0.%'`)).toEqual(sorted(c, runId)); // runId: lr 0.001 from the first test
    expect(await search("attributes.status = 'RUNNING' AND params.lr IN ('0.1', '0.001')")).toEqual(sorted(a, c));
    expect(await search(`attributes.start_time >= 0 AND tags.mlflow.runName = 'beta'`)).toEqual([b]);
    const err = await clientError(client.Runs.search({ experiment_ids: [expId], filter: "params.lr = '0.1' OR params.lr = '0.01'" }));
    expect(err.status).toBe(400);
    expect(err.data.message).toMatch(/OR is not supported/);
    const bad = await clientError(client.Runs.search({ experiment_ids: [expId], filter: 'metrics.acc > high' }));
    expect(bad.status).toBe(400);
  });

  it('runs/delete hides a run, run_view_type shows it, writes are refused; runs/restore', async () => {
    await client.Runs.delete({ run_id: runId });
    const got = (await client.Runs.get({ run_id: runId })).run;
    expect(got.info.lifecycle_stage).toBe('deleted');
    const ids = async (view: string) => ((await client.Runs.search({ experiment_ids: [expId], run_view_type: view, max_results: 100 })).runs ?? []).map((r: { info: { run_id: string } }) => r.info.run_id);
    expect(await ids('ACTIVE_ONLY')).not.toContain(runId);
    expect(await ids('DELETED_ONLY')).toEqual([runId]);
    expect(await ids('ALL')).toContain(runId);
    const err = await clientError(client.Runs.logMetric({ run_id: runId, key: 'late', value: 1, timestamp: Date.now(), step: 0 }));
    expect(err.status).toBe(400);
    expect(err.data.message).toMatch(/active/);
    await client.Runs.restore({ run_id: runId });
    await client.Runs.logMetric({ run_id: runId, key: 'late', value: 1, timestamp: Date.now(), step: 0 });
    expect((await client.Runs.get({ run_id: runId })).run.info.lifecycle_stage).toBe('active');
  });

  it('runs/log-inputs (replayed) shows the datasets in runs/get', async () => {
    const r = await rest('POST', '/api/2.0/mlflow/runs/log-inputs', {
      run_id: runId,
      datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset: { name: 'himv', digest: 'abc123', source_type: 'local', source: '{"uri": "/data/himv"}' } }],
    });
    expect(r.status).toBe(200);
    const got = (await client.Runs.get({ run_id: runId })).run;
    expect(got.inputs.dataset_inputs).toEqual([{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset: { name: 'himv', digest: 'abc123', source_type: 'local', source: '{"uri": "/data/himv"}' } }]);
    expect(got.data.tags.map((t: { key: string }) => t.key)).not.toContain('vmr.dataset_inputs');
  });

  it('artifacts: proxied upload (replayed), artifacts/list (client), the proxied listing and download', async () => {
    const base = `/api/2.0/mlflow-artifacts/artifacts/${expId}/${runId}/artifacts`;
    expect((await rest('PUT', `${base}/model/weights.bin`, Buffer.from('0123456789'))).status).toBe(200);
    expect((await rest('PUT', `${base}/config.json`, Buffer.from('{"a":1}'))).status).toBe(200);
    const root = await client.Artifacts.list({ run_id: runId, path: '' });
    expect(root.root_uri).toBe(`mlflow-artifacts:/${expId}/${runId}/artifacts`);
    expect(root.files).toEqual([
      { path: 'config.json', is_dir: false, file_size: 7 },
      { path: 'model', is_dir: true },
    ]);
    const sub = await client.Artifacts.list({ run_id: runId, path: 'model' });
    expect(sub.files).toEqual([{ path: 'model/weights.bin', is_dir: false, file_size: 10 }]);
    const proxied = await rest('GET', '/api/2.0/mlflow-artifacts/artifacts', undefined, { path: `${expId}/${runId}/artifacts/model` });
    expect(proxied.data).toEqual({ files: [{ path: 'weights.bin', is_dir: false, file_size: 10 }] });
    const file = await rest('GET', `${base}/config.json`);
    expect(file.data).toEqual({ a: 1 });
  });
});

describe('malformed input is a 4xx, never a 500', () => {
  it('a non-JSON vmr.package_versions tag at run creation → 400', async () => {
    const r = await rest('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', tags: [{ key: 'vmr.package_versions', value: 'not json' }] });
    expect(r.status).toBe(400);
    expect(r.data.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it("a malformed '%zz' in an artifact path → 400", async () => {
    const r = await axios.get(`${url}/api/2.0/mlflow-artifacts/artifacts/0/${'a'.repeat(32)}/artifacts/%zz`, { validateStatus: () => true });
    expect(r.status).toBe(400);
  });
});

describe('heartbeats', () => {
  it('a run of a client that never heartbeats is not reaped while it logs; a vmr client that stops heartbeating is', async () => {
    const plain = (await client.Runs.create({ experiment_id: '0', user_id: 'carol', start_time: Date.now() })).run.info.run_id as string;
    // A vmr client announces its process (vmr.pid) and is expected to heartbeat.
    const vmr = await rest('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', tags: [{ key: 'vmr.pid', value: '999999' }, { key: 'vmr.host', value: 'elsewhere' }] });
    const vmrId = vmr.data.run.info.run_id as string;
    // 10× the 200 ms heartbeat timeout, and more, while the plain client keeps logging.
    for (let i = 0; i < 14; i++) {
      await client.Runs.logMetric({ run_id: plain, key: 'tick', value: i, timestamp: Date.now(), step: i });
      await new Promise((r) => setTimeout(r, 250));
    }
    const store = server.store as SqliteTracker;
    expect((await store.getRun(plain)).status).toBe('running');
    expect((await store.getRun(vmrId)).status).toBe('failed');
  });
});

describe('vmr as a client of a server without vmr endpoints (plain MLflow behaviour)', () => {
  let plainDir: string;
  let plain: TrackingServer;
  let tracker: import('../src').HttpTracker;
  let errSpy: jest.SpyInstance;
  const warnings: string[] = [];

  beforeAll(async () => {
    plainDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-mlflow-plain-'));
    plain = new TrackingServer({ db: path.join(plainDir, 'runs.db'), port: 0, vmrEndpoints: false });
    const { HttpTracker } = await import('../src');
    tracker = new HttpTracker(await plain.listen(), { heartbeatIntervalMs: 50, retryBudgetMs: 2000 });
    errSpy = jest.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => {
      warnings.push(String(chunk));
      return true;
    }) as typeof process.stderr.write);
  });

  afterAll(async () => {
    errSpy.mockRestore();
    await tracker.close();
    await plain.close();
    fs.rmSync(plainDir, { recursive: true, force: true });
  });

  it('train-like logging, artifact lists through artifacts/list, histories, id prefixes and searches without an experiment', async () => {
    const run = await tracker.startRun({ experiment: 'mlflow-plain', name: 'train' });
    expect(typeof run.experimentId).toBe('string');
    await tracker.logParams(run.id, { lr: 0.001 });
    await tracker.logMetrics(run.id, [
      { key: 'loss', value: 1, step: 0 },
      { key: 'loss', value: 0.5, step: 1 },
    ]);
    const file = path.join(plainDir, 'ckpt.json');
    fs.writeFileSync(file, '{"w":[1,2,3]}');
    await tracker.logArtifact(run.id, file, 'checkpoints/last.json');
    await new Promise((r) => setTimeout(r, 200)); // several heartbeat ticks: one warning, no failure
    const detail = await tracker.getRun(run.id);
    expect(detail.artifacts.map((a) => [a.path, a.size])).toEqual([['checkpoints/last.json', 13]]);
    expect(fs.readFileSync(await tracker.artifactFile(run.id, 'checkpoints/last.json'), 'utf8')).toBe('{"w":[1,2,3]}');
    expect((await tracker.metricHistory(run.id, 'loss')).map((m) => m.value)).toEqual([1, 0.5]);
    expect(await tracker.resolveRunId(run.id.slice(0, 6))).toBe(run.id);
    expect((await tracker.searchRuns({})).map((r) => r.id)).toContain(run.id);
    await tracker.endRun(run.id, 'finished');
    const plainWarnings = warnings.filter((w) => /plain MLflow server/.test(w));
    expect(plainWarnings).toHaveLength(1);
  });
});
