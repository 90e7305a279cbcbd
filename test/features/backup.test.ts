import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/db/dialect.js';
import { importBackup } from '../../src/features/backup/import.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects, TEST_DATABASE_URL } from '../helpers/db.js';
import { CORPUS, FULL_PASSPORT, multipartBody } from '../helpers/fixtures.js';

type Json = Record<string, any>;

const JSONLD = { accept: 'application/ld+json' };
const GTIN_A = '9520123456788';
const GTIN_B = '4006381333931';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-backup-test-'));
let fileNo = 0;
const writeTemp = (text: string | Buffer) => {
  const file = path.join(tmp, `backup-${++fileNo}.ndjson`);
  fs.writeFileSync(file, text);
  return file;
};

interface Source {
  t: TestApp;
  admin: string;
  orgId: string;
  /** Published v1 and v2; a public document listed by v2. */
  twice: string;
  /** Published once, then withdrawn. */
  withdrawn: string;
  documentId: string;
  otherOrgId: string;
  otherProduct: string;
}

/** An organisation with two products (one passport published twice, one published then withdrawn) and a public document; and another organisation. */
async function sourceOrganisation(dialect: Dialect): Promise<Source> {
  const t = await createTestApp(dialect);
  const admin = await t.key('acme', 'admin');
  const newProduct = async (title: string, ean: string, k = admin) =>
    (await t.call(k, { method: 'POST', url: '/api/v1/products', payload: { title, ean } })).json().product_id as string;
  const ok = async (res: Promise<{ statusCode: number; body: string }>) => {
    const r = await res;
    expect(r.statusCode, r.body).toBeLessThan(300);
    return r;
  };
  const twice = await newProduct('Bouilloire Inox', GTIN_A);
  await ok(t.call(admin, { method: 'PATCH', url: `/api/v1/compliance/dpp/${twice}`, payload: FULL_PASSPORT }));
  await ok(t.call(admin, { method: 'POST', url: `/api/v1/compliance/dpp/${twice}/publish` }));
  const upload = await ok(
    t.call(admin, {
      method: 'POST',
      url: `/api/v1/products/${twice}/documents`,
      ...multipartBody({ name: 'DoC.pdf', bytes: fs.readFileSync(new URL('raspberrypi_pico_eu-doc.pdf', CORPUS)) }),
    }),
  );
  const documentId = JSON.parse(upload.body).asset_id as string;
  await ok(t.call(admin, { method: 'PATCH', url: `/api/v1/compliance/products/${twice}/documents/${documentId}`, payload: { public: true, role: 'declaration_of_conformity' } }));
  await ok(t.call(admin, { method: 'PATCH', url: `/api/v1/compliance/dpp/${twice}`, payload: { carbon_footprint_kg: 3.1 } }));
  await ok(t.call(admin, { method: 'POST', url: `/api/v1/compliance/dpp/${twice}/publish` }));

  const withdrawn = await newProduct('Grille-pain', GTIN_B);
  await ok(t.call(admin, { method: 'PATCH', url: `/api/v1/compliance/dpp/${withdrawn}`, payload: { ...FULL_PASSPORT, certifications: ['CE'] } }));
  await ok(t.call(admin, { method: 'POST', url: `/api/v1/compliance/dpp/${withdrawn}/publish` }));
  await ok(t.call(admin, { method: 'POST', url: `/api/v1/compliance/dpp/${withdrawn}/withdraw` }));
  // A batch passport of the live one, and a successor link from the withdrawn one to it.
  await ok(t.call(admin, { method: 'POST', url: `/api/v1/compliance/dpp/${twice}/instances`, payload: { level: 'batch', lot: 'L2026-07' } }));
  await ok(t.call(admin, { method: 'PUT', url: `/api/v1/compliance/dpp/${withdrawn}/successor`, payload: { successor_product_id: twice, reason: 'replaced' } }));

  const other = await t.key('other-org');
  const otherProduct = await newProduct('Secret de l’autre', '0012345678905', other);
  await ok(t.call(other, { method: 'PATCH', url: `/api/v1/compliance/dpp/${otherProduct}`, payload: FULL_PASSPORT }));
  await ok(t.call(other, { method: 'POST', url: `/api/v1/compliance/dpp/${otherProduct}/publish` }));

  const orgs = await t.database.db.selectFrom('organisations').select(['id', 'slug']).execute();
  return { t, admin, orgId: orgs.find((o) => o.slug === 'acme')!.id, twice, withdrawn, documentId, otherOrgId: orgs.find((o) => o.slug === 'other-org')!.id, otherProduct };
}

const exportOf = async (s: Source, query = '') => {
  const res = await s.t.call(s.admin, { method: 'GET', url: `/api/v1/compliance/backup${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return res;
};

const publications = (t: TestApp, orgId: string) =>
  t.database.db
    .selectFrom('passport_publications')
    .select(['product_id', 'published_version', 'published_at', 'withdrawn_at', 'snapshot', 'content_hash', 'credential', 'credential_kid', 'status_list', 'status_index'])
    .where('org_id', '=', orgId)
    .orderBy('product_id')
    .orderBy('published_version')
    .execute();

const rowCounts = async (t: TestApp) => {
  const db = t.database.db;
  const count = async (table: 'organisations' | 'products' | 'passport_publications' | 'documents' | 'signing_keys' | 'org_stats') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    organisations: await count('organisations'),
    products: await count('products'),
    publications: await count('passport_publications'),
    documents: await count('documents'),
    keys: await count('signing_keys'),
    stats: await count('org_stats'),
  };
};

/** The public answers of the organisation's passports: what must be byte-identical after a restore. */
async function publicAnswers(t: TestApp, s: Source) {
  const get = (url: string, headers: Record<string, string> = JSONLD) => t.app.inject({ method: 'GET', url, headers });
  const answers: Record<string, { status: number; body: string }> = {};
  for (const url of [
    `/dpp/${s.twice}`,
    `/dpp/${s.twice}?version=1`,
    `/dpp/${s.twice}?version=2`,
    `/01/0${GTIN_A}`,
    `/01/0${GTIN_A}/10/L2026-07`,
    `/dpp/${s.withdrawn}`,
    `/dpp/${s.withdrawn}?version=1`,
    `/01/0${GTIN_B}`,
    `/dpp/${s.twice}/credentials/v1`,
    `/dpp/${s.twice}/credentials/v2`,
  ]) {
    const res = await get(url);
    answers[url] = { status: res.statusCode, body: res.body };
  }
  const doc = await get(`/dpp/${s.twice}/documents/${s.documentId}`, {});
  answers.document = { status: doc.statusCode, body: doc.rawPayload.toString('base64') };
  const page = await get(`/dpp/${s.twice}?version=2`, { accept: 'text/html' });
  answers.page = { status: page.statusCode, body: page.body };
  return answers;
}

/** Export from `from`, import into a fresh app of `to`, and check that the copy serves the same passports. */
function restoreSuite(from: Dialect, to: Dialect) {
  let s: Source;
  let target: TestApp;
  let text: string;
  beforeAll(async () => {
    s = await sourceOrganisation(from);
    target = await createTestApp(to);
    text = (await exportOf(s)).body;
  });
  afterAll(async () => {
    await s.t.close();
    await target.close();
  });

  it('writes a header, the records and a trailer; nothing of another organisation', () => {
    const lines = text.trimEnd().split('\n');
    const header = JSON.parse(lines[0]!);
    expect(header).toMatchObject({
      format: 'dpp-compliance-backup',
      version: 1,
      source: 'https://dpp.example.test',
      organisation: { id: s.orgId, slug: 'acme' },
      options: { private_keys: false, document_bytes: true, audit: false },
      counts: { product: 2, compliance_record: 2, publication: 3, document: 1, blob: 1, signing_key: 1, status_list: 1, passport_instance: 1, passport_successor: 1 },
    });
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ type: 'trailer', lines: lines.length - 1, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(text).not.toContain(s.otherOrgId);
    expect(text).not.toContain(s.otherProduct);
    expect(text).not.toContain('Secret de l');
    // Public keys only: no private JWK member ("d") anywhere.
    const key = lines.map((l) => JSON.parse(l)).find((r) => r.type === 'signing_key');
    expect(key.row.private_key).toBeUndefined();
    expect(JSON.parse(key.row.public_jwk)).not.toHaveProperty('d');
  });

  it('audits the export with the key that asked', async () => {
    const events = await s.t.database.db.selectFrom('audit_events').select(['actor', 'actor_key_id', 'target_id']).where('action', '=', 'organisation.backup').execute();
    expect(events).toEqual([{ actor: 'api', actor_key_id: s.admin.split('_')[1], target_id: s.orgId }]);
  });

  it(`imports into an empty ${to} installation, which then serves byte-identical passports at the same identifiers`, async () => {
    const summary = await importBackup(target.database.db, { signingSecret: undefined }, { file: writeTemp(text) });
    expect(summary).toMatchObject({ organisation: { id: s.orgId, slug: 'acme', created: true }, counts: { product: 2, publication: 3 }, keys_without_private_part: 1 });

    const before = await publicAnswers(s.t, s);
    const after = await publicAnswers(target, s);
    expect(before[`/dpp/${s.twice}?version=1`]!.status).toBe(200);
    expect(before[`/dpp/${s.twice}?version=2`]!.body).toContain('3.1');
    expect(before[`/01/0${GTIN_A}`]!.status).toBe(200);
    // The withdrawn passport stays withdrawn: not public.
    expect(before[`/dpp/${s.withdrawn}`]!.status).toBe(404);
    expect(before[`/01/0${GTIN_B}`]!.status).toBe(404);
    expect(before[`/dpp/${s.withdrawn}?version=1`]!.status).toBe(404);
    expect(before[`/dpp/${s.twice}/credentials/v2`]!.status).toBe(200);
    expect(before.document!.status).toBe(200);
    expect(before[`/01/0${GTIN_A}/10/L2026-07`]!.body).toContain('L2026-07');
    expect(before.page!.body).toContain('Bouilloire Inox');
    expect(after).toEqual(before);

    // The same versions, hashes and credentials; the same batch passports and successor links.
    expect(await publications(target, s.orgId)).toEqual(await publications(s.t, s.orgId));
    for (const table of ['passport_instances', 'passport_successors', 'documents'] as const) {
      const rows = (t: TestApp) => t.database.db.selectFrom(table).selectAll().where('org_id', '=', s.orgId).execute();
      const copied = await rows(target);
      expect(copied, table).toHaveLength(1);
      expect(copied).toEqual(await rows(s.t));
    }
  });

  it('keeps the counters and search right', async () => {
    const key = await target.key('acme', 'admin');
    const stats = (t: TestApp, k: string) => t.call(k, { method: 'GET', url: '/api/v1/compliance/dpp/stats' });
    const sourceStats = (await stats(s.t, s.admin)).json();
    expect(sourceStats).toMatchObject({ total_products: 2 });
    expect((await stats(target, key)).json()).toEqual(sourceStats);
    const search = (await target.call(key, { method: 'GET', url: '/api/v1/compliance/dpp/products?search=bouilloire' })).json();
    expect(search.items.map((i: Json) => i.product_id)).toEqual([s.twice]);
  });

  it("the backup's credentials verify against the new installation's DID document", async () => {
    const rows = await publications(target, s.orgId);
    const did = (await target.app.inject({ method: 'GET', url: `/orgs/${s.orgId}/did.json` })).json();
    for (const row of rows) {
      expect(row.credential).toEqual(expect.any(String));
      const { kid } = decodeProtectedHeader(row.credential!);
      const method = did.verificationMethod.find((m: Json) => m.id === kid);
      expect(method, `${kid} in the DID document`).toBeDefined();
      const { payload } = await compactVerify(row.credential!, await importJWK(method.publicKeyJwk as JWK, 'EdDSA'));
      expect(JSON.parse(new TextDecoder().decode(payload)).issuer.id).toBe(did.id);
    }
    // The imported key cannot sign here (its private part stayed behind): a new publish signs with a new key, listed beside it.
    const key = await target.key('acme', 'admin');
    await target.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${s.twice}`, payload: { carbon_footprint_kg: 4 } });
    const published = await target.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${s.twice}/publish` });
    expect(published.statusCode, published.body).toBe(200);
    const keys = await target.database.db.selectFrom('signing_keys').select(['kid', 'status']).where('org_id', '=', s.orgId).execute();
    expect(keys.map((k) => k.status).sort()).toEqual(['active', 'retired']);
  });
}

describe.each(dialects)('backup export and import (%s)', (dialect) => {
  restoreSuite(dialect, dialect);
});

describe.each(dialects)('backup refusals (%s)', (dialect) => {
  let s: Source;
  let target: TestApp;
  let text: string;
  beforeAll(async () => {
    s = await sourceOrganisation(dialect);
    target = await createTestApp(dialect);
    text = (await exportOf(s)).body;
  });
  afterAll(async () => {
    await s.t.close();
    await target.close();
  });

  const refused = async (file: string, message: RegExp) => {
    const before = await rowCounts(target);
    await expect(importBackup(target.database.db, { signingSecret: undefined }, { file })).rejects.toMatchObject({
      code: 'backup_refused',
      message: expect.stringMatching(message),
    });
    expect(await rowCounts(target)).toEqual(before);
  };

  it('refuses a snapshot changed by one character, writing nothing', async () => {
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.includes('"type":"publication"') && l.includes('Bouilloire'));
    expect(at).toBeGreaterThan(0);
    lines[at] = lines[at]!.replace('Bouilloire', 'Bouilloirf');
    await refused(writeTemp(lines.join('\n')), /content_hash/);
  });

  it('refuses a line changed outside a snapshot (the trailer hash)', async () => {
    await refused(writeTemp(text.replace('"title":"Grille-pain"', '"title":"Grille-paim"')), /trailer/);
  });

  it('refuses a truncated file: cut at a line end, or mid-line, or gzip cut short', async () => {
    const lines = text.trimEnd().split('\n');
    await refused(writeTemp(lines.slice(0, -1).join('\n') + '\n'), /no trailer|cut short/);
    await refused(writeTemp(lines.slice(0, 4).join('\n') + '\n'), /no trailer|cut short/);
    await refused(writeTemp(text.slice(0, Math.floor(text.length / 2))), /not JSON|no trailer/);
    const gz = await exportOf(s, '?gzip=true');
    expect(gz.headers['content-type']).toBe('application/gzip');
    expect(gunzipSync(gz.rawPayload).toString('utf8').split('\n')[0]).toContain('dpp-compliance-backup');
    await refused(writeTemp(gz.rawPayload.subarray(0, gz.rawPayload.length - 200)), /cut short|no trailer|unexpected end|not JSON/);
  });

  it('refuses a product id already present on the installation, writing nothing', async () => {
    const db = target.database.db;
    const key = await target.key('squatter');
    // Another organisation's product that happens to hold the same id.
    const created = (await target.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Pas le même' } })).json().product_id as string;
    await db.updateTable('products').set({ id: s.withdrawn }).where('id', '=', created).execute();
    await refused(writeTemp(text), new RegExp(`Product id ${s.withdrawn} already exists`));
    await db.deleteFrom('products').where('id', '=', s.withdrawn).execute();
  });

  it('refuses a GTIN another organisation holds', async () => {
    const key = await target.key('squatter');
    expect((await target.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Même code', ean: GTIN_A } })).statusCode).toBe(201);
    await refused(writeTemp(text), /GTIN 0?9520123456788 is held by another organisation/);
    await target.database.db.deleteFrom('products').where('gtin14', '=', `0${GTIN_A}`).execute();
  });

  it('refuses to import over an organisation that holds data, and imports once it is absent', async () => {
    const file = writeTemp(text);
    await importBackup(target.database.db, { signingSecret: undefined }, { file });
    await refused(file, /already holds products/);
  });

  it('answers 403 to read and write keys on the backup route, 401 without a key', async () => {
    for (const scopes of ['read', 'read,write']) {
      const k = await s.t.key('acme', scopes);
      const res = await s.t.call(k, { method: 'GET', url: '/api/v1/compliance/backup' });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'insufficient_scope', required_scope: 'admin' });
    }
    expect((await s.t.app.inject({ method: 'GET', url: '/api/v1/compliance/backup' })).statusCode).toBe(401);
  });
});

if (dialects.includes('sqlite') && dialects.includes('postgres')) {
  describe('backup across databases (SQLite to PostgreSQL)', () => {
    restoreSuite('sqlite', 'postgres');
  });
}

describe.each(dialects)('dpp backup CLI, private keys, audit log, documents by reference (%s)', (dialect) => {
  const run = promisify(execFile);
  let s: Source;
  let target: TestApp;
  beforeAll(async () => {
    s = await sourceOrganisation(dialect);
    target = await createTestApp(dialect);
  });
  afterAll(async () => {
    await s.t.close();
    await target.close();
  });

  /** The CLI (from source, through tsx) on a test app's database, as another process. */
  const dpp = (t: TestApp, env: Record<string, string>, ...args: string[]) => {
    const base: Record<string, string> = { ...(process.env as Record<string, string>), PUBLIC_BASE_URL: 'https://dpp.example.test', LOG_LEVEL: 'silent', ...env };
    delete base.DATABASE_URL;
    if (t.database.pgSchema) base.DATABASE_URL = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${t.database.pgSchema}`)}`;
    else {
      // DATA_DIR/dpp.sqlite is the file the CLI opens: a link to the test app's file.
      const dir = fs.mkdtempSync(path.join(tmp, 'data-'));
      fs.symlinkSync(t.database.file!, path.join(dir, 'dpp.sqlite'));
      base.DATA_DIR = dir;
    }
    return run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: base });
  };

  it('exports with encrypted private keys and the audit log; imports with the passphrase, and the key keeps signing there', async () => {
    const out = path.join(tmp, `cli-${dialect}.ndjson.gz`);
    const passphrase = { DPP_BACKUP_PASSPHRASE: 'correct horse battery staple' };
    await dpp(s.t, passphrase, 'backup', 'export', '--org', 'acme', '--out', out, '--include-private-keys', '--audit');
    const text = gunzipSync(fs.readFileSync(out)).toString('utf8');
    const records = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records[0]).toMatchObject({ options: { private_keys: true, audit: true }, key_encryption: { kdf: 'scrypt', cipher: 'aes-256-gcm' } });
    const key = records.find((r) => r.type === 'signing_key');
    expect(key.row.private_key_encrypted).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // The private JWK is nowhere in clear.
    const stored = await s.t.database.db.selectFrom('signing_keys').select('private_key').where('kid', '=', key.row.kid).executeTakeFirstOrThrow();
    expect(text).not.toContain(JSON.parse(stored.private_key).d);
    expect(records.filter((r) => r.type === 'audit_event').map((r) => r.row.action)).toEqual(expect.arrayContaining(['passport.publish', 'passport.withdraw']));

    // Without the passphrase, or with a wrong one: refused, nothing written.
    await expect(dpp(target, {}, 'backup', 'import', '--file', out)).rejects.toMatchObject({ stderr: expect.stringMatching(/encrypted private signing keys/) });
    await expect(dpp(target, { DPP_BACKUP_PASSPHRASE: 'wrong' }, 'backup', 'import', '--file', out)).rejects.toMatchObject({
      stderr: expect.stringMatching(/does not open with this passphrase/),
    });
    expect((await rowCounts(target)).products).toBe(0);

    const imported = await dpp(target, passphrase, 'backup', 'import', '--file', out, '--json');
    expect(JSON.parse(imported.stdout)).toMatchObject({ organisation: { id: s.orgId, slug: 'acme', created: true }, keys_without_private_part: 0 });
    expect(await publications(target, s.orgId)).toEqual(await publications(s.t, s.orgId));
    // The audit log came along (the export itself is in it), and the restore is recorded beside it.
    const audit = await target.database.db.selectFrom('audit_events').select(['action', 'actor']).where('org_id', '=', s.orgId).execute();
    expect(audit.length).toBe(records.filter((r) => r.type === 'audit_event').length + 1);
    expect(audit).toEqual(
      expect.arrayContaining([
        { action: 'organisation.backup', actor: 'cli' },
        { action: 'organisation.restore', actor: 'cli' },
      ]),
    );

    // The key came with its private part: still active, it signs the next version here.
    const admin = await target.key('acme', 'admin');
    await target.call(admin, { method: 'PATCH', url: `/api/v1/compliance/dpp/${s.twice}`, payload: { carbon_footprint_kg: 5 } });
    expect((await target.call(admin, { method: 'POST', url: `/api/v1/compliance/dpp/${s.twice}/publish` })).statusCode).toBe(200);
    const v3 = await target.database.db
      .selectFrom('passport_publications')
      .select('credential_kid')
      .where('product_id', '=', s.twice)
      .where('published_version', '=', 3)
      .executeTakeFirstOrThrow();
    expect(v3.credential_kid).toBe(key.row.kid);
    const keys = await target.database.db.selectFrom('signing_keys').select('status').where('org_id', '=', s.orgId).execute();
    expect(keys).toEqual([{ status: 'active' }]);
    // Four CLI processes started through tsx: slow on a loaded machine.
  }, 120_000);

  it('names documents by sha256 with document_bytes=false: refused where the bytes are missing', async () => {
    const fresh = await createTestApp(dialect);
    try {
      const res = await s.t.call(s.admin, { method: 'GET', url: '/api/v1/compliance/backup?document_bytes=false' });
      expect(res.body).not.toContain('"type":"blob"');
      const before = await rowCounts(fresh);
      await expect(importBackup(fresh.database.db, { signingSecret: undefined }, { file: writeTemp(res.body) })).rejects.toMatchObject({
        code: 'backup_refused',
        message: expect.stringMatching(/not on this installation/),
      });
      expect(await rowCounts(fresh)).toEqual(before);
    } finally {
      await fresh.close();
    }
  });
});
