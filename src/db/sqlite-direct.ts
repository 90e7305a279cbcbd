import { performance } from 'node:perf_hooks';
import type SQLite from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';
import type { SqliteReader } from './sqlite-reader.js';

/**
 * Direct access to the better-sqlite3 connection behind a SQLite Kysely instance, for the few paths
 * where Kysely's per-query work costs more than SQLite's: bulk writes, the hottest reads, and the
 * check for other processes' commits. Every function names the condition under which it is safe.
 */

type HasAdapter = { getExecutor(): { adapter: object } };

/** better-sqlite3 connections by the adapter of their Kysely instance (shared by its transactions). */
const sqliteConnections = new WeakMap<object, SQLite.Database>();
/** Their statement caches (the same statements Kysely runs). */
const sqliteStatements = new WeakMap<object, SqliteDatabase>();
/** Their reader threads, where the server runs one. */
const sqliteReaders = new WeakMap<object, SqliteReader>();

/** Called once per SQLite Kysely instance, by database.ts, as it opens the file. */
export function registerSqlite(db: HasAdapter, connection: SQLite.Database, statements: SqliteDatabase, reader?: SqliteReader): void {
  sqliteConnections.set(db.getExecutor().adapter, connection);
  sqliteStatements.set(db.getExecutor().adapter, statements);
  if (reader) sqliteReaders.set(db.getExecutor().adapter, reader);
}

/**
 * Runs a read-only statement on the reader thread, when the database has a live one and no
 * transaction is open on the main connection (a transaction's own writes are not committed, so the
 * reader's connection could not see them). Undefined otherwise: the caller reads on the main thread.
 */
export function sqliteReadOffThread(db: HasAdapter, sql: string, parameters: readonly unknown[]): Promise<unknown[]> | undefined {
  const adapter = db.getExecutor().adapter;
  const reader = sqliteReaders.get(adapter);
  if (!reader?.alive || sqliteConnections.get(adapter)!.inTransaction) return undefined;
  return reader.read(sql, parameters);
}

/**
 * Runs a read-only statement on the SQLite connection at once, skipping Kysely's connection lock and
 * its promise chain (passport GET 3.5k → 4.1–4.8k req/s on 1M products). Safe only while no transaction is
 * open on the connection: better-sqlite3 is synchronous, so outside a transaction nothing half-done can
 * be seen. Returns undefined when that does not hold (PostgreSQL, or a transaction is open, whose
 * uncommitted writes must not be read): the caller then goes through Kysely and waits its turn.
 */
export function sqliteReadNow(db: HasAdapter, sql: string, parameters: readonly unknown[]): unknown[] | undefined {
  const adapter = db.getExecutor().adapter;
  const connection = sqliteConnections.get(adapter);
  if (!connection || connection.inTransaction) return undefined;
  const statement = sqliteStatements.get(adapter)!.prepare(sql);
  if (!statement.reader) throw new Error('sqliteReadNow: not a read statement');
  return statement.all(parameters);
}

/**
 * The better-sqlite3 connection behind a SQLite Kysely transaction, for the bulk paths where building
 * a query per row costs more than running it. Only inside a transaction: the caller then holds
 * Kysely's lock on the one connection, so no other query can interleave with the raw statements.
 */
export function sqliteConnectionOf(trx: { getExecutor(): { adapter: object }; isTransaction: boolean }): SQLite.Database {
  const connection = connectionOf(trx, 'sqliteConnectionOf');
  // Both: the caller holds a Kysely transaction (so the connection lock), and SQLite is in it.
  if (!trx.isTransaction || !connection.inTransaction) throw new Error('sqliteConnectionOf: call it with a transaction');
  return connection;
}

/**
 * How often, at most, this process asks SQLite whether other connections (other processes: `dpp
 * import`, `dpp keys revoke`) have committed to the file. `PRAGMA data_version` starts a read of the
 * file each time; asked on every request it was about a sixth of a cached stats request under load. So
 * other processes' writes reach the key cache and the result cache within this time, and this
 * process's own writes reach them at once.
 */
export const OTHER_CONNECTIONS_CHECK_MS = 100;

/** Per connection: `PRAGMA data_version`, read again at most every OTHER_CONNECTIONS_CHECK_MS. */
const dataVersions = new WeakMap<SQLite.Database, () => number>();

function otherConnectionsVersion(connection: SQLite.Database): () => number {
  let read = dataVersions.get(connection);
  if (!read) {
    const statement = connection.prepare('pragma data_version').pluck();
    let version = statement.get() as number;
    let readAt = performance.now(); // monotonic: a clock set back cannot stop the reads
    read = () => {
      const now = performance.now();
      if (now - readAt >= OTHER_CONNECTIONS_CHECK_MS) {
        version = statement.get() as number;
        readAt = now;
      }
      return version;
    };
    dataVersions.set(connection, read);
  }
  return read;
}

function connectionOf(db: HasAdapter, caller: string): SQLite.Database {
  const connection = sqliteConnections.get(db.getExecutor().adapter);
  if (!connection) throw new Error(`${caller}: not a SQLite database`);
  return connection;
}

/**
 * A function that answers whether another connection (another process, say `dpp keys revoke`) has
 * committed to this SQLite file since it was last called (noticed within OTHER_CONNECTIONS_CHECK_MS).
 */
export function sqliteChangeWatcher(db: HasAdapter): () => boolean {
  const version = otherConnectionsVersion(connectionOf(db, 'sqliteChangeWatcher'));
  let last = version();
  return () => {
    const now = version();
    if (now === last) return false;
    last = now;
    return true;
  };
}

/**
 * A reader of a value that moves whenever the data in the SQLite file may have changed: the rows this
 * connection has changed so far (`total_changes()`, committed or not: at once) and the commits of
 * every other connection (`data_version`: within OTHER_CONNECTIONS_CHECK_MS). Reads no table data, so
 * it is safe inside or outside a transaction.
 */
export function sqliteChangeCounter(db: HasAdapter): () => string {
  const connection = connectionOf(db, 'sqliteChangeCounter');
  const changes = connection.prepare('select total_changes()').pluck();
  const version = otherConnectionsVersion(connection);
  return () => `${changes.get() as number}:${version()}`;
}
