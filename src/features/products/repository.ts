import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { dialectOf, type Dialect } from '../../db/dialect.js';
import type { NewProductRow, ProductRow, Schema } from '../../db/schema.js';
import { foldForSearch } from '../../lib/text.js';

type Db = Kysely<Schema> | Transaction<Schema>;

/** Columns an upsert overwrites on conflict: everything but the identity and creation time. */
const UPSERT_COLUMNS = [
  'external_id',
  'title',
  'ean',
  'gtin14',
  'gtin_valid',
  'brand',
  'category',
  'description',
  'attributes',
  'updated_at',
  'search_text',
] as const;

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
      return db
        .selectFrom('products')
        .selectAll()
        .where('org_id', '=', orgId)
        .where('external_id', '=', externalId)
        .executeTakeFirst();
    },

    /** Rows matching any of the given external ids or GTIN-14s (for import matching). */
    async findByKeys(orgId: string, externalIds: string[], gtins: string[]): Promise<ProductRow[]> {
      const [byExt, byGtin] = await Promise.all([
        externalIds.length
          ? db.selectFrom('products').selectAll().where('org_id', '=', orgId).where(inList(dialect, 'external_id', externalIds)).execute()
          : [],
        gtins.length
          ? db.selectFrom('products').selectAll().where('org_id', '=', orgId).where(inList(dialect, 'gtin14', gtins)).execute()
          : [],
      ]);
      return [...byExt, ...byGtin];
    },

    async insert(row: NewProductRow): Promise<void> {
      await db.insertInto('products').values(writable(row)).execute();
    },

    /** Inserts new rows and overwrites existing ones (by id) in one statement. */
    async upsertMany(rows: NewProductRow[]): Promise<void> {
      if (rows.length === 0) return;
      const values = rows.map(writable);
      if (dialect === 'postgres') return upsertUnnest(db, values);
      await db
        .insertInto('products')
        .values(values)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => Object.fromEntries(UPSERT_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}`)]))),
        )
        .execute();
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
      return db
        .selectFrom('products')
        .selectAll()
        .where('org_id', '=', orgId)
        .orderBy('updated_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .offset(offset)
        .execute();
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

const PG_TYPES: Record<string, string> = { gtin_valid: 'boolean' };
const WRITE_COLUMNS = ['id', 'org_id', 'created_at', ...UPSERT_COLUMNS] as const;

/**
 * PostgreSQL bulk upsert: one array parameter per column expanded by unnest, so the statement has
 * fourteen parameters whatever the batch size and is parsed once per batch, not once per row.
 */
async function upsertUnnest(db: Db, rows: NewProductRow[]): Promise<void> {
  const arrays = WRITE_COLUMNS.map((c) => {
    const values = rows.map((r) => (r as Record<string, unknown>)[c] ?? null);
    return sql`${values}::${sql.raw(PG_TYPES[c] ?? 'text')}[]`;
  });
  await sql`
    insert into products (${sql.join(WRITE_COLUMNS.map((c) => sql.ref(c)))})
    select * from unnest(${sql.join(arrays)})
    on conflict (id) do update set ${sql.join(UPSERT_COLUMNS.map((c) => sql`${sql.ref(c)} = excluded.${sql.ref(c)}`))}
  `.execute(db);
}

export type ProductRepository = ReturnType<typeof createProductRepository>;
