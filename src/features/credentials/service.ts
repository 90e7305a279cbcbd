import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { JWK } from 'jose';
import type { Kysely, Transaction } from 'kysely';
import type { Schema } from '../../db/schema.js';
import { AppError, errors } from '../../errors.js';
import { nowIso } from '../../lib/time.js';
import { recordAudit, type AuditActor } from '../audit/record.js';
import { publishableGtin } from '../export/digital-link.js';
import { toUntpCredential } from '../export/untp.js';
import { requireOwnedProduct } from '../products/ownership.js';
import type { PassportView } from '../passports/views.js';
import { credentialUrl, orgDid, orgDidDocument, serviceDidDocument, statusListUrl, verificationMethodId } from './did.js';
import { createSigningKeyCache, generateSigningKey, isSealed, sealPrivateKey, signCompact, signingKeyFor } from './keys.js';
import { createCredentialRepository, REVOCATION } from './repository.js';
import { emptyList, multibaseList, setBit, STATUS_LIST_SIZE } from './status-list.js';

/** JOSE header `typ` and media type of a credential (W3C VC-JOSE-COSE, section 3.1.1). */
export const VC_JWT_TYP = 'vc+jwt';
export const VC_JWT_MEDIA_TYPE = 'application/vc+jwt';
const DAY_MS = 86_400_000;

export interface CredentialSettings {
  /** PUBLIC_BASE_URL: the host of every DID and the base of credential and status list URLs. */
  baseUrl: string;
  /** SIGNING_SECRET: seals private keys at rest; undefined stores them unsealed. */
  signingSecret: string | undefined;
  /** `validUntil` is `validFrom` plus this many days. */
  validityDays: number;
}

/** What a published version is stored with: its content hash and, when signed, its credential. */
export interface PublicationSeal {
  content_hash: string;
  credential: string | null;
  credential_kid: string | null;
  status_list: number | null;
  status_index: number | null;
}

export interface PublicationToSeal {
  orgId: string;
  productId: string;
  publishedVersion: number;
  publishedAt: string;
  /** The passport as published (the snapshot stored). */
  snapshot: PassportView;
  gtin14: string | null;
  gtinValid: boolean | null;
}

/** SHA-256 hex of the RFC 8785 (JCS) form of a JSON value (as stored: undefined members dropped). */
export function contentHash(value: unknown): string {
  const canonical = canonicalize(JSON.parse(JSON.stringify(value)));
  return createHash('sha256')
    .update(canonical ?? '', 'utf8')
    .digest('hex');
}

const signingFailed = (orgId: string) =>
  new AppError(
    503,
    'signing_failed',
    'Signing failed',
    `The passport could not be signed with organisation ${orgId}'s key, so nothing was published. The key cannot be read here ` +
      '(is SIGNING_SECRET the one it was sealed with?); an admin key can rotate to a new signing key (POST /api/v1/compliance/signing-keys/rotate).',
  );

/**
 * Signed, revocable passport credentials: each organisation's `did:web` and Ed25519 keys, its
 * revocation status list, and the UNTP credential of each published version secured as a JWS
 * (VC-JOSE-COSE, `typ: vc+jwt`). Publish and withdraw call `sealPublication` and
 * `revokePublication` inside their own transactions.
 */
export function createCredentialService(db: Kysely<Schema>, settings: CredentialSettings) {
  const { baseUrl, signingSecret } = settings;
  const keyCache = createSigningKeyCache();

  /** The organisation's active key, created on first use. */
  async function activeKey(trx: Kysely<Schema>, orgId: string) {
    const repo = createCredentialRepository(trx);
    const found = await repo.activeKey(orgId);
    if (found) return found;
    return createKey(trx, orgId, nowIso());
  }

  async function createKey(trx: Kysely<Schema>, orgId: string, at: string) {
    const key = await generateSigningKey();
    const row = {
      kid: key.kid,
      org_id: orgId,
      public_jwk: JSON.stringify(key.publicJwk),
      private_key: sealPrivateKey(key.privateJwk, key.kid, signingSecret),
      status: 'active',
      created_at: at,
      retired_at: null,
    };
    await createCredentialRepository(trx).insertKey(row);
    return row;
  }

  /** Signs `payload` with the organisation's active key; a key that cannot be read aborts with 503. */
  async function sign(trx: Kysely<Schema>, orgId: string, payload: object): Promise<{ jws: string; kid: string }> {
    const key = await activeKey(trx, orgId);
    let jws: string;
    try {
      jws = await signCompact(payload, await signingKeyFor(keyCache, key.private_key, key.kid, signingSecret), {
        typ: VC_JWT_TYP,
        cty: 'vc',
        kid: verificationMethodId(baseUrl, orgId, key.kid),
      });
    } catch (_e) {
      throw signingFailed(orgId);
    }
    return { jws, kid: key.kid };
  }

  /** The next free place in the organisation's revocation list (a new list when the last is full). */
  async function allocateStatus(trx: Kysely<Schema>, orgId: string, at: string): Promise<{ list: number; index: number }> {
    const repo = createCredentialRepository(trx);
    const latest = await repo.latestList(orgId, REVOCATION);
    if (latest && latest.next_index < latest.size) {
      await repo.updateList(orgId, REVOCATION, latest.list_number, { next_index: latest.next_index + 1 });
      return { list: Number(latest.list_number), index: Number(latest.next_index) };
    }
    const list = latest ? Number(latest.list_number) + 1 : 1;
    await repo.insertList({ org_id: orgId, purpose: REVOCATION, list_number: list, size: STATUS_LIST_SIZE, next_index: 1, encoded_list: await emptyList(), updated_at: at });
    return { list, index: 0 };
  }

  return {
    settings,

    credentialUrl: (productId: string, version: number) => credentialUrl(baseUrl, productId, version),

    /**
     * Inside the publish transaction: the version's content hash, and its UNTP credential (as
     * `toUntpCredential` renders it) issued by the organisation's DID, with `validUntil` and a
     * revocation status entry, signed with the active key. Throws (and so aborts the publish) when
     * signing fails.
     */
    async sealPublication(trx: Transaction<Schema>, p: PublicationToSeal): Promise<PublicationSeal> {
      const hash = contentHash(p.snapshot);
      const { list, index } = await allocateStatus(trx, p.orgId, p.publishedAt);
      const did = orgDid(baseUrl, p.orgId);
      const untp = toUntpCredential({
        passport: p.snapshot,
        gtin14: publishableGtin(p.gtin14, p.gtinValid),
        status: 'published',
        publishedVersion: p.publishedVersion,
        publishedAt: p.publishedAt,
        baseUrl,
      });
      const listUrl = statusListUrl(baseUrl, p.orgId, list);
      const credential = {
        ...untp,
        issuer: { ...(untp.issuer as Record<string, unknown>), id: did },
        validFrom: p.publishedAt,
        validUntil: new Date(Date.parse(p.publishedAt) + settings.validityDays * DAY_MS).toISOString(),
        credentialStatus: {
          id: `${listUrl}#${index}`,
          type: 'BitstringStatusListEntry',
          statusPurpose: REVOCATION,
          statusListIndex: String(index),
          statusListCredential: listUrl,
        },
        // JWT claims that agree with the credential (VC-JOSE-COSE: no conflicting values).
        iss: did,
        jti: untp.id,
        iat: Math.floor(Date.parse(p.publishedAt) / 1000),
      };
      const { jws, kid } = await sign(trx, p.orgId, credential);
      return { content_hash: hash, credential: jws, credential_kid: kid, status_list: list, status_index: index };
    },

    /** The signed credential of one of the organisation's published versions (default: the latest). */
    async credentialFor(orgId: string, productId: string, version?: number): Promise<string> {
      await requireOwnedProduct(db, orgId, productId);
      const repo = createCredentialRepository(db);
      const wanted = version ?? (await repo.latestVersion(productId));
      if (wanted === undefined) throw errors.notFound('Credential', `Product ${productId} has no published passport, so no credential.`);
      const row = await repo.publication(productId, wanted);
      if (!row || row.org_id !== orgId) throw errors.notFound('Version', `Passport version ${wanted} of product ${productId} does not exist.`);
      if (!row.credential) throw errors.notFound('Credential', `Passport version ${wanted} of product ${productId} was published before credentials were signed; it has none.`);
      return row.credential;
    },

    /** Public: the credential of a published version while the public side shows it (live passport, version never withdrawn). */
    async publicCredential(productId: string, version: number): Promise<string | undefined> {
      const repo = createCredentialRepository(db);
      const row = await repo.publication(productId, version);
      if (!row?.credential || row.withdrawn_at !== null) return undefined;
      return (await repo.isLive(productId)) ? row.credential : undefined;
    },

    /** Public: an organisation's DID document (every key, active and retired); undefined for an unknown organisation. */
    async didDocument(orgId: string): Promise<Record<string, unknown> | undefined> {
      const repo = createCredentialRepository(db);
      if (!(await repo.orgExists(orgId))) return undefined;
      const keys = await repo.keys(orgId);
      return orgDidDocument(
        baseUrl,
        orgId,
        keys.map((k) => ({ kid: k.kid, publicJwk: JSON.parse(k.public_jwk) as JWK as Record<string, unknown> })),
      );
    },

    serviceDidDocument: () => serviceDidDocument(baseUrl),

    /**
     * Public: the organisation's revocation list `listNumber` as a signed BitstringStatusListCredential
     * (compact JWS), or undefined when there is no such list. `validFrom` is the list's last change, so
     * the same list signed with the same key is the same token.
     */
    async statusListCredential(orgId: string, listNumber: number): Promise<string | undefined> {
      const row = await createCredentialRepository(db).list(orgId, REVOCATION, listNumber);
      if (!row) return undefined;
      const url = statusListUrl(baseUrl, orgId, listNumber);
      const did = orgDid(baseUrl, orgId);
      const payload = {
        '@context': ['https://www.w3.org/ns/credentials/v2'],
        id: url,
        type: ['VerifiableCredential', 'BitstringStatusListCredential'],
        issuer: did,
        validFrom: row.updated_at,
        credentialSubject: { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: REVOCATION, encodedList: multibaseList(row.encoded_list) },
        iss: did,
        jti: url,
      };
      return db.transaction().execute(async (trx) => (await sign(trx, orgId, payload)).jws);
    },

    /** The organisation's keys (public parts), newest first. */
    async listKeys(orgId: string) {
      const keys = await createCredentialRepository(db).keys(orgId);
      return keys.reverse().map((k) => ({
        kid: k.kid,
        verification_method: verificationMethodId(baseUrl, orgId, k.kid),
        status: k.status as 'active' | 'retired',
        created_at: k.created_at,
        retired_at: k.retired_at,
        sealed: isSealed(k.private_key),
        public_jwk: JSON.parse(k.public_jwk) as Record<string, unknown>,
      }));
    },

    /** A new active key; the one it replaces is retired (it stays in the DID document, so what it signed still verifies). */
    async rotate(orgId: string, actor: AuditActor) {
      const at = nowIso();
      const created = await db.transaction().execute(async (trx) => {
        const repo = createCredentialRepository(trx);
        const retired = await repo.retireActiveKey(orgId, at);
        const key = await createKey(trx, orgId, at);
        await recordAudit(trx, {
          orgId,
          actor,
          action: 'signing_key.rotate',
          targetType: 'signing_key',
          targetId: key.kid,
          at,
          details: { kid: key.kid, retired_kid: retired ?? null },
        });
        return { kid: key.kid, retired: retired ?? null };
      });
      return { kid: created.kid, retired_kid: created.retired, did: orgDid(baseUrl, orgId), keys: await this.listKeys(orgId) };
    },
  };
}

export type CredentialService = ReturnType<typeof createCredentialService>;

/**
 * Inside the withdraw transaction: sets the revocation bit of the withdrawn version's credential in
 * its organisation's status list. A version published before signing has no credential: nothing to set.
 */
export async function revokePublication(trx: Transaction<Schema>, productId: string, version: number): Promise<void> {
  const repo = createCredentialRepository(trx);
  const row = await repo.publication(productId, version);
  if (!row || row.status_list === null || row.status_index === null) return;
  const list = await repo.list(row.org_id, REVOCATION, Number(row.status_list), { lock: true });
  if (!list) return;
  await repo.updateList(row.org_id, REVOCATION, Number(row.status_list), { encoded_list: await setBit(list.encoded_list, Number(row.status_index)), updated_at: nowIso() });
}

export type PublishedVersion = Omit<PublicationToSeal, 'snapshot'>;

/**
 * Inside the publish transaction, once the version's row is written: stores its content hash (of the
 * snapshot as stored) and, when a credential service is configured, its signed credential (the
 * application always passes one; a bare compliance service records the hash only). Throws, and so
 * aborts the publish, when signing fails.
 */
export async function sealPublishedVersion(trx: Transaction<Schema>, credentials: CredentialService | undefined, p: PublishedVersion): Promise<PublicationSeal> {
  const repo = createCredentialRepository(trx);
  const stored = await repo.snapshot(p.productId, p.publishedVersion);
  if (stored === undefined) throw new Error(`publication ${p.productId} v${p.publishedVersion} is not written`);
  const snapshot = JSON.parse(stored) as PassportView;
  const seal = credentials
    ? await credentials.sealPublication(trx, { ...p, snapshot })
    : { content_hash: contentHash(snapshot), credential: null, credential_kid: null, status_list: null, status_index: null };
  await repo.storeSeal(p.productId, p.publishedVersion, seal);
  return seal;
}

/** Content hashes (and whether signed) of some of a product's published versions, by version. */
export async function publicationSeals(db: Kysely<Schema>, orgId: string, productId: string, versions: number[]) {
  const rows = await createCredentialRepository(db).seals(orgId, productId, versions);
  return new Map(rows.map((r) => [Number(r.published_version), { content_hash: r.content_hash, signed: r.credential_kid !== null }]));
}
