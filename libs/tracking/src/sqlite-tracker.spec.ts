import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError, InvalidArgumentError, NotFoundError } from '@vmr/core';
import { SqliteTracker } from './sqlite-tracker';
import { StoreCorruptError } from './open-store';

function tmpStore(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-store-'));
  return path.join(dir, 'runs.db');
}

function sha(file: string): string {
  return require('crypto').createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

describe('SqliteTracker', () => {
  let file: string;
  let t: SqliteTracker;
  beforeEach(() => {
    file = tmpStore();
    t = new SqliteTracker(file, { heartbeatIntervalMs: 0 });
  });
  afterEach(async () => {
    await t.close();
  });

  it('creates the store with WAL and records process provenance on a run', async () => {
    expect(t.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    const run = await t.startRun({ experiment: 'exp', name: 'r1', seed: 7, backend: 'cpu', protocol: 'paper', tags: { a: 'b' } });
    expect(run.status).toBe('running');
    expect(run.experimentName).toBe('exp');
    expect(run.pid).toBe(process.pid);
    expect(run.host).toBe(os.hostname());
    expect(run.nodeVersion).toBe(process.version);
    expect(run.seed).toBe(7);
    expect(run.packageVersions['drizzle-orm']).toMatch(/^\d+\.\d+/);
    expect(run.gitCommit === null || /^[0-9a-f]{40}$/.test(run.gitCommit)).toBe(true);
    const detail = await t.getRun(run.id);
    expect(detail.tags).toEqual({ a: 'b' });
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
    // the whole batch was rejected: 'batch' was not written either
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
    expect(Number.isNaN(hist[1].value)).toBe(true);
    expect(hist[3].value).toBe(Number.POSITIVE_INFINITY);
    const latest = await t.latestMetrics(run.id);
    expect(latest.loss.value).toBe(Number.POSITIVE_INFINITY); // step 3 beats the later-logged step 0
    expect(latest.acc.value).toBe(Number.NEGATIVE_INFINITY);
  });

  it('rejects bad metric batches as a whole with typed errors', async () => {
    const run = await t.startRun({ experiment: 'exp' });
    const bad: [unknown, RegExp][] = [
      [[{ key: 'a', value: 1 }, { key: 'b', value: '0.5' }], /metric 'b' \(point #1\) has a non-numeric value "0.5"/],
      [[{ key: '', value: 1 }], /metric key must be a non-empty string/],
      [[{ key: 'k'.repeat(251), value: 1 }], /is 251 characters; the limit is 250/],
      [[{ key: 'bad\nkey', value: 1 }], /may only contain/],
      [[{ key: 'a', value: 1, step: 1.5 }], /step must be an integer/],
      [[{ key: 'a', value: null }], /non-numeric value null/],
    ];
    for (const [points, re] of bad) {
      await expect(t.logMetrics(run.id, points as never)).rejects.toThrow(InvalidArgumentError);
      await expect(t.logMetrics(run.id, points as never)).rejects.toThrow(re);
    }
    expect(t.counts().metrics).toBe(0);
  });

  it('rejects over-long params and tags, unknown run ids', async () => {
    const run = await t.startRun({ experiment: 'exp' });
    await expect(t.logParams(run.id, { p: 'x'.repeat(6001) })).rejects.toThrow(/6001 characters; the limit is 6000/);
    await expect(t.setTags(run.id, { t: 'x'.repeat(8001) })).rejects.toThrow(/8001 characters; the limit is 8000/);
    await expect(t.logParams(run.id, { p: null as never })).rejects.toThrow(/must be a string, number or boolean/);
    await expect(t.logMetrics('0'.repeat(32), [{ key: 'a', value: 1 }])).rejects.toThrow(NotFoundError);
    await expect(t.getRun('nope')).rejects.toThrow(/no run with id 'nope'/);
    const counts = t.counts();
    expect(counts.params + counts.tags).toBe(0);
  });

  it('tags can be overwritten; end run records status and end time', async () => {
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

  it('artifacts are content-addressed: sha256 and size recorded, identical content stored once', async () => {
    const run = await t.startRun({ experiment: 'exp' });
    const src = path.join(path.dirname(file), 'ckpt.bin');
    fs.writeFileSync(src, Buffer.from([1, 2, 3, 4, 5]));
    const a = await t.logArtifact(run.id, src, 'checkpoints/epoch-1.bin');
    const b = await t.logArtifact(run.id, src, 'checkpoints/copy.bin');
    expect(a.sha256).toBe(sha(src));
    expect(a.size).toBe(5);
    expect(b.sha256).toBe(a.sha256);
    const stored = await t.artifactFile(run.id, 'checkpoints/epoch-1.bin');
    expect(stored).toBe(path.join(path.dirname(file), 'artifacts', a.sha256));
    expect(fs.readFileSync(stored)).toEqual(fs.readFileSync(src));
    expect(fs.readdirSync(path.join(path.dirname(file), 'artifacts')).filter((f) => !f.startsWith('.'))).toEqual([a.sha256]);
    await expect(t.logArtifact(run.id, src, '../escape')).rejects.toThrow(/must not contain '..'/);
    await expect(t.logArtifact(run.id, '/no/such/file', 'x')).rejects.toThrow(/cannot read artifact \/no\/such\/file/);
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
    // thresholds apply to the latest value (step 1), not earlier points
    expect((await t.searchRuns({ metrics: [{ key: 'r1', op: '>', value: 0.4 }] })).map((r) => r.id).sort()).toEqual([a, c, d].sort());
    const ordered = await t.searchRuns({ orderBy: [{ kind: 'metric', key: 'r1', desc: true }] });
    expect(ordered.map((r) => r.id)).toEqual([c, d, a, b]);
    const top2 = await t.searchRuns({ orderBy: [{ kind: 'metric', key: 'r1' }], limit: 2 });
    expect(top2.map((r) => r.id)).toEqual([b, a]);
    expect(await t.searchRuns({ experiment: 'nope' })).toEqual([]);
  });

  it('resolves unique run-id prefixes', async () => {
    const run = await t.startRun({ experiment: 'exp' });
    expect(await t.resolveRunId(run.id.slice(0, 10))).toBe(run.id);
    await expect(t.resolveRunId('zz')).rejects.toThrow(/is not a run id/);
  });

  it('child runs link to their parent; an unknown parent is an error', async () => {
    const parent = await t.startRun({ experiment: 'sweep' });
    const child = await t.startRun({ experiment: 'sweep', parentId: parent.id });
    expect(child.parentId).toBe(parent.id);
    expect((await t.searchRuns({ parentId: parent.id })).map((r) => r.id)).toEqual([child.id]);
    expect((await t.searchRuns({ parentId: null })).map((r) => r.id)).toEqual([parent.id]);
    await expect(t.startRun({ experiment: 'sweep', parentId: 'f'.repeat(32) })).rejects.toThrow(NotFoundError);
  });
});

describe('opening bad store files', () => {
  it('a non-SQLite file is refused with STORE_CORRUPT and left byte-identical', () => {
    const file = tmpStore();
    fs.writeFileSync(file, 'this is not a database\n'.repeat(10));
    const before = fs.readFileSync(file);
    expect(() => new SqliteTracker(file)).toThrow(StoreCorruptError);
    expect(() => new SqliteTracker(file)).toThrow(/is not a SQLite database/);
    expect(fs.readFileSync(file)).toEqual(before);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['runs.db']);
  });

  it('a SQLite file with a damaged body is refused with STORE_CORRUPT', () => {
    const file = tmpStore();
    const t = new SqliteTracker(file, { heartbeatIntervalMs: 0 });
    t.sqlite.pragma('journal_mode = DELETE');
    void t.close();
    const buf = fs.readFileSync(file);
    buf.fill(0xab, 100); // keep the 100-byte header, destroy every page
    fs.writeFileSync(file, buf);
    expect(() => new SqliteTracker(file)).toThrow(StoreCorruptError);
  });

  it("another application's SQLite database is not migrated into", () => {
    const file = tmpStore();
    const Database = require('better-sqlite3');
    const other = new Database(file);
    other.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)');
    other.close();
    const before = fs.readFileSync(file);
    expect(() => new SqliteTracker(file)).toThrow(/not a VMR run store/);
    expect(fs.readFileSync(file)).toEqual(before);
  });

  it('a directory passed as the store is refused', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-store-'));
    expect(() => new SqliteTracker(dir)).toThrow(/is not a regular file/);
  });
});
