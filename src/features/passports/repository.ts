import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import { dialectOf } from '../../db/dialect.js';
import { preparedQuery } from '../../db/prepared.js';
import type { ComplianceRecordsTable, Schema } from '../../db/schema.js';
import { registryStatusSql } from '../registry/repository.js';
import { passportDocumentSql } from './views.js';

type Db = Kysely<Schema> | Transaction<Schema>;

/** The product's passport as JSON text (null without one), its version and its newest EU registry entry (JSON text or null), in one statement: the passport GET. */
const passportDocument = preparedQuery((db: Kysely<Schema>, param: (name: 'orgId' | 'productId') => string) =>
  db
    .selectFrom('products as p')
    .leftJoin('compliance_records as cr', 'cr.product_id', 'p.id')
    .select([sql<number | null>`${sql.ref('cr.version')}`.as('version'), passportDocumentSql(dialectOf(db)).as('body'), registryStatusSql(dialectOf(db)).as('registry')])
    .where('p.org_id', '=', param('orgId'))
    .where('p.id', '=', param('productId')),
);

/** SQL for compliance records, their history and publications. */
export function createComplianceRepository(db: Db) {
  return {
    /**
     * Whether another organisation has ever published a passport under this GTIN. Withdrawn counts:
     * its codes are printed, and a withdrawal (to correct data, say) must not hand the Digital Link over.
     */
    async gtinPublishedElsewhere(orgId: string, gtin14: string): Promise<boolean> {
      const other = await db
        .selectFrom('products')
        .innerJoin('passport_publications', 'passport_publications.product_id', 'products.id')
        .select('products.id')
        .where('products.gtin14', '=', gtin14)
        .where('products.org_id', '!=', orgId)
        .limit(1)
        .executeTakeFirst();
      return other !== undefined;
    },

    /** The passport GET's answer, rendered by the database; undefined when the product does not exist. */
    async findPassportDocument(orgId: string, productId: string): Promise<{ version: number | null; body: string | null; registry: string | null } | undefined> {
      const [found] = await passportDocument(db, { orgId, productId });
      return found;
    },

    findRecord(orgId: string, productId: string) {
      return db.selectFrom('compliance_records').selectAll().where('org_id', '=', orgId).where('product_id', '=', productId).executeTakeFirst();
    },

    async insertRecord(row: ComplianceRecordsTable): Promise<void> {
      await db.insertInto('compliance_records').values(row).execute();
    },

    /** Writes only when the stored version is still `expected`; false when someone else got there first. */
    async updateRecord(productId: string, expected: number, changes: Partial<ComplianceRecordsTable>): Promise<boolean> {
      const r = await db.updateTable('compliance_records').set(changes).where('product_id', '=', productId).where('version', '=', expected).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async setProductStatus(productId: string, values: { has_dpp: number; dpp_status: string | null; updated_at: string }) {
      await db.updateTable('products').set(values).where('id', '=', productId).execute();
    },

    async insertHistory(row: Schema['compliance_history']): Promise<void> {
      await db.insertInto('compliance_history').values(row).execute();
    },

    historyPage(orgId: string, productId: string, limit: number, offset: number) {
      return db
        .selectFrom('compliance_history')
        .selectAll()
        .where('org_id', '=', orgId)
        .where('product_id', '=', productId)
        .orderBy('version', 'desc')
        .limit(limit)
        .offset(offset)
        .execute();
    },

    async historyCount(orgId: string, productId: string): Promise<number> {
      const r = await db
        .selectFrom('compliance_history')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('org_id', '=', orgId)
        .where('product_id', '=', productId)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },

    async insertPublication(row: Insertable<Schema['passport_publications']>): Promise<void> {
      await db.insertInto('passport_publications').values(row).execute();
    },

    findPublication(productId: string, version: number) {
      return db.selectFrom('passport_publications').selectAll().where('product_id', '=', productId).where('published_version', '=', version).executeTakeFirst();
    },

    async markPublicationWithdrawn(productId: string, version: number, at: string): Promise<void> {
      await db.updateTable('passport_publications').set({ withdrawn_at: at }).where('product_id', '=', productId).where('published_version', '=', version).execute();
    },
  };
}

export type ComplianceRepository = ReturnType<typeof createComplianceRepository>;
