import type { Kysely } from 'kysely';

/** The public resolver finds a passport by GTIN across organisations. */
export function resolver() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createIndex('products_gtin_idx').on('products').column('gtin14').execute();
    },
  };
}
