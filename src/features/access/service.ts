import type { Kysely } from 'kysely';
import { changedSince, type ChangeFeed } from '../../db/pg-listen.js';
import { sqliteChangeWatcher } from '../../db/sqlite-direct.js';
import { dialectOf } from '../../db/dialect.js';
import type { ApiKeyRow, Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';
import { newId } from '../../lib/ids.js';
import { nowIso } from '../../lib/time.js';
import { recordAudit, SYSTEM_ACTOR, type AuditActor } from '../audit/record.js';
import { generateKey, keyIdOf, keyMatches, parseScopes, type Scope } from './key-format.js';
import { createKeyCache, forgetKeys } from './key-cache.js';
import { createAccessRepository, type AccessRepository } from './repository.js';

/** Who is calling: resolved from the Bearer key on every /api/v1 request. */
export interface Principal {
  orgId: string;
  keyId: string;
  scopes: Scope[];
}

export interface KeySummary {
  id: string;
  prefix: string;
  organisation: string;
  name: string | null;
  scopes: Scope[];
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Checks a presented key against its row (or its absence) and answers its principal, or throws 401. */
function principalOf(key: string, row: ApiKeyRow | undefined): Principal {
  // Hash comparison runs in constant time; an unknown id compares against a dummy so timing is alike.
  const matches = keyMatches(key, row?.secret_hash ?? '0'.repeat(64));
  if (!row || !matches) throw errors.unauthenticated('The API key is not valid.', true);
  if (row.revoked_at) throw errors.unauthenticated('The API key has been revoked.', true);
  return principalFromRow(row);
}

function principalFromRow(row: ApiKeyRow): Principal {
  return Object.freeze({ orgId: row.org_id, keyId: row.id, scopes: row.scopes.split(',') as Scope[] });
}

/**
 * A key row as the key cache holds it, with what every request would otherwise derive from it again,
 * so a cached check only hashes the presented key and compares.
 */
interface CachedKey {
  row: ApiKeyRow;
  storedHash: Buffer;
  /** Undefined for a revoked key. */
  principal: Principal | undefined;
  /** When last_used_at is due for a refresh (ms since the epoch). */
  touchAt: number;
}

function cachedKeyOf(row: ApiKeyRow): CachedKey {
  return {
    row,
    storedHash: Buffer.from(row.secret_hash, 'hex'),
    principal: row.revoked_at ? undefined : principalFromRow(row),
    touchAt: touchAtOf(row),
  };
}

function touchAtOf(row: ApiKeyRow): number {
  return row.last_used_at ? Date.parse(row.last_used_at) + TOUCH_INTERVAL_MS : 0;
}

const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** last_used_at is refreshed at most this often, so authentication is not a write per request. */
const TOUCH_INTERVAL_MS = 60_000;

export interface AccessServiceOptions {
  /**
   * PostgreSQL: key changes announced by other processes (`dpp serve` LISTENs on `dpp_keys`, see
   * server.ts). Without it, cached keys are trusted for KEY_CACHE_TTL_MS (5 s).
   */
  keyChanges?: ChangeFeed | undefined;
}

/**
 * Organisations and API keys: creation, listing, revocation, and authentication of a presented key.
 * The CLI (`dpp keys …`) and the auth hook both call this.
 */
export function createAccessService(db: Kysely<Schema>, options: AccessServiceOptions = {}) {
  const repo = createAccessRepository(db);
  const postgres = dialectOf(db) === 'postgres';
  const feed = postgres ? options.keyChanges : undefined;
  const keys = createKeyCache<CachedKey>(postgres ? (feed ? changedSince(feed) : () => false) : sqliteChangeWatcher(db), feed ? { live: feed.live } : {});

  /**
   * Runs a change to keys in a transaction (`trx`, which its audit event is written with); on
   * PostgreSQL the transaction also announces it on `dpp_keys`, so every listening process hears of
   * it when (and only if) it commits.
   */
  async function changeKeys<T>(change: (repo: AccessRepository, trx: Kysely<Schema>) => Promise<T>): Promise<T> {
    const announce = async (on: Kysely<Schema>) => {
      const within = createAccessRepository(on);
      const out = await change(within, on);
      if (postgres) await within.announceKeyChange();
      return out;
    };
    return db.isTransaction ? announce(db) : db.transaction().execute(announce);
  }

  async function ensureOrganisation(slug: string, name?: string) {
    if (!SLUG_RE.test(slug)) {
      throw errors.validation(`Organisation slug "${slug}" is invalid.`, [
        { field: 'org', rule: 'pattern', message: 'lowercase letters, digits and hyphens, at most 63 characters' },
      ]);
    }
    await repo.insertOrganisation({ id: newId(), slug, name: name ?? slug, created_at: nowIso() });
    // Re-read: another process may have created it first (insert does nothing on conflict).
    return (await repo.findOrganisationBySlug(slug))!;
  }

  async function requireOrganisation(slug: string) {
    const org = await repo.findOrganisationBySlug(slug);
    if (!org) throw errors.notFound('Organisation', `Organisation "${slug}" does not exist.`);
    return org;
  }

  return {
    ensureOrganisation,
    requireOrganisation,
    countOrganisations: () => repo.countOrganisations(),

    /**
     * Creates a key (and the organisation when new). The returned `key` is shown once, never stored.
     * Audited (`key.create`) as `actor`: the CLI passes `{ keyId: null, source: 'cli' }`.
     */
    async createKey(input: { org: string; scopes: string | readonly string[]; name?: string }, actor: AuditActor = SYSTEM_ACTOR) {
      let scopes: Scope[];
      try {
        scopes = parseScopes(input.scopes);
      } catch (e) {
        throw errors.validation((e as Error).message, [{ field: 'scopes', rule: 'enum', message: (e as Error).message }]);
      }
      const org = await ensureOrganisation(input.org);
      const generated = generateKey();
      const created_at = nowIso();
      await changeKeys(async (r, trx) => {
        await r.insertKey({
          id: generated.id,
          org_id: org.id,
          name: input.name ?? null,
          secret_hash: generated.hash,
          scopes: scopes.join(','),
          created_at,
          last_used_at: null,
          revoked_at: null,
        });
        await recordAudit(trx, {
          orgId: org.id,
          actor,
          action: 'key.create',
          targetType: 'api_key',
          targetId: generated.id,
          at: created_at,
          details: { scopes, name: input.name ?? null },
        });
      });
      return { key: generated.key, id: generated.id, organisation: org.slug, org_id: org.id, scopes, created_at };
    },

    async listKeys(orgSlug: string): Promise<KeySummary[]> {
      const org = await requireOrganisation(orgSlug);
      const rows = await repo.listKeys(org.id);
      return rows.map((r) => ({
        id: r.id,
        prefix: `dpp_${r.id}`,
        organisation: org.slug,
        name: r.name,
        scopes: r.scopes.split(',') as Scope[],
        created_at: r.created_at,
        last_used_at: r.last_used_at,
        revoked_at: r.revoked_at,
      }));
    },

    /** Revokes by id or by `dpp_<id>` prefix; false when no active key had that id. Audited (`key.revoke`) as `actor`. */
    async revokeKey(idOrPrefix: string, actor: AuditActor = SYSTEM_ACTOR): Promise<boolean> {
      const id = idOrPrefix.replace(/^dpp_/, '').split('_')[0] ?? '';
      const at = nowIso();
      const revoked = await changeKeys(async (r, trx) => {
        const row = await r.findKeyById(id);
        // Only a revocation that takes effect is recorded (revoking a revoked key changes nothing).
        if (!row || !(await r.revokeKey(id, at))) return false;
        await recordAudit(trx, {
          orgId: row.org_id,
          actor,
          action: 'key.revoke',
          targetType: 'api_key',
          targetId: id,
          at,
          details: { name: row.name, scopes: row.scopes.split(',') },
        });
        return true;
      });
      forgetKeys();
      return revoked;
    },

    /**
     * The principal of a key whose row is in the key cache and needs no last-used refresh, without
     * touching the database; undefined when `authenticate` must decide. Never throws: a wrong or
     * revoked key is for `authenticate` to refuse.
     */
    authenticateCached(key: string | undefined): Principal | undefined {
      const id = key ? keyIdOf(key) : undefined;
      const cached = id ? keys.get(id) : undefined;
      if (!cached?.principal || Date.now() > cached.touchAt) return undefined;
      // A wrong secret or a revoked key goes the slow way, which answers the 401.
      return keyMatches(key!, cached.storedHash) ? cached.principal : undefined;
    },

    /** Resolves a presented key to its principal, or throws 401. */
    async authenticate(key: string | undefined): Promise<Principal> {
      if (!key) throw errors.unauthenticated('Send an API key as "Authorization: Bearer <key>".');
      const id = keyIdOf(key);
      let row = id ? keys.get(id)?.row : undefined;
      if (id && !row) {
        const readAt = keys.epoch();
        row = await repo.findKeyById(id);
        if (row) keys.set(cachedKeyOf(row), readAt);
      }
      const principal = principalOf(key, row);
      if (Date.now() > touchAtOf(row!)) {
        const at = new Date().toISOString();
        const readAt = keys.epoch();
        await repo.touchKey(row!.id, at);
        keys.set(cachedKeyOf({ ...row!, last_used_at: at }), readAt);
      }
      return principal;
    },
  };
}

export type AccessService = ReturnType<typeof createAccessService>;
