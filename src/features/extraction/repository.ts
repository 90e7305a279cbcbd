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
    /** A job the queue gave up on (its last attempt died) reports its extraction as failed. */
    async forTask(taskId: string) {
      const rows = await db
        .selectFrom('extractions')
        .leftJoin('jobs', 'jobs.id', 'extractions.job_id')
        .select(['extractions.product_id', 'extractions.asset_id', 'extractions.status', 'extractions.error', 'jobs.status as job_status', 'jobs.last_error'])
        .where('extractions.task_id', '=', taskId)
        .execute();
      return rows.map((r) => (r.job_status === 'failed' && (r.status === 'queued' || r.status === 'running') ? { ...r, status: 'failed', error: r.error ?? r.last_error } : r));
    },
  };
}
