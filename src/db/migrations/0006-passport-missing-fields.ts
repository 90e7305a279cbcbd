import type { Kysely, Transaction } from 'kysely';
import type { Dialect } from '../dialect.js';

const BATCH = 1_000;

/**
 * `compliance_records.missing_fields`: what keeps the passport from complete, as JSON, written with
 * every change. The passport GET then renders its whole answer in SQL (see `passportDocument`),
 * without reading the values into the application to run the rules on every read.
 * Existing records are filled by the completeness rules as they stood when this migration was
 * written, copied below: a migration must give the same result whenever it runs, so it never calls
 * the application's rules (which later versions may change, with a migration of their own). Every process that writes
 * passports must run this version afterwards (stop old `dpp serve` and `dpp worker` processes
 * before migrating): on PostgreSQL the column is then NOT NULL, so an old process's insert fails
 * rather than leaving a record the passport GET cannot render.
 */
export function passportMissingFields(dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // PostgreSQL runs each migration in a transaction; SQLite's runs outside one, so the column and
      // its values are written in one here: a process killed halfway leaves neither.
      if (db.isTransaction) await fill(db as Transaction<any>);
      else await db.transaction().execute(fill);
      if (dialect === 'postgres')
        await db.schema
          .alterTable('compliance_records')
          .alterColumn('missing_fields', (c) => c.setNotNull())
          .execute();
    },
  };
}

async function fill(db: Transaction<any>): Promise<void> {
  await db.schema.alterTable('compliance_records').addColumn('missing_fields', 'text').execute();
  let after = '';
  for (;;) {
    const rows = (await db
      .selectFrom('compliance_records')
      .select(['product_id', ...REQUIRED])
      .where('product_id', '>', after)
      .orderBy('product_id')
      .limit(BATCH)
      .execute()) as StoredRow[];
    for (const row of rows) {
      await db
        .updateTable('compliance_records')
        .set({ missing_fields: JSON.stringify(missingFor(row)) })
        .where('product_id', '=', row.product_id)
        .execute();
    }
    if (rows.length < BATCH) break;
    after = rows[rows.length - 1]!.product_id;
  }
}

// ---- the completeness rules of 0006, frozen

/** The fields a complete passport needed (product_name falls back to the title, so it is never missing). */
const REQUIRED = ['manufacturer', 'materials', 'carbon_footprint_kg', 'certifications', 'end_of_life_instructions'] as const;
const JSON_COLUMNS = new Set<string>(['materials', 'certifications']);
const SUM_TOLERANCE = 0.01;

type StoredRow = { product_id: string } & Record<(typeof REQUIRED)[number], string | number | null>;

function missingFor(row: StoredRow): string[] {
  const valueOf = (f: (typeof REQUIRED)[number]): unknown => {
    const raw = row[f];
    if (raw === null || raw === undefined) return null;
    return JSON_COLUMNS.has(f) ? JSON.parse(raw as string) : raw;
  };
  const missing: string[] = REQUIRED.filter((f) => {
    const value = valueOf(f);
    return value === null || value === '' || (Array.isArray(value) && value.length === 0);
  });
  const materials = valueOf('materials') as Array<{ percentage: number }> | null;
  if (materials?.length && Math.abs(materials.reduce((s, m) => s + m.percentage, 0) - 100) > SUM_TOLERANCE) {
    missing.push('materials (percentages must sum to 100)');
  }
  return missing;
}
