import type { Kysely } from 'kysely';

/**
 * Access tiers (ESPR Art. 10, Battery Regulation Art. 77(2) and Annex XIII):
 * - three restricted passport fields, nullable text like the other text fields (no passport changes status:
 *   none of them is needed for complete);
 * - `access_grants`: a token an organisation issues to a named party (a repairer, a recycler, an
 *   authority) that shows that tier's fields of the organisation's published passports through the
 *   public URIs. Only the token's SHA-256 is kept; `expires_at` is required, `revoked_at` set once.
 */
export function accessGrants() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      for (const column of ['dismantling_instructions', 'spare_parts_sources', 'conformity_test_results']) {
        await db.schema.alterTable('compliance_records').addColumn(column, 'text').execute();
      }
      await db.schema
        .createTable('access_grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('grantee', 'text', (c) => c.notNull())
        .addColumn('tier', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text')
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by_key_id', 'text')
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema.createIndex('access_grants_org_idx').on('access_grants').columns(['org_id', 'created_at']).execute();
    },
  };
}
