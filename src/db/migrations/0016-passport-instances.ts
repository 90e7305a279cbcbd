import type { Kysely } from 'kysely';

/**
 * Batch and item passports (ESPR Art. 9(2)(b): a passport per model, batch or item, as the delegated
 * act for the category requires). One row per issued version of a batch (GS1 AI 10) or item (AI 21)
 * passport: the model's published version it extends (`based_on_version`), what the batch or item
 * states itself (`instance_values`, JSON), and the rendered `snapshot` (JSON), immutable like a model
 * publication. `ident` is the batch/item's identity under its product (`batch:<lot>`, `item:<serial>`),
 * so a re-issue is the next `version` of the same ident.
 */
export function passportInstances() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('passport_instances')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('product_id', 'text', (c) => c.notNull().references('products.id').onDelete('cascade'))
        .addColumn('level', 'text', (c) => c.notNull())
        .addColumn('ident', 'text', (c) => c.notNull())
        .addColumn('lot', 'text')
        .addColumn('serial', 'text')
        .addColumn('production_date', 'text')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('based_on_version', 'integer', (c) => c.notNull())
        .addColumn('instance_values', 'text', (c) => c.notNull())
        .addColumn('snapshot', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by_key_id', 'text')
        .addColumn('withdrawn_at', 'text')
        .addUniqueConstraint('passport_instances_ident_version_key', ['product_id', 'ident', 'version'])
        .execute();
      // The resolver: a product's items by serial, its batches by lot.
      await db.schema.createIndex('passport_instances_serial_idx').on('passport_instances').columns(['product_id', 'serial']).execute();
      await db.schema.createIndex('passport_instances_lot_idx').on('passport_instances').columns(['product_id', 'lot']).execute();
      await db.schema.createIndex('passport_instances_org_idx').on('passport_instances').columns(['org_id', 'created_at']).execute();
    },
  };
}
