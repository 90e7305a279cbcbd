import { sql, type Kysely, type Transaction } from 'kysely';
import { dialectOf } from '../db/dialect.js';
import type { JobRow, Schema } from '../db/schema.js';
import { newId } from '../lib/ids.js';

type Db = Kysely<Schema> | Transaction<Schema>;

export interface EnqueueOptions {
  queue: string;
  payload: unknown;
  /** Higher runs first. */
  priority?: number;
  /** Not before this time (ISO). */
  runAt?: string;
  maxAttempts?: number;
  /** A second enqueue with the same key is ignored: at most one job per key. */
  idempotencyKey?: string;
  groupId?: string;
  id?: string;
}

export const BACKOFF_BASE_MS = 2_000;
export const BACKOFF_MAX_MS = 10 * 60_000;

/** Delay before retry number `attempt` (1-based): 2 s, 4 s, 8 s … capped at 10 minutes. */
export function backoffMs(attempt: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The durable job queue: one table in the application database, so a job is enqueued in the same
 * transaction as the write that causes it. All job SQL lives here.
 *
 * @example
 * await db.transaction().execute(async (trx) => {
 *   await writeSomething(trx);
 *   await enqueue(trx, { queue: 'extraction.run', payload: { extractionId } });
 * });
 */
export async function enqueue(db: Db, options: EnqueueOptions): Promise<string> {
  const id = options.id ?? newId();
  const now = iso(Date.now());
  await db
    .insertInto('jobs')
    .values({
      id,
      queue: options.queue,
      payload: JSON.stringify(options.payload ?? null),
      status: 'queued',
      priority: options.priority ?? 0,
      run_at: options.runAt ?? now,
      attempts: 0,
      max_attempts: options.maxAttempts ?? 5,
      locked_by: null,
      locked_until: null,
      last_error: null,
      idempotency_key: options.idempotencyKey ?? null,
      group_id: options.groupId ?? null,
      created_at: now,
      updated_at: now,
      completed_at: null,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .execute();
  return id;
}

/**
 * Claims the next due job of the given queues for `workerId`, leasing it for `leaseMs`. A job whose
 * lease ran out (its worker died) is due again. PostgreSQL skips rows other workers hold
 * (`FOR UPDATE SKIP LOCKED`); on SQLite the single UPDATE … RETURNING is atomic under its one writer.
 */
export async function claim(db: Kysely<Schema>, workerId: string, queues: string[], leaseMs: number, nowMs = Date.now()): Promise<JobRow | undefined> {
  const now = iso(nowMs);
  const due = db
    .selectFrom('jobs')
    .select('id')
    .where('queue', 'in', queues)
    .where((eb) => eb.or([eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', now)]), eb.and([eb('status', '=', 'running'), eb('locked_until', '<', now)])]))
    .orderBy('priority', 'desc')
    .orderBy('run_at')
    .orderBy('id')
    .limit(1);
  const picked = dialectOf(db) === 'postgres' ? due.forUpdate().skipLocked() : due;
  const job = await db
    .updateTable('jobs')
    .set({
      status: 'running',
      locked_by: workerId,
      locked_until: iso(nowMs + leaseMs),
      attempts: sql`attempts + 1`,
      updated_at: now,
    })
    .where('id', '=', picked)
    .returningAll()
    .executeTakeFirst();
  if (job && job.attempts > job.max_attempts) {
    // Its last attempt died holding the lease: give up instead of running it again.
    await fail(db, job, 'lease expired on the last attempt (the worker stopped while running it)', nowMs);
    return claim(db, workerId, queues, leaseMs, nowMs);
  }
  return job;
}

/** Extends the lease of a job this worker still holds; false when it lost the job. */
export async function heartbeat(db: Kysely<Schema>, job: JobRow, leaseMs: number): Promise<boolean> {
  const r = await db
    .updateTable('jobs')
    .set({ locked_until: iso(Date.now() + leaseMs) })
    .where('id', '=', job.id)
    .where('locked_by', '=', job.locked_by)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Marks a job done, only if this worker still holds it (guarded completion). */
export async function complete(db: Db, job: JobRow): Promise<boolean> {
  const now = iso(Date.now());
  const r = await db
    .updateTable('jobs')
    .set({ status: 'completed', completed_at: now, updated_at: now, locked_by: null, locked_until: null })
    .where('id', '=', job.id)
    .where('locked_by', '=', job.locked_by)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Records a failure: retried later with exponential backoff, or `failed` for good after the last attempt. */
export async function fail(db: Db, job: JobRow, error: string, nowMs = Date.now()): Promise<'retry' | 'failed'> {
  const final = job.attempts >= job.max_attempts;
  await db
    .updateTable('jobs')
    .set({
      status: final ? 'failed' : 'queued',
      run_at: final ? job.run_at : iso(nowMs + backoffMs(job.attempts)),
      last_error: error.slice(0, 2000),
      locked_by: null,
      locked_until: null,
      updated_at: iso(nowMs),
      completed_at: final ? iso(nowMs) : null,
    })
    .where('id', '=', job.id)
    .where('locked_by', '=', job.locked_by)
    .execute();
  return final ? 'failed' : 'retry';
}

/** Job counts by status for a group (an extraction task). */
export async function groupCounts(db: Db, groupId: string): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('jobs')
    .select(['status', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('group_id', '=', groupId)
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** The states a queue's depth is reported in (completed jobs are history, not depth). */
export const DEPTH_STATES = ['queued', 'running', 'failed'] as const;
export type DepthState = (typeof DEPTH_STATES)[number];

export interface QueueDepth {
  queue: string;
  /** Jobs per state; every state present, 0 when none. */
  counts: Record<DepthState, number>;
  /** `run_at` of the longest-waiting job that is due (queued, run_at <= now); null when none waits. */
  oldestDueAt: string | null;
}

/**
 * Depth of every queue that has jobs, for /metrics (run on each scrape, so kept to index work on
 * `jobs_claim_idx (queue, status, priority, run_at)`). The queues are found by a loose index scan (one
 * seek per distinct queue, whatever the number of completed jobs kept), then the jobs of the three
 * reported states are counted by seeks on (queue, status): completed rows are never read.
 */
export async function queueDepths(db: Kysely<Schema>, nowMs = Date.now()): Promise<QueueDepth[]> {
  const found = await sql<{ queue: string }>`
    with recursive q(queue) as (
      select min(queue) from jobs
      union all
      select (select min(j.queue) from jobs j where j.queue > q.queue) from q where q.queue is not null
    )
    select queue from q where queue is not null`.execute(db);
  const queues = found.rows.map((r) => r.queue);
  if (queues.length === 0) return [];
  const now = iso(nowMs);
  const rows = await db
    .selectFrom('jobs')
    .select((eb) => [
      'queue',
      'status',
      eb.fn.countAll<string | number>().as('n'),
      eb.fn
        .min(
          eb
            .case()
            .when(eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', now)]))
            .then(eb.ref('run_at'))
            .end(),
        )
        .as('oldest_due'),
    ])
    .where('queue', 'in', queues)
    .where('status', 'in', [...DEPTH_STATES])
    .groupBy(['queue', 'status'])
    .execute();
  return queues.map((queue) => {
    const mine = rows.filter((r) => r.queue === queue);
    const counts = Object.fromEntries(DEPTH_STATES.map((s) => [s, Number(mine.find((r) => r.status === s)?.n ?? 0)])) as Record<DepthState, number>;
    const oldestDueAt = (mine.find((r) => r.status === 'queued')?.oldest_due as string | null | undefined) ?? null;
    return { queue, counts, oldestDueAt };
  });
}
