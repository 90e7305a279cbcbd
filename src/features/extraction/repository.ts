import type { Kysely, Transaction } from 'kysely';
import type { ExtractionRow, Schema } from '../../db/schema.js';

type Db = Kysely<Schema> | Transaction<Schema>;

/** SQL for extraction tasks and results. */
export function createExtractionRepository(db: Db) {
  return {
    async insertTask(row: Schema['extraction_tasks']): Promise<void> {
      await db.insertInto('extraction_tasks').values(row).execute();
    },
    findTask(orgId: string, id: string) {
      return db.selectFrom('extraction_tasks').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
    },
    async insert(row: ExtractionRow): Promise<void> {
      await db.insertInto('extractions').values(row).execute();
    },
    findById(id: string) {
      return db.selectFrom('extractions').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async update(id: string, changes: Partial<ExtractionRow>): Promise<void> {
      await db.updateTable('extractions').set(changes).where('id', '=', id).execute();
    },
    /** Extractions of a product with their document names, newest first. */
    forProduct(orgId: string, productId: string) {
      return db
        .selectFrom('extractions')
        .leftJoin('documents', 'documents.id', 'extractions.asset_id')
        .selectAll('extractions')
        .select('documents.filename')
        .where('extractions.org_id', '=', orgId)
        .where('extractions.product_id', '=', productId)
        .orderBy('extractions.created_at', 'desc')
        .orderBy('extractions.id', 'desc')
        .execute();
    },
    forTask(taskId: string) {
      return db
        .selectFrom('extractions')
        .select(['product_id', 'asset_id', 'status', 'error'])
        .where('task_id', '=', taskId)
        .execute();
    },
  };
}
