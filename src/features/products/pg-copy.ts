/**
 * PostgreSQL bulk writes for imports: one pooled connection held for the whole import, a query
 * builder bound to it, and COPY into the products table on it. COPY is the fastest way PostgreSQL
 * takes rows (no parameter arrays to build and parse, no speculative insertion); a batch runs it
 * under a savepoint, so a row whose key is taken rolls the COPY back and the batch is written the
 * careful way instead (see import.ts).
 */
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { NewProductRow, Schema } from '../../db/schema.js';
import { poolOf } from '../../db/pg-direct.js';

export interface ImportConnection {
  /** The query builder on this connection (its transactions run on it). */
  db: Kysely<Schema>;
  /** COPY of these rows into products, inside the current transaction. */
  copyProducts(rows: NewProductRow[], columns: readonly string[]): Promise<void>;
  release(): Promise<void>;
}

/** A connection of the database's pool for one import; undefined on SQLite. */
export async function importConnection(db: Kysely<Schema>): Promise<ImportConnection | undefined> {
  const pool = poolOf(db);
  if (!pool) return undefined;
  const client = await pool.connect();
  // Kysely releases its connection after each transaction: this one stays ours until the import ends.
  const held = new Proxy(client, {
    get(target, property) {
      if (property === 'release') return () => {};
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const single = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: { connect: async () => held, end: async () => {} } as unknown as pg.Pool }) });
  return {
    db: single,
    async copyProducts(rows, columns) {
      // Streamed in slices, so PostgreSQL is already inserting the first rows while the next are formatted.
      await pipeline(
        Readable.from(copySlices(rows, columns), { objectMode: false, highWaterMark: 64 * 1024 }),
        client.query(copyFrom(`copy products (${columns.join(', ')}) from stdin`)),
      );
    },
    async release() {
      await single.destroy();
      client.release();
    },
  };
}

const COPY_SLICE_ROWS = 250;

/** The rows as COPY text, COPY_SLICE_ROWS rows per chunk, formatted as the stream asks for them. */
function* copySlices(rows: readonly NewProductRow[], columns: readonly string[]): Generator<string> {
  for (let start = 0; start < rows.length; start += COPY_SLICE_ROWS) {
    let text = '';
    const end = Math.min(rows.length, start + COPY_SLICE_ROWS);
    for (let i = start; i < end; i++) {
      const row = rows[i] as unknown as Record<string, unknown>;
      for (let c = 0; c < columns.length; c++) text += (c === 0 ? '' : '\t') + copyText(row[columns[c]!]);
      text += '\n';
    }
    yield text;
  }
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value in COPY's text format: NULL as \N; backslash, tab, newline and carriage return escaped. */
function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  const text = String(value);
  // Most values have nothing to escape: testing first skips building a new string for them.
  return COPY_SPECIAL.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : text;
}
