import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { jsonAsText, jsonFromText, jsonObject, type Dialect } from '../../db/dialect.js';
import type { RegistryEntriesTable, RegistryEntryRow, Schema } from '../../db/schema.js';

type Db = Kysely<Schema> | Transaction<Schema>;

/**
 * The newest registry entry of the product `p` (the passport GET's `products as p` joined with
 * `compliance_records as cr`) as JSON text, or null when it has none: one correlated subquery on the
 * (product_id, id) index, skipped for a passport never published (it can have no entry).
 */
export function registryStatusSql(dialect: Dialect): RawBuilder<string | null> {
  const ref = (c: string) => sql.ref(`re.${c}`);
  const doc = jsonObject(dialect, [
    ['entry_id', ref('id')],
    ['kind', ref('kind')],
    ['published_version', ref('published_version')],
    ['status', ref('status')],
    ['missing_fields', jsonFromText(dialect, ref('missing_fields'))],
    ['registry_id', ref('registry_id')],
    ['reason', ref('reason')],
    ['updated_at', ref('updated_at')],
  ]);
  const newest = sql`(select ${jsonAsText(dialect, doc)} from registry_entries re where re.product_id = ${sql.ref('p.id')} and re.org_id = ${sql.ref('p.org_id')} order by re.id desc limit 1)`;
  return sql<string | null>`case when ${sql.ref('cr.published_version')} is null then null else ${newest} end`;
}

export interface EntryFilter {
  status?: string | undefined;
  product_id?: string | undefined;
}

/** SQL for registry entries and the organisation's operator identifier. Every read is scoped to one organisation. */
export function createRegistryRepository(db: Db) {
  const scoped = (orgId: string, filter: EntryFilter) => {
    let q = db.selectFrom('registry_entries').where('org_id', '=', orgId);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.product_id) q = q.where('product_id', '=', filter.product_id);
    return q;
  };

  return {
    async insertEntry(row: RegistryEntriesTable): Promise<void> {
      await db.insertInto('registry_entries').values(row).execute();
    },

    findEntry(orgId: string, id: string): Promise<RegistryEntryRow | undefined> {
      return db.selectFrom('registry_entries').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
    },

    /** The registration entry of a published version (a withdrawal repeats its fields). */
    findRegistration(orgId: string, productId: string, publishedVersion: number): Promise<RegistryEntryRow | undefined> {
      return db
        .selectFrom('registry_entries')
        .selectAll()
        .where('org_id', '=', orgId)
        .where('product_id', '=', productId)
        .where('published_version', '=', publishedVersion)
        .where('kind', '=', 'registration')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
    },

    page(orgId: string, filter: EntryFilter, limit: number, offset: number): Promise<RegistryEntryRow[]> {
      return scoped(orgId, filter).selectAll().orderBy('id').limit(limit).offset(offset).execute();
    },

    async count(orgId: string, filter: EntryFilter): Promise<number> {
      const r = await scoped(orgId, filter)
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },

    /** Pending entries in queue order, after the cursor (an entry id). */
    pendingAfter(orgId: string, after: string | undefined, limit: number): Promise<RegistryEntryRow[]> {
      let q = db.selectFrom('registry_entries').selectAll().where('org_id', '=', orgId).where('status', '=', 'pending');
      if (after) q = q.where('id', '>', after);
      return q.orderBy('id').limit(limit).execute();
    },

    /** Moves an entry from one of `from` to its new state; false when it was no longer in one of them. */
    async transition(orgId: string, id: string, from: readonly string[], changes: Partial<RegistryEntriesTable>): Promise<boolean> {
      const r = await db.updateTable('registry_entries').set(changes).where('org_id', '=', orgId).where('id', '=', id).where('status', 'in', from).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** The incomplete entries that lack the operator identifier (completed when it is set). */
    incompleteWithoutOperator(orgId: string): Promise<RegistryEntryRow[]> {
      return db.selectFrom('registry_entries').selectAll().where('org_id', '=', orgId).where('status', '=', 'incomplete').where('operator_id', 'is', null).execute();
    },

    /** The content hashes of these entries' publications (`passport_publications.content_hash`, written at publish). */
    async contentHashes(keys: ReadonlyArray<{ product_id: string; published_version: number }>) {
      if (keys.length === 0) return [];
      return db
        .selectFrom('passport_publications')
        .select(['product_id', 'published_version', 'content_hash'])
        .where((eb) => eb.or(keys.map((k) => eb.and([eb('product_id', '=', k.product_id), eb('published_version', '=', k.published_version)]))))
        .execute();
    },

    async operatorId(orgId: string): Promise<string | null> {
      const org = await db.selectFrom('organisations').select('operator_id').where('id', '=', orgId).executeTakeFirst();
      return org?.operator_id ?? null;
    },

    findOrganisation(orgId: string) {
      return db.selectFrom('organisations').select(['id', 'slug', 'name', 'operator_id', 'created_at']).where('id', '=', orgId).executeTakeFirstOrThrow();
    },

    async setOperatorId(orgId: string, operatorId: string | null): Promise<void> {
      await db.updateTable('organisations').set({ operator_id: operatorId }).where('id', '=', orgId).execute();
    },
  };
}

export type RegistryRepository = ReturnType<typeof createRegistryRepository>;
