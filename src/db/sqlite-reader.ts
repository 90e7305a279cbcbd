import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../lib/module-worker.js';

/**
 * A thread with its own read-only connection to the SQLite file, for the prepared reads (the
 * passport GET, the stats counters). better-sqlite3 runs a query on the thread that calls it, so on the main thread every
 * read stops the event loop for its whole duration (about 60 µs per passport under load, a third of
 * the request); here the main thread only posts the query and takes the rows back, and the query runs
 * on the machine's other core. PostgreSQL gets the same from its own server processes.
 *
 * Reads here see what is committed, like any new read on the main connection outside a transaction:
 * the caller must not use it inside one (its own uncommitted writes would be invisible). If the
 * thread fails, every pending read fails with its error and `alive` turns false; callers then read
 * on the main connection.
 */
export interface SqliteReader {
  readonly alive: boolean;
  /** Reads posted and not yet answered. */
  readonly pending: number;
  read(sql: string, parameters: readonly unknown[]): Promise<unknown[]>;
  close(): Promise<void>;
}

/** The thread starts with the first read, so a process that never reads this way never pays for it. */
export function startSqliteReader(file: string, mmapBytes: number): SqliteReader {
  let worker: Worker | undefined;
  const pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let alive = true;
  const fail = (e: Error) => {
    alive = false;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  const start = () => {
    const w = startModuleWorker(import.meta.url, 'sqlite-reader-worker', { workerData: { file, mmapBytes } });
    w.on('message', ([id, rows, failure]: [number, unknown[] | undefined, { message: string; code?: string } | undefined]) => {
      const p = pending.get(id);
      if (!p) return;
      pending.delete(id);
      // An idle reader must not keep a CLI command or a test process alive; a pending read must.
      if (pending.size === 0) w.unref();
      if (rows) p.resolve(rows);
      else p.reject(Object.assign(new Error(failure!.message), { code: failure!.code }));
    });
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`SQLite reader thread exited (code ${code})`)));
    return w;
  };
  return {
    get alive() {
      return alive;
    },
    get pending() {
      return pending.size;
    },
    read(sql, parameters) {
      if (!alive) return Promise.reject(new Error('The SQLite reader thread is closed.'));
      return new Promise((resolve, reject) => {
        const id = nextId++;
        try {
          worker ??= start();
          worker.postMessage([id, sql, parameters]);
        } catch (e) {
          // The thread could not start, or a value cannot be sent to it: this read fails, nothing waits.
          if (!worker) fail(e as Error);
          reject(e as Error);
          return;
        }
        pending.set(id, { resolve, reject });
        if (pending.size === 1) worker.ref();
      });
    },
    async close() {
      alive = false;
      await worker?.terminate();
    },
  };
}

/**
 * Reader threads behind one SqliteReader, each read posted to the live thread with the fewest
 * pending reads: a slow read (a first-time search walking thousands of rows) then does not hold up
 * the passport GETs queued behind it, and two reads use two cores. Alive while one thread is.
 */
export function startSqliteReaderPool(file: string, mmapBytes: number, threads: number): SqliteReader {
  const readers = Array.from({ length: Math.max(1, threads) }, () => startSqliteReader(file, mmapBytes));
  const live = () => readers.filter((r) => r.alive);
  return {
    get alive() {
      return live().length > 0;
    },
    get pending() {
      return readers.reduce((n, r) => n + r.pending, 0);
    },
    read(sql, parameters) {
      const candidates = live();
      if (candidates.length === 0) return Promise.reject(new Error('The SQLite reader threads are closed.'));
      const idlest = candidates.reduce((a, b) => (b.pending < a.pending ? b : a));
      return idlest.read(sql, parameters);
    },
    async close() {
      await Promise.all(readers.map((r) => r.close()));
    },
  };
}
