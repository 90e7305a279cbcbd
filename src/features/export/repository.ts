import type { Kysely } from 'kysely';
import { dialectOf, hasDppCondition } from '../../db/dialect.js';
import type { Schema } from '../../db/schema.js';

/** What an export reads of its product. */
export const PRODUCT_COLUMNS = ['id', 'org_id', 'title', 'ean', 'gtin14', 'gtin_valid', 'dpp_status'] as const;

/** Reads for exports and the public resolver. */
export function createExportRepository(db: Kysely<Schema>) {
  return {
    /** Any organisation's product, for the public resolver (which then shows published data only). */
    findPublicProduct(productId: string) {
      return db.selectFrom('products').select(PRODUCT_COLUMNS).where('id', '=', productId).executeTakeFirst();
    },

    /**
     * The product with this GTIN whose passport is published, or undefined when none is, or when
     * several organisations published it (ambiguous: publish refuses that, older data may hold it).
     */
    async findPublishedByGtin(gtin14: string) {
      const rows = await db
        .selectFrom('products')
        .select(PRODUCT_COLUMNS)
        .where('gtin14', '=', gtin14)
        .where('dpp_status', '=', 'published')
        .orderBy('updated_at', 'desc')
        .limit(2)
        .execute();
      return rows.length === 1 || (rows.length === 2 && rows[0]!.org_id === rows[1]!.org_id) ? rows[0] : undefined;
    },

    /** The product that published a passport under this GTIN (live or withdrawn), when exactly one did. */
    async findEverPublishedByGtin(gtin14: string) {
      const rows = await db
        .selectFrom('products')
        .select(PRODUCT_COLUMNS)
        .where('gtin14', '=', gtin14)
        .where((eb) => eb.exists(eb.selectFrom('passport_publications').select('product_id').whereRef('passport_publications.product_id', '=', 'products.id')))
        .limit(2)
        .execute();
      return rows.length === 1 ? rows[0] : undefined;
    },

    findRecord(productId: string) {
      return db.selectFrom('compliance_records').selectAll().where('product_id', '=', productId).executeTakeFirst();
    },

    findPublication(productId: string, version: number) {
      return db.selectFrom('passport_publications').selectAll().where('product_id', '=', productId).where('published_version', '=', version).executeTakeFirst();
    },

    /** The published versions of a product's passport the public may see (none withdrawn), oldest first. */
    publicVersions(productId: string) {
      return db
        .selectFrom('passport_publications')
        .select(['published_version', 'published_at'])
        .where('product_id', '=', productId)
        .where('withdrawn_at', 'is', null)
        .orderBy('published_version')
        .execute();
    },

    /** Products with a passport, in id order after `afterId` (keyset pagination for streaming exports). */
    productsWithPassport(orgId: string, afterId: string, limit: number) {
      return db
        .selectFrom('products')
        .select(PRODUCT_COLUMNS)
        .where('org_id', '=', orgId)
        .where(hasDppCondition(dialectOf(db), true))
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute();
    },
  };
}
