import type { Kysely, Transaction } from 'kysely';
import type { ExtractionRow, Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';
import { newId } from '../../lib/ids.js';
import { nowIso } from '../../lib/time.js';
import { enqueue } from '../../jobs/queue.js';
import { createDocumentRepository } from '../documents/repository.js';
import type { ExtractionProviders } from './providers.js';
import { createExtractionRepository } from './repository.js';

export const EXTRACTION_QUEUE = 'extraction.run-document';

export interface ExtractionServiceOptions {
  defaultProvider: string;
  /** The providers a request may name (checked when it is queued; the job worker runs them). */
  providers: ExtractionProviders;
}

type ProductRef = { id: string };

/**
 * Queues extractions (one per document, each an extraction row and a job written in the same
 * transaction) and reports their progress and results.
 */
export function createExtractionService(db: Kysely<Schema>, options: ExtractionServiceOptions) {
  const repo = createExtractionRepository(db);

  async function products(orgId: string, ids: string[]): Promise<Map<string, ProductRef>> {
    if (ids.length === 0) return new Map();
    const rows = await db.selectFrom('products').select('id').where('org_id', '=', orgId).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, r]));
  }

  async function queue(trx: Transaction<Schema>, orgId: string, taskId: string, provider: string, productId: string, assetId: string) {
    const id = newId();
    const jobId = newId();
    const row: ExtractionRow = {
      id,
      org_id: orgId,
      product_id: productId,
      asset_id: assetId,
      task_id: taskId,
      job_id: jobId,
      provider,
      status: 'queued',
      fields: null,
      confidence: null,
      applied: null,
      conflicts: null,
      authority: null,
      error: null,
      created_at: nowIso(),
      extracted_at: null,
    };
    await createExtractionRepository(trx).insert(row);
    await enqueue(trx, { id: jobId, queue: EXTRACTION_QUEUE, payload: { extractionId: id }, groupId: taskId, maxAttempts: 5 });
  }

  /** One task for many products: every document of each known product is queued. */
  async function queueProducts(orgId: string, productIds: string[], requested?: string) {
    const provider = options.providers.resolveName(requested, options.defaultProvider);
    const unique = [...new Set(productIds)];
    const known = await products(orgId, unique);
    const taskId = newId();
    const rejected: Array<{ product_id: string; reason: string }> = [];
    let queuedProducts = 0;
    let queuedDocuments = 0;
    await db.transaction().execute(async (trx) => {
      let taskWritten = false;
      for (const productId of unique) {
        if (!known.has(productId)) {
          rejected.push({ product_id: productId, reason: 'not_found' });
          continue;
        }
        const docs = await createDocumentRepository(trx).listForProduct(orgId, productId);
        if (docs.length === 0) {
          rejected.push({ product_id: productId, reason: 'no_documents' });
          continue;
        }
        // The task row is written with its first job: a request that queues nothing leaves no task.
        if (!taskWritten) await createExtractionRepository(trx).insertTask({ id: taskId, org_id: orgId, provider, created_at: nowIso() });
        taskWritten = true;
        for (const doc of docs) await queue(trx, orgId, taskId, provider, productId, doc.id);
        queuedProducts++;
        queuedDocuments += docs.length;
      }
    });
    return { taskId, provider, queuedProducts, queuedDocuments, rejected };
  }

  return {
    queueProducts,

    async queueDocument(orgId: string, productId: string, assetId: string, requested?: string) {
      const provider = options.providers.resolveName(requested, options.defaultProvider);
      if (!(await products(orgId, [productId])).has(productId)) throw errors.productNotFound(productId);
      const doc = await createDocumentRepository(db).findById(orgId, assetId);
      // An asset of another product is reported exactly like a missing one.
      if (!doc || doc.product_id !== productId) throw errors.notFound('Asset', `Asset ${assetId} of product ${productId} not found.`);
      const taskId = newId();
      await db.transaction().execute(async (trx) => {
        await createExtractionRepository(trx).insertTask({ id: taskId, org_id: orgId, provider, created_at: nowIso() });
        await queue(trx, orgId, taskId, provider, productId, assetId);
      });
      return { taskId, provider };
    },

    async requireProduct(orgId: string, productId: string) {
      if (!(await products(orgId, [productId])).has(productId)) throw errors.productNotFound(productId);
    },

    /** Progress of a task: counts by status, and per product. */
    async task(orgId: string, taskId: string) {
      const task = await repo.findTask(orgId, taskId);
      if (!task) throw errors.notFound('Task', `Task ${taskId} not found.`);
      const rows = await repo.forTask(taskId);
      const counts = { queued: 0, running: 0, completed: 0, failed: 0 };
      const perProduct = new Map<string, { product_id: string; documents: number; completed: number; failed: number; status: string }>();
      for (const r of rows) {
        counts[r.status as keyof typeof counts]++;
        const p = perProduct.get(r.product_id) ?? { product_id: r.product_id, documents: 0, completed: 0, failed: 0, status: 'queued' };
        p.documents++;
        if (r.status === 'completed') p.completed++;
        if (r.status === 'failed') p.failed++;
        if (r.status === 'running') p.status = 'running';
        perProduct.set(r.product_id, p);
      }
      for (const p of perProduct.values()) {
        if (p.completed + p.failed === p.documents) p.status = p.failed === p.documents ? 'failed' : 'completed';
      }
      const done = counts.completed + counts.failed === rows.length;
      return {
        task_id: taskId,
        provider: task.provider,
        status: rows.length === 0 ? 'completed' : done ? 'completed' : counts.running + counts.completed + counts.failed > 0 ? 'running' : 'queued',
        created_at: task.created_at,
        counts,
        products: [...perProduct.values()],
      };
    },

    /** Every extraction of a product, newest first, with per-field confidence and evidence. */
    async results(orgId: string, productId: string, options: { history?: boolean } = {}) {
      if (!(await products(orgId, [productId])).has(productId)) throw errors.productNotFound(productId);
      const all = await repo.forProduct(orgId, productId);
      // Newest first: by default the latest run of each document (a document extracted 13 times is
      // one result); `history` lists every run.
      const seen = new Set<string>();
      const rows = options.history ? all : all.filter((r) => !seen.has(r.asset_id) && seen.add(r.asset_id));
      return {
        product_id: productId,
        extractions: rows.map((r) => {
          const details = r.fields ? (JSON.parse(r.fields) as Record<string, { value: unknown; confidence: number; evidence: unknown[] }>) : {};
          return {
            extraction_id: r.id,
            asset_id: r.asset_id,
            document_name: r.filename ?? null,
            task_id: r.task_id,
            provider: r.provider,
            status: r.status,
            extracted_at: r.extracted_at,
            fields: Object.fromEntries(Object.entries(details).map(([k, v]) => [k, v.value])),
            field_details: details,
            confidence: r.confidence,
            applied_fields: r.applied ? (JSON.parse(r.applied) as string[]) : [],
            conflicts: r.conflicts ? (JSON.parse(r.conflicts) as unknown[]) : [],
            authority: r.authority,
            error: r.error,
          };
        }),
      };
    },
  };
}

export type ExtractionService = ReturnType<typeof createExtractionService>;
