import { LRUCache } from 'lru-cache';
import type { ApiKeyRow } from '../../db/schema.js';

/**
 * How long an API key row read for authentication is reused when nothing reports changes made by
 * other processes at once. Within one process a revocation clears the cache at once (see
 * `forgetKeys`); a revocation made by another process is seen within OTHER_CONNECTIONS_CHECK_MS
 * (100 ms) on SQLite (the file's data_version moves), and on PostgreSQL at once through LISTEN/NOTIFY
 * (`dpp_keys`), or within this time while the listening connection is down (or in processes that do
 * not listen, such as the CLI and tests' apps).
 */
export const KEY_CACHE_TTL_MS = 5_000;

/**
 * How long a row is reused while changes elsewhere are reported at once: a backstop only, against a
 * notification lost without the connection noticing.
 */
export const KEY_CACHE_LIVE_TTL_MS = 60_000;

/** The PostgreSQL channel a key change is announced on (see service.ts and pg-listen.ts). */
export const KEY_CHANGES_CHANNEL = 'dpp_keys';

/** Bumped on every key change in this process: every cache of every service instance then starts over. */
let generation = 0;

export function forgetKeys(): void {
  generation++;
}

export interface KeyCacheOptions {
  /**
   * Whether `changedElsewhere` reports every change made elsewhere at once (a live LISTEN
   * connection): rows are then kept for KEY_CACHE_LIVE_TTL_MS, else for KEY_CACHE_TTL_MS.
   */
  live?: () => boolean;
}

/**
 * The API key rows behind recent requests, so a request does not read its key from the database
 * (that read was about a third of the cost of a small GET). Only keys that exist are kept, at most
 * 10,000, so unknown keys cannot fill memory.
 *
 * `changedElsewhere` reports a change by another process or connection since it was last asked
 * (SQLite's `PRAGMA data_version`, which `sqliteChangeWatcher` reads at most every 100 ms; on
 * PostgreSQL a `dpp_keys` notification, or the listening connection dropping or coming back); when
 * it reports one, everything cached is dropped.
 */
export function createKeyCache<Entry extends { row: ApiKeyRow }>(changedElsewhere: () => boolean, options: KeyCacheOptions = {}) {
  const live = options.live ?? (() => false);
  const rows = new LRUCache<string, Entry>({ max: 10_000, ttl: KEY_CACHE_TTL_MS });
  let seen = generation;
  // Counts clears: a row read from the database before a clear may predate the change that caused it.
  let epoch = 0;
  return {
    get(id: string): Entry | undefined {
      if (seen !== generation || changedElsewhere()) {
        rows.clear();
        seen = generation;
        epoch++;
      }
      return rows.get(id);
    },
    /** The current epoch: take it before reading a row from the database, and pass it to `set`. */
    epoch: () => epoch,
    /**
     * Caches a row's entry read at `readAt`, unless the cache was cleared since (the row may be stale).
     * A change reported after the read clears it at the next `get`, before it is used.
     */
    set(entry: Entry, readAt: number): void {
      if (readAt === epoch && seen === generation) rows.set(entry.row.id, entry, { ttl: live() ? KEY_CACHE_LIVE_TTL_MS : KEY_CACHE_TTL_MS });
    },
  };
}
