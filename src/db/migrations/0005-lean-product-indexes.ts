import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * Fewer B-trees to touch per product write, found by measuring bulk imports of a million rows:
 *
 * - One unique index on (gtin14, org_id) serves both the organisation's GTIN lookups and the public
 *   resolver's lookup across organisations, replacing two indexes.
 * - The DPP list's has_dpp and dpp_status orderings become partial indexes over products that have a
 *   passport, so catalog imports (new products have none) do not write to them at all.
 * - SQLite: the per-row FTS insert trigger goes. Inserting into FTS5 row by row from a trigger cost
 *   about three times the rest of an import; the product repository now indexes new rows in one
 *   statement per batch (see `indexNewSearchRows`). The update and delete triggers stay.
 */
export function leanProductIndexes(dialect: Dialect) {
  const hasDpp = dialect === 'sqlite' ? sql`has_dpp = 1` : sql`has_dpp`;
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('products_org_gtin_uq').execute();
      await db.schema.dropIndex('products_gtin_idx').execute();
      await db.schema.createIndex('products_gtin_org_uq').on('products').columns(['gtin14', 'org_id']).unique().where(sql.ref('gtin14'), 'is not', null).execute();

      await db.schema.dropIndex('products_org_hasdpp_updated_idx').execute();
      await sql`create index products_org_dpp_updated_idx on products (org_id, updated_at, id) where ${hasDpp}`.execute(db);
      await db.schema.dropIndex('products_org_status_updated_idx').execute();
      await sql`create index products_org_status_updated_idx on products (org_id, dpp_status, updated_at, id)
                where dpp_status is not null`.execute(db);

      if (dialect === 'sqlite') await sql`drop trigger products_fts_ai`.execute(db);
    },
  };
}
