import type { Generated, Insertable, Selectable } from 'kysely';

/**
 * Row types as stored. Portable across both dialects: text ids (UUIDs made by the app),
 * ISO-8601 UTC timestamps as text, JSON as text, booleans as 0/1 (SQLite) or boolean (PostgreSQL),
 * read back through `toBool` in ./dialect.ts.
 */
export interface OrganisationsTable {
  id: string;
  slug: string;
  name: string;
  created_at: string;
}

export interface ApiKeysTable {
  /** Public part of the key, also its primary key: `dpp_<id>_<secret>`. */
  id: string;
  org_id: string;
  name: string | null;
  /** sha256 of the whole key, hex. The key itself is never stored. */
  secret_hash: string;
  /** Comma-separated scopes: read, write, admin. */
  scopes: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface ProductsTable {
  id: string;
  org_id: string;
  external_id: string | null;
  title: string;
  /** The identifier as the user gave it (digits only). */
  ean: string | null;
  /** The same GTIN left-padded to 14 digits: the form used for uniqueness, search and Digital Link. */
  gtin14: string | null;
  gtin_valid: number | boolean | null;
  brand: string | null;
  category: string | null;
  description: string | null;
  /** JSON object text. */
  attributes: string;
  created_at: string;
  updated_at: string;
}

export interface Schema {
  organisations: OrganisationsTable;
  api_keys: ApiKeysTable;
  products: ProductsTable;
}

export type OrganisationRow = Selectable<OrganisationsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type ProductRow = Selectable<ProductsTable>;
export type NewProductRow = Insertable<ProductsTable>;
// Generated is re-exported so later tables can use it without another import path.
export type { Generated };
