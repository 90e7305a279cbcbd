import type { Kysely } from 'kysely';
import type { Schema } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import { nowIso } from '../../lib/time.js';
import type { Actor } from './service.js';

/** A product's fields as a passport shows them: its EAN, and its title while the passport has no name of its own. */
export interface ProductFacts {
  title: string;
  ean: string | null;
}

export interface ProductChange {
  productId: string;
  before: ProductFacts;
  after: ProductFacts;
}

/**
 * A catalog change the passport shows is a change of the passport: its working copy gets a new
 * version (so its ETag changes and a cached copy is not served as current), it is marked as having
 * unpublished changes when published, and its history records what changed and who changed it.
 * Published versions are snapshots and do not move. Products without a passport are skipped.
 * Call inside the transaction that writes the product.
 */
export async function recordProductChanges(trx: Kysely<Schema>, orgId: string, changes: ProductChange[], actor: Actor): Promise<void> {
  for (const { productId, before, after } of changes) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const record = await trx
        .selectFrom('compliance_records')
        .select(['version', 'product_name', 'passport_created_at', 'published_version', 'withdrawn_at'])
        .where('product_id', '=', productId)
        .executeTakeFirst();
      if (!record?.passport_created_at) break;
      const diff: Array<{ field: string; old: unknown; new: unknown }> = [];
      if (before.ean !== after.ean) diff.push({ field: 'ean', old: before.ean, new: after.ean });
      if (record.product_name === null && before.title !== after.title) diff.push({ field: 'product_name', old: before.title, new: after.title });
      if (diff.length === 0) break;
      // False when another writer took this version first: read again and record on top of it.
      if (await recordWorkingCopyChange(trx, orgId, productId, record, { action: 'product_update', changes: diff }, actor, nowIso())) break;
    }
  }
}

/**
 * Moves a passport's working copy to its next version for a change made outside the passport (the
 * catalog, a document's public role): marked as having unpublished changes when published, with a
 * history entry naming what changed and who changed it. False when another writer took
 * `record.version` first (nothing is written then).
 */
export async function recordWorkingCopyChange(
  trx: Kysely<Schema>,
  orgId: string,
  productId: string,
  record: { version: number; published_version: number | null; withdrawn_at: string | null },
  entry: { action: string; changes: unknown[] },
  actor: Pick<Actor, 'keyId' | 'source'>,
  now: string,
): Promise<boolean> {
  const live = record.published_version !== null && !record.withdrawn_at;
  const moved = await trx
    .updateTable('compliance_records')
    .set({ version: record.version + 1, updated_at: now, has_unpublished_changes: live ? 1 : 0 })
    .where('product_id', '=', productId)
    .where('version', '=', record.version)
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) !== 1) return false;
  await trx
    .insertInto('compliance_history')
    .values({
      id: newId(),
      org_id: orgId,
      product_id: productId,
      version: record.version + 1,
      action: entry.action,
      changed_at: now,
      key_id: actor.keyId,
      source: actor.source,
      changes: JSON.stringify(entry.changes),
    })
    .execute();
  return true;
}
