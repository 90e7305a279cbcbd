import { sql, type Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Dialect } from './dialect.js';
import type { SyncedChangeFeed } from './pg-listen.js';
import { sqliteChangeCounter } from './sqlite-direct.js';

/**
 * A cache of query results that does not outlive a write: each entry carries the database's change
 * token read before its query ran, and serves only while the token is unchanged. Any write anywhere
 * (this process, another process, a trigger) moves the token, so a cached answer is the answer the
 * query would give now (on SQLite, another process's write counts within 100 ms); under steady writes
 * it simply misses.
 *
 * The token: on SQLite, this connection's change count (every write of this process, at once) and the
 * file's data_version (other processes' commits, read at most every 100 ms: see
 * OTHER_CONNECTIONS_CHECK_MS). On PostgreSQL, the count of catalog changes heard on `dpp_catalog`
 * (migration 0011: triggers on the catalog tables announce each committed change), read after a round
 * trip on the listening connection so that every change committed before the request is counted: writes
 * elsewhere (rate-limit counters, jobs, audit) no longer empty the cache. While not listening (or
 * without a feed, as in tests that build the app alone) it is the text of the current MVCC snapshot
 * (xmin:xmax:in-progress xids): two equal snapshots see exactly the same committed data, and any
 * transaction that writes anything takes an xid and so changes it. Either way one round trip instead
 * of the query.
 */
export interface ResultCache {
  /** The value cached under `key` if still current, else `compute()`'s, stored with weight `size`. */
  get<T>(key: string, size: number, compute: () => Promise<T>): Promise<T>;
}

export function createResultCache(db: Kysely<any>, dialect: Dialect, maxSize: number, catalogChanges?: SyncedChangeFeed): ResultCache {
  if (maxSize <= 0) return { get: (_key, _size, compute) => compute() };
  const tokenOf = changeTokenReader(db, dialect, catalogChanges);
  const entries = new LRUCache<string, { token: string; value: unknown; size: number }>({ maxSize, sizeCalculation: (e) => e.size });
  return {
    async get<T>(key: string, size: number, compute: () => Promise<T>): Promise<T> {
      // Read before the query: a write landing between the two then leaves an entry under the older
      // token, which never matches again. Read after, it could pin a stale answer to the new token.
      const token = await tokenOf();
      const hit = entries.get(key);
      if (hit?.token === token) return hit.value as T;
      const value = await compute();
      entries.set(key, { token, value, size: Math.max(1, size) });
      return value;
    },
  };
}

function changeTokenReader(db: Kysely<any>, dialect: Dialect, catalogChanges: SyncedChangeFeed | undefined): () => Promise<string> {
  if (dialect === 'sqlite') {
    const read = sqliteChangeCounter(db);
    return async () => read();
  }
  return async () => {
    // The two kinds of token never collide: "feed:" never reads as a snapshot.
    if (catalogChanges && (await catalogChanges.heard())) return `feed:${catalogChanges.version()}`;
    const r = await sql<{ snapshot: string }>`select pg_current_snapshot()::text as snapshot`.execute(db);
    return r.rows[0]!.snapshot;
  };
}
