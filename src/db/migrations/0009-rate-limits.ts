import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * PostgreSQL: `rate_limit_hits`, the request counts that processes sharing the database add up
 * (see src/http/rate-limit-pg-store.ts). UNLOGGED: no WAL, lost on a crash, which suits counters of
 * one time window. SQLite runs one process and counts in memory: nothing to create.
 */
export function rateLimits(dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      if (dialect !== 'postgres') return;
      await sql`create unlogged table rate_limit_hits (key text primary key, hits integer not null, expires_at bigint not null)`.execute(db);
      await sql`create index rate_limit_hits_expires_idx on rate_limit_hits (expires_at)`.execute(db);
    },
  };
}
