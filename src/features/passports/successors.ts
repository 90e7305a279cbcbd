import type { Kysely } from 'kysely';
import { toBool } from '../../db/dialect.js';
import type { PassportSuccessorsTable, Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';
import { nowIso } from '../../lib/time.js';
import { recordAudit, type AuditActor } from '../audit/record.js';
import { passportUri, publishableGtin } from '../export/digital-link.js';
import { requireOwnedProduct } from '../products/ownership.js';

/**
 * Successor links between passports. A passport's URI is printed on goods and must keep answering,
 * so a change of product record never silently drops it:
 * - `replaced`: the product was replaced by a newer one. Its passport stays live and says so (the
 *   page and the linkset point to the successor, IANA `successor-version`).
 * - `moved`: the passport now lives at another product record (a data migration, a merged
 *   duplicate). The old passport must be withdrawn first; its URIs then redirect (308) to the successor.
 * The link is not part of any published version (those never change): it is shown beside them.
 */
export const SUCCESSION_REASONS = ['replaced', 'moved'] as const;
export type SuccessionReason = (typeof SUCCESSION_REASONS)[number];

/** How far a chain of successors is followed when looking for a cycle. */
const MAX_CHAIN = 50;

/** A successor as the public side shows it. */
export interface PublicSuccessor {
  uri: string;
  productName: string;
  reason: SuccessionReason;
}

const SUCCESSOR_COLUMNS = ['id', 'title', 'gtin14', 'gtin_valid', 'dpp_status'] as const;

function answer(row: PassportSuccessorsTable) {
  return { product_id: row.product_id, successor_product_id: row.successor_product_id, reason: row.reason, created_at: row.created_at };
}

export function createSuccessorService(db: Kysely<Schema>) {
  return {
    async set(orgId: string, productId: string, input: { successor_product_id: string; reason: SuccessionReason }, actor: AuditActor) {
      if (input.successor_product_id === productId) {
        throw errors.validation('A passport cannot succeed itself.', [{ field: 'body/successor_product_id', rule: 'not_self', message: 'must be another product' }]);
      }
      return db.transaction().execute(async (trx) => {
        await requireOwnedProduct(trx, orgId, productId, ['id'], { lock: true });
        const successor = await requireOwnedProduct(trx, orgId, input.successor_product_id, SUCCESSOR_COLUMNS);
        if (successor.dpp_status !== 'published') {
          throw errors.conflict(`Product ${successor.id} has no live published passport: a successor link must open one.`, { field: 'successor_product_id' });
        }
        const record = await trx.selectFrom('compliance_records').select(['published_version', 'withdrawn_at']).where('product_id', '=', productId).executeTakeFirst();
        if (input.reason === 'moved' && !(record?.published_version && record.withdrawn_at)) {
          throw errors.conflict('A moved passport is withdrawn first: its URIs then redirect to the successor. Withdraw it, or link it as replaced.', { field: 'reason' });
        }
        // Follow the successor's own chain: it must not lead back here.
        let next: string | undefined = successor.id;
        for (let i = 0; next !== undefined && i < MAX_CHAIN; i++) {
          if (next === productId) {
            throw errors.validation('This successor link would make a cycle.', [
              { field: 'body/successor_product_id', rule: 'no_cycle', message: 'its chain of successors leads back to this product' },
            ]);
          }
          const link = await trx.selectFrom('passport_successors').select('successor_product_id').where('product_id', '=', next).executeTakeFirst();
          next = link?.successor_product_id;
        }
        const now = nowIso();
        const row: PassportSuccessorsTable = {
          product_id: productId,
          org_id: orgId,
          successor_product_id: successor.id,
          reason: input.reason,
          created_at: now,
          created_by_key_id: actor.keyId,
        };
        await trx.deleteFrom('passport_successors').where('product_id', '=', productId).execute();
        await trx.insertInto('passport_successors').values(row).execute();
        await recordAudit(trx, {
          orgId,
          actor,
          action: 'passport.successor.set',
          targetType: 'passport',
          targetId: productId,
          at: now,
          details: { successor_product_id: successor.id, reason: input.reason },
        });
        return answer(row);
      });
    },

    async get(orgId: string, productId: string) {
      await requireOwnedProduct(db, orgId, productId, ['id']);
      const row = await db.selectFrom('passport_successors').selectAll().where('product_id', '=', productId).executeTakeFirst();
      if (!row) throw errors.notFound('Successor', `Product ${productId} has no successor.`);
      return answer(row);
    },

    async clear(orgId: string, productId: string, actor: AuditActor) {
      await db.transaction().execute(async (trx) => {
        await requireOwnedProduct(trx, orgId, productId, ['id'], { lock: true });
        const removed = await trx.deleteFrom('passport_successors').where('product_id', '=', productId).executeTakeFirst();
        if (Number(removed.numDeletedRows) === 0) throw errors.notFound('Successor', `Product ${productId} has no successor.`);
        await recordAudit(trx, { orgId, actor, action: 'passport.successor.clear', targetType: 'passport', targetId: productId });
      });
    },
  };
}

export type SuccessorService = ReturnType<typeof createSuccessorService>;

/** The successor of a product's passport for the public side, when it has one whose passport is live. */
export async function publicSuccessorOf(db: Kysely<Schema>, baseUrl: string, productId: string): Promise<PublicSuccessor | undefined> {
  const found = await db
    .selectFrom('passport_successors as s')
    .innerJoin('products as p', 'p.id', 's.successor_product_id')
    .select(['s.reason', 'p.id', 'p.title', 'p.gtin14', 'p.gtin_valid', 'p.dpp_status'])
    .where('s.product_id', '=', productId)
    .executeTakeFirst();
  if (!found || found.dpp_status !== 'published') return undefined;
  return { uri: passportUri(baseUrl, found.id, publishableGtin(found.gtin14, toBool(found.gtin_valid))), productName: found.title, reason: found.reason };
}
