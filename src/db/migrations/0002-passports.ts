import { sql, type Kysely } from 'kysely';
import { booleanColumn, floatColumn, type Dialect } from '../dialect.js';

/**
 * Passports and environmental data (one compliance record per product), their history and
 * published versions, the per-organisation counters behind /stats, and title search.
 */
export function passports(dialect: Dialect) {
  const bool = booleanColumn(dialect);
  const float = floatColumn(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Denormalised onto products so the DPP list filters and orders on one table and one index.
      await db.schema
        .alterTable('products')
        .addColumn('has_dpp', bool, (c) => c.notNull().defaultTo(sql`false`))
        .execute();
      await db.schema.alterTable('products').addColumn('dpp_status', 'text').execute();
      await db.schema
        .alterTable('products')
        .addColumn('search_text', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      await db.schema.createIndex('products_org_hasdpp_updated_idx').on('products').columns(['org_id', 'has_dpp', 'updated_at', 'id']).execute();
      await db.schema.createIndex('products_org_status_updated_idx').on('products').columns(['org_id', 'dpp_status', 'updated_at', 'id']).execute();

      await db.schema
        .createTable('compliance_records')
        .addColumn('product_id', 'text', (c) => c.primaryKey().references('products.id').onDelete('cascade'))
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('dpp_id', 'text', (c) => c.notNull().unique())
        .addColumn('passport_created_at', 'text')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('product_name', 'text')
        .addColumn('manufacturer', 'text')
        .addColumn('country_of_origin', 'text')
        .addColumn('materials', 'text')
        .addColumn('carbon_footprint_kg', float)
        .addColumn('recyclability_score', 'text')
        .addColumn('certifications', 'text')
        .addColumn('end_of_life_instructions', 'text')
        .addColumn('reach_compliant', bool)
        .addColumn('rohs_compliant', bool)
        .addColumn('ce_marked', bool)
        .addColumn('weee_category', 'text')
        .addColumn('energy_class', 'text')
        .addColumn('recyclable', bool)
        .addColumn('hazardous_substances', 'text')
        .addColumn('field_sources', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('published_version', 'integer')
        .addColumn('published_at', 'text')
        .addColumn('withdrawn_at', 'text')
        .addColumn('has_unpublished_changes', bool, (c) => c.notNull().defaultTo(sql`false`))
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('compliance_history')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('product_id', 'text', (c) => c.notNull().references('products.id').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('changed_at', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text')
        .addColumn('source', 'text')
        .addColumn('changes', 'text', (c) => c.notNull())
        .execute();
      // One entry per version: a second writer of the same version fails instead of forking history.
      await db.schema.createIndex('compliance_history_version_uq').on('compliance_history').columns(['product_id', 'version']).unique().execute();

      await db.schema
        .createTable('passport_publications')
        .addColumn('product_id', 'text', (c) => c.notNull().references('products.id'))
        .addColumn('published_version', 'integer', (c) => c.notNull())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('published_at', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text')
        .addColumn('snapshot', 'text', (c) => c.notNull())
        .addColumn('withdrawn_at', 'text')
        .addPrimaryKeyConstraint('passport_publications_pk', ['product_id', 'published_version'])
        .execute();

      await db.schema
        .createTable('org_stats')
        .addColumn('org_id', 'text', (c) => c.primaryKey())
        .addColumn('total_products', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('with_dpp', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('draft', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('complete', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('published', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('org_certifications')
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('products', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('org_certifications_pk', ['org_id', 'code'])
        .execute();
      await sql`insert into org_stats (org_id, total_products)
                select org_id, count(*) from products group by org_id`.execute(db);

      // Rows from before this migration: searchable by their lower-cased title.
      await sql`update products set search_text = lower(title)`.execute(db);

      if (dialect === 'sqlite') {
        // External-content FTS5 index over the folded title, kept in step by triggers.
        await sql`create virtual table products_fts using fts5(search_text, content='products', content_rowid='rowid')`.execute(db);
        await sql`create trigger products_fts_ai after insert on products begin
                    insert into products_fts(rowid, search_text) values (new.rowid, new.search_text); end`.execute(db);
        await sql`create trigger products_fts_ad after delete on products begin
                    insert into products_fts(products_fts, rowid, search_text) values ('delete', old.rowid, old.search_text); end`.execute(db);
        await sql`create trigger products_fts_au after update of search_text on products begin
                    insert into products_fts(products_fts, rowid, search_text) values ('delete', old.rowid, old.search_text);
                    insert into products_fts(rowid, search_text) values (new.rowid, new.search_text); end`.execute(db);
        await sql`insert into products_fts(products_fts) values ('rebuild')`.execute(db);
      } else {
        await sql`create index products_search_idx on products using gin (to_tsvector('simple', search_text))`.execute(db);
      }
    },
  };
}
