import type { Kysely, Selectable } from 'kysely';
import { dialectOf } from '../../db/dialect.js';
import type { ProductsTable, Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';

type ProductColumn = keyof ProductsTable & string;

/**
 * The one check that a product exists in the caller's organisation: its `columns`, or 404
 * `product_not_found` (the same answer whether the id is unknown or another organisation's, so ids
 * reveal nothing across tenants). `lock` takes the row lock on PostgreSQL (SQLite has one writer),
 * for a caller about to change what depends on the product. Every route with a product id in its path
 * goes through here or through `errors.productNotFound` (test/http/cross-tenant.test.ts probes them all).
 */
export async function requireOwnedProduct(db: Kysely<Schema>, orgId: string, productId: string, columns: 'all', options?: { lock?: boolean }): Promise<Selectable<ProductsTable>>;
export async function requireOwnedProduct<C extends ProductColumn = 'id'>(
  db: Kysely<Schema>,
  orgId: string,
  productId: string,
  columns?: readonly C[],
  options?: { lock?: boolean },
): Promise<Pick<Selectable<ProductsTable>, C>>;
export async function requireOwnedProduct(
  db: Kysely<Schema>,
  orgId: string,
  productId: string,
  columns: readonly ProductColumn[] | 'all' = ['id'],
  options: { lock?: boolean } = {},
): Promise<Partial<Selectable<ProductsTable>>> {
  const from = db.selectFrom('products').where('org_id', '=', orgId).where('id', '=', productId);
  const q = columns === 'all' ? from.selectAll() : from.select(columns);
  const row = await (options.lock && dialectOf(db) === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  if (!row) throw errors.productNotFound(productId);
  return row;
}
