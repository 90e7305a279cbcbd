import type { Kysely } from 'kysely';
import type { Schema } from '../../db/schema.js';
import { createAuditService } from './service.js';

/** How often the job worker purges expired audit events (and once when it starts). */
export const AUDIT_PURGE_INTERVAL_MS = 24 * 60 * 60 * 1000;

export interface AuditRetention {
  /** Resolves when the purge started with `start` (the first one) has finished. */
  readonly started: Promise<void>;
  /** Stops the timer and waits for a purge under way (the database is closed next). */
  stop(): Promise<void>;
}

/**
 * Runs the audit retention purge now and then every `intervalMs` (a timer that does not keep the
 * process alive), for the job worker. `retentionDays` 0 keeps every event: nothing runs.
 */
export function startAuditRetention(
  db: Kysely<Schema>,
  retentionDays: number,
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void },
  intervalMs = AUDIT_PURGE_INTERVAL_MS,
): AuditRetention {
  if (retentionDays <= 0) return { started: Promise.resolve(), stop: async () => {} };
  const audit = createAuditService(db);
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  const purge = async () => {
    try {
      const deleted = await audit.purge(retentionDays);
      if (deleted > 0) log?.info({ deleted, retention_days: retentionDays }, 'purged expired audit events');
    } catch (e) {
      log?.warn({ err: e }, 'audit retention purge failed; retried at the next interval');
    }
  };
  const run = () => {
    if (!stopped) current = purge();
    return current;
  };
  const started = run();
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return {
    started,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
