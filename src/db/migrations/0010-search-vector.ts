import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * PostgreSQL: the title search reads a stored tsvector instead of an expression index. With the
 * expression index every row the search looks at (a heap recheck, a filter while walking the list
 * order) recomputed to_tsvector of its title; the stored column is computed once, on write.
 * SQLite's FTS5 index is unchanged.
 */
export function searchVector(dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      if (dialect !== 'postgres') return;
      await sql`alter table products add column search_vector tsvector generated always as (to_tsvector('simple', search_text)) stored`.execute(db);
      await sql`create index products_search_vector_idx on products using gin (search_vector)`.execute(db);
      await sql`drop index products_search_idx`.execute(db);
    },
  };
}
