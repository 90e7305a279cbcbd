import { sql, type Kysely } from 'kysely';
import { booleanColumn, type Dialect } from '../dialect.js';

/** Organisations, API keys and the product catalog. Frozen: later changes go in new migrations. */
export function foundation(dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('organisations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('slug', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('name', 'text')
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('api_keys_org_idx').on('api_keys').columns(['org_id', 'created_at']).execute();

      await db.schema
        .createTable('products')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('external_id', 'text')
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('ean', 'text')
        .addColumn('gtin14', 'text')
        .addColumn('gtin_valid', booleanColumn(dialect))
        .addColumn('brand', 'text')
        .addColumn('category', 'text')
        .addColumn('description', 'text')
        .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      // One product per GTIN and per external id within an organisation.
      await db.schema.createIndex('products_org_gtin_uq').on('products').columns(['org_id', 'gtin14']).unique().where(sql.ref('gtin14'), 'is not', null).execute();
      await db.schema.createIndex('products_org_external_uq').on('products').columns(['org_id', 'external_id']).unique().where(sql.ref('external_id'), 'is not', null).execute();
      // The catalog's default order: most recently updated first, ties by id.
      await db.schema.createIndex('products_org_updated_idx').on('products').columns(['org_id', 'updated_at', 'id']).execute();
    },
  };
}
