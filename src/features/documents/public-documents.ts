import type { Kysely, Transaction } from 'kysely';
import type { Schema } from '../../db/schema.js';
import { createDatabaseBlobStore } from './blob-store.js';
import { isPublicDocumentRole, linkTypeOf, type PublicDocument } from './public-roles.js';

type Db = Kysely<Schema> | Transaction<Schema>;

/**
 * The documents of a product marked public, in upload order, as a publication snapshot lists them.
 * Publish calls it inside its transaction, under the product's lock.
 */
export async function publicDocumentsOf(db: Db, productId: string): Promise<PublicDocument[]> {
  const rows = await db
    .selectFrom('documents')
    .select(['id', 'filename', 'public_role', 'media_type', 'size', 'sha256'])
    .where('product_id', '=', productId)
    .where('public_role', 'is not', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.flatMap((r) =>
    r.public_role && isPublicDocumentRole(r.public_role)
      ? [{ document_id: r.id, filename: r.filename, role: r.public_role, link_type: linkTypeOf(r.public_role), media_type: r.media_type, size: Number(r.size), sha256: r.sha256 }]
      : [],
  );
}

/**
 * The published versions the public can read now that list this document, newest first, each with
 * the document as that version captured it. Empty unless the passport is live (published, not
 * withdrawn); a withdrawn version never counts. The snapshots are narrowed in SQL by the document id
 * (a UUID: no LIKE wildcards) and then read, so an id that merely appears elsewhere does not count.
 */
export async function liveVersionsListing(db: Db, productId: string, documentId: string): Promise<Array<{ version: number; document: PublicDocument }>> {
  const record = await db.selectFrom('compliance_records').select(['published_version', 'withdrawn_at']).where('product_id', '=', productId).executeTakeFirst();
  if (!record || record.published_version === null || record.withdrawn_at) return [];
  const publications = await db
    .selectFrom('passport_publications')
    .select(['published_version', 'snapshot'])
    .where('product_id', '=', productId)
    .where('withdrawn_at', 'is', null)
    .where('snapshot', 'like', `%${documentId}%`)
    .orderBy('published_version', 'desc')
    .execute();
  return publications.flatMap((p) => {
    const listed = ((JSON.parse(p.snapshot) as { documents?: PublicDocument[] }).documents ?? []).find((d) => d.document_id === documentId);
    return listed ? [{ version: p.published_version, document: listed }] : [];
  });
}

/**
 * A document as the public may download it: listed by a published version the public can read now,
 * still stored with the bytes that version captured. Undefined otherwise (private, withdrawn, another
 * product's, deleted), which the route answers 404 without saying which.
 */
export async function servedPublicDocument(db: Db, productId: string, documentId: string): Promise<{ document: PublicDocument; bytes: Buffer } | undefined> {
  const [newest] = await liveVersionsListing(db, productId, documentId);
  if (!newest) return undefined;
  const row = await db.selectFrom('documents').select(['sha256']).where('id', '=', documentId).where('product_id', '=', productId).executeTakeFirst();
  if (!row || row.sha256 !== newest.document.sha256) return undefined;
  const bytes = await createDatabaseBlobStore(db).get(row.sha256);
  return bytes ? { document: newest.document, bytes } : undefined;
}
