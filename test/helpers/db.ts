import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabase, type Database } from '../../src/db/database.js';
import type { Dialect } from '../../src/db/dialect.js';

/** PostgreSQL used by the suite; CI starts it (see .ci/run). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Both dialects run in every database test. TEST_DIALECTS=sqlite narrows a local run;
 * CI never sets it, so no PostgreSQL test is skipped there.
 */
export const dialects: Dialect[] = (process.env.TEST_DIALECTS?.split(',') as Dialect[] | undefined) ?? ['sqlite', 'postgres'];

export interface TestDatabase extends Database {
  /** Drops the schema / deletes the file. */
  dispose(): Promise<void>;
  /** The SQLite file (SQLite only), for tests that open a second connection to it. */
  file?: string;
  /** The PostgreSQL schema (PostgreSQL only), likewise. */
  pgSchema?: string;
}

/** A second, independent connection to a test database, as another process would open it. */
export function openSecondConnection(t: TestDatabase): Promise<Database> {
  return t.file ? createDatabase({ sqliteFile: t.file }) : createDatabase({ databaseUrl: TEST_DATABASE_URL, pgSchema: t.pgSchema!, poolSize: 1 });
}

/**
 * A fresh, migrated database (to the latest migration, or to `migrateTo`): a temp SQLite file (with the
 * reader thread `dpp serve` runs, unless `readerThread: false`), or a new PostgreSQL schema.
 */
export async function createTestDatabase(dialect: Dialect, migrateTo?: string, options: { readerThread?: boolean } = {}): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-test-'));
    const file = path.join(dir, 'test.sqlite');
    // The reader thread is on by default, as in `dpp serve`.
    const database = await createDatabase({ sqliteFile: file, sqliteReaderThread: options.readerThread ?? true });
    await database.migrate(migrateTo);
    return {
      ...database,
      file,
      async dispose() {
        await database.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const database = await createDatabase({ databaseUrl: TEST_DATABASE_URL, pgSchema: schema, poolSize: 5 });
  await database.migrate(migrateTo);
  return {
    ...database,
    pgSchema: schema,
    async dispose() {
      await database.close();
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}
