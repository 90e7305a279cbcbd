import { PostgresAdapter, sql, type Expression, type RawBuilder } from 'kysely';
/**
 * The named places where SQLite and PostgreSQL differ. Everything else is one query for both.
 */
export type Dialect = 'sqlite' | 'postgres';

/** Column type for a boolean: SQLite has none and stores 0/1. */
export function booleanColumn(dialect: Dialect): 'integer' | 'boolean' {
  return dialect === 'sqlite' ? 'integer' : 'boolean';
}

/** Reads a stored boolean (0/1 on SQLite, boolean on PostgreSQL). */
export function toBool(value: number | boolean | null | undefined): boolean | null {
  if (value === null || value === undefined) return null;
  return value === true || value === 1;
}

/** Value to write into a boolean column. PostgreSQL accepts '1'/'0' as boolean input too. */
export function fromBool(value: boolean | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  return value ? 1 : 0;
}

/** Is this driver error a unique-constraint violation? */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Most bind parameters one statement may carry (SQLite 32766, PostgreSQL 65535), with headroom. */
export const MAX_PARAMS = 30_000;

/** Column type for a float: SQLite REAL is 8 bytes already; PostgreSQL's `real` would be 4. */
export function floatColumn(dialect: Dialect): 'real' | 'double precision' {
  return dialect === 'sqlite' ? 'real' : 'double precision';
}

/**
 * A JSON object built in SQL from `[key, expression]` pairs (`json_build_object` on PostgreSQL,
 * `json_object` on SQLite).
 */
export function jsonObject(dialect: Dialect, pairs: ReadonlyArray<readonly [string, Expression<unknown>]>): RawBuilder<unknown> {
  const fn = sql.raw(dialect === 'postgres' ? 'json_build_object' : 'json_object');
  return sql`${fn}(${sql.join(pairs.map(([key, value]) => sql`${sql.lit(key)}, ${value}`))})`;
}

/** A stored boolean (0/1 on SQLite) as a JSON true/false/null inside `jsonObject`. */
export function jsonBool(dialect: Dialect, value: Expression<unknown>): RawBuilder<unknown> {
  return dialect === 'postgres' ? sql`${value}` : sql`case when ${value} is null then null when ${value} then json('true') else json('false') end`;
}

/** JSON kept as text in a column, embedded as JSON (not as a string) inside `jsonObject`. */
export function jsonFromText(dialect: Dialect, text: Expression<unknown>): RawBuilder<unknown> {
  return dialect === 'postgres' ? sql`(${text})::json` : sql`json(${text})`;
}

/** A JSON value as text, whatever the dialect: node-pg would parse a `json` column, which costs when the text is what is wanted. */
export function jsonAsText(dialect: Dialect, json: Expression<unknown>): RawBuilder<string> {
  return dialect === 'postgres' ? sql<string>`(${json})::text` : sql<string>`${json}`;
}

/** Which dialect a Kysely instance (or transaction) speaks, read from its adapter. */
export function dialectOf(db: { getExecutor(): { adapter: unknown } }): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * `has_dpp = true|false` with the value written into the SQL, not bound: the planner can then use the
 * partial index over products with a passport (a bound parameter proves nothing at planning time).
 */
export function hasDppCondition(dialect: Dialect, value: boolean, table = 'products') {
  const literal = dialect === 'sqlite' ? (value ? '1' : '0') : value ? 'true' : 'false';
  return sql<boolean>`${sql.ref(`${table}.has_dpp`)} = ${sql.raw(literal)}`;
}
