import type { Kysely, Transaction } from 'kysely';
import type { NewProductRow, ProductRow, Schema } from '../../db/schema.js';

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
] as const;

/** SQL for the product catalog. Every query is scoped by organisation. */
export function createProductRepository(db: Db) {
  return {
    findById(orgId: string, id: string): Promise<ProductRow | undefined> {
      return db.selectFrom('products').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
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
          ? db.selectFrom('products').selectAll().where('org_id', '=', orgId).where('external_id', 'in', externalIds).execute()
          : [],
        gtins.length
          ? db.selectFrom('products').selectAll().where('org_id', '=', orgId).where('gtin14', 'in', gtins).execute()
          : [],
      ]);
      return [...byExt, ...byGtin];
    },

    async insert(row: NewProductRow): Promise<void> {
      await db.insertInto('products').values(row).execute();
    },

    /** Inserts new rows and overwrites existing ones (by id) in one statement. */
    async upsertMany(rows: NewProductRow[]): Promise<void> {
      if (rows.length === 0) return;
      await db
        .insertInto('products')
        .values(rows)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => Object.fromEntries(UPSERT_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}`)]))),
        )
        .execute();
    },

    async update(orgId: string, id: string, changes: Partial<NewProductRow>): Promise<boolean> {
      const r = await db.updateTable('products').set(changes).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
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

export type ProductRepository = ReturnType<typeof createProductRepository>;
