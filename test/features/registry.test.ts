import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gtinCheckDigit } from '../../src/lib/gtin.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DATABASE_URL, dialects } from '../helpers/db.js';

const COMPLETE = {
  manufacturer: 'ACME GmbH',
  country_of_origin: 'DE',
  materials: [{ name: 'Steel', percentage: 100 }],
  carbon_footprint_kg: 12.5,
  certifications: ['CE'],
  end_of_life_instructions: 'Return to a collection point.',
};
const REGISTRY_FIELDS = { commodity_code: '8467 21.00', facility_id: '4012345 000009' };
const BASE = 'https://dpp.example.test';

/** The content hash as README states it, computed here independently: SHA-256 hex of the JCS form. */
const jcsSha256 = (snapshot: string) =>
  createHash('sha256')
    .update(canonicalize(JSON.parse(snapshot))!, 'utf8')
    .digest('hex');

describe.each(dialects)('EU registry readiness (%s)', (dialect) => {
  let t: TestApp;
  let admin: string;
  let writer: string;
  let reader: string;
  let other: string;
  let serial = 0;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.key('reg-org', 'read,write,admin');
    writer = await t.key('reg-org', 'read,write');
    reader = await t.key('reg-org', 'read');
    other = await t.key('reg-other', 'read,write,admin');
  });
  afterAll(() => t.close());

  const nextEan = () => {
    const data = `401234${String(++serial).padStart(6, '0')}`;
    return data + gtinCheckDigit(data);
  };
  const api = (key: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, headers: Record<string, string> = {}) =>
    t.call(key, { method, url: `/api/v1${url}`, headers, ...(payload ? { payload } : {}) });
  const newProduct = async (key: string, withEan = true) => {
    const res = await api(key, 'POST', '/products', { title: `Drill ${++serial}`, ...(withEan ? { ean: nextEan() } : {}) });
    expect(res.statusCode).toBe(201);
    return res.json() as { product_id: string; gtin14: string | null };
  };
  const published = async (key: string, fields: object = REGISTRY_FIELDS, withEan = true) => {
    const product = await newProduct(key, withEan);
    expect((await api(key, 'PATCH', `/compliance/dpp/${product.product_id}`, { ...COMPLETE, ...fields })).statusCode).toBe(200);
    const res = await api(key, 'POST', `/compliance/dpp/${product.product_id}/publish`);
    expect(res.statusCode).toBe(200);
    return product;
  };
  const entriesOf = async (key: string, productId: string) => {
    const res = await api(key, 'GET', `/compliance/registry/entries?product_id=${productId}`);
    expect(res.statusCode).toBe(200);
    return res.json().items as Array<Record<string, unknown>>;
  };
  const exported = async (key: string, query = '') => {
    const res = await api(key, 'GET', `/compliance/registry/export${query}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    return res.body
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  const ack = (key: string, id: string, body: object) => api(key, 'POST', `/compliance/registry/entries/${id}/ack`, body);
  const setOperator = (key: string, operator_id: string | null) => api(key, 'PATCH', '/compliance/organisation', { operator_id });

  describe('passport fields', () => {
    it('stores commodity_code and facility_id normalised, and they change no status', async () => {
      const { product_id } = await newProduct(writer);
      const res = await api(writer, 'PATCH', `/compliance/dpp/${product_id}`, { commodity_code: ' 8516.50 00 ', facility_id: '4012345-000009' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ commodity_code: '85165000', facility_id: '4012345000009', dpp_status: 'draft' });
      const passport = (await api(writer, 'GET', `/compliance/dpp/${product_id}`)).json();
      expect(passport).toMatchObject({ commodity_code: '85165000', facility_id: '4012345000009', registry_status: null });
      expect(passport.missing_fields).not.toContain('commodity_code');
      expect(passport.missing_fields).not.toContain('facility_id');

      // A complete passport without them is complete.
      const complete = await newProduct(writer);
      expect((await api(writer, 'PATCH', `/compliance/dpp/${complete.product_id}`, COMPLETE)).json().dpp_status).toBe('complete');
      // Six (HS) and ten (TARIC) digits are commodity codes too; null clears.
      expect((await api(writer, 'PATCH', `/compliance/dpp/${product_id}`, { commodity_code: '846721' })).json().commodity_code).toBe('846721');
      expect((await api(writer, 'PATCH', `/compliance/dpp/${product_id}`, { commodity_code: '8467210000' })).json().commodity_code).toBe('8467210000');
      expect((await api(writer, 'PATCH', `/compliance/dpp/${product_id}`, { commodity_code: null })).json().commodity_code).toBeNull();
    });

    it('refuses malformed values with a 400 naming the field and the rule, and writes nothing', async () => {
      const { product_id } = await newProduct(writer);
      const cases: Array<[object, string, string]> = [
        [{ commodity_code: '8516500' }, '/commodity_code', 'commodity_code_format'],
        [{ commodity_code: '85x65000' }, '/commodity_code', 'commodity_code_format'],
        [{ commodity_code: '77123456' }, '/commodity_code', 'hs_chapter'],
        [{ commodity_code: '00123456' }, '/commodity_code', 'hs_chapter'],
        [{ facility_id: '4012345000008' }, '/facility_id', 'gln_check_digit'],
        [{ facility_id: '40123450000091' }, '/facility_id', 'gln_format'],
        [{ facility_id: 'ABCDEFGHIJKLM' }, '/facility_id', 'gln_format'],
      ];
      for (const [payload, field, rule] of cases) {
        const res = await api(writer, 'PATCH', `/compliance/dpp/${product_id}`, payload);
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.json().errors).toContainEqual(expect.objectContaining({ field, rule }));
      }
      // Too short for the schema: still a 400 on the field.
      const short = await api(writer, 'PATCH', `/compliance/dpp/${product_id}`, { facility_id: '123' });
      expect(short.statusCode).toBe(400);
      expect(JSON.stringify(short.json().errors)).toContain('facility_id');
      expect((await api(writer, 'GET', `/compliance/dpp/${product_id}`)).statusCode).toBe(404);
    });

    it('states them in the UNTP credential (product category and facility)', async () => {
      const { product_id } = await published(writer);
      const res = await api(writer, 'GET', `/compliance/dpp/${product_id}/export?profile=untp`);
      if (res.statusCode !== 200) return expect(res.statusCode, res.body).toBe(200);
      const product = res.json().credentialSubject.product;
      expect(product.productCategory).toEqual([expect.objectContaining({ code: '84672100', schemeName: 'Combined Nomenclature (CN)' })]);
      expect(product.producedAtFacility).toMatchObject({ id: 'https://id.gs1.org/414/4012345000009', registeredId: '4012345000009' });
    });
  });

  describe('operator identifier', () => {
    it('is set by admin keys only, validated (EORI or GLN), normalised and audited', async () => {
      expect((await api(reader, 'GET', '/compliance/organisation')).json()).toMatchObject({ slug: 'reg-org', operator_id: null, operator_id_scheme: null });
      const forbidden = await setOperator(writer, 'DE123456789012345');
      expect(forbidden.statusCode).toBe(403);
      expect(forbidden.json().required_scope).toBe('admin');

      for (const [value, rule] of [
        ['D', 'eori_or_gln'],
        ['DE1234567890123456', 'eori_or_gln'],
        ['DE12345-678/9', 'eori_or_gln'],
        ['4012345000008', 'gln_check_digit'],
        ['40123450000', 'gln_format'],
      ] as const) {
        const res = await setOperator(admin, value);
        expect(res.statusCode, value).toBe(400);
        expect(res.json().errors).toEqual([expect.objectContaining({ field: '/operator_id', rule })]);
      }
      const empty = await setOperator(admin, '');
      expect(empty.statusCode).toBe(400);
      expect((await api(admin, 'PATCH', '/compliance/organisation', { operator_id: 'DE1', name: 'x' })).statusCode).toBe(400);

      const gln = await setOperator(admin, '4012345 000009');
      expect(gln.statusCode).toBe(200);
      expect(gln.json()).toMatchObject({ operator_id: '4012345000009', operator_id_scheme: 'gln' });
      const eori = await setOperator(admin, 'de 1234-5678 9012345');
      expect(eori.json()).toMatchObject({ slug: 'reg-org', operator_id: 'DE123456789012345', operator_id_scheme: 'eori' });
      expect((await api(reader, 'GET', '/compliance/organisation')).json().operator_id).toBe('DE123456789012345');
      // Another organisation's stays its own.
      expect((await api(other, 'GET', '/compliance/organisation')).json()).toMatchObject({ slug: 'reg-other', operator_id: null });

      const audit = (await api(admin, 'GET', '/audit-events?action=organisation.update')).json();
      expect(audit.items[0]).toMatchObject({ target_type: 'organisation', details: { field: 'operator_id', old: '4012345000009', new: 'DE123456789012345' } });
      expect(audit.items[0].actor_key_id).toBe(admin.split('_')[1]);
    });
  });

  describe('the queue', () => {
    beforeAll(async () => {
      expect((await setOperator(admin, 'DE123456789012345')).statusCode).toBe(200);
    });

    it('queues a pending entry with every registry field when a passport is published', async () => {
      const { product_id, gtin14 } = await published(writer);
      const [entry, ...rest] = await entriesOf(reader, product_id);
      expect(rest).toEqual([]);
      const record = await t.database.db.selectFrom('compliance_records').select('dpp_id').where('product_id', '=', product_id).executeTakeFirstOrThrow();
      const publication = (await t.database.db.selectFrom('passport_publications').selectAll().where('product_id', '=', product_id).executeTakeFirstOrThrow()) as unknown as Record<
        string,
        unknown
      >;
      const hash = jcsSha256(String(publication.snapshot));
      expect(entry).toMatchObject({
        product_id,
        dpp_id: record.dpp_id,
        published_version: 1,
        kind: 'registration',
        status: 'pending',
        missing_fields: [],
        product_identifier: gtin14,
        product_identifier_scheme: 'gtin',
        operator_id: 'DE123456789012345',
        operator_id_scheme: 'eori',
        facility_id: '4012345000009',
        commodity_code: '84672100',
        passport_uri: `${BASE}/01/${gtin14}`,
        content_hash: hash,
        content_hash_algorithm: 'sha-256+jcs',
        submitted_at: null,
        acknowledged_at: null,
      });
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      // The entry answers the publication's own content hash, which is the JCS + SHA-256 computed here.
      expect(publication.content_hash).toBe(hash);

      const passport = await api(reader, 'GET', `/compliance/dpp/${product_id}`);
      expect(passport.json().registry_status).toMatchObject({ entry_id: entry!.id, kind: 'registration', status: 'pending', published_version: 1 });
      const single = await api(reader, 'GET', `/compliance/registry/entries/${entry!.id as string}`);
      expect(single.json()).toEqual(entry);

      // A second version is a second entry; its identifiers are those of its own publish.
      await api(writer, 'PATCH', `/compliance/dpp/${product_id}`, { commodity_code: '84672200' });
      await api(writer, 'POST', `/compliance/dpp/${product_id}/publish`);
      const both = await entriesOf(reader, product_id);
      expect(both.map((e) => [e.published_version, e.commodity_code])).toEqual([
        [1, '84672100'],
        [2, '84672200'],
      ]);
      expect(both[1]!.content_hash).not.toBe(hash);
    });

    it('names the passport by /dpp/{id} when the product has no GTIN', async () => {
      const { product_id } = await published(writer, REGISTRY_FIELDS, false);
      const [entry] = await entriesOf(reader, product_id);
      const record = await t.database.db.selectFrom('compliance_records').select('dpp_id').where('product_id', '=', product_id).executeTakeFirstOrThrow();
      expect(entry).toMatchObject({ product_identifier: record.dpp_id, product_identifier_scheme: 'dpp_id', passport_uri: `${BASE}/dpp/${product_id}` });
    });

    it('marks an entry incomplete, listing what is missing, and never exports it', async () => {
      // reg-other has no operator identifier yet.
      const { product_id } = await published(other, { commodity_code: REGISTRY_FIELDS.commodity_code });
      const [entry] = await entriesOf(other, product_id);
      expect(entry).toMatchObject({ status: 'incomplete', missing_fields: ['operator_id', 'facility_id'], operator_id: null, facility_id: null });
      expect((await exported(other)).map((l) => l.entry_id)).not.toContain(entry!.id);
      const refused = await ack(other, entry!.id as string, { status: 'registered' });
      expect(refused.statusCode).toBe(409);
      expect(refused.json().detail).toContain('operator_id, facility_id');
      expect((await api(other, 'GET', '/compliance/registry/entries?status=incomplete')).json().items.map((e: { id: string }) => e.id)).toContain(entry!.id);

      // Only the operator identifier missing: setting it completes the entry.
      const onlyOperator = await published(other);
      const [waiting] = await entriesOf(other, onlyOperator.product_id);
      expect(waiting).toMatchObject({ status: 'incomplete', missing_fields: ['operator_id'] });
      const set = await setOperator(other, 'FR12345678901');
      expect(set.json().registry_entries_completed).toBe(1);
      const [completed] = await entriesOf(other, onlyOperator.product_id);
      expect(completed).toMatchObject({ status: 'pending', missing_fields: [], operator_id: 'FR12345678901' });
      expect((await exported(other)).map((l) => l.entry_id)).toContain(completed!.id);
      // The facility is the passport's: that entry stays incomplete (a new version is the fix).
      const [still] = await entriesOf(other, product_id);
      expect(still).toMatchObject({ status: 'incomplete', missing_fields: ['facility_id'], operator_id: 'FR12345678901' });
    });

    it('exports pending entries as NDJSON, unchanged by reading, until they are acknowledged', async () => {
      const { product_id, gtin14 } = await published(writer);
      const [entry] = await entriesOf(reader, product_id);
      const first = await exported(reader, '?limit=5000');
      const second = await exported(reader, '?limit=5000');
      expect(second).toEqual(first);
      const line = first.find((l) => l.entry_id === entry!.id);
      expect(line).toEqual({
        entry_id: entry!.id,
        kind: 'registration',
        product_identifier: gtin14,
        product_identifier_scheme: 'gtin',
        operator_id: 'DE123456789012345',
        operator_id_scheme: 'eori',
        facility_id: '4012345000009',
        facility_id_scheme: 'gln',
        commodity_code: '84672100',
        passport_uri: `${BASE}/01/${gtin14}`,
        content_hash: entry!.content_hash,
        content_hash_algorithm: 'sha-256+jcs',
        dpp_id: entry!.dpp_id,
        published_version: 1,
        queued_at: entry!.queued_at,
      });
      expect(first.every((l) => typeof l.content_hash === 'string')).toBe(true);

      // Paging by cursor: the lines after each page's last, in queue order, with nothing skipped.
      const paged: unknown[] = [];
      let after = '';
      for (;;) {
        const page = await exported(reader, `?limit=2${after ? `&after=${after}` : ''}`);
        paged.push(...page.map((l) => l.entry_id));
        if (page.length < 2) break;
        after = page.at(-1)!.entry_id as string;
      }
      expect(paged).toEqual(first.map((l) => l.entry_id));

      const res = await ack(writer, entry!.id as string, { status: 'registered', registry_id: 'EU-DPP-0001' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: entry!.id, status: 'registered', registry_id: 'EU-DPP-0001', unchanged: false, acknowledged_at: expect.any(String) });
      expect((await exported(reader, '?limit=5000')).map((l) => l.entry_id)).not.toContain(entry!.id);
      expect((await api(reader, 'GET', `/compliance/dpp/${product_id}`)).json().registry_status).toMatchObject({ status: 'registered', registry_id: 'EU-DPP-0001' });
      const audit = (await api(admin, 'GET', `/audit-events?action=registry.acknowledge&target_id=${entry!.id as string}`)).json();
      expect(audit.items).toEqual([expect.objectContaining({ target_type: 'registry_entry', details: expect.objectContaining({ from: 'pending', to: 'registered' }) })]);
    });

    it('answers a repeated acknowledgement unchanged, and a contradicting one 409', async () => {
      const { product_id } = await published(writer);
      const [entry] = await entriesOf(reader, product_id);
      const id = entry!.id as string;
      expect((await ack(reader, id, { status: 'submitted' })).statusCode).toBe(403);

      const submitted = await ack(writer, id, { status: 'submitted' });
      expect(submitted.json()).toMatchObject({ status: 'submitted', submitted_at: expect.any(String), unchanged: false });
      expect((await ack(writer, id, { status: 'submitted' })).json()).toMatchObject({ status: 'submitted', unchanged: true });
      // Submitted entries are no longer pending: the export leaves them out.
      expect((await exported(reader, '?limit=5000')).map((l) => l.entry_id)).not.toContain(id);

      const noReason = await ack(writer, id, { status: 'rejected' });
      expect(noReason.statusCode).toBe(400);
      expect(noReason.json().errors).toEqual([expect.objectContaining({ field: '/reason', rule: 'required_when_rejected' })]);
      expect((await ack(writer, id, { status: 'maybe' })).statusCode).toBe(400);

      const rejected = await ack(writer, id, { status: 'rejected', reason: 'Unknown operator' });
      expect(rejected.json()).toMatchObject({ status: 'rejected', reason: 'Unknown operator', unchanged: false });
      const again = await ack(writer, id, { status: 'rejected', reason: 'Unknown operator' });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ unchanged: true, acknowledged_at: rejected.json().acknowledged_at });

      for (const body of [{ status: 'registered' }, { status: 'submitted' }, { status: 'rejected', reason: 'Another reason' }]) {
        const res = await ack(writer, id, body);
        expect(res.statusCode, JSON.stringify(body)).toBe(409);
        expect(res.json()).toMatchObject({ code: 'registry_state', status: 409, entry_id: id, current_status: 'rejected' });
      }

      const registered = (await entriesOf(reader, (await published(writer)).product_id))[0]!.id as string;
      expect((await ack(writer, registered, { status: 'registered', registry_id: 'R-1' })).statusCode).toBe(200);
      expect((await ack(writer, registered, { status: 'registered' })).json().unchanged).toBe(true);
      expect((await ack(writer, registered, { status: 'registered', registry_id: 'R-1' })).json().unchanged).toBe(true);
      expect((await ack(writer, registered, { status: 'registered', registry_id: 'R-2' })).statusCode).toBe(409);
    });

    it('acknowledges exactly once under concurrent acknowledgements', async () => {
      const [entry] = await entriesOf(reader, (await published(writer)).product_id);
      const answers = await Promise.all(Array.from({ length: 6 }, () => ack(writer, entry!.id as string, { status: 'registered', registry_id: 'R-C' })));
      expect(answers.map((a) => a.statusCode)).toEqual(Array(6).fill(200));
      expect(answers.filter((a) => a.json().unchanged === false)).toHaveLength(1);
      const audit = (await api(admin, 'GET', `/audit-events?action=registry.acknowledge&target_id=${entry!.id as string}`)).json();
      expect(audit.total).toBe(1);
    });

    it('queues a withdrawal entry with the identifiers of the withdrawn version', async () => {
      const { product_id, gtin14 } = await published(writer);
      const [registration] = await entriesOf(reader, product_id);
      await ack(writer, registration!.id as string, { status: 'registered', registry_id: 'R-W' });
      // Working-copy edits after publish are not what was registered.
      await api(writer, 'PATCH', `/compliance/dpp/${product_id}`, { commodity_code: '84679900' });
      expect((await api(writer, 'POST', `/compliance/dpp/${product_id}/withdraw`)).statusCode).toBe(200);
      const entries = await entriesOf(reader, product_id);
      expect(entries).toHaveLength(2);
      expect(entries[1]).toMatchObject({
        kind: 'withdrawal',
        status: 'pending',
        published_version: 1,
        product_identifier: gtin14,
        commodity_code: '84672100',
        facility_id: '4012345000009',
        passport_uri: registration!.passport_uri,
        content_hash: registration!.content_hash,
      });
      expect((await exported(reader, '?limit=5000')).find((l) => l.entry_id === entries[1]!.id)).toMatchObject({ kind: 'withdrawal' });
      expect((await api(reader, 'GET', `/compliance/dpp/${product_id}`)).json().registry_status).toMatchObject({ kind: 'withdrawal', status: 'pending' });
    });

    it("keeps the passport GET's ETag honest about the registry status", async () => {
      const { product_id } = await published(writer);
      const read = await api(reader, 'GET', `/compliance/dpp/${product_id}`);
      const etag = read.headers.etag as string;
      expect(etag).toMatch(new RegExp(`^"v${read.json().version}\\.r[\\w-]+"$`));
      expect((await api(reader, 'GET', `/compliance/dpp/${product_id}`, undefined, { 'if-none-match': etag })).statusCode).toBe(304);
      const [entry] = await entriesOf(reader, product_id);
      await ack(writer, entry!.id as string, { status: 'submitted' });
      const after = await api(reader, 'GET', `/compliance/dpp/${product_id}`, undefined, { 'if-none-match': etag });
      expect(after.statusCode).toBe(200);
      expect(after.json().registry_status.status).toBe('submitted');
      // If-Match guards the passport's content: the tag read still holds for a change.
      expect((await api(writer, 'PATCH', `/compliance/dpp/${product_id}`, { carbon_footprint_kg: 13 }, { 'if-match': after.headers.etag as string })).statusCode).toBe(200);
      expect((await api(writer, 'PATCH', `/compliance/dpp/${product_id}`, { carbon_footprint_kg: 14 }, { 'if-match': after.headers.etag as string })).statusCode).toBe(412);
    });

    it("answers another organisation's entries 404, as unknown ones, and never lists them", async () => {
      const { product_id } = await published(writer);
      const [entry] = await entriesOf(reader, product_id);
      const id = entry!.id as string;
      const unknown = '01900000-0000-7000-8000-000000000000';
      for (const target of [id, unknown]) {
        const get = await api(other, 'GET', `/compliance/registry/entries/${target}`);
        expect(get.statusCode).toBe(404);
        expect(get.json().detail).toBe(`Registry entry ${target} not found.`);
        const res = await ack(other, target, { status: 'registered' });
        expect(res.statusCode).toBe(404);
        expect(res.json().detail).toBe(`Registry entry ${target} not found.`);
      }
      expect((await entriesOf(reader, product_id))[0]!.status).toBe('pending');
      expect(await entriesOf(other, product_id)).toEqual([]);
      const all = (await api(other, 'GET', '/compliance/registry/entries?per_page=200')).json();
      expect(all.items.length).toBe(all.total);
      expect(all.items.every((e: { operator_id: string | null }) => e.operator_id !== 'DE123456789012345')).toBe(true);
      expect(JSON.stringify(await exported(other, '?limit=5000'))).not.toContain(product_id);
      expect(JSON.stringify(await exported(other, `?limit=5000&after=${unknown}`))).not.toContain('DE123456789012345');
      // Unauthenticated: nothing.
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/compliance/registry/export' })).statusCode).toBe(401);
    });

    it('pages the list like the other lists and filters it by status', async () => {
      const page = (await api(reader, 'GET', '/compliance/registry/entries?status=pending&per_page=2&page=1')).json();
      expect(page).toMatchObject({ page: 1, per_page: 2 });
      expect(page.items.length).toBeLessThanOrEqual(2);
      expect(page.items.every((e: { status: string }) => e.status === 'pending')).toBe(true);
      const pending = await exported(reader, '?limit=5000');
      expect(page.total).toBe(pending.length);
      expect((await api(reader, 'GET', '/compliance/registry/entries?status=lost')).statusCode).toBe(400);
      expect((await api(reader, 'GET', '/compliance/registry/export?limit=5001')).statusCode).toBe(400);
    });
  });
  describe('CLI', () => {
    it('sets, refuses and shows the operator identifier (dpp org), audited as the CLI', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-registry-cli-'));
      const env = { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'silent' } as Record<string, string>;
      delete env.DATABASE_URL;
      // PostgreSQL: this test's own schema; SQLite: a database of its own.
      if (dialect === 'postgres') env.DATABASE_URL = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${t.database.pgSchema!}`)}`;
      const dpp = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env });
      try {
        if (dialect === 'sqlite') await dpp('keys', 'create', '--org', 'reg-org');
        const refused = (await dpp('org', 'set-operator-id', '--org', 'reg-org', 'XX').catch((e: unknown) => e)) as { code: number; stderr: string };
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain('/operator_id "XX" is neither an EORI number');
        expect((await dpp('org', 'set-operator-id', '--org', 'reg-org', 'it 01234567890')).stdout.trim()).toBe('IT01234567890');
        const shown = JSON.parse((await dpp('org', 'show', '--org', 'reg-org', '--json')).stdout);
        expect(shown).toMatchObject({ slug: 'reg-org', operator_id: 'IT01234567890', operator_id_scheme: 'eori' });
        if (dialect === 'postgres') {
          const audit = (await api(admin, 'GET', '/audit-events?action=organisation.update')).json();
          expect(audit.items[0]).toMatchObject({ actor: 'cli', actor_key_id: null, details: { new: 'IT01234567890' } });
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  });
});
