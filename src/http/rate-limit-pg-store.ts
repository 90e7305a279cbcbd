/**
 * A rate-limit store for @fastify/rate-limit shared by every process on one PostgreSQL database,
 * without a database round trip per request.
 *
 * Windows are fixed and aligned to the clock (`floor(now / window)`), so every process counts the
 * same window. Each process counts locally and, every `syncMs`, adds what it counted to an UNLOGGED
 * table in one statement and reads back the totals; a key's count is then the shared total at the
 * last sync plus what this process counted since. Processes together can overshoot a limit by what
 * they receive within one sync interval (documented); a single process never does. Rows of windows
 * that ended are deleted at each sync. An unlogged table is not crash-safe, which suits counters
 * that live one window.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Schema } from '../db/schema.js';

interface Counter {
  window: number;
  /** Window length, ms. */
  length: number;
  /** The shared total at the last sync (this process's hits included). */
  shared: number;
  /** Hits counted here since the last sync. */
  local: number;
}

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

export interface PgRateLimitCounters {
  /** The store class @fastify/rate-limit instantiates (`store` option). */
  Store: new () => { incr(key: string, cb: Callback, timeWindow: number, max: number): void; child(): unknown };
  /** Adds the local counts to the shared table and reads the totals back (run by the timer; tests call it). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

const MAX_KEYS = 100_000;

export function createPgRateLimitCounters(db: Kysely<Schema>, options: { syncMs: number; onError?: (error: Error) => void }): PgRateLimitCounters {
  const counters = new Map<string, Counter>();
  let syncing: Promise<void> | undefined;

  async function syncOnce(): Promise<void> {
    const now = Date.now();
    // Every counter of a window still running, also those with no new hits: their totals grow with
    // the other processes' hits.
    const live = [...counters.entries()].filter(([, c]) => (c.window + 1) * c.length > now);
    const sent = live.map(([k, c]) => [k, c.window, c.local, (c.window + 1) * c.length] as const);
    if (sent.length) {
      const keys = sent.map(([k, w]) => `${k}|${w}`);
      const hits = sent.map(([, , n]) => n);
      const ends = sent.map(([, , , end]) => end);
      // Each process adds its own hits; the answer is the total of all processes for that window.
      const rows = await sql<{ key: string; hits: number }>`
        insert into rate_limit_hits (key, hits, expires_at)
        select k, h, e from unnest(${keys}::text[], ${hits}::int[], ${ends}::bigint[]) as t(k, h, e)
        on conflict (key) do update set hits = rate_limit_hits.hits + excluded.hits
        returning key, hits`.execute(db);
      const totals = new Map(rows.rows.map((r) => [r.key, Number(r.hits)]));
      for (const [key, window, n] of sent) {
        const c = counters.get(key);
        const total = totals.get(`${key}|${window}`);
        if (!c || c.window !== window || total === undefined) continue;
        c.shared = total;
        c.local -= n; // hits counted while the statement ran stay local for the next sync
      }
    }
    for (const [key, c] of counters) if (c.local === 0 && (c.window + 1) * c.length <= now) counters.delete(key);
    await sql`delete from rate_limit_hits where expires_at < ${now}`.execute(db);
  }

  const sync = async () => {
    if (!syncing) syncing = syncOnce().finally(() => (syncing = undefined));
    return syncing;
  };
  const timer = setInterval(() => sync().catch((e: Error) => options.onError?.(e)), options.syncMs);
  timer.unref();

  class Store {
    incr(key: string, cb: Callback, timeWindow: number, _max: number): void {
      const now = Date.now();
      const window = Math.floor(now / timeWindow);
      let c = counters.get(key);
      if (!c || c.window !== window) {
        if (!c && counters.size >= MAX_KEYS) counters.delete(counters.keys().next().value!);
        c = { window, length: timeWindow, shared: 0, local: 0 };
        counters.set(key, c);
      }
      c.local++;
      cb(null, { current: c.shared + c.local, ttl: (window + 1) * timeWindow - now });
    }

    child(): Store {
      return this;
    }
  }

  return {
    Store,
    sync,
    async close() {
      clearInterval(timer);
      await sync().catch((e: Error) => options.onError?.(e));
    },
  };
}
