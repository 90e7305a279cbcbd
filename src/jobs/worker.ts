import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { JobRow, Schema } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import { claim, complete, fail, heartbeat } from './queue.js';

/** A job handler: must be idempotent, since a job whose worker died runs again. */
export type JobHandler = (payload: unknown, job: JobRow) => Promise<void>;

export interface WorkerOptions {
  db: Kysely<Schema>;
  handlers: Record<string, JobHandler>;
  /** Jobs run at once by this worker. */
  concurrency?: number;
  /** How long a claimed job is leased before another worker may take it over. */
  leaseMs?: number;
  /** Wait between polls when the queue is empty. */
  pollMs?: number;
  log?: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;
}

export interface Worker {
  readonly id: string;
  start(): void;
  /** Stops claiming, waits for running jobs to finish (their leases protect them if we are killed). */
  stop(): Promise<void>;
  /** Resolves when the queue is empty and nothing runs (for tests and one-shot runs). */
  drain(): Promise<void>;
}

/**
 * Runs jobs from the durable queue: claim, run the handler with a heartbeat that extends the lease,
 * complete or fail (with backoff). Several workers, in one process or many, can share a database.
 */
export function createWorker(options: WorkerOptions): Worker {
  const id = `${hostname()}:${process.pid}:${newId().slice(-8)}`;
  const { db, handlers } = options;
  const concurrency = options.concurrency ?? 2;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 500;
  const queues = Object.keys(handlers);
  const running = new Set<Promise<void>>();
  let stopped = true;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let idleWaiters: Array<() => void> = [];

  async function runOne(job: JobRow) {
    const beat = setInterval(() => void heartbeat(db, job, leaseMs).catch(() => {}), Math.max(1000, leaseMs / 3));
    try {
      await handlers[job.queue]!(JSON.parse(job.payload), job);
      await complete(db, job);
    } catch (e) {
      const outcome = await fail(db, job, e instanceof Error ? e.message : String(e));
      options.log?.warn({ job: job.id, queue: job.queue, attempt: job.attempts, outcome, err: e }, 'job failed');
    } finally {
      clearInterval(beat);
    }
  }

  async function run() {
    while (!stopped) {
      let job: JobRow | undefined;
      if (running.size < concurrency) {
        try {
          job = await claim(db, id, queues, leaseMs);
        } catch (e) {
          options.log?.error({ err: e }, 'claiming a job failed');
        }
      }
      if (job) {
        const p = runOne(job).finally(() => {
          running.delete(p);
          wake?.();
        });
        running.add(p);
        continue;
      }
      if (running.size === 0) {
        for (const w of idleWaiters) w();
        idleWaiters = [];
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  return {
    id,
    start() {
      if (!stopped) return;
      stopped = false;
      loop = run();
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await Promise.allSettled([...running]);
    },
    drain: () => new Promise<void>((resolve) => idleWaiters.push(resolve)),
  };
}
