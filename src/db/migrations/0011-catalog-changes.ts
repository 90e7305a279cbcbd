import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * The channel a committed change to the catalog is announced on (PostgreSQL), with the changed
 * table's schema as payload. The result cache of lists and stats listens on it (db/result-cache.ts).
 */
export const CATALOG_CHANGES_CHANNEL = 'dpp_catalog';

/**
 * The tables whose contents the cached catalog answers (product list, search, stats) are made of.
 * Frozen here as this migration created triggers on exactly these; a later migration that adds a
 * table the catalog view reads adds its trigger too (test/db/catalog-changes.test.ts lists every
 * table and fails on one that is neither here nor declared unrelated).
 */
const CATALOG_TABLES = ['products', 'compliance_records', 'compliance_history', 'passport_publications', 'org_stats', 'org_certifications'];

/**
 * PostgreSQL: every statement that writes a catalog table announces it on `dpp_catalog`, delivered
 * when (and only if) its transaction commits. Before, the result cache's token was the MVCC snapshot,
 * which any write anywhere moves: the rate-limit counters synced every 250 ms, the job queue and the
 * audit log emptied the cache of searches that no catalog change had touched. Statement-level, so an
 * import batch or a COPY announces once, and PostgreSQL folds repeats within a transaction into one.
 */
export function catalogChanges(dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      if (dialect !== 'postgres') return;
      await sql
        .raw(
          `create function dpp_catalog_changed() returns trigger language plpgsql as $$
           begin
             perform pg_notify('${CATALOG_CHANGES_CHANNEL}', tg_table_schema);
             return null;
           end $$`,
        )
        .execute(db);
      for (const table of CATALOG_TABLES) {
        await sql
          .raw(
            `create trigger ${table}_catalog_changed after insert or update or delete or truncate on ${table}
             for each statement execute function dpp_catalog_changed()`,
          )
          .execute(db);
      }
    },
  };
}
