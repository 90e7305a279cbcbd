import type { Kysely } from 'kysely';

/**
 * EU DPP registry readiness (Reg. 2026/1778):
 * - `compliance_records.commodity_code` and `facility_id`: two passport fields (optional, so no
 *   passport's status changes and nothing is recomputed);
 * - `organisations.operator_id`: the organisation's unique operator identifier (EORI number or GLN);
 * - `registry_entries`: one row per published version (kind `registration`) and per withdrawal (kind
 *   `withdrawal`), holding the registry's fields as they were at that moment, and its status in the
 *   registry: incomplete | pending | submitted | registered | rejected. The content hash is not copied:
 *   it is the publication's (`passport_publications`, product_id + published_version).
 * No foreign key to the product: like the audit log, an entry outlives a deleted product (the registry
 * still holds it).
 */
export function registry() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('compliance_records').addColumn('commodity_code', 'text').execute();
      await db.schema.alterTable('compliance_records').addColumn('facility_id', 'text').execute();
      await db.schema.alterTable('organisations').addColumn('operator_id', 'text').execute();

      await db.schema
        .createTable('registry_entries')
        // Time-ordered (UUIDv7): the queue's order and the export's cursor.
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('product_id', 'text', (c) => c.notNull())
        .addColumn('dpp_id', 'text', (c) => c.notNull())
        .addColumn('published_version', 'integer', (c) => c.notNull())
        /** registration | withdrawal */
        .addColumn('kind', 'text', (c) => c.notNull())
        /** incomplete | pending | submitted | registered | rejected */
        .addColumn('status', 'text', (c) => c.notNull())
        /** JSON array of the registry fields that were missing (empty unless incomplete). */
        .addColumn('missing_fields', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('product_identifier', 'text', (c) => c.notNull())
        /** gtin | dpp_id */
        .addColumn('product_identifier_scheme', 'text', (c) => c.notNull())
        .addColumn('operator_id', 'text')
        .addColumn('facility_id', 'text')
        .addColumn('commodity_code', 'text')
        .addColumn('passport_uri', 'text', (c) => c.notNull())
        .addColumn('queued_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('submitted_at', 'text')
        .addColumn('acknowledged_at', 'text')
        /** The registry's own id for the entry, when it gave one. */
        .addColumn('registry_id', 'text')
        .addColumn('reason', 'text')
        .execute();
      // The list and the export: an organisation's entries of a status, in queue order.
      await db.schema.createIndex('registry_entries_org_status_idx').on('registry_entries').columns(['org_id', 'status', 'id']).execute();
      // The passport GET's registry_status: a product's newest entry.
      await db.schema.createIndex('registry_entries_product_idx').on('registry_entries').columns(['product_id', 'id']).execute();
    },
  };
}
