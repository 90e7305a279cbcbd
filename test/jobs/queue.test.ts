import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffMs, claim, complete, enqueue, fail, groupCounts } from '../../src/jobs/queue.js';
import { createWorker } from '../../src/jobs/worker.js';
import { createTestDatabase, dialects, type TestDatabase } from '../helpers/db.js';

describe.each(dialects)('job queue contract (%s)', (dialect) => {
  let database: TestDatabase;
  let n = 0;
  const queue = () => `test.q${++n}`;

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
  });
  afterAll(() => database.dispose());

  it('hands a due job to one worker only, in priority order, and completes it once', async () => {
    const db = database.db;
    const q = queue();
    await enqueue(db, { queue: q, payload: { n: 1 } });
    const urgent = await enqueue(db, { queue: q, payload: { n: 2 }, priority: 10 });
    const first = await claim(db, 'w1', [q], 30_000);
    expect(first).toMatchObject({ id: urgent, status: 'running', locked_by: 'w1', attempts: 1 });
    const second = await claim(db, 'w2', [q], 30_000);
    expect(second?.id).not.toBe(urgent);
    expect(await claim(db, 'w3', [q], 30_000)).toBeUndefined();
    expect(await complete(db, first!)).toBe(true);
    expect(await complete(db, first!)).toBe(false);
  });

  it('gives a job whose lease expired to another worker, and refuses the late completion of the first', async () => {
    const db = database.db;
    const q = queue();
    await enqueue(db, { queue: q, payload: {} });
    const held = (await claim(db, 'dead-worker', [q], 1_000))!;
    expect(await claim(db, 'w2', [q], 1_000)).toBeUndefined();
    // Move time forward instead of sleeping: the lease is over 2 s from now.
    const taken = await claim(db, 'w2', [q], 1_000, Date.now() + 2_000);
    expect(taken).toMatchObject({ id: held.id, locked_by: 'w2', attempts: 2 });
    expect(await complete(db, held)).toBe(false);
    expect(await complete(db, taken!)).toBe(true);
  });

  it('retries a failed job with exponential backoff, then marks it failed with the reason', async () => {
    const db = database.db;
    const q = queue();
    const id = await enqueue(db, { queue: q, payload: {}, maxAttempts: 2 });
    const now = Date.now();
    const a1 = (await claim(db, 'w', [q], 10_000, now))!;
    expect(await fail(db, a1, 'boom 1', now)).toBe('retry');
    expect(await claim(db, 'w', [q], 10_000, now + backoffMs(1) - 100)).toBeUndefined();
    const a2 = (await claim(db, 'w', [q], 10_000, now + backoffMs(1) + 100))!;
    expect(a2.attempts).toBe(2);
    expect(await fail(db, a2, 'boom 2')).toBe('failed');
    const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'failed', last_error: 'boom 2', attempts: 2 });
    expect(backoffMs(1)).toBe(2000);
    expect(backoffMs(3)).toBe(8000);
    expect(backoffMs(30)).toBe(600_000);
  });

  it('gives up on a job whose last attempt died holding the lease', async () => {
    const db = database.db;
    const q = queue();
    const id = await enqueue(db, { queue: q, payload: {}, maxAttempts: 1 });
    await claim(db, 'dead', [q], 1_000);
    expect(await claim(db, 'w', [q], 1_000, Date.now() + 5_000)).toBeUndefined();
    const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.status).toBe('failed');
    expect(row.last_error).toContain('lease expired');
  });

  it('enqueues at most one job per idempotency key, and only when the transaction commits', async () => {
    const db = database.db;
    const q = queue();
    await enqueue(db, { queue: q, payload: {}, idempotencyKey: `${q}:k` });
    await enqueue(db, { queue: q, payload: {}, idempotencyKey: `${q}:k` });
    await expect(
      db.transaction().execute(async (trx) => {
        await enqueue(trx, { queue: q, payload: {} });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const rows = await db.selectFrom('jobs').select('id').where('queue', '=', q).execute();
    expect(rows).toHaveLength(1);
  });

  it('never hands one job to two of many concurrent claimers', async () => {
    const db = database.db;
    const q = queue();
    for (let i = 0; i < 40; i++) await enqueue(db, { queue: q, payload: { i }, groupId: q });
    const claimed = await Promise.all(Array.from({ length: 60 }, (_, i) => claim(db, `w${i}`, [q], 30_000)));
    const ids = claimed.filter(Boolean).map((j) => j!.id);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
    expect(await groupCounts(db, q)).toEqual({ running: 40 });
  });

  it('runs handlers in a worker, retrying failures, and stops gracefully', async () => {
    const db = database.db;
    const q = queue();
    const seen: number[] = [];
    let failures = 0;
    const worker = createWorker({
      db,
      pollMs: 20,
      handlers: {
        [q]: async (payload) => {
          const { i } = payload as { i: number };
          if (i === 3 && failures++ === 0) throw new Error('transient');
          seen.push(i);
        },
      },
    });
    for (let i = 0; i < 6; i++) await enqueue(db, { queue: q, payload: { i }, groupId: q });
    // The retry is due after the backoff: bring it forward so the test does not wait.
    worker.start();
    for (let t = 0; t < 100 && seen.length < 6; t++) {
      await db
        .updateTable('jobs')
        .set({ run_at: new Date(0).toISOString() })
        .where('queue', '=', q)
        .where('status', '=', 'queued')
        .execute();
      await new Promise((r) => setTimeout(r, 30));
    }
    await worker.stop();
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await groupCounts(db, q)).toEqual({ completed: 6 });
  });
});
