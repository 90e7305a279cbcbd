/**
 * The SQLite reader thread (see sqlite-reader.ts): its own read-only connection to the database file,
 * answering `[id, sql, parameters]` with `[id, rows]` or `[id, undefined, { message, code }]`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { LRUCache } from 'lru-cache';

const { file, mmapBytes } = workerData as { file: string; mmapBytes: number };
const connection = new SQLite(file, { readonly: true, fileMustExist: true });
connection.pragma('busy_timeout = 5000');
connection.pragma('cache_size = -16384');
connection.pragma(`mmap_size = ${mmapBytes}`);
const statements = new LRUCache<string, SQLite.Statement>({ max: 200 });

parentPort!.on('message', ([id, sql, parameters]: [number, string, unknown[]]) => {
  try {
    let statement = statements.get(sql);
    if (!statement) statements.set(sql, (statement = connection.prepare(sql)));
    if (!statement.reader) throw new Error('sqlite reader: not a read statement');
    parentPort!.postMessage([id, statement.all(parameters)]);
  } catch (e) {
    const { message, code } = e as Error & { code?: string };
    parentPort!.postMessage([id, undefined, { message, code }]);
  }
});
