import type { Kysely } from 'kysely';

/**
 * `audit_events`: who (API key id, or none for the CLI and the system) did what (publish, withdraw,
 * delete, key changes) to which passport, product, document or key, written in the transaction of the
 * change itself. No foreign key to the target: the record outlives a deleted product or document.
 * `at` is ISO-8601 UTC text like every other timestamp; `details` JSON text.
 */
export function auditLog() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor_key_id', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('request_id', 'text')
        .execute();
      // The read API: an organisation's events, newest first.
      await db.schema.createIndex('audit_events_org_at_idx').on('audit_events').columns(['org_id', 'at', 'id']).execute();
      // "What happened to this passport/product/key", newest first.
      await db.schema.createIndex('audit_events_org_target_idx').on('audit_events').columns(['org_id', 'target_id', 'at']).execute();
      // The retention purge, across organisations.
      await db.schema.createIndex('audit_events_at_idx').on('audit_events').columns(['at']).execute();
    },
  };
}
