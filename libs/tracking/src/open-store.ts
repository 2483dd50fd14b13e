import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { IoError, VmrError, errorMessage } from '@vmr/core';
import * as schema from './schema';

export type StoreDb = BetterSQLite3Database<typeof schema>;

/** Checked-in drizzle-kit migrations (libs/tracking/drizzle). */
export const MIGRATIONS_FOLDER = path.resolve(__dirname, '..', 'drizzle');
const MIGRATIONS_TABLE = '__drizzle_migrations';
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** The store file is not a SQLite database, or not a VMR run store, or is damaged. */
export class StoreCorruptError extends VmrError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('STORE_CORRUPT', message, options);
  }
}

/** The store stayed locked by other writers beyond the retry budget. */
export class StoreBusyError extends VmrError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('STORE_BUSY', message, options);
  }
}

export interface OpenStoreOptions {
  /** SQLite busy timeout per statement, ms (default 30 s). */
  busyTimeoutMs?: number;
  readonly?: boolean;
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Run `fn`, retrying on SQLITE_BUSY with jittered backoff (the busy timeout covers most waits; this
 * covers the cases where SQLite returns BUSY without waiting, e.g. WAL snapshot upgrades).
 */
export function withBusyRetry<T>(what: string, fn: () => T, budgetMs = 60_000): T {
  const start = Date.now();
  let delay = 5;
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e)) throw e;
      if (Date.now() - start > budgetMs) {
        throw new StoreBusyError(`${what}: the run store stayed locked for ${Math.round((Date.now() - start) / 1000)} s; too many concurrent writers — use \`vmr tracking serve\``, { cause: e });
      }
      sleepSync(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 250);
    }
  }
}

function checkHeader(file: string): void {
  let fd: number | undefined;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new StoreCorruptError(`run store ${file} is not a regular file`, { details: { path: file } });
    if (st.size === 0) return; // SQLite treats an empty file as a new database
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(16);
    const n = fs.readSync(fd, head, 0, 16, 0);
    if (n < 16 || !head.equals(SQLITE_MAGIC)) {
      throw new StoreCorruptError(`run store ${file} is not a SQLite database (bad header); refusing to open it — pass the path of a runs.db or a new file`, { details: { path: file } });
    }
  } catch (e) {
    if (e instanceof VmrError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new IoError(`cannot read run store ${file}: ${errorMessage(e)}`, { cause: e, details: { path: file } });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Apply the checked-in migrations inside one `BEGIN EXCLUSIVE` transaction, so two processes that open
 * a new store at the same moment serialise: the second sees the first's migrations and applies nothing.
 */
/** Refuse a SQLite database that belongs to something else (tables but no migration history). */
function assertOurs(sqlite: Database.Database, file: string): void {
  const tables = sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[];
  const names = new Set(tables.map((t) => t.name));
  if (names.size > 0 && !names.has(MIGRATIONS_TABLE)) {
    throw new StoreCorruptError(`${file} is a SQLite database but not a VMR run store (it has tables ${[...names].slice(0, 5).join(', ')} and no migration history); refusing to modify it`, { details: { path: file } });
  }
}

function migrate(sqlite: Database.Database, file: string): void {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  withBusyRetry(`migrating ${file}`, () => {
    sqlite.exec('BEGIN EXCLUSIVE');
    try {
      assertOurs(sqlite, file);
      sqlite.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT NOT NULL, created_at NUMERIC)`);
      const last = sqlite.prepare(`SELECT created_at FROM ${MIGRATIONS_TABLE} ORDER BY created_at DESC LIMIT 1`).get() as { created_at: number } | undefined;
      for (const m of migrations) {
        if (last && Number(last.created_at) >= m.folderMillis) continue;
        for (const stmt of m.sql) if (stmt.trim()) sqlite.exec(stmt);
        sqlite.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (hash, created_at) VALUES (?, ?)`).run(m.hash, m.folderMillis);
      }
      sqlite.exec('COMMIT');
    } catch (e) {
      if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
      throw e;
    }
  });
}

/** Open (creating when missing) a run store file: WAL, busy timeout, migrations applied once under a lock. */
export function openStoreDb(file: string, options: OpenStoreOptions = {}): { sqlite: Database.Database; db: StoreDb } {
  checkHeader(file);
  if (!options.readonly) {
    try {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    } catch (e) {
      throw new IoError(`cannot create the directory of run store ${file}: ${errorMessage(e)}`, { cause: e, details: { path: file } });
    }
  }
  let sqlite: Database.Database;
  try {
    sqlite = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (e) {
    throw new IoError(`cannot open run store ${file}: ${errorMessage(e)}`, { cause: e, details: { path: file } });
  }
  try {
    sqlite.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 30_000}`);
    // Reading the schema validates the file (a damaged page raises SQLITE_CORRUPT / SQLITE_NOTADB here).
    withBusyRetry(`opening ${file}`, () => assertOurs(sqlite, file));
    if (!options.readonly) {
      withBusyRetry(`enabling WAL on ${file}`, () => sqlite.pragma('journal_mode = WAL'));
      sqlite.pragma('synchronous = NORMAL');
      // Foreign keys are declared in the schema but not enforced per row: every write path checks the
      // run exists inside its transaction, and per-row FK lookups would halve metric insert throughput.
      sqlite.pragma('foreign_keys = OFF');
      migrate(sqlite, file);
    }
  } catch (e) {
    sqlite.close();
    if (e instanceof VmrError) throw e;
    const code = (e as { code?: string }).code ?? '';
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
      throw new StoreCorruptError(`run store ${file} is corrupt or not a SQLite database (${code}): ${errorMessage(e)}`, { cause: e, details: { path: file } });
    }
    throw new IoError(`cannot open run store ${file}: ${errorMessage(e)}`, { cause: e, details: { path: file } });
  }
  return { sqlite, db: drizzle(sqlite, { schema }) };
}
