import type { Kysely } from 'kysely';

/**
 * Successor links between passports: a product replaced by a newer one (`replaced`: its passport stays
 * live and points to the successor), or a passport moved to another product record (`moved`: the old
 * one is withdrawn and its URIs redirect to the successor). One successor per product.
 */
export function passportSuccessors() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('passport_successors')
        .addColumn('product_id', 'text', (c) => c.primaryKey().references('products.id').onDelete('cascade'))
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('successor_product_id', 'text', (c) => c.notNull().references('products.id').onDelete('cascade'))
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by_key_id', 'text')
        .execute();
      await db.schema.createIndex('passport_successors_successor_idx').on('passport_successors').column('successor_product_id').execute();
    },
  };
}
