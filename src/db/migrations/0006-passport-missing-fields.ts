import type { Kysely, Transaction } from 'kysely';
import type { Dialect } from '../dialect.js';
import { valuesFromRow } from '../../features/compliance/record.js';
import { missingForComplete } from '../../features/compliance/rules.js';
import type { ComplianceRow } from '../schema.js';

const BATCH = 1_000;

/**
 * `compliance_records.missing_fields`: what keeps the passport from complete, as JSON, written with
 * every change. The passport GET then renders its whole answer in SQL (see `passportDocument`),
 * without reading the values into the application to run the rules on every read.
 * Existing records are filled by running today's rules over them. Every process that writes
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
      if (dialect === 'postgres') await db.schema.alterTable('compliance_records').alterColumn('missing_fields', (c) => c.setNotNull()).execute();
    },
  };
}

async function fill(db: Transaction<any>): Promise<void> {
  await db.schema.alterTable('compliance_records').addColumn('missing_fields', 'text').execute();
  let after = '';
  for (;;) {
    const rows = (await db
      .selectFrom('compliance_records')
      .selectAll()
      .where('product_id', '>', after)
      .orderBy('product_id')
      .limit(BATCH)
      .execute()) as ComplianceRow[];
    for (const row of rows) {
      await db
        .updateTable('compliance_records')
        .set({ missing_fields: JSON.stringify(missingForComplete(valuesFromRow(row))) })
        .where('product_id', '=', row.product_id)
        .execute();
    }
    if (rows.length < BATCH) break;
    after = rows[rows.length - 1]!.product_id;
  }
}
