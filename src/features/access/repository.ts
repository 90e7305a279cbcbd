import type { Kysely } from 'kysely';
import type { ApiKeyRow, OrganisationRow, Schema } from '../../db/schema.js';

/** SQL for organisations and API keys. Returns undefined for not found. */
export function createAccessRepository(db: Kysely<Schema>) {
  return {
    findOrganisationBySlug(slug: string): Promise<OrganisationRow | undefined> {
      return db.selectFrom('organisations').selectAll().where('slug', '=', slug).executeTakeFirst();
    },

    async insertOrganisation(row: OrganisationRow): Promise<void> {
      await db.insertInto('organisations').values(row).onConflict((oc) => oc.column('slug').doNothing()).execute();
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
      const r = await db
        .updateTable('api_keys')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async touchKey(id: string, at: string): Promise<void> {
      await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
    },
  };
}

export type AccessRepository = ReturnType<typeof createAccessRepository>;
