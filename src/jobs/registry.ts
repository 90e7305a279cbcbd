import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { createComplianceService } from '../features/compliance/service.js';
import { extractionJob } from '../features/extraction/extraction.job.js';
import { EXTRACTION_QUEUE } from '../features/extraction/service.js';
import { configureProviders } from '../features/extraction/providers.js';
import { createWorker, type Worker } from './worker.js';

/** The worker with every job handler of the system, as `dpp serve` (SQLite) and `dpp worker` run it. */
export function createSystemWorker(config: Config, database: Database, log?: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>): Worker {
  configureProviders(config);
  const compliance = createComplianceService(database.db, database.dialect);
  return createWorker({
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
      }),
    },
  });
}
