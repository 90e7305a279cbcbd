import type { Kysely } from 'kysely';
import { isUniqueViolation, fromBool, toBool } from '../../db/dialect.js';
import type { NewProductRow, ProductRow, Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';
import { parseGtin } from '../../lib/gtin.js';
import { newId } from '../../lib/ids.js';
import { nowIso } from '../../lib/time.js';
import { recordAudit, SYSTEM_ACTOR } from '../audit/record.js';
import { recordProductChanges } from '../passports/product-changes.js';
import type { Actor } from '../passports/service.js';
import { createDatabaseBlobStore } from '../documents/blob-store.js';
import { createStatsRepository } from '../stats/repository.js';
import { requireOwnedProduct } from './ownership.js';
import { createProductRepository } from './repository.js';
import type { CreateProductInput, Product, UpdateProductInput } from './schemas.js';

/** The API shape of a stored product. */
export function toProduct(row: ProductRow): Product {
  return {
    product_id: row.id,
    external_id: row.external_id,
    title: row.title,
    ean: row.ean,
    gtin14: row.gtin14,
    gtin_valid: toBool(row.gtin_valid),
    brand: row.brand,
    category: row.category,
    description: row.description,
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** Columns derived from an EAN: as given, GTIN-14, check-digit flag. Throws a 400 naming `field`. */
export function gtinColumns(ean: string | null | undefined, field = '/ean') {
  if (ean === null || ean === undefined || ean === '') return { ean: null, gtin14: null, gtin_valid: null };
  const parsed = parseGtin(String(ean));
  if (!parsed) {
    throw errors.validation(`ean "${ean}" is not a GTIN: it must be 8, 12, 13 or 14 digits.`, [{ field, rule: 'gtin_length', message: 'must be 8, 12, 13 or 14 digits' }]);
  }
  return { ean: parsed.digits, gtin14: parsed.gtin14, gtin_valid: fromBool(parsed.valid) };
}

/**
 * The product catalog: create, read, update, delete and paginate, always within one organisation.
 * A product of another organisation is reported exactly like a missing one.
 */
export function createProductService(db: Kysely<Schema>) {
  const repo = createProductRepository(db);

  const requireRow = (orgId: string, productId: string): Promise<ProductRow> => requireOwnedProduct(db, orgId, productId, 'all');

  /** Throws 409 when another product of the organisation already holds this GTIN or external id. */
  async function assertUnique(orgId: string, selfId: string | null, gtin14: string | null, externalId: string | null) {
    if (gtin14) {
      const other = await repo.findByGtin(orgId, gtin14);
      if (other && other.id !== selfId) {
        throw errors.conflict(`Another product (${other.id}) already has GTIN ${gtin14}.`, { existing_product_id: other.id, field: 'ean' });
      }
    }
    if (externalId) {
      const other = await repo.findByExternalId(orgId, externalId);
      if (other && other.id !== selfId) {
        throw errors.conflict(`Another product (${other.id}) already has external_id "${externalId}".`, {
          existing_product_id: other.id,
          field: 'external_id',
        });
      }
    }
  }

  /** Runs a write, turning a unique violation from a concurrent writer into the same 409. */
  async function guarded<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (e) {
      if (isUniqueViolation(e)) throw errors.conflict('Another product already has this ean or external_id.');
      throw e;
    }
  }

  return {
    async create(orgId: string, input: CreateProductInput): Promise<Product> {
      const gtin = gtinColumns(input.ean);
      const externalId = input.external_id ?? null;
      await assertUnique(orgId, null, gtin.gtin14, externalId);
      const now = nowIso();
      const row: NewProductRow = {
        id: newId(),
        org_id: orgId,
        external_id: externalId,
        title: input.title,
        ...gtin,
        brand: input.brand ?? null,
        category: input.category ?? null,
        description: input.description ?? null,
        attributes: JSON.stringify(input.attributes ?? {}),
        created_at: now,
        updated_at: now,
      };
      await guarded(() =>
        db.transaction().execute(async (trx) => {
          await createProductRepository(trx).insert(row);
          await createStatsRepository(trx).adjust(orgId, { total_products: 1 });
        }),
      );
      return toProduct({ ...row, has_dpp: 0, dpp_status: null, search_text: '' } as ProductRow);
    },

    async get(orgId: string, productId: string): Promise<Product> {
      return toProduct(await requireRow(orgId, productId));
    },

    /** Fields present replace, `null` clears; `attributes` replaces the whole object. */
    async update(orgId: string, productId: string, input: UpdateProductInput, actor: Actor = { keyId: null, source: 'api' }): Promise<Product> {
      const current = await requireRow(orgId, productId);
      const changes: Partial<NewProductRow> = { updated_at: nowIso() };
      if (input.title !== undefined) changes.title = input.title;
      if (input.ean !== undefined) Object.assign(changes, gtinColumns(input.ean));
      if (input.external_id !== undefined) changes.external_id = input.external_id;
      if (input.brand !== undefined) changes.brand = input.brand;
      if (input.category !== undefined) changes.category = input.category;
      if (input.description !== undefined) changes.description = input.description;
      if (input.attributes !== undefined) changes.attributes = JSON.stringify(input.attributes);
      await assertUnique(orgId, productId, changes.gtin14 ?? null, changes.external_id ?? null);
      const next = { ...current, ...changes } as ProductRow;
      await guarded(() =>
        db.transaction().execute(async (trx) => {
          const products = createProductRepository(trx);
          // Checked under the product's lock, which publish takes too: a publish cannot slip in between.
          if (input.ean !== undefined && changes.gtin14 !== current.gtin14) {
            const locked = await products.findById(orgId, productId, { lock: true });
            if (locked && locked.gtin14 !== changes.gtin14 && (await products.publishedAmong([productId])).has(productId)) {
              throw errors.gtinFrozen(productId, locked.gtin14);
            }
          }
          await products.update(orgId, productId, changes);
          await recordProductChanges(trx, orgId, [{ productId, before: current, after: next }], actor);
        }),
      );
      return toProduct(next);
    },

    /**
     * Deletes a product with its draft passport and history. A product whose passport was ever
     * published is kept: published passports must outlive the product's sale (withdraw it instead).
     */
    async remove(orgId: string, productId: string, actor: Actor = SYSTEM_ACTOR): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const products = createProductRepository(trx);
        // Locked (PostgreSQL) so a concurrent passport change or delete cannot move the counters under us.
        const row = await requireOwnedProduct(trx, orgId, productId, 'all', { lock: true });
        const published = await trx.selectFrom('passport_publications').select('product_id').where('product_id', '=', productId).limit(1).executeTakeFirst();
        if (published) {
          throw errors.conflict('This product has a published passport, which must be kept; withdraw the passport instead.');
        }
        const record = await trx.selectFrom('compliance_records').select(['certifications', 'passport_created_at']).where('product_id', '=', productId).executeTakeFirst();
        const documents = await trx.selectFrom('documents').select('sha256').where('product_id', '=', productId).execute();
        if (!(await products.delete(orgId, productId))) throw errors.productNotFound(productId);
        // The product's documents went with it (cascade); free bytes no other document uses.
        const blobs = createDatabaseBlobStore(trx);
        for (const sha256 of new Set(documents.map((d) => d.sha256))) await blobs.release(sha256);
        const stats = createStatsRepository(trx);
        const status = row.dpp_status;
        await stats.adjust(orgId, { total_products: -1, ...(status ? { with_dpp: -1, [status]: -1 } : {}) });
        if (record?.passport_created_at && record.certifications) {
          const certs = JSON.parse(record.certifications) as string[];
          await stats.adjustCertifications(orgId, new Map(certs.map((c) => [c, -1])));
        }
        await recordAudit(trx, {
          orgId,
          actor,
          action: 'product.delete',
          targetType: 'product',
          targetId: productId,
          details: {
            title: row.title,
            gtin14: row.gtin14,
            external_id: row.external_id,
            had_passport: Boolean(record?.passport_created_at),
            dpp_status: row.dpp_status,
            documents: documents.length,
          },
        });
      });
    },

    async list(orgId: string, page: number, perPage: number) {
      const [rows, total] = await Promise.all([repo.paginate(orgId, perPage, (page - 1) * perPage), repo.count(orgId)]);
      return { items: rows.map(toProduct), total, page, per_page: perPage };
    },
  };
}

export type ProductService = ReturnType<typeof createProductService>;
