import { CompiledQuery, type Compilable, type Kysely, type RawBuilder } from 'kysely';
import { pgReadNow } from './pg-direct.js';
import { sqliteReadNow, sqliteReadOffThread } from './sqlite-direct.js';

type Db = Pick<Kysely<any>, 'executeQuery' | 'getExecutor' | 'isTransaction'>;

/** SQL text of every prepared query → its server-side statement name on PostgreSQL. */
const statementNames = new Map<string, string>();

/**
 * A query built and compiled once per database, then run with new parameter values: for the hottest
 * reads, building and compiling a Kysely query cost more than SQLite took to answer it.
 *
 * `build` receives `param(name)`, a placeholder to use wherever a value goes; at run time every
 * placeholder is replaced by `values[name]`. Only for queries whose shape never changes.
 *
 * @example
 * const byId = preparedQuery((db: Kysely<Schema>, param) => db.selectFrom('products').selectAll().where('id', '=', param('id')));
 * const rows = await byId(db, { id });
 */
export function preparedQuery<DB, Row, Name extends string>(
  build: (db: Kysely<DB>, param: (name: Name) => string) => Compilable<Row>,
): (db: Db, values: Record<Name, unknown>) => Promise<Row[]> {
  // Compiled per adapter: one per database, shared by its transactions (they compile alike).
  const compiled = new WeakMap<object, { query: CompiledQuery<Row>; name: string; slots: Array<Name | undefined> }>();
  const marker = `\u0000param\u0000`;
  return async (db, values) => {
    const adapter = db.getExecutor().adapter;
    let entry = compiled.get(adapter);
    if (!entry) {
      const query = build(db as Kysely<DB>, (name) => marker + name).compile();
      if (!statementNames.has(query.sql)) statementNames.set(query.sql, `dpp_${statementNames.size + 1}`);
      const slots = query.parameters.map((p) => (typeof p === 'string' && p.startsWith(marker) ? (p.slice(marker.length) as Name) : undefined));
      entry = { query, name: statementNames.get(query.sql)!, slots };
      compiled.set(adapter, entry);
    }
    const { query, name, slots } = entry;
    const parameters = query.parameters.map((p, i) => {
      const slot = slots[i];
      return slot === undefined ? p : values[slot];
    });
    // Outside a transaction, straight to the driver (see each function); inside one, through Kysely.
    const offThread = sqliteReadOffThread(db, query.sql, parameters);
    if (offThread) return (await offThread) as Row[];
    const now = sqliteReadNow(db, query.sql, parameters);
    if (now) return now as Row[];
    const pooled = pgReadNow(db, name, query.sql, parameters);
    if (pooled) return (await pooled) as Row[];
    const result = await db.executeQuery<Row>(CompiledQuery.raw(query.sql, parameters) as CompiledQuery<Row>);
    return result.rows;
  };
}

/**
 * Runs a read built with Kysely the way prepared reads run: on a SQLite reader thread when the
 * database has one and no transaction is open (a first-time search can take milliseconds, which on
 * the main thread would stop every other request), else through Kysely.
 */
export async function readRows<Row>(db: Db, query: Compilable<Row> | RawBuilder<Row>): Promise<Row[]> {
  const compiled = 'isRawBuilder' in query ? query.compile(db as Kysely<any>) : query.compile();
  const offThread = sqliteReadOffThread(db, compiled.sql, compiled.parameters);
  if (offThread) return (await offThread) as Row[];
  return (await db.executeQuery(compiled)).rows;
}
