import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../db/dialect.js';
import type { DocumentRow, Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';
import { newId } from '../../lib/ids.js';
import { recordWorkingCopyChange } from '../passports/product-changes.js';
import { requireOwnedProduct } from '../products/ownership.js';
import { nowIso } from '../../lib/time.js';
import { recordAudit, SYSTEM_ACTOR, type AuditActor } from '../audit/record.js';
import { createDatabaseBlobStore, sha256Of } from './blob-store.js';
import { ACCEPTED_MEDIA_TYPES, detectMediaType } from './media-type.js';
import { createDocumentRepository } from './repository.js';
import { liveVersionsListing } from './public-documents.js';
import { isPublicDocumentRole, PUBLIC_DOCUMENT_ROLE_NAMES, ROLE_OF_KIND, type PublicDocumentRole } from './public-roles.js';

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
    public: row.public_role !== null,
    public_role: row.public_role,
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
        public_role: null,
        public_changed_at: null,
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

    /**
     * Marks a document public with a role (or private again). The public side shows the change from
     * the next published version on: published versions never change. The passport's working copy
     * moves to a new version (its ETag changes) and, when published, is marked as having unpublished
     * changes, so the next publish makes a version. Audited. Unknown ids, and documents of another
     * product or organisation, answer 404.
     */
    async setPublic(orgId: string, productId: string, assetId: string, input: { public: boolean; role?: string | undefined }, actor: AuditActor = SYSTEM_ACTOR) {
      let role: PublicDocumentRole | null = null;
      if (input.role !== undefined && !isPublicDocumentRole(input.role)) {
        throw errors.validation(`role "${input.role}" is not one of ${PUBLIC_DOCUMENT_ROLE_NAMES.join(', ')}.`, [
          { field: 'body/role', rule: 'enum', message: `must be one of ${PUBLIC_DOCUMENT_ROLE_NAMES.join(', ')}` },
        ]);
      }
      return db.transaction().execute(async (trx) => {
        // The product's lock orders this change with a publish of the same passport.
        await requireOwnedProduct(trx, orgId, productId, ['id'], { lock: true });
        const row = await createDocumentRepository(trx).findById(orgId, assetId);
        if (!row || row.product_id !== productId) throw errors.notFound('Document', `Document ${assetId} of product ${productId} not found.`);
        if (input.public) {
          role = (input.role as PublicDocumentRole | undefined) ?? ROLE_OF_KIND[row.kind] ?? null;
          if (!role) {
            throw errors.validation(`A public document needs a role; its kind "${row.kind}" does not imply one.`, [
              { field: 'body/role', rule: 'required', message: `is required when public is true: one of ${PUBLIC_DOCUMENT_ROLE_NAMES.join(', ')}` },
            ]);
          }
        }
        if (row.public_role === role) return toAsset(row);
        const now = nowIso();
        await trx.updateTable('documents').set({ public_role: role, public_changed_at: now }).where('id', '=', assetId).execute();
        await recordDocumentChange(trx, orgId, productId, { document_id: assetId, old: row.public_role, new: role }, actor, now);
        await recordAudit(trx, {
          orgId,
          actor,
          action: 'document.visibility',
          targetType: 'document',
          targetId: assetId,
          at: now,
          details: { product_id: productId, filename: row.filename, public: role !== null, role, previous_role: row.public_role, sha256: row.sha256 },
        });
        return toAsset({ ...row, public_role: role, public_changed_at: now });
      });
    },

    async remove(orgId: string, assetId: string, actor: AuditActor = SYSTEM_ACTOR) {
      const row = await requireDocument(orgId, assetId);
      await db.transaction().execute(async (trx) => {
        // Under the product's lock, so a publish cannot list the document while it goes.
        await requireOwnedProduct(trx, orgId, row.product_id, ['id'], { lock: true });
        const listing = await liveVersionsListing(trx, row.product_id, assetId);
        if (listing.length) {
          const versions = listing.map((l) => l.version).sort((a, b) => a - b);
          throw errors.conflict(
            `Document ${assetId} is linked from published passport version ${versions.join(', ')}, which the public can read, and published versions never change. ` +
              'Withdraw the passport before deleting it (marking it private only takes it off the next published version).',
            { published_versions: versions },
          );
        }
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

/**
 * A document's public role changed: a change of the passport's working copy (new version, marked as
 * having unpublished changes when published, a history entry), as a catalog change the passport shows
 * is (passports/product-changes.ts). Products without a passport are skipped.
 */
async function recordDocumentChange(
  trx: Kysely<Schema>,
  orgId: string,
  productId: string,
  change: { document_id: string; old: string | null; new: string | null },
  actor: AuditActor,
  now: string,
) {
  const record = await trx
    .selectFrom('compliance_records')
    .select(['version', 'passport_created_at', 'published_version', 'withdrawn_at'])
    .where('product_id', '=', productId)
    .executeTakeFirst();
  if (!record?.passport_created_at) return;
  // Under the product's lock every passport writer waits for us: the version cannot move meanwhile.
  await recordWorkingCopyChange(
    trx,
    orgId,
    productId,
    record,
    {
      action: 'document_update',
      changes: [
        {
          field: 'documents',
          old: change.old === null ? null : { document_id: change.document_id, role: change.old },
          new: change.new === null ? null : { document_id: change.document_id, role: change.new },
        },
      ],
    },
    actor,
    now,
  );
}

export type DocumentService = ReturnType<typeof createDocumentService>;
export { ACCEPTED_MEDIA_TYPES };
