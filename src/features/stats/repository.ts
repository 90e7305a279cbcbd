import { sql, type Kysely, type Transaction } from 'kysely';
import { preparedQuery } from '../../db/prepared.js';
import type { Schema } from '../../db/schema.js';

type Db = Kysely<Schema> | Transaction<Schema>;

export interface StatDeltas {
  total_products?: number;
  with_dpp?: number;
  draft?: number;
  complete?: number;
  published?: number;
}

const COUNTERS = ['total_products', 'with_dpp', 'draft', 'complete', 'published'] as const;

// The two reads behind every stats request and list page: prepared once (see preparedQuery).
const countersOf = preparedQuery((db: Kysely<Schema>, param: (name: 'orgId') => string) =>
  db.selectFrom('org_stats').select(['org_id', 'total_products', 'with_dpp', 'draft', 'complete', 'published']).where('org_id', '=', param('orgId')),
);
const certificationsOf = preparedQuery((db: Kysely<Schema>, param: (name: 'orgId') => string) =>
  db.selectFrom('org_certifications').select(['code', 'products']).where('org_id', '=', param('orgId')).where('products', '>', 0).orderBy('products', 'desc').orderBy('code'),
);

/**
 * Per-organisation counters behind GET /compliance/dpp/stats, changed in the same transaction as the
 * write they count, so the stats endpoint reads one row instead of scanning the catalog.
 */
export function createStatsRepository(db: Db) {
  return {
    async adjust(orgId: string, deltas: StatDeltas): Promise<void> {
      const values = Object.fromEntries(COUNTERS.map((c) => [c, deltas[c] ?? 0])) as Required<StatDeltas>;
      if (COUNTERS.every((c) => values[c] === 0)) return;
      await db
        .insertInto('org_stats')
        .values({ org_id: orgId, ...values })
        .onConflict((oc) => oc.column('org_id').doUpdateSet(Object.fromEntries(COUNTERS.map((c) => [c, sql`org_stats.${sql.ref(c)} + excluded.${sql.ref(c)}`]))))
        .execute();
    },

    /** Adds +1/-1 (or more) to the number of products listing each certification. */
    async adjustCertifications(orgId: string, deltas: Map<string, number>): Promise<void> {
      const rows = [...deltas].filter(([, d]) => d !== 0).map(([code, products]) => ({ org_id: orgId, code, products }));
      if (rows.length === 0) return;
      await db
        .insertInto('org_certifications')
        .values(rows)
        .onConflict((oc) => oc.columns(['org_id', 'code']).doUpdateSet({ products: sql`org_certifications.products + excluded.products` }))
        .execute();
    },

    /** The organisation's counters row (undefined before its first product). */
    async readCounters(orgId: string) {
      const [row] = await countersOf(db, { orgId });
      return row;
    },

    /** Products per certification code, most listed first. */
    readCertifications(orgId: string) {
      return certificationsOf(db, { orgId });
    },
  };
}
