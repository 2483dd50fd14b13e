/**
 * The `Tracker` contract: the same assertions against the local SQLite tracker and the HTTP tracker
 * talking to a real `TrackingServer` on loopback.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createHash } from 'crypto';
import { ConflictError, InvalidArgumentError, NotFoundError } from '@vmr/core';
import { HttpTracker, SqliteTracker, TrackingServer, type Tracker } from '../src';

interface Harness {
  tracker: Tracker;
  dir: string;
  close(): Promise<void>;
}

const implementations: [string, () => Promise<Harness>][] = [
  [
    'SqliteTracker',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-contract-'));
      const tracker = new SqliteTracker(path.join(dir, 'runs.db'), { heartbeatIntervalMs: 0 });
      return { tracker, dir, close: () => tracker.close() };
    },
  ],
  [
    'HttpTracker → TrackingServer',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-contract-'));
      const server = new TrackingServer({ db: path.join(dir, 'runs.db'), port: 0 });
      const url = await server.listen();
      const tracker = new HttpTracker(url, { heartbeatIntervalMs: 0, retryBudgetMs: 2000 });
      return {
        tracker,
        dir,
        close: async () => {
          await tracker.close();
          await server.close();
        },
      };
    },
  ],
];

describe.each(implementations)('Tracker contract: %s', (_name, make) => {
  let h: Harness;
  let t: Tracker;
  beforeEach(async () => {
    h = await make();
    t = h.tracker;
  });
  afterEach(async () => {
    await h.close();
  });

  it('starts runs with provenance, seed, backend, protocol and tags', async () => {
    const run = await t.startRun({ experiment: 'exp', name: 'r1', seed: 7, backend: 'cpu', protocol: 'paper', tags: { a: 'b' } });
    expect(run.status).toBe('running');
    expect(run.experimentName).toBe('exp');
    const d = await t.getRun(run.id);
    expect(d).toMatchObject({ id: run.id, name: 'r1', seed: 7, backend: 'cpu', protocol: 'paper', pid: process.pid, host: os.hostname(), nodeVersion: process.version });
    expect(d.tags).toEqual({ a: 'b' });
    expect(d.packageVersions['drizzle-orm']).toMatch(/^\d+\.\d+/);
  });

  it('experiments are unique by name', async () => {
    const a = await t.getOrCreateExperiment('x');
    const b = await t.getOrCreateExperiment('x');
    expect(a.id).toBe(b.id);
    expect(await t.getExperimentByName('missing')).toBeUndefined();
    expect((await t.listExperiments()).map((e) => e.name)).toEqual(['x']);
  });

  it('params are immutable: same value is a no-op, a different value is a ConflictError and changes nothing', async () => {
    const run = await t.startRun({ experiment: 'exp' });
    await t.logParams(run.id, { lr: 0.001, model: 'of-vm-net', amp: false });
    await t.logParams(run.id, { lr: 0.001 });
    await expect(t.logParams(run.id, { batch: 32, lr: 0.01 })).rejects.toThrow(ConflictError);
    await expect(t.logParams(run.id, { lr: 0.01 })).rejects.toThrow(/param 'lr' is already logged as '0.001'/);
    expect((await t.getRun(run.id)).params).toEqual({ lr: '0.001', model: 'of-vm-net', amp: 'false' });
  });

  it('metrics: NaN and ±Inf round-trip; latest value is the highest step; history is ordered', async () => {
    const run = await t.startRun({ experiment: 'exp' });
    await t.logMetrics(run.id, [
      { key: 'loss', value: 3, step: 2, timestamp: 1000 },
      { key: 'loss', value: Number.NaN, step: 1, timestamp: 1001 },
      { key: 'loss', value: Number.POSITIVE_INFINITY, step: 3, timestamp: 1002 },
      { key: 'acc', value: Number.NEGATIVE_INFINITY, step: 0, timestamp: 1003 },
    ]);
    await t.logMetrics(run.id, [{ key: 'loss', value: 5, step: 0, timestamp: 2000 }]);
    const hist = await t.metricHistory(run.id, 'loss');
    expect(hist.map((p) => p.step)).toEqual([0, 1, 2, 3]);
    expect(hist[0]).toEqual({ key: 'loss', value: 5, step: 0, timestamp: 2000 });
    expect(Number.isNaN(hist[1].value)).toBe(true);
    expect(hist[3].value).toBe(Number.POSITIVE_INFINITY);
    const latest = await t.latestMetrics(run.id);
    expect(latest.loss.value).toBe(Number.POSITIVE_INFINITY);
    expect(latest.acc.value).toBe(Number.NEGATIVE_INFINITY);
  });

  it('a batch of 2,500 points is stored exactly once and in order', async () => {
    const run = await t.startRun({ experiment: 'exp' });
    await t.logMetrics(run.id, Array.from({ length: 2500 }, (_, i) => ({ key: 'x', value: i * 0.5, step: i })));
    const hist = await t.metricHistory(run.id, 'x');
    expect(hist).toHaveLength(2500);
    expect(hist[2499]).toMatchObject({ step: 2499, value: 1249.5 });
  });

  it('rejects bad metric batches as a whole with typed errors', async () => {
    const run = await t.startRun({ experiment: 'exp' });
    const bad: [unknown, RegExp][] = [
      [[{ key: 'a', value: 1 }, { key: 'b', value: '0.5' }], /metric 'b' \(point #1\) has a non-numeric value "0.5"/],
      [[{ key: '', value: 1 }], /key must be a non-empty string|Missing value for required parameter 'key'/],
      [[{ key: 'k'.repeat(251), value: 1 }], /is 251 characters; the limit is 250/],
      [[{ key: 'bad\nkey', value: 1 }], /may only contain/],
      [[{ key: 'a', value: 1, step: 1.5 }], /step must be an integer|expected an integer/],
      [[{ key: 'a', value: null }], /non-numeric value null/],
    ];
    for (const [points, re] of bad) {
      await expect(t.logMetrics(run.id, points as never)).rejects.toThrow(InvalidArgumentError);
      await expect(t.logMetrics(run.id, points as never)).rejects.toThrow(re);
    }
    expect(await t.latestMetrics(run.id)).toEqual({});
    expect(await t.metricHistory(run.id, 'a')).toEqual([]);
  });

  it('rejects over-long params and tags and unknown run ids', async () => {
    const run = await t.startRun({ experiment: 'exp' });
    await expect(t.logParams(run.id, { p: 'x'.repeat(6001) })).rejects.toThrow(/6001 characters; the limit is 6000/);
    await expect(t.setTags(run.id, { t: 'x'.repeat(8001) })).rejects.toThrow(/8001 characters; the limit is 8000/);
    await expect(t.logParams(run.id, { p: null as never })).rejects.toThrow(/must be a string, number or boolean/);
    await expect(t.logMetrics('0'.repeat(32), [{ key: 'a', value: 1 }])).rejects.toThrow(NotFoundError);
    await expect(t.getRun('f'.repeat(32))).rejects.toThrow(/no run with id 'fff/);
    const d = await t.getRun(run.id);
    expect(d.params).toEqual({});
    expect(d.tags).toEqual({});
  });

  it('tags can be overwritten; end run records status, reason and end time', async () => {
    const run = await t.startRun({ experiment: 'exp' });
    await t.setTags(run.id, { stage: 'train' });
    await t.setTags(run.id, { stage: 'eval' });
    await t.endRun(run.id, 'killed', 'SIGINT');
    const d = await t.getRun(run.id);
    expect(d.tags.stage).toBe('eval');
    expect(d.status).toBe('killed');
    expect(d.failureReason).toBe('SIGINT');
    expect(d.endTime).not.toBeNull();
  });

  it('artifacts: sha256 and size recorded; the bytes read back; traversal rejected', async () => {
    const run = await t.startRun({ experiment: 'exp' });
    const src = path.join(h.dir, 'ckpt.bin');
    fs.writeFileSync(src, Buffer.from([1, 2, 3, 4, 5]));
    const a = await t.logArtifact(run.id, src, 'checkpoints/epoch-1.bin');
    expect(a.sha256).toBe(createHash('sha256').update(fs.readFileSync(src)).digest('hex'));
    expect(a.size).toBe(5);
    const back = await t.artifactFile(run.id, 'checkpoints/epoch-1.bin');
    expect(fs.readFileSync(back)).toEqual(fs.readFileSync(src));
    expect((await t.getRun(run.id)).artifacts.map((x) => [x.path, x.sha256, x.size])).toEqual([['checkpoints/epoch-1.bin', a.sha256, 5]]);
    await expect(t.logArtifact(run.id, src, '../escape')).rejects.toThrow(/must not contain '..'/);
    await expect(t.artifactFile(run.id, 'missing.bin')).rejects.toThrow(NotFoundError);
  });

  it('searches by experiment, status, params, tags and metric thresholds, with ordering and limit', async () => {
    const mk = async (exp: string, lr: string, r1: number, status: 'finished' | 'failed', tag: string) => {
      const r = await t.startRun({ experiment: exp, tags: { features: tag } });
      await t.logParams(r.id, { lr });
      await t.logMetrics(r.id, [
        { key: 'r1', value: r1 / 2, step: 0 },
        { key: 'r1', value: r1, step: 1 },
      ]);
      await t.endRun(r.id, status);
      return r.id;
    };
    const a = await mk('e1', '0.1', 0.5, 'finished', 'clip');
    const b = await mk('e1', '0.2', 0.3, 'finished', 'resnet');
    const c = await mk('e1', '0.1', 0.9, 'failed', 'clip');
    const d = await mk('e2', '0.1', 0.7, 'finished', 'clip');
    expect((await t.searchRuns({ experiment: 'e1' })).length).toBe(3);
    expect((await t.searchRuns({ experiment: 'e1', status: 'finished' })).map((r) => r.id).sort()).toEqual([a, b].sort());
    expect((await t.searchRuns({ params: { lr: '0.1' }, tags: { features: 'clip' } })).map((r) => r.id).sort()).toEqual([a, c, d].sort());
    expect((await t.searchRuns({ metrics: [{ key: 'r1', op: '>', value: 0.4 }] })).map((r) => r.id).sort()).toEqual([a, c, d].sort());
    expect((await t.searchRuns({ orderBy: [{ kind: 'metric', key: 'r1', desc: true }] })).map((r) => r.id)).toEqual([c, d, a, b]);
    expect((await t.searchRuns({ orderBy: [{ kind: 'metric', key: 'r1' }], limit: 2 })).map((r) => r.id)).toEqual([b, a]);
    expect(await t.searchRuns({ experiment: 'nope' })).toEqual([]);
  });

  it('child runs link to their parent; unique id prefixes resolve', async () => {
    const parent = await t.startRun({ experiment: 'sweep' });
    const child = await t.startRun({ experiment: 'sweep', parentId: parent.id });
    expect((await t.getRun(child.id)).parentId).toBe(parent.id);
    expect((await t.searchRuns({ parentId: parent.id })).map((r) => r.id)).toEqual([child.id]);
    expect((await t.searchRuns({ parentId: null })).map((r) => r.id)).toEqual([parent.id]);
    expect(await t.resolveRunId(child.id.slice(0, 12))).toBe(child.id);
    await expect(t.resolveRunId('zz')).rejects.toThrow(/is not a run id/);
  });

  it('a retried start with the same request id returns the same run', async () => {
    const a = await t.startRun({ experiment: 'exp', requestId: 'req-0000001' });
    const b = await t.startRun({ experiment: 'exp', requestId: 'req-0000001' });
    expect(b.id).toBe(a.id);
    expect(await t.searchRuns({ experiment: 'exp' })).toHaveLength(1);
  });
});
