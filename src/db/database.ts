import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type MigrationResultSet, type SqliteDatabase } from 'kysely';
import { LRUCache } from 'lru-cache';
import pg from 'pg';
import type { Dialect } from './dialect.js';
import { registerPostgres } from './pg-direct.js';
import { registerSqlite } from './sqlite-direct.js';
import { startSqliteReaderPool } from './sqlite-reader.js';
import { migrations } from './migrations/index.js';
import type { Schema } from './schema.js';

export interface Database {
  readonly db: Kysely<Schema>;
  readonly dialect: Dialect;
  /**
   * Runs every pending migration (or migrates up or down to the one named: tests of a migration do);
   * safe to call from several processes at once.
   */
  migrate(target?: string): Promise<MigrationResultSet>;
  /** True when a trivial query answers (for /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent, SQLite at `sqliteFile`. */
  databaseUrl?: string | undefined;
  sqliteFile?: string;
  /** PostgreSQL schema to use (tests give each run its own); created when missing. */
  pgSchema?: string;
  poolSize?: number;
  /** SQLite: bytes of the file to memory-map for reads (0: none). The server maps as much as SQLite allows. */
  sqliteMmapBytes?: number;
  /** SQLite: run the prepared reads (passport GET, stats counters) on a reader thread (see sqlite-reader.ts). The server does. */
  sqliteReaderThread?: boolean;
}

/** The SQLite file used when DATABASE_URL is unset. */
export function defaultSqliteFile(dataDir: string): string {
  return path.join(dataDir, 'dpp.sqlite');
}

/**
 * Opens the database: PostgreSQL when a URL is given, else the embedded SQLite file.
 *
 * @example
 * const database = await createDatabase({ sqliteFile: './data/dpp.sqlite' });
 * await database.migrate();
 */
export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.pgSchema, options.poolSize ?? 10);
  if (!options.sqliteFile) throw new Error('createDatabase needs databaseUrl or sqliteFile');
  return openSqlite(options.sqliteFile, options.sqliteMmapBytes ?? 0, options.sqliteReaderThread ?? false);
}

/** Reader threads beside the main one: two cores' worth of reads, and a long read does not block the short ones. */
const SQLITE_READER_THREADS = 2;

function openSqlite(file: string, mmapBytes: number, readerThread: boolean): Database {
  if (file !== ':memory:') {
    // The catalog, key hashes and documents are the organisations' data: only the service's own user
    // may read them. SQLite gives its -wal and -shm files the database file's mode, so creating the
    // file 0600 (before SQLite does, with the umask's 0644) covers all three.
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.closeSync(fs.openSync(file, 'a', 0o600));
  }
  const connection = new SQLite(file);
  // WAL lets readers run beside the writer; NORMAL is durable across process crashes in WAL mode.
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = NORMAL');
  connection.pragma('foreign_keys = ON');
  connection.pragma('busy_timeout = 5000');
  // 16 MB of page cache: a long import stays under 300 MB of RSS with it, and the server reads
  // through the memory map below, which makes the cache matter little.
  connection.pragma('cache_size = -16384');
  // Reads through a memory map skip a copy and a system call per page (the pages are the OS page
  // cache's, shared and reclaimable, but they count in RSS, so one-shot commands do not map).
  // SQLite caps the map at its compile-time limit (2 GiB in better-sqlite3); beyond it, pages are read.
  connection.pragma(`mmap_size = ${Math.max(0, Math.floor(mmapBytes))}`);
  const statements = withStatementCache(connection);
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: statements }) });
  const reader = readerThread && file !== ':memory:' ? startSqliteReaderPool(file, mmapBytes, SQLITE_READER_THREADS) : undefined;
  registerSqlite(db, connection, statements, reader);
  const database = wrap(db, 'sqlite');
  return {
    ...database,
    async close() {
      await reader?.close();
      await database.close();
    },
  };
}

/**
 * Kysely prepares every query anew; better-sqlite3 statements are reusable, so keep the recent ones
 * (preparing was an eighth of the CPU time of a passport GET). A statement still iterating a result
 * is never handed out twice.
 */
function withStatementCache(connection: SQLite.Database): SqliteDatabase {
  const statements = new LRUCache<string, SQLite.Statement>({ max: 500 });
  return {
    prepare(sql: string) {
      const cached = statements.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = connection.prepare(sql);
      statements.set(sql, statement);
      return statement;
    },
    close: () => connection.close(),
  };
}

async function openPostgres(url: string, schema: string | undefined, max: number): Promise<Database> {
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}"`);
  if (schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  registerPostgres(db, pool);
  return wrap(db, 'postgres');
}

function wrap(db: Kysely<Schema>, dialect: Dialect): Database {
  return {
    db,
    dialect,
    async migrate(target) {
      // On PostgreSQL the migration tables live in the schema in use (search_path), named explicitly:
      // Kysely would otherwise find another schema's table of the same name and skip creating its own.
      const migrationTableSchema = dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
      const migrator = new Migrator({
        db,
        provider: { getMigrations: async () => migrations(dialect) },
        ...(migrationTableSchema ? { migrationTableSchema } : {}),
      });
      const result = await (target ? migrator.migrateTo(target) : migrator.migrateToLatest());
      if (result.error) throw result.error;
      return result;
    },
    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}

/** Opens the database the configuration names and brings its schema up to date. */
export async function openConfiguredDatabase(
  config: { databaseUrl: string | undefined; dataDir: string },
  options: Pick<DatabaseOptions, 'sqliteMmapBytes' | 'sqliteReaderThread'> = {},
): Promise<Database> {
  const database = await createDatabase({ databaseUrl: config.databaseUrl, sqliteFile: defaultSqliteFile(config.dataDir), ...options });
  try {
    await database.migrate();
  } catch (e) {
    await database.close();
    throw e;
  }
  return database;
}
