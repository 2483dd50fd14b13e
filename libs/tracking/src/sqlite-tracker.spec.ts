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

  it('logBatchSync with a request id applies a retried request once', async () => {
    const run = await t.startRun({ experiment: 'exp' });
    expect(t.logBatchSync(run.id, { metrics: [{ key: 'a', value: 1 }], params: { p: 1 } }, 'req-1234567')).toBe(true);
    expect(t.logBatchSync(run.id, { metrics: [{ key: 'a', value: 1 }], params: { p: 1 } }, 'req-1234567')).toBe(false);
    expect(t.counts().metrics).toBe(1);
  });

  it('soft-deleted runs vanish from searches but stay readable', async () => {
    const run = await t.startRun({ experiment: 'exp' });
    t.deleteRun(run.id);
    expect(await t.searchRuns({})).toEqual([]);
    expect((await t.getRun(run.id)).id).toBe(run.id);
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
