import { CompiledQuery, sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type SQLite from 'better-sqlite3';
import { sqliteConnectionOf } from '../../db/sqlite-direct.js';
import { isUniqueViolation, dialectOf, type Dialect } from '../../db/dialect.js';
import type { NewProductRow, ProductRow, Schema } from '../../db/schema.js';
import { foldForSearch } from '../../lib/text.js';

type Db = Kysely<Schema> | Transaction<Schema>;

/** Columns an upsert overwrites on conflict: everything but the identity and creation time. */
const UPSERT_COLUMNS = ['external_id', 'title', 'ean', 'gtin14', 'gtin_valid', 'brand', 'category', 'description', 'attributes', 'updated_at', 'search_text'] as const;

/** The columns a catalog write sets, with the search text derived from the title in this one place. */
function writable(row: NewProductRow): NewProductRow {
  return {
    id: row.id,
    org_id: row.org_id,
    external_id: row.external_id ?? null,
    title: row.title,
    ean: row.ean ?? null,
    gtin14: row.gtin14 ?? null,
    gtin_valid: row.gtin_valid ?? null,
    brand: row.brand ?? null,
    category: row.category ?? null,
    description: row.description ?? null,
    attributes: row.attributes,
    created_at: row.created_at,
    updated_at: row.updated_at,
    search_text: foldForSearch(row.title),
  };
}

/**
 * `column IN (list)` with the whole list as one bind parameter, so a 1000-key lookup is one small
 * statement on both dialects: a JSON array read by json_each on SQLite, a text array on PostgreSQL.
 */
function inList(dialect: Dialect, column: string, values: string[]): RawBuilder<boolean> {
  return dialect === 'sqlite'
    ? sql<boolean>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(values)}))`
    : sql<boolean>`${sql.ref(column)} = any(${values}::text[])`;
}

/** SQL for the product catalog. Every query is scoped by organisation. */
export function createProductRepository(db: Db) {
  const dialect = dialectOf(db);
  return {
    findById(orgId: string, id: string, options: { lock?: boolean } = {}): Promise<ProductRow | undefined> {
      const q = db.selectFrom('products').selectAll().where('org_id', '=', orgId).where('id', '=', id);
      return (options.lock && dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
    },

    findByGtin(orgId: string, gtin14: string): Promise<ProductRow | undefined> {
      return db.selectFrom('products').selectAll().where('org_id', '=', orgId).where('gtin14', '=', gtin14).executeTakeFirst();
    },

    findByExternalId(orgId: string, externalId: string): Promise<ProductRow | undefined> {
      return db.selectFrom('products').selectAll().where('org_id', '=', orgId).where('external_id', '=', externalId).executeTakeFirst();
    },

    /** Which of these products have had a passport published (ever: a withdrawn one still counts). */
    async publishedAmong(ids: string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await db
        .selectFrom('passport_publications')
        .select('product_id')
        .distinct()
        .where(inList(dialect, 'product_id', ids))
        .execute();
      return new Set(rows.map((r) => r.product_id));
    },

    /** Which of these products have a passport (a working copy at least). */
    async withPassportAmong(ids: string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await db
        .selectFrom('compliance_records')
        .select('product_id')
        .where(inList(dialect, 'product_id', ids))
        .where('passport_created_at', 'is not', null)
        .execute();
      return new Set(rows.map((r) => r.product_id));
    },

    /**
     * The products with these external ids or GTINs. On PostgreSQL their rows are locked for the
     * transaction (the import writes them anyway): a concurrent publish, which locks the product too,
     * then cannot freeze a GTIN between the import's check and its write.
     */
    async findByKeys(orgId: string, externalIds: string[], gtins: string[]): Promise<ProductRow[]> {
      // In id order, so two imports touching the same products lock them in the same order.
      const lock = <Q extends { forUpdate(): Q; orderBy(c: 'id'): Q }>(q: Q) => (dialect === 'postgres' ? q.orderBy('id').forUpdate() : q);
      const [byExt, byGtin] = await Promise.all([
        externalIds.length
          ? lock(
              db
                .selectFrom('products')
                .selectAll()
                .where('org_id', '=', orgId)
                .where(inList(dialect, 'external_id', externalIds)),
            ).execute()
          : [],
        gtins.length
          ? lock(
              db
                .selectFrom('products')
                .selectAll()
                .where('org_id', '=', orgId)
                .where(inList(dialect, 'gtin14', gtins)),
            ).execute()
          : [],
      ]);
      return [...byExt, ...byGtin];
    },

    /**
     * Clears the GTIN of these products, so that a batch can hand GTINs between its rows in any
     * order: each row's final GTIN is then written by the upsert that follows.
     */
    async releaseGtins(orgId: string, ids: string[]): Promise<void> {
      if (ids.length === 0) return;
      await db
        .updateTable('products')
        .set({ ean: null, gtin14: null, gtin_valid: null })
        .where('org_id', '=', orgId)
        .where(inList(dialect, 'id', ids))
        .execute();
    },

    /**
     * Inserts these rows as new products, each unless one of its keys (external id, GTIN) is taken
     * in the organisation; answers the ids inserted. Must run inside a transaction. Only a unique key
     * makes a row skip: any other constraint fails the statement as an insert would.
     */
    async insertUnlessTaken(rows: NewProductRow[]): Promise<Set<string>> {
      if (rows.length === 0) return new Set();
      const values = rows.map(writable);
      if (dialect === 'postgres') {
        const inserted = await sql<{ id: string }>`
          insert into products (${sql.join(WRITE_COLUMNS.map((c) => sql.ref(c)))})
          select * from unnest(${sql.join(unnestArrays(values))})
          on conflict do nothing
          returning id`.execute(db);
        return new Set(inserted.rows.map((r) => r.id));
      }
      return insertSqliteUnlessTaken(sqliteConnectionOf(db), values);
    },

    /**
     * PostgreSQL: COPY these rows in as new products, all or none (a savepoint): false when one of
     * their keys is taken, and nothing of them is written. Must run inside a transaction.
     */
    async copyAllNew(rows: NewProductRow[], copy: (rows: NewProductRow[], columns: readonly string[]) => Promise<void>): Promise<boolean> {
      if (rows.length === 0) return true;
      await sql`savepoint import_copy`.execute(db);
      try {
        await copy(rows.map(writable), WRITE_COLUMNS);
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        await sql`rollback to savepoint import_copy`.execute(db);
        return false;
      }
      await sql`release savepoint import_copy`.execute(db);
      return true;
    },

    async insert(row: NewProductRow): Promise<void> {
      await db.insertInto('products').values(writable(row)).execute();
      if (dialect === 'sqlite') await indexNewSearchRows(db, [row.id]);
    },

    /**
     * Inserts new rows and overwrites existing ones (by id), in the given order. Must run inside a
     * transaction. `newIds` names the rows that are inserted, whose search entries are added here.
     */
    async upsertMany(rows: NewProductRow[], newIds: ReadonlySet<string>): Promise<void> {
      if (rows.length === 0) return;
      const values = rows.map(writable);
      if (dialect === 'postgres') return upsertUnnest(db, values);
      upsertSqlite(sqliteConnectionOf(db), values, newIds);
    },

    async update(orgId: string, id: string, changes: Partial<NewProductRow>): Promise<boolean> {
      const set = changes.title === undefined ? changes : { ...changes, search_text: foldForSearch(changes.title) };
      const r = await db.updateTable('products').set(set).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async delete(orgId: string, id: string): Promise<boolean> {
      const r = await db.deleteFrom('products').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    /** A page in the catalog's stable order: most recently updated first, ties by id. */
    paginate(orgId: string, limit: number, offset: number): Promise<ProductRow[]> {
      return db.selectFrom('products').selectAll().where('org_id', '=', orgId).orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute();
    },

    async count(orgId: string): Promise<number> {
      const r = await db
        .selectFrom('products')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('org_id', '=', orgId)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}

/**
 * SQLite keeps no insert trigger on its FTS5 title index (row-by-row FTS inserts were most of an
 * import's cost): every insert into products is followed by INDEX_NEW_ROWS_SQL for the ids inserted.
 * Updates and deletes are kept in step by triggers.
 */
const INDEX_NEW_ROWS_SQL = `insert into products_fts (rowid, search_text)
  select rowid, search_text from products where id in (select value from json_each(?))`;

function indexNewSearchRows(db: Db, ids: readonly string[]) {
  return db.executeQuery(CompiledQuery.raw(INDEX_NEW_ROWS_SQL, [JSON.stringify(ids)]));
}

/**
 * SQLite bulk write on the raw connection: prepared statements run per row (a 14-column multi-row
 * insert built by the query builder cost several times as much). Existing rows are updated first, in
 * the given order, then new rows inserted, so a GTIN an existing row gives up is free for a new one.
 * A plain INSERT is about 30 % cheaper than INSERT … ON CONFLICT DO UPDATE, hence the split.
 */
function upsertSqlite(connection: SQLite.Database, rows: NewProductRow[], newIds: ReadonlySet<string>) {
  const update = connection.prepare(`update products set ${UPSERT_COLUMNS.map((c) => `${c} = ?`).join(', ')} where id = ?`);
  const insert = connection.prepare(`insert into products (${WRITE_COLUMNS.join(', ')}) values (${WRITE_COLUMNS.map(() => '?').join(', ')})`);
  const fresh: string[] = [];
  for (const row of rows) {
    if (newIds.has(row.id)) {
      fresh.push(row.id);
      continue;
    }
    const r = row as Record<string, unknown>;
    update.run([...UPSERT_COLUMNS.map((c) => r[c] ?? null), row.id]);
  }
  for (const row of rows) {
    if (!newIds.has(row.id)) continue;
    const r = row as Record<string, unknown>;
    insert.run(WRITE_COLUMNS.map((c) => r[c] ?? null));
  }
  if (fresh.length) connection.prepare(INDEX_NEW_ROWS_SQL).run(JSON.stringify(fresh));
}

/** SQLite: a prepared INSERT … ON CONFLICT DO NOTHING per row (0 changes: a key was taken), then the search entries of the rows inserted. */
function insertSqliteUnlessTaken(connection: SQLite.Database, rows: NewProductRow[]): Set<string> {
  const insert = connection.prepare(`insert into products (${WRITE_COLUMNS.join(', ')}) values (${WRITE_COLUMNS.map(() => '?').join(', ')}) on conflict do nothing`);
  const inserted = new Set<string>();
  for (const row of rows) {
    const r = row as Record<string, unknown>;
    if (insert.run(WRITE_COLUMNS.map((c) => r[c] ?? null)).changes === 1) inserted.add(row.id);
  }
  if (inserted.size) connection.prepare(INDEX_NEW_ROWS_SQL).run(JSON.stringify([...inserted]));
  return inserted;
}

const PG_TYPES: Record<string, string> = { gtin_valid: 'boolean' };
const WRITE_COLUMNS = ['id', 'org_id', 'created_at', ...UPSERT_COLUMNS] as const;

/**
 * PostgreSQL bulk upsert: one array parameter per column expanded by unnest, so the statement has
 * fourteen parameters whatever the batch size and is parsed once per batch, not once per row.
 */
function unnestArrays(rows: NewProductRow[]) {
  return WRITE_COLUMNS.map((c) => {
    const values = rows.map((r) => (r as Record<string, unknown>)[c] ?? null);
    return sql`${values}::${sql.raw(PG_TYPES[c] ?? 'text')}[]`;
  });
}

async function upsertUnnest(db: Db, rows: NewProductRow[]): Promise<void> {
  await sql`
    insert into products (${sql.join(WRITE_COLUMNS.map((c) => sql.ref(c)))})
    select * from unnest(${sql.join(unnestArrays(rows))})
    on conflict (id) do update set ${sql.join(UPSERT_COLUMNS.map((c) => sql`${sql.ref(c)} = excluded.${sql.ref(c)}`))}
  `.execute(db);
}

export type ProductRepository = ReturnType<typeof createProductRepository>;
