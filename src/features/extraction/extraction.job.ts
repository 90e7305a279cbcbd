import type { Kysely } from 'kysely';
import type { Schema } from '../../db/schema.js';
import type { JobHandler } from '../../jobs/worker.js';
import { nowIso } from '../../lib/time.js';
import type { ComplianceService } from '../passports/service.js';
import { createDatabaseBlobStore } from '../documents/blob-store.js';
import { applyExtraction } from './apply.js';
import { documentAuthority, type Authority } from './authority.js';
import type { ExtractionResult } from './fields.js';
import { ProviderError } from './llm/errors.js';
import type { ExtractionProviders } from './providers.js';
import { classifyDocument } from './rules/index.js';
import { createExtractionRepository } from './repository.js';
import { ExtractionFailure, extractTextIsolated, type ExtractionPool } from './text/index.js';

export interface ExtractionJobDeps {
  db: Kysely<Schema>;
  compliance: ComplianceService;
  applyThreshold: number;
  timeoutMs: number;
  memoryMb: number;
  defaultProvider: string;
  /** The providers the extractions name (made once by the worker's owner). */
  providers: ExtractionProviders;
  /** The warm extraction workers to read documents in (their own heap limit applies); owned and closed by the caller. */
  pool: ExtractionPool;
  /** Told of every extraction this job finishes (the /metrics outcome counter). */
  onOutcome?: (provider: string, outcome: 'completed' | 'failed') => void;
}

/** On the job's last attempt an error also fails the extraction (with the reason), so its task can finish. */
async function failOnLastAttempt<T>(
  repo: ReturnType<typeof createExtractionRepository>,
  extractionId: string,
  last: boolean,
  work: () => Promise<T>,
  onFailed?: () => void,
): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (last) {
      await repo.update(extractionId, { status: 'failed', error: `apply: ${(e as Error).message}`, extracted_at: nowIso() });
      onFailed?.();
    }
    throw e;
  }
}

/** Mean confidence of the fields found, as the spec's single `confidence` figure. */
function overallConfidence(result: ExtractionResult): number | null {
  const values = Object.values(result).map((f) => f!.confidence);
  return values.length ? Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1000) / 1000 : null;
}

/**
 * `extraction.run-document`: reads one document's text in an isolated worker thread, extracts the
 * compliance fields, applies them as suggestions and stores the result. Idempotent: the result row
 * is keyed by the job, so a job rerun after a crash overwrites its own row instead of adding one.
 * A document that cannot be read fails its extraction with the reason (no retry); anything else
 * (the database, say) throws and the job is retried with backoff.
 */
export function extractionJob(deps: ExtractionJobDeps): JobHandler {
  return async (payload, job) => {
    const { extractionId } = payload as { extractionId: string };
    const repo = createExtractionRepository(deps.db);
    const extraction = await repo.findById(extractionId);
    if (!extraction || extraction.status === 'completed' || extraction.status === 'failed') return;
    await repo.update(extractionId, { status: 'running' });
    const finished = (outcome: 'completed' | 'failed') => deps.onOutcome?.(extraction.provider, outcome);

    const document = await deps.db.selectFrom('documents').selectAll().where('id', '=', extraction.asset_id).executeTakeFirst();
    const bytes = document && (await createDatabaseBlobStore(deps.db).get(document.sha256));
    if (!document || !bytes) {
      await repo.update(extractionId, { status: 'failed', error: 'the document was deleted before it could be read', extracted_at: nowIso() });
      finished('failed');
      return;
    }
    let result: ExtractionResult;
    let authority: Authority;
    try {
      // Scanned PDFs and images are read by OCR (English, French, German) inside the same isolated worker.
      const text = await extractTextIsolated(bytes, document.media_type, {
        timeoutMs: deps.timeoutMs,
        maxOldGenerationMb: deps.memoryMb,
        ocr: true,
        pool: deps.pool,
      });
      result = await deps.providers.resolve(extraction.provider, deps.defaultProvider).extract(text);
      // What the document is decides which of the product's fields it may set (see authority.ts).
      authority = documentAuthority(document.kind, classifyDocument(text));
    } catch (e) {
      // Transient provider errors (rate limit, timeout) are retried by the queue; on the last attempt
      // the extraction records the reason instead of staying `running` for ever.
      const lastAttempt = job.attempts >= job.max_attempts;
      if (!(e instanceof ExtractionFailure) && !(e instanceof ProviderError && lastAttempt)) throw e;
      const reason = e instanceof ExtractionFailure ? e.reason : (e as ProviderError).reason;
      await repo.update(extractionId, { status: 'failed', error: `${reason}: ${(e as Error).message}`, extracted_at: nowIso() });
      finished('failed');
      return;
    }
    // Stored before applying: another document's job deciding under the product's lock reads it.
    await repo.update(extractionId, { authority });
    const outcome = await failOnLastAttempt(
      repo,
      extractionId,
      job.attempts >= job.max_attempts,
      () =>
        applyExtraction(
          deps.compliance,
          { orgId: extraction.org_id, productId: extraction.product_id, extractionId, authority, documentName: document.filename },
          result,
          deps.applyThreshold,
        ),
      () => finished('failed'),
    );
    await repo.update(extractionId, {
      status: 'completed',
      fields: JSON.stringify(result),
      confidence: overallConfidence(result),
      applied: JSON.stringify(outcome.applied),
      conflicts: JSON.stringify(outcome.conflicts),
      error: null,
      extracted_at: nowIso(),
    });
    finished('completed');
  };
}
