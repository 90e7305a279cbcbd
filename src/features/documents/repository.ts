import type { Kysely, Transaction } from 'kysely';
import type { DocumentRow, Schema } from '../../db/schema.js';

type Db = Kysely<Schema> | Transaction<Schema>;

/** SQL for documents (the metadata; bytes are in the BlobStore). Scoped by organisation. */
export function createDocumentRepository(db: Db) {
  return {
    findById(orgId: string, id: string): Promise<DocumentRow | undefined> {
      return db.selectFrom('documents').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
    },
    findBySha(productId: string, sha256: string): Promise<DocumentRow | undefined> {
      return db.selectFrom('documents').selectAll().where('product_id', '=', productId).where('sha256', '=', sha256).executeTakeFirst();
    },
    listForProduct(orgId: string, productId: string): Promise<DocumentRow[]> {
      return db.selectFrom('documents').selectAll().where('org_id', '=', orgId).where('product_id', '=', productId).orderBy('created_at').orderBy('id').execute();
    },
    async insert(row: DocumentRow): Promise<void> {
      await db.insertInto('documents').values(row).execute();
    },
    /** False when there was no such document (a concurrent delete came first). */
    async delete(orgId: string, id: string): Promise<boolean> {
      const r = await db.deleteFrom('documents').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
