import { sql, type Insertable, type Kysely } from 'kysely';
import { notifySql } from '../../db/pg-listen.js';
import type { ApiKeyRow, OrganisationRow, OrganisationsTable, Schema } from '../../db/schema.js';
import { KEY_CHANGES_CHANNEL } from './key-cache.js';

/** SQL for organisations and API keys. Returns undefined for not found. */
export function createAccessRepository(db: Kysely<Schema>) {
  return {
    findOrganisationBySlug(slug: string): Promise<OrganisationRow | undefined> {
      return db.selectFrom('organisations').selectAll().where('slug', '=', slug).executeTakeFirst();
    },

    async insertOrganisation(row: Insertable<OrganisationsTable>): Promise<void> {
      await db
        .insertInto('organisations')
        .values(row)
        .onConflict((oc) => oc.column('slug').doNothing())
        .execute();
    },

    countOrganisations(): Promise<number> {
      return db
        .selectFrom('organisations')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .executeTakeFirstOrThrow()
        .then((r) => Number(r.n));
    },

    async insertKey(row: ApiKeyRow): Promise<void> {
      await db.insertInto('api_keys').values(row).execute();
    },

    findKeyById(id: string): Promise<ApiKeyRow | undefined> {
      return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    },

    listKeys(orgId: string): Promise<ApiKeyRow[]> {
      return db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).orderBy('created_at').orderBy('id').execute();
    },

    async revokeKey(id: string, at: string): Promise<boolean> {
      const r = await db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    /** PostgreSQL only: tells every process LISTENing on `dpp_keys` (on commit, inside a transaction) that keys changed. */
    async announceKeyChange(): Promise<void> {
      await sql.raw(notifySql(KEY_CHANGES_CHANNEL)).execute(db);
    },

    async touchKey(id: string, at: string): Promise<void> {
      await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
    },
  };
}

export type AccessRepository = ReturnType<typeof createAccessRepository>;
