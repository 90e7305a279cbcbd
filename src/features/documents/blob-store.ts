import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { dialectOf } from '../../db/dialect.js';
import type { Schema } from '../../db/schema.js';

type Db = Kysely<Schema> | Transaction<Schema>;

/**
 * Where document bytes live, content-addressed by SHA-256 so a re-upload costs nothing.
 * The default keeps them in the application database, which every process (API and workers,
 * on any host) can already read; another store (a shared directory, S3) can implement the same shape.
 */
export interface BlobStore {
  put(bytes: Buffer): Promise<{ sha256: string; size: number }>;
  get(sha256: string): Promise<Buffer | undefined>;
  /** Deletes the bytes when no document refers to them any more. */
  release(sha256: string): Promise<void>;
}

export function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function createDatabaseBlobStore(db: Db): BlobStore {
  /**
   * PostgreSQL: hold the blob row until the transaction ends, so a release (which then re-checks
   * for documents in a fresh statement) waits for a concurrent upload of the same bytes to commit.
   * SQLite has a single writer, which gives the same order.
   */
  const lock = async (sha256: string) => {
    if (dialectOf(db) === 'postgres') {
      await db.selectFrom('blobs').select('sha256').where('sha256', '=', sha256).forUpdate().execute();
    }
  };
  return {
    async put(bytes) {
      const sha256 = sha256Of(bytes);
      await db
        .insertInto('blobs')
        .values({ sha256, size: bytes.length, bytes, created_at: new Date().toISOString() })
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
      await lock(sha256);
      return { sha256, size: bytes.length };
    },
    async get(sha256) {
      const row = await db.selectFrom('blobs').select('bytes').where('sha256', '=', sha256).executeTakeFirst();
      return row ? Buffer.from(row.bytes) : undefined;
    },
    async release(sha256) {
      await lock(sha256);
      await db
        .deleteFrom('blobs')
        .where('sha256', '=', sha256)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('documents').select('id').where('documents.sha256', '=', sha256))))
        .execute();
    },
  };
}
