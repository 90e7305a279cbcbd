import { LRUCache } from 'lru-cache';
import type { ApiKeyRow } from '../../db/schema.js';

/**
 * How long an API key row read for authentication is reused. Within one process a revocation
 * clears the cache at once (see `forgetKeys`); a revocation made by another process is seen
 * within OTHER_CONNECTIONS_CHECK_MS (100 ms) on SQLite (the file's data_version moves) and within
 * this time on PostgreSQL.
 */
export const KEY_CACHE_TTL_MS = 5_000;

/** Bumped on every key change in this process: every cache of every service instance then starts over. */
let generation = 0;

export function forgetKeys(): void {
  generation++;
}

/**
 * The API key rows behind recent requests, so a request does not read its key from the database
 * (that read was about a third of the cost of a small GET). Only keys that exist are kept, at most
 * 10,000, so unknown keys cannot fill memory.
 *
 * `changedElsewhere` reports a change by another process or connection since it was last asked
 * (SQLite's `PRAGMA data_version`, which `sqliteChangeWatcher` reads at most every 100 ms); when it
 * reports one, everything cached is dropped.
 */
export function createKeyCache<Entry extends { row: ApiKeyRow }>(changedElsewhere: () => boolean) {
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
    /** Caches a row's entry read at `readAt`, unless the cache was cleared since (the row may be stale). */
    set(entry: Entry, readAt: number): void {
      if (readAt === epoch && seen === generation) rows.set(entry.row.id, entry);
    },
  };
}
