import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../db/dialect.js';
import type { DocumentRow, Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';
import { newId } from '../../lib/ids.js';
import { requireOwnedProduct } from '../products/ownership.js';
import { nowIso } from '../../lib/time.js';
import { recordAudit, SYSTEM_ACTOR, type AuditActor } from '../audit/record.js';
import { createDatabaseBlobStore, sha256Of } from './blob-store.js';
import { ACCEPTED_MEDIA_TYPES, detectMediaType } from './media-type.js';
import { createDocumentRepository } from './repository.js';

export const DOCUMENT_KINDS = ['declaration_of_conformity', 'rohs', 'reach', 'datasheet', 'carbon_footprint', 'manual', 'other'] as const;

export function toAsset(row: DocumentRow) {
  return {
    asset_id: row.id,
    product_id: row.product_id,
    filename: row.filename,
    media_type: row.media_type,
    kind: row.kind,
    size: row.size,
    sha256: row.sha256,
    created_at: row.created_at,
  };
}
export type Asset = ReturnType<typeof toAsset>;

/** Keeps a file name displayable and safe in a Content-Disposition header. */
function cleanFilename(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base
    .replace(/[\u0000-\u001f\u007f"]/g, '')
    .trim()
    .slice(0, 255);
  return clean || 'document';
}

/** Supplier documents attached to products: upload (type from the bytes, deduplicated), read, delete. */
export function createDocumentService(db: Kysely<Schema>) {
  const repo = createDocumentRepository(db);

  const requireProduct = (orgId: string, productId: string) => requireOwnedProduct(db, orgId, productId);

  async function requireDocument(orgId: string, assetId: string) {
    const row = await repo.findById(orgId, assetId);
    if (!row) throw errors.notFound('Asset', `Asset ${assetId} not found.`);
    return row;
  }

  return {
    requireDocument,

    /** Stores a document; the same bytes for the same product answer the existing asset (`created: false`). */
    async upload(orgId: string, productId: string, input: { filename?: string; bytes: Buffer; kind?: string }) {
      await requireProduct(orgId, productId);
      const mediaType = await detectMediaType(input.bytes);
      if (!mediaType) {
        throw errors.unsupportedMediaType('the uploaded bytes', ['PDF', 'DOCX', 'HTML', 'plain text', 'Markdown', 'PNG', 'JPEG']);
      }
      const sha256 = sha256Of(input.bytes);
      const existing = await repo.findBySha(productId, sha256);
      if (existing) return { asset: toAsset(existing), created: false };
      const row: DocumentRow = {
        id: newId(),
        org_id: orgId,
        product_id: productId,
        filename: cleanFilename(input.filename),
        media_type: mediaType,
        kind: input.kind ?? 'other',
        size: input.bytes.length,
        sha256,
        created_at: nowIso(),
      };
      try {
        await db.transaction().execute(async (trx) => {
          await createDatabaseBlobStore(trx).put(input.bytes);
          await createDocumentRepository(trx).insert(row);
        });
      } catch (e) {
        // The same file uploaded twice at once: the other upload won, answer its asset.
        const winner = isUniqueViolation(e) ? await repo.findBySha(productId, sha256) : undefined;
        if (winner) return { asset: toAsset(winner), created: false };
        throw e;
      }
      return { asset: toAsset(row), created: true };
    },

    async list(orgId: string, productId: string) {
      await requireProduct(orgId, productId);
      return (await repo.listForProduct(orgId, productId)).map(toAsset);
    },

    async get(orgId: string, assetId: string) {
      return toAsset(await requireDocument(orgId, assetId));
    },

    async content(orgId: string, assetId: string) {
      const row = await requireDocument(orgId, assetId);
      const bytes = await createDatabaseBlobStore(db).get(row.sha256);
      if (!bytes) throw errors.notFound('Asset content', `The content of asset ${assetId} is missing.`);
      return { asset: toAsset(row), bytes };
    },

    async remove(orgId: string, assetId: string, actor: AuditActor = SYSTEM_ACTOR) {
      const row = await requireDocument(orgId, assetId);
      await db.transaction().execute(async (trx) => {
        // A concurrent delete that came first answers 404 here: the bytes are released, and audited, once.
        if (!(await createDocumentRepository(trx).delete(orgId, assetId))) throw errors.notFound('Asset', `Asset ${assetId} not found.`);
        await createDatabaseBlobStore(trx).release(row.sha256);
        await recordAudit(trx, {
          orgId,
          actor,
          action: 'document.delete',
          targetType: 'document',
          targetId: assetId,
          details: { product_id: row.product_id, filename: row.filename, kind: row.kind, sha256: row.sha256, size: row.size },
        });
      });
    },
  };
}

export type DocumentService = ReturnType<typeof createDocumentService>;
export { ACCEPTED_MEDIA_TYPES };
