import { hash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AccessGrantsTable, Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';
import { newId } from '../../lib/ids.js';
import { nowIso } from '../../lib/time.js';
import { recordAudit, type AuditActor } from '../audit/record.js';
import type { AccessTier } from '../passports/model.js';

/**
 * Access grants: how a person with a legitimate interest (a repairer, a recycler) or an authority
 * (market surveillance, customs) reads the restricted fields of an organisation's passports, through
 * the same public URIs as everyone else (`/01/{gtin}`, `/dpp/{id}`), with `Authorization: Bearer dppg_…`.
 *
 * A grant is issued by the organisation (admin key) to a named party, for one tier, until a date
 * (at most GRANT_MAX_DAYS ahead); it can be revoked at once. Only the token's SHA-256 is stored and the
 * token is shown once. Every use is logged in the organisation's audit log (`grant.use`, with the
 * passport read), as ESPR expects access to restricted data to be traceable.
 */
export const GRANT_PREFIX = 'dppg_';
const GRANT_RE = /^dppg_[A-Za-z0-9_-]{43}$/;
/** The tiers a grant can carry (public needs none). */
export const GRANT_TIERS = ['legitimate_interest', 'authority'] as const satisfies readonly AccessTier[];
export type GrantTier = (typeof GRANT_TIERS)[number];
export const GRANT_MAX_DAYS = 366;

/** A grant presented with a request, once checked. */
export interface GrantHolder {
  grantId: string;
  orgId: string;
  tier: GrantTier;
  grantee: string;
}

const hashToken = (token: string) => hash('sha256', token, 'hex');

/** The part of a grant the API shows (never the token or its hash). */
function publicGrant(row: AccessGrantsTable, now: string) {
  return {
    id: row.id,
    grantee: row.grantee,
    tier: row.tier as GrantTier,
    purpose: row.purpose,
    created_at: row.created_at,
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
    last_used_at: row.last_used_at,
    active: row.revoked_at === null && row.expires_at > now,
  };
}

export interface GrantInput {
  grantee: string;
  tier: GrantTier;
  expires_at: string;
  purpose?: string | undefined;
}

export function createGrantService(db: Kysely<Schema>) {
  return {
    async create(orgId: string, input: GrantInput, actor: AuditActor) {
      const now = nowIso();
      const expires = new Date(input.expires_at);
      const latest = Date.now() + GRANT_MAX_DAYS * 86_400_000;
      if (Number.isNaN(expires.getTime()) || expires.getTime() <= Date.now() || expires.getTime() > latest) {
        throw errors.validation(`expires_at must be in the future and at most ${GRANT_MAX_DAYS} days ahead.`, [
          { field: 'body/expires_at', rule: 'range', message: `must be after now and within ${GRANT_MAX_DAYS} days` },
        ]);
      }
      const token = `${GRANT_PREFIX}${randomBytes(32).toString('base64url')}`;
      const row: AccessGrantsTable = {
        id: newId(),
        org_id: orgId,
        grantee: input.grantee.trim(),
        tier: input.tier,
        purpose: input.purpose?.trim() || null,
        token_hash: hashToken(token),
        created_at: now,
        created_by_key_id: actor.keyId,
        expires_at: expires.toISOString(),
        revoked_at: null,
        last_used_at: null,
      };
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('access_grants').values(row).execute();
        await recordAudit(trx, {
          orgId,
          actor,
          action: 'grant.create',
          targetType: 'access_grant',
          targetId: row.id,
          at: now,
          details: { grantee: row.grantee, tier: row.tier, expires_at: row.expires_at },
        });
      });
      return { ...publicGrant(row, now), token };
    },

    async list(orgId: string, page: number, perPage: number) {
      const now = nowIso();
      const [rows, count] = await Promise.all([
        db
          .selectFrom('access_grants')
          .selectAll()
          .where('org_id', '=', orgId)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(perPage)
          .offset((page - 1) * perPage)
          .execute(),
        db
          .selectFrom('access_grants')
          .select((eb) => eb.fn.countAll<string | number>().as('n'))
          .where('org_id', '=', orgId)
          .executeTakeFirstOrThrow(),
      ]);
      return { items: rows.map((r) => publicGrant(r, now)), total: Number(count.n), page, per_page: perPage };
    },

    /** Revokes a grant at once; revoking it again answers the same grant (idempotent). */
    async revoke(orgId: string, grantId: string, actor: AuditActor) {
      return db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('access_grants').selectAll().where('org_id', '=', orgId).where('id', '=', grantId).executeTakeFirst();
        if (!row) throw errors.notFound('Access grant', `Access grant ${grantId} not found.`);
        const now = nowIso();
        if (row.revoked_at) return publicGrant(row, now);
        await trx.updateTable('access_grants').set({ revoked_at: now }).where('id', '=', grantId).execute();
        await recordAudit(trx, { orgId, actor, action: 'grant.revoke', targetType: 'access_grant', targetId: grantId, at: now, details: { grantee: row.grantee } });
        return publicGrant({ ...row, revoked_at: now }, now);
      });
    },

    /**
     * The grant a public request presents (`Authorization: Bearer dppg_…`): undefined without one;
     * a 401 for a token that is malformed, unknown, expired or revoked (its holder must learn that it
     * no longer works, rather than silently see the public passport). Not cached: revocation holds at
     * once, and restricted reads are rare next to public ones.
     */
    async holderOf(authorization: string | undefined): Promise<GrantHolder | undefined> {
      // Only grant tokens count here: another Authorization header (an API key sent out of habit, a
      // proxy's credentials) leaves the request public, as before grants existed.
      const token = authorization === undefined ? undefined : /^Bearer\s+(dppg_\S*)\s*$/i.exec(authorization)?.[1];
      if (token === undefined) return undefined;
      if (!GRANT_RE.test(token)) throw errors.unauthenticated('The access grant token is not valid.', true);
      const row = await db.selectFrom('access_grants').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
      if (!row || row.revoked_at !== null || row.expires_at <= nowIso()) {
        throw errors.unauthenticated('The access grant is unknown, expired or revoked.', true);
      }
      return { grantId: row.id, orgId: row.org_id, tier: row.tier as GrantTier, grantee: row.grantee };
    },

    /** Logs one read of a passport's restricted fields under a grant. */
    async recordUse(holder: GrantHolder, productId: string, version: number, requestId: string) {
      const now = nowIso();
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('access_grants').set({ last_used_at: now }).where('id', '=', holder.grantId).execute();
        await recordAudit(trx, {
          orgId: holder.orgId,
          actor: { keyId: null, source: 'grant', requestId },
          action: 'grant.use',
          targetType: 'access_grant',
          targetId: holder.grantId,
          at: now,
          details: { grantee: holder.grantee, tier: holder.tier, product_id: productId, published_version: version },
        });
      });
    },
  };
}

export type GrantService = ReturnType<typeof createGrantService>;
