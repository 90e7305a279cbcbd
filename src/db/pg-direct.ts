import type pg from 'pg';

type HasAdapter = { getExecutor(): { adapter: object }; readonly isTransaction: boolean };

/** node-pg pools by the adapter of their Kysely instance (shared by its transactions). */
const pools = new WeakMap<object, pg.Pool>();

/** Called once per PostgreSQL Kysely instance, by database.ts, as it opens the pool. */
export function registerPostgres(db: HasAdapter, pool: pg.Pool): void {
  pools.set(db.getExecutor().adapter, pool);
}

/**
 * Runs a read as a named prepared statement straight on the pool: PostgreSQL parses and plans it once
 * per connection instead of on every request, and the query builder's connection handling is skipped.
 * Named statements live in a server session, so a pooler in front must keep sessions (README).
 * Returns undefined for SQLite, or inside a transaction, whose queries must go to its own connection:
 * the caller then goes through Kysely.
 */
export function pgReadNow(db: HasAdapter, name: string, sql: string, parameters: readonly unknown[]): Promise<unknown[]> | undefined {
  if (db.isTransaction) return undefined;
  const pool = pools.get(db.getExecutor().adapter);
  if (!pool) return undefined;
  return pool.query({ name, text: sql, values: parameters as unknown[] }).then((result) => result.rows);
}

/** The node-pg pool behind a PostgreSQL Kysely instance (its size and waiting clients, for metrics); undefined for SQLite. */
export function poolOf(db: HasAdapter): pg.Pool | undefined {
  return pools.get(db.getExecutor().adapter);
}
