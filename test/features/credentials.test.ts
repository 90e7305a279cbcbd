import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import addFormatsModule from 'ajv-formats';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { decodeJWT, verifyJWS } from 'did-jwt';
import { Resolver, type DIDResolutionResult, type ParsedDID, type VerificationMethod } from 'did-resolver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { orgDid, serviceDid } from '../../src/features/credentials/did.js';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, dialects } from '../helpers/db.js';
import { COMPLETE_PASSPORT as COMPLETE } from '../helpers/fixtures.js';

const BASE = 'https://dpp.example.test';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const untpSchema = JSON.parse(readFileSync(new URL('../../../shared/standards/untp-dpp-0.6.0/schema.json', import.meta.url), 'utf8')) as object;
const validateUntp = addFormats(new Ajv2020({ strict: false, allErrors: true })).compile(untpSchema);

/** RFC 8785 (JCS) for JSON data (strings, finite numbers, booleans, null, arrays, objects), written here independently of the service's. */
function jcs(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${jcs(v)}`).join(',')}}`;
}

/**
 * The verifier: did-jwt (noble's Ed25519, not the jose library the service signs with) and a did:web
 * resolver that applies the did:web rule (`did:web:host:a:b` → `https://host/a/b/did.json`) and fetches
 * the document over real HTTP from the service listening on a local port (PUBLIC_BASE_URL's host is
 * not resolvable in the test, and web-did-resolver insists on https).
 */
function verifier(origin: string) {
  const local = (url: string) => origin + new URL(url).pathname;
  const resolver = new Resolver({
    web: async (_did: string, parsed: ParsedDID): Promise<DIDResolutionResult> => {
      const parts = parsed.id.split(':').map(decodeURIComponent);
      const url = parts.length === 1 ? `https://${parts[0]}/.well-known/did.json` : `https://${parts[0]}/${parts.slice(1).join('/')}/did.json`;
      const res = await fetch(local(url));
      if (!res.ok) return { didResolutionMetadata: { error: 'notFound' }, didDocument: null, didDocumentMetadata: {} };
      return { didResolutionMetadata: { contentType: 'application/did+json' }, didDocument: (await res.json()) as DIDResolutionResult['didDocument'], didDocumentMetadata: {} };
    },
  });

  /** Verifies a vc+jwt against its issuer's DID document: the signature by the `kid` key, which must be an assertion method of the issuer. */
  async function verifySignature(jwt: string) {
    const { header, payload } = decodeJWT(jwt);
    const issuer = typeof payload.issuer === 'string' ? payload.issuer : (payload.issuer as { id: string }).id;
    const kid = header.kid!;
    expect(kid.startsWith(`${issuer}#`)).toBe(true);
    const { didDocument } = await resolver.resolve(issuer);
    if (!didDocument) throw new Error(`issuer ${issuer} not resolved`);
    expect(didDocument.assertionMethod).toContain(kid);
    const method = didDocument.verificationMethod!.find((m: VerificationMethod) => m.id === kid);
    if (!method) throw new Error(`kid ${kid} not in the DID document`);
    verifyJWS(jwt, method);
    return { header, payload: payload as Record<string, any>, method };
  }

  /** Full check: signature, validity period, and the revocation bit read from the signed status list over HTTP. */
  async function check(jwt: string): Promise<'valid' | 'revoked'> {
    const { payload } = await verifySignature(jwt);
    const now = Date.now();
    expect(Date.parse(payload.validFrom)).toBeLessThanOrEqual(now);
    expect(Date.parse(payload.validUntil)).toBeGreaterThan(now);
    const status = payload.credentialStatus;
    expect(status).toMatchObject({ type: 'BitstringStatusListEntry', statusPurpose: 'revocation' });
    const res = await fetch(local(status.statusListCredential));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/vc+jwt');
    const list = await verifySignature(await res.text());
    expect(list.header.typ).toBe('vc+jwt');
    expect(list.payload.type).toContain('BitstringStatusListCredential');
    expect(list.payload.issuer).toBe(payload.issuer.id);
    const subject = list.payload.credentialSubject;
    expect(subject.statusPurpose).toBe('revocation');
    expect(subject.encodedList.startsWith('u')).toBe(true);
    const bits = gunzipSync(Buffer.from(subject.encodedList.slice(1), 'base64url'));
    expect(bits.length * 8).toBeGreaterThanOrEqual(131_072);
    const index = Number(status.statusListIndex);
    return (bits[index >> 3]! >> (7 - (index & 7))) & 1 ? 'revoked' : 'valid';
  }

  return { verifySignature, check, resolver };
}

describe('did:web identifiers', () => {
  it('percent-encodes a port and keeps a base path', () => {
    expect(serviceDid('https://dpp.example.test')).toBe('did:web:dpp.example.test');
    expect(serviceDid('http://localhost:3000')).toBe('did:web:localhost%3A3000');
    expect(orgDid('https://example.com/dpp', 'abc')).toBe('did:web:example.com:dpp:orgs:abc');
  });
});

describe.each(dialects)('signed passport credentials (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  let admin: string;
  let origin: string;
  let v: ReturnType<typeof verifier>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    key = await t.key('cred-org');
    admin = await t.key('cred-org', 'read,write,admin');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    v = verifier(origin);
  });
  afterAll(() => t.close());

  const newProduct = async (title = 'Produit signé', k = key) => (await t.call(k, { method: 'POST', url: '/api/v1/products', payload: { title } })).json().product_id as string;
  const publishNew = async (title?: string, k = key) => {
    const id = await newProduct(title, k);
    expect((await t.call(k, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: COMPLETE })).statusCode).toBe(200);
    const res = await t.call(k, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` });
    expect(res.statusCode).toBe(200);
    return { id, result: res.json() };
  };
  const credentialOf = async (id: string, version?: number, k = key) => {
    const res = await t.call(k, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/credential${version ? `?version=${version}` : ''}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/vc+jwt');
    return res.body;
  };
  const orgIdOf = async (k: string) => {
    const res = await t.call(k, { method: 'GET', url: '/api/v1/compliance/signing-keys' });
    return res.json().did.split(':').at(-1) as string;
  };

  it('issues each published version as a UNTP credential that an independent verifier accepts, then finds revoked after withdrawal', async () => {
    const { id, result } = await publishNew();
    const jwt = await credentialOf(id);
    const { header, payload } = decodeJWT(jwt);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'vc+jwt', cty: 'vc' });
    const did = (payload as any).issuer.id as string;
    expect(did).toMatch(/^did:web:dpp\.example\.test:orgs:[0-9a-f-]{36}$/);
    expect(header.kid).toMatch(new RegExp(`^${did.replace(/\./g, '\\.')}#[A-Za-z0-9_-]{43}$`));
    const vc = payload as Record<string, any>;
    expect(vc.type).toEqual(['DigitalProductPassport', 'VerifiableCredential']);
    expect(vc.id).toBe(`${BASE}/dpp/${id}/credentials/v1`);
    expect(vc.validFrom).toBe(result.published_at);
    expect(Date.parse(vc.validUntil) - Date.parse(vc.validFrom)).toBe(3650 * 86_400_000);
    expect(vc.credentialSubject.product.name).toBe('Produit signé');
    expect(vc.iss).toBe(did);
    expect(vc.vc).toBeUndefined();
    // The UNTP 0.6.0 JSON Schema (whose issuer id must be a DID) accepts the signed credential.
    expect(validateUntp(vc) ? [] : validateUntp.errors).toEqual([]);

    expect(result.credential_url).toBe(`${BASE}/dpp/${id}/credentials/v1`);
    const published = await fetch(origin + new URL(result.credential_url).pathname);
    expect(published.status).toBe(200);
    expect(published.headers.get('content-type')).toContain('application/vc+jwt');
    expect(await published.text()).toBe(jwt);

    expect(await v.check(jwt)).toBe('valid');
    expect((await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/withdraw` })).statusCode).toBe(200);
    expect(await v.check(jwt)).toBe('revoked');

    // The public side no longer shows the version; the holder's copy still verifies, as revoked.
    expect((await fetch(origin + new URL(result.credential_url).pathname)).status).toBe(404);
    expect((await fetch(`${origin}/orgs/${did.split(':').at(-1)}/did.json`)).status).toBe(200);
    expect(await credentialOf(id, 1)).toBe(jwt);

    // Publishing again issues a new credential at a new index; the revoked one stays revoked.
    const again = await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` });
    expect(again.statusCode).toBe(200);
    const second = await credentialOf(id, 2);
    expect(await v.check(second)).toBe('valid');
    expect(await v.check(jwt)).toBe('revoked');
    expect((decodeJWT(second).payload as any).credentialStatus.statusListIndex).not.toBe(vc.credentialStatus.statusListIndex);
  });

  it('rejects a tampered credential', async () => {
    const { id } = await publishNew('Produit à falsifier');
    const jwt = await credentialOf(id);
    const [h, p, s] = jwt.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8'));
    payload.credentialSubject.product.name = 'Autre produit';
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    await expect(v.verifySignature(forged)).rejects.toThrow(/signature/i);
    const flipped = `${h}.${p}.${s!.slice(0, 10)}${s![10] === 'A' ? 'B' : 'A'}${s!.slice(11)}`;
    await expect(v.verifySignature(flipped)).rejects.toThrow(/signature/i);
    await expect(v.verifySignature(jwt)).resolves.toBeDefined();
  });

  it('stores and exposes the SHA-256 of the JCS form of each published snapshot', async () => {
    const { id, result } = await publishNew('Produit haché');
    const row = await t.database.db.selectFrom('passport_publications').select(['snapshot', 'content_hash']).where('product_id', '=', id).executeTakeFirstOrThrow();
    const expected = createHash('sha256')
      .update(jcs(JSON.parse(row.snapshot)), 'utf8')
      .digest('hex');
    expect(row.content_hash).toBe(expected);
    expect(result.content_hash).toBe(expected);
    const history = (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/history` })).json();
    const entry = history.items.find((i: { action: string }) => i.action === 'publish');
    expect(entry).toMatchObject({ content_hash: expected, credential_url: `${BASE}/dpp/${id}/credentials/v1` });
    expect(history.items.find((i: { action: string }) => i.action === 'create')).not.toHaveProperty('content_hash');
  });

  it('rotates keys: earlier credentials still verify, new ones use the new key, and the rotation is audited', async () => {
    const { id } = await publishNew('Avant rotation');
    const before = await credentialOf(id);
    const oldKid = decodeJWT(before).header.kid!;

    expect((await t.call(key, { method: 'POST', url: '/api/v1/compliance/signing-keys/rotate' })).statusCode).toBe(403);
    const rotated = await t.call(admin, { method: 'POST', url: '/api/v1/compliance/signing-keys/rotate' });
    expect(rotated.statusCode).toBe(200);
    const body = rotated.json();
    expect(`${body.did}#${body.retired_kid}`).toBe(oldKid);
    expect(body.keys[0]).toMatchObject({ kid: body.kid, status: 'active', retired_at: null });
    expect(body.keys.find((k: { kid: string }) => `${body.did}#${k.kid}` === oldKid)).toMatchObject({ status: 'retired' });

    expect(await v.check(before)).toBe('valid');
    const { id: next } = await publishNew('Après rotation');
    const after = await credentialOf(next);
    expect(decodeJWT(after).header.kid).toBe(`${body.did}#${body.kid}`);
    expect(await v.check(after)).toBe('valid');

    const doc = (await (await fetch(`${origin}/orgs/${body.did.split(':').at(-1)}/did.json`)).json()) as any;
    expect(doc.verificationMethod.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining([oldKid, `${body.did}#${body.kid}`]));
    expect(doc.verificationMethod[0]).toMatchObject({ type: 'JsonWebKey', controller: body.did, publicKeyJwk: { kty: 'OKP', crv: 'Ed25519' } });
    expect(doc.verificationMethod[0].publicKeyJwk.d).toBeUndefined();

    const audit = (await t.call(admin, { method: 'GET', url: '/api/v1/audit-events?action=signing_key.rotate' })).json();
    expect(audit.items[0]).toMatchObject({ action: 'signing_key.rotate', target_type: 'signing_key', target_id: body.kid });
    expect((await t.call(key, { method: 'GET', url: '/api/v1/compliance/signing-keys' })).statusCode).toBe(403);
  });

  it('keeps another organisation out of the keys and credentials: 404 like an unknown id, its own keys only', async () => {
    const { id } = await publishNew('Produit privé');
    const ours = (await t.call(admin, { method: 'GET', url: '/api/v1/compliance/signing-keys' })).json();
    const otherAdmin = await t.key('cred-other', 'read,write,admin');
    const res = await t.call(otherAdmin, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/credential` });
    expect(res.statusCode).toBe(404);
    const unknown = await t.call(otherAdmin, { method: 'GET', url: `/api/v1/compliance/dpp/00000000-0000-4000-8000-000000000000/credential` });
    expect(res.json().detail.replace(id, 'X')).toBe(unknown.json().detail.replace('00000000-0000-4000-8000-000000000000', 'X'));

    const rotated = await t.call(otherAdmin, { method: 'POST', url: '/api/v1/compliance/signing-keys/rotate' });
    expect(rotated.statusCode).toBe(200);
    const theirs = (await t.call(otherAdmin, { method: 'GET', url: '/api/v1/compliance/signing-keys' })).json();
    expect(theirs.did).not.toBe(ours.did);
    expect(theirs.items.map((k: { kid: string }) => k.kid)).not.toEqual(expect.arrayContaining([ours.items[0].kid]));
    // Our keys are untouched by their rotation.
    expect((await t.call(admin, { method: 'GET', url: '/api/v1/compliance/signing-keys' })).json().items).toEqual(ours.items);
    expect((await fetch(`${origin}/orgs/00000000-0000-4000-8000-000000000000/did.json`)).status).toBe(404);
    expect((await fetch(`${origin}/orgs/${await orgIdOf(admin)}/status/revocation/99`)).status).toBe(404);
  });

  it('aborts the publish when signing fails, with nothing written', async () => {
    const org = await t.key('cred-broken', 'read,write,admin');
    await publishNew('Premier', org);
    const orgId = await orgIdOf(org);
    await t.database.db
      .updateTable('signing_keys')
      .set({ private_key: '{"kty":"OKP","crv":"Ed25519","x":"broken"}' })
      .where('org_id', '=', orgId)
      .where('status', '=', 'active')
      .execute();

    const id = await newProduct('Jamais publié', org);
    expect((await t.call(org, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: COMPLETE })).statusCode).toBe(200);
    const count = async (table: 'passport_publications' | 'audit_events' | 'compliance_history') =>
      Number(
        (
          await t.database.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .where('org_id', '=', orgId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const lists = () => t.database.db.selectFrom('status_lists').selectAll().where('org_id', '=', orgId).execute();
    const before = { publications: await count('passport_publications'), audit: await count('audit_events'), history: await count('compliance_history'), lists: await lists() };
    const passportBefore = (await t.call(org, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` })).json();

    const res = await t.call(org, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'signing_failed' });
    expect(res.json().detail).toContain('rotate');

    expect({ publications: await count('passport_publications'), audit: await count('audit_events'), history: await count('compliance_history'), lists: await lists() }).toEqual(
      before,
    );
    const passportAfter = (await t.call(org, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` })).json();
    expect(passportAfter).toEqual(passportBefore);
    expect(passportAfter.dpp_status).toBe('complete');

    // The way out: rotate to a fresh key, then publish.
    expect((await t.call(org, { method: 'POST', url: '/api/v1/compliance/signing-keys/rotate' })).statusCode).toBe(200);
    expect((await t.call(org, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` })).statusCode).toBe(200);
    expect(await v.check(await credentialOf(id, undefined, org))).toBe('valid');
  });

  it('links the signed credential from the public linkset as untp:dpp with the JWT media type', async () => {
    const { id, result } = await publishNew('Produit lié');
    const res = await t.app.inject({ method: 'GET', url: `/dpp/${id}?linkType=linkset` });
    expect(res.statusCode).toBe(200);
    const links = res.json().linkset.at(-1)['https://test.uncefact.org/vocabulary/linkTypes/dpp'] as Array<{ href: string; type: string }>;
    expect(links).toEqual(expect.arrayContaining([expect.objectContaining({ href: result.credential_url, type: 'application/vc+jwt' })]));
  });

  it('serves the service DID document', async () => {
    const res = await fetch(`${origin}/.well-known/did.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/did+json');
    expect(((await res.json()) as { id: string }).id).toBe('did:web:dpp.example.test');
  });

  it('seals private keys at rest under SIGNING_SECRET, and cannot sign without it', async () => {
    const secret = 'a-test-signing-secret-of-32-chars-or-more';
    const sealed = await buildApp({
      config: loadConfig({ DATA_DIR: '/tmp/dpp-test-unused', PUBLIC_BASE_URL: BASE, SIGNING_SECRET: secret }),
      database: t.database,
      logger: false,
    });
    try {
      const org = await t.key('cred-sealed', 'read,write,admin');
      const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
        sealed.inject({ method, url, headers: { authorization: `Bearer ${org}` }, ...(payload ? { payload } : {}) });
      const id = (await call('POST', '/api/v1/products', { title: 'Produit scellé' })).json().product_id;
      expect((await call('PATCH', `/api/v1/compliance/dpp/${id}`, COMPLETE)).statusCode).toBe(200);
      expect((await call('POST', `/api/v1/compliance/dpp/${id}/publish`)).statusCode).toBe(200);
      const keys = (await call('GET', '/api/v1/compliance/signing-keys')).json();
      expect(keys.items[0].sealed).toBe(true);
      const stored = await t.database.db.selectFrom('signing_keys').select('private_key').where('kid', '=', keys.items[0].kid).executeTakeFirstOrThrow();
      expect(stored.private_key).toMatch(/^aesgcm:v1:/);
      expect(stored.private_key).not.toContain('"d"');
      // The verifier's HTTP service runs without the secret: the DID document needs none (public keys only).
      await expect(v.verifySignature((await call('GET', `/api/v1/compliance/dpp/${id}/credential`)).body)).resolves.toBeDefined();

      // The same key through the app without the secret: refused cleanly.
      const other = await newProduct('Sans secret', org);
      expect((await t.call(org, { method: 'PATCH', url: `/api/v1/compliance/dpp/${other}`, payload: COMPLETE })).statusCode).toBe(200);
      expect((await t.call(org, { method: 'POST', url: `/api/v1/compliance/dpp/${other}/publish` })).statusCode).toBe(503);
    } finally {
      await sealed.close();
    }
  });
});

describe.each(dialects)('migration 0012: content hashes of earlier publications (%s)', (dialect) => {
  it('hashes the snapshots published before it and leaves those versions unsigned', async () => {
    const database = await createTestDatabase(dialect, '0011-catalog-changes');
    try {
      const db = database.db;
      const now = new Date().toISOString();
      await sql`insert into organisations (id, slug, name, created_at) values ('o1', 'o1', 'o1', ${now})`.execute(db);
      const snapshots: Record<string, unknown> = {};
      for (let i = 0; i < 3; i++) {
        const id = `p${i}`;
        await sql`insert into products (id, org_id, title, created_at, updated_at) values (${id}, 'o1', ${id}, ${now}, ${now})`.execute(db);
        snapshots[id] = { product_id: id, product_name: `Produit ${i} é`, materials: [{ percentage: 100, name: 'Steel' }], carbon_footprint_kg: 1.5, z: null, a: true };
        await sql`insert into passport_publications (product_id, published_version, org_id, revision, published_at, key_id, snapshot, withdrawn_at)
          values (${id}, 1, 'o1', 1, ${now}, null, ${JSON.stringify(snapshots[id])}, null)`.execute(db);
      }
      await database.migrate();
      const rows = await db.selectFrom('passport_publications').select(['product_id', 'content_hash', 'credential', 'status_index']).orderBy('product_id').execute();
      expect(rows).toEqual(
        Object.keys(snapshots).map((id) => ({
          product_id: id,
          content_hash: createHash('sha256').update(jcs(snapshots[id]), 'utf8').digest('hex'),
          credential: null,
          status_index: null,
        })),
      );
    } finally {
      await database.dispose();
    }
  });
});
