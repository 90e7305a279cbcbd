import type { Kysely } from 'kysely';
import { dialectOf } from '../../db/dialect.js';
import type { Schema } from '../../db/schema.js';

export const REVOCATION = 'revocation';

/** The only SQL of signed credentials: keys, status lists, and the credential columns of publications. */
export function createCredentialRepository(db: Kysely<Schema>) {
  const postgres = dialectOf(db) === 'postgres';
  return {
    activeKey(orgId: string) {
      return db.selectFrom('signing_keys').selectAll().where('org_id', '=', orgId).where('status', '=', 'active').executeTakeFirst();
    },

    /** Every key of an organisation, oldest first (the DID document lists them all). */
    keys(orgId: string) {
      return db
        .selectFrom('signing_keys')
        .select(['kid', 'public_jwk', 'private_key', 'status', 'created_at', 'retired_at'])
        .where('org_id', '=', orgId)
        .orderBy('created_at')
        .orderBy('kid')
        .execute();
    },

    async insertKey(row: Schema['signing_keys']): Promise<void> {
      await db.insertInto('signing_keys').values(row).execute();
    },

    async retireActiveKey(orgId: string, at: string): Promise<string | undefined> {
      const retired = await db
        .updateTable('signing_keys')
        .set({ status: 'retired', retired_at: at })
        .where('org_id', '=', orgId)
        .where('status', '=', 'active')
        .returning('kid')
        .executeTakeFirst();
      return retired?.kid;
    },

    async orgExists(orgId: string): Promise<boolean> {
      return (await db.selectFrom('organisations').select('id').where('id', '=', orgId).executeTakeFirst()) !== undefined;
    },

    /** The organisation's newest list of a purpose, locked on PostgreSQL (SQLite has one writer) for the transaction. */
    latestList(orgId: string, purpose: string) {
      const q = db.selectFrom('status_lists').selectAll().where('org_id', '=', orgId).where('purpose', '=', purpose).orderBy('list_number', 'desc').limit(1);
      return (postgres ? q.forUpdate() : q).executeTakeFirst();
    },

    list(orgId: string, purpose: string, listNumber: number, options: { lock?: boolean } = {}) {
      const q = db.selectFrom('status_lists').selectAll().where('org_id', '=', orgId).where('purpose', '=', purpose).where('list_number', '=', listNumber);
      return (options.lock && postgres ? q.forUpdate() : q).executeTakeFirst();
    },

    async insertList(row: Schema['status_lists']): Promise<void> {
      await db.insertInto('status_lists').values(row).execute();
    },

    async updateList(orgId: string, purpose: string, listNumber: number, set: Partial<Pick<Schema['status_lists'], 'next_index' | 'encoded_list' | 'updated_at'>>): Promise<void> {
      await db.updateTable('status_lists').set(set).where('org_id', '=', orgId).where('purpose', '=', purpose).where('list_number', '=', listNumber).execute();
    },

    /** A publication's credential columns (any organisation's: callers check ownership or liveness). */
    publication(productId: string, version: number) {
      return db
        .selectFrom('passport_publications')
        .select(['product_id', 'org_id', 'published_version', 'withdrawn_at', 'content_hash', 'credential', 'credential_kid', 'status_list', 'status_index'])
        .where('product_id', '=', productId)
        .where('published_version', '=', version)
        .executeTakeFirst();
    },

    async snapshot(productId: string, version: number): Promise<string | undefined> {
      const row = await db.selectFrom('passport_publications').select('snapshot').where('product_id', '=', productId).where('published_version', '=', version).executeTakeFirst();
      return row?.snapshot;
    },

    async storeSeal(
      productId: string,
      version: number,
      seal: Pick<Schema['passport_publications'], 'content_hash' | 'credential' | 'credential_kid' | 'status_list' | 'status_index'>,
    ): Promise<void> {
      await db.updateTable('passport_publications').set(seal).where('product_id', '=', productId).where('published_version', '=', version).execute();
    },

    /** Content hashes (and whether signed) of some published versions of a product. */
    seals(orgId: string, productId: string, versions: number[]) {
      if (versions.length === 0) return Promise.resolve([]);
      return db
        .selectFrom('passport_publications')
        .select(['published_version', 'content_hash', 'credential_kid'])
        .where('org_id', '=', orgId)
        .where('product_id', '=', productId)
        .where('published_version', 'in', versions)
        .execute();
    },

    async latestVersion(productId: string): Promise<number | undefined> {
      const row = await db
        .selectFrom('passport_publications')
        .select((eb) => eb.fn.max('published_version').as('v'))
        .where('product_id', '=', productId)
        .executeTakeFirst();
      return row?.v === null || row?.v === undefined ? undefined : Number(row.v);
    },

    /** Whether a product's passport is live (published, not withdrawn). */
    async isLive(productId: string): Promise<boolean> {
      const row = await db.selectFrom('compliance_records').select(['published_version', 'withdrawn_at']).where('product_id', '=', productId).executeTakeFirst();
      return row !== undefined && row.published_version !== null && row.withdrawn_at === null;
    },
  };
}
