import type { Kysely } from 'kysely';
import { valuesFromRow } from '../../features/compliance/record.js';
import { missingForComplete } from '../../features/compliance/rules.js';
import type { ComplianceRow } from '../schema.js';

const BATCH = 1_000;

/**
 * `compliance_records.missing_fields`: what keeps the passport from complete, as JSON, written with
 * every change. The passport GET then renders its whole answer in SQL (see `passportDocument`),
 * without reading the values into the application to run the rules on every read.
 * Existing records are filled by running today's rules over them.
 */
export function passportMissingFields() {
  return {
    async up(db: Kysely<any>): Promise<void> {
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
    },
  };
}
