/**
 * The `ReportSource` contract: the report queries give the same rows from a local SQLite store (one SQL
 * join), from the same store through the Tracker API, and from `vmr tracking serve` over that store
 * (HttpTracker → TrackingServer on loopback) — with hand-checked values, so "the same" cannot mean
 * "both empty".
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HttpTracker, SqliteTracker, TrackingServer, buildResultTables, reportSourceOf, withReportSource, type EvalRow, type EvalRowQuery, type ReportSource } from '../src';

let dir: string;
let server: TrackingServer;
let url: string;
let local: SqliteTracker;
let http: HttpTracker;
const ids: Record<string, string> = {};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-report-source-'));
  const db = path.join(dir, 'runs.db');
  const w = new SqliteTracker(db, { heartbeatIntervalMs: 0 });
  // Two seeds of one OF-VM-Net configuration and a VM-Net run, each evaluated; plus runs reports must skip.
  for (const [name, seed, model] of [['a', 1, 'of-vm-net'], ['b', 2, 'of-vm-net'], ['c', 1, 'vm-net']] as const) {
    const train = await w.startRun({ experiment: 'exp', name: `train-${name}`, seed, protocol: 'paper', tags: { 'vmr.kind': 'train' }, startTime: 1_000 + seed });
    await w.logParams(train.id, { model, features: 'i3d', seed, 'dataset.name': 'syn', 'dataset.synthetic': true, ...(model === 'of-vm-net' ? { 'loss.lambdas.l3': 0.5 } : {}) });
    await w.logMetrics(train.id, [1, 2, 3].map((step) => ({ key: 'train.loss', value: 1 / step, step })));
    await w.endRun(train.id, 'finished');
    ids[`train-${name}`] = train.id;
    const ev = await w.startRun({ experiment: 'exp', name: `eval-${name}`, parentId: train.id, protocol: 'paper', tags: { 'vmr.kind': 'eval', table: '1' }, startTime: 2_000 + name.charCodeAt(0) });
    await w.logParams(ev.id, { 'eval.dataset.name': 'syn', 'eval.dataset.kind': 'synthetic', 'eval.split': 'test', 'eval.retrievalProtocol': 'full' });
    const r1 = name === 'a' ? 0.5 : name === 'b' ? 0.25 : 0.125;
    await w.logMetrics(ev.id, [
      { key: 'eval.r1', value: 0.9, step: 0 }, // superseded by the later step
      { key: 'eval.r1', value: r1, step: 1 },
      { key: 'eval.r10', value: 1, step: 1 },
      { key: 'eval.gallerySize', value: 4, step: 1 },
      { key: 'eval.queries', value: 4, step: 1 },
      { key: 'eval.avAlign', value: Number.NaN, step: 1 }, // NaN: not a result
      { key: 'eval.fad', value: Number.POSITIVE_INFINITY, step: 1 },
    ]);
    const pq = path.join(dir, `pq-${name}.json`);
    fs.writeFileSync(pq, JSON.stringify({ clips: ['c0', 'c1', 'c2', 'c3'], ranks: [1, 2, 1, 3], ranksInClipOrder: true, avAlign: null, avAlignGot: null }));
    await w.logArtifact(ev.id, pq, 'retrieval.json');
    await w.endRun(ev.id, 'finished');
    ids[`eval-${name}`] = ev.id;
  }
  const failed = await w.startRun({ experiment: 'exp', parentId: ids['train-a'], tags: { 'vmr.kind': 'eval' } });
  await w.endRun(failed.id, 'failed', 'boom');
  ids.failed = failed.id;
  const oracle = await w.startRun({ experiment: 'other', name: 'oracle', tags: { 'vmr.kind': 'eval', 'vmr.reference': 'true' }, startTime: 3_000 });
  await w.logParams(oracle.id, { model: 'oracle-perfect', features: 'none', 'eval.dataset.name': 'syn', 'eval.split': 'test' });
  await w.logMetrics(oracle.id, [{ key: 'eval.r1', value: 1 }]);
  await w.endRun(oracle.id, 'finished');
  ids.oracle = oracle.id;
  const deleted = await w.startRun({ experiment: 'exp', parentId: ids['train-b'], tags: { 'vmr.kind': 'eval' } });
  await w.endRun(deleted.id, 'finished');
  ids.deleted = deleted.id;
  await w.close();

  server = new TrackingServer({ db, port: 0 });
  url = await server.listen();
  const del = await fetch(`${url}/api/2.0/mlflow/runs/delete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ run_id: deleted.id }) });
  expect(del.status).toBe(200);
  local = new SqliteTracker(db, { heartbeatIntervalMs: 0, reapStaleRuns: false });
  http = new HttpTracker(url, { heartbeatIntervalMs: 0, retryBudgetMs: 2000 });
});

afterAll(async () => {
  await http?.close();
  await local?.close();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const sources = (): [string, ReportSource][] => [
  ['SQLite (SQL join)', reportSourceOf(local)],
  ['SQLite (Tracker API)', reportSourceOf(local, { via: 'tracker-api' })],
  ['HTTP → vmr tracking serve', reportSourceOf(http)],
];

const queries: [string, () => EvalRowQuery][] = [
  ['one experiment', () => ({ experiment: 'exp' })],
  ['every experiment', () => ({})],
  ['several statuses', () => ({ experiment: ['exp'], status: ['finished', 'failed'] })],
  ['evaluations of given training runs', () => ({ trainRunIds: [ids['train-a'], ids['train-c'], 'no-such-run'] })],
  ['an unknown experiment', () => ({ experiment: 'nope' })],
];

describe('ReportSource contract: identical rows from every implementation', () => {
  it.each(queries)('%s', async (_name, q) => {
    const [[, reference], ...others] = sources();
    const want = await reference.evalRows(q());
    for (const [name, src] of others) {
      const got = await src.evalRows(q());
      expect({ name, rows: got }).toEqual({ name, rows: want });
    }
  });

  it.each(sources().map(([n]) => [n]))('%s: the rows carry the hand-checked values', async (name) => {
    const src = sources().find(([n]) => n === name)![1];
    const rows: EvalRow[] = await src.evalRows({ experiment: 'exp' });
    // Three finished, active evaluations, newest first (c, b, a by start time); failed and deleted runs left out.
    expect(rows.map((r) => r.evalRunId)).toEqual([ids['eval-c'], ids['eval-b'], ids['eval-a']]);
    const a = rows[2];
    expect(a).toMatchObject({ trainRunId: ids['train-a'], experiment: 'exp', evalStartTime: 2_000 + 'a'.charCodeAt(0), model: 'of-vm-net', features: 'i3d', seed: 1, trainProtocol: 'paper', evalProtocol: 'paper' });
    expect(a.lambdas).toBe('l1=1,l2=1,l3=0.5,l4=1,l5=1,l6=1');
    expect(a.metrics).toEqual({ r1: 0.5, r10: 1, gallerySize: 4, queries: 4, fad: Number.POSITIVE_INFINITY });
    expect(a).toMatchObject({ synthetic: true, split: 'test', table: '1', evalDataset: 'syn', trainDataset: 'syn', reference: false });
    expect(rows[0]).toMatchObject({ model: 'vm-net', lambdas: '', metrics: expect.objectContaining({ r1: 0.125 }) });
    const all = await src.evalRows({});
    const oracle = all.find((r) => r.evalRunId === ids.oracle)!;
    expect(oracle).toMatchObject({ trainRunId: ids.oracle, experiment: 'other', model: 'oracle-perfect', reference: true, seed: null, metrics: { r1: 1 } });
    expect(all.map((r) => r.evalRunId)).not.toContain(ids.deleted);
    expect((await src.evalRows({ status: ['failed'] })).map((r) => r.evalRunId)).toEqual([ids.failed]);
    // Tables 1 and 2 from these rows: one OF-VM-Net row over seeds 1 and 2 (n = 2), mean R@1 0.375.
    const t1 = buildResultTables(rows).find((t) => t.rows.some((r) => r.runs === 2))!;
    const of = t1.rows.find((r) => r.runs === 2)!;
    expect(of.cells.r1?.mean).toBeCloseTo(0.375, 12);
  });

  it.each(sources().map(([n]) => [n]))('%s: histories and per-query artifacts read the same', async (name) => {
    const src = sources().find(([n]) => n === name)![1];
    expect((await src.metricHistory(ids['train-a'], 'train.loss')).map((p) => [p.step, p.value])).toEqual([
      [1, 1],
      [2, 0.5],
      [3, 1 / 3],
    ]);
    const file = await src.artifactFile(ids['eval-b'], 'retrieval.json');
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).ranks).toEqual([1, 2, 1, 3]);
    expect((await src.listExperiments()).map((e) => e.name).sort()).toEqual(expect.arrayContaining(['exp', 'other']));
    expect(src.location).toBe(name.startsWith('HTTP') ? url : path.join(dir, 'runs.db'));
  });
});

describe('withReportSource', () => {
  it('opens a tracking server URI and a local store, and refuses a store that does not exist', async () => {
    const viaUri = await withReportSource({ trackingUri: url }, (s) => s.evalRows({ experiment: 'exp' }));
    const viaStore = await withReportSource({ store: path.join(dir, 'runs.db') }, (s) => s.evalRows({ experiment: 'exp' }));
    expect(viaUri).toEqual(viaStore);
    expect(viaUri).toHaveLength(3);
    const missing = path.join(dir, 'none.db');
    await expect(withReportSource({ store: missing }, (s) => s.evalRows())).rejects.toThrow(/run store .*none\.db does not exist/);
    expect(fs.existsSync(missing)).toBe(false);
  });
});
