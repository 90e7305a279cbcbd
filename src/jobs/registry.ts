import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { createComplianceService } from '../features/passports/service.js';
import { extractionJob, type ExtractionJobDeps } from '../features/extraction/extraction.job.js';
import { EXTRACTION_QUEUE } from '../features/extraction/service.js';
import { createExtractionProviders, type ExtractionProviders } from '../features/extraction/providers.js';
import { startAuditRetention, type AuditRetention } from '../features/audit/retention.js';
import { ExtractionPool } from '../features/extraction/text/index.js';
import { createWorker, type Worker } from './worker.js';

/**
 * The worker with every job handler of the system, as `dpp serve` (SQLite) and `dpp worker` run it.
 * Documents are read in a pool of `EXTRACTION_WORKERS` warm worker threads, closed by `stop()`; the
 * extraction providers (and their SDK clients) are made here from `config`, unless `options.providers` is given.
 */
export function createSystemWorker(
  config: Config,
  database: Database,
  log?: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>,
  options: { onExtractionOutcome?: ExtractionJobDeps['onOutcome']; providers?: ExtractionProviders } = {},
): Worker {
  const providers = options.providers ?? createExtractionProviders(config);
  const compliance = createComplianceService(database.db, { publicBaseUrl: config.publicBaseUrl });
  const pool = new ExtractionPool({ size: config.extractionWorkers, maxOldGenerationMb: config.extractionMemoryMb });
  const worker = createWorker({
    db: database.db,
    concurrency: config.workerConcurrency,
    leaseMs: config.jobLeaseMs,
    ...(log ? { log } : {}),
    handlers: {
      [EXTRACTION_QUEUE]: extractionJob({
        db: database.db,
        compliance,
        applyThreshold: config.extractionApplyThreshold,
        timeoutMs: config.extractionTimeoutMs,
        memoryMb: config.extractionMemoryMb,
        defaultProvider: config.extractionProvider,
        providers,
        pool,
        ...(options.onExtractionOutcome ? { onOutcome: options.onExtractionOutcome } : {}),
      }),
    },
  });
  let retention: AuditRetention | undefined;
  return {
    get id() {
      return worker.id;
    },
    start: () => {
      worker.start();
      // The audit log's retention purge runs where the jobs run: at start, then daily (AUDIT_RETENTION_DAYS).
      retention ??= startAuditRetention(database.db, config.auditRetentionDays, log);
    },
    drain: () => worker.drain(),
    // Running jobs finish first (stop waits for them); then the extraction workers go.
    stop: async () => {
      await retention?.stop();
      retention = undefined;
      try {
        await worker.stop();
      } finally {
        await pool.close();
      }
    },
  };
}
