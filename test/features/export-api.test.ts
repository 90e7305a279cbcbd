import fs from 'node:fs';
import addFormatsModule from 'ajv-formats';
import { Ajv2020 } from 'ajv/dist/2020.js';
import jsonld from 'jsonld';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { testDocumentLoader } from '../helpers/untp.js';
import { FULL_PASSPORT } from '../helpers/fixtures.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const schema = JSON.parse(fs.readFileSync(new URL('../../../shared/standards/untp-dpp-0.6.0/schema.json', import.meta.url), 'utf8'));
const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
const validateUntp = ajv.compile(schema);
const UNTP_PROFILE = 'application/ld+json; profile="https://test.uncefact.org/vocabulary/untp/dpp/0.6.0/"';

describe.each(dialects)('passport export (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  const base = 'https://dpp.example.test';
  const loader = testDocumentLoader(base);

  const create = async (title: string, ean?: string) =>
    (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title, ...(ean ? { ean } : {}) } })).json().product_id as string;
  const fill = (id: string, payload: object) => t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload });
  const exportOf = (id: string, query = '', headers: Record<string, string> = {}) => t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/export${query}`, headers });
  const expandSafe = (doc: object) => jsonld.expand(doc as never, { safe: true, documentLoader: loader as never } as never);

  beforeAll(async () => {
    t = await createTestApp(dialect, { PUBLIC_BASE_URL: base });
    key = await t.key('export-org');
  });
  afterAll(() => t.close());

  it('exports the spec shape as JSON-LD that a safe-mode processor keeps whole', async () => {
    const id = await create('Produit exemple', '9520123456788');
    await fill(id, FULL_PASSPORT);
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/products/${id}/environmental`, payload: { weee_category: 6, energy_class: 'A+', rohs_compliant: true } });
    const res = await exportOf(id);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/ld+json');
    const doc = res.json();
    expect(doc).toMatchObject({
      '@context': `${base}/contexts/dpp/v1.jsonld`,
      '@type': 'ProductPassport',
      productId: id,
      gtin: '09520123456788',
      manufacturer: FULL_PASSPORT.manufacturer,
      carbonFootprint: 2.5,
      certifications: ['CE', 'RoHS', 'Energy Star'],
    });
    const expanded = await expandSafe(doc);
    expect(expanded).toHaveLength(1);
  });

  it('never puts a GTIN with a wrong check digit into the export', async () => {
    const id = await create('Produit exemple', '3760000000001');
    await fill(id, { manufacturer: 'Ma Marque' });
    const doc = (await exportOf(id)).json();
    expect(doc.gtin).toBeUndefined();
    expect(doc['@id']).toBe(`${base}/dpp/${id}`);
  });

  it.each([
    ['full', FULL_PASSPORT],
    ['partial', { manufacturer: 'Ma Marque', certifications: ['CE'] }],
    ['empty', { end_of_life_instructions: null }],
  ])('exports a %s passport as a UNTP 0.6.0 credential that passes the schema and safe-mode expansion', async (_label, payload) => {
    const id = await create(`UNTP ${_label}`, _label === 'full' ? '4006381333931' : undefined);
    await fill(id, payload);
    for (const res of [await exportOf(id, '?profile=untp'), await exportOf(id, '', { accept: UNTP_PROFILE })]) {
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('profile=');
      const credential = res.json();
      expect(credential.type).toContain('DigitalProductPassport');
      const valid = validateUntp(credential);
      expect(validateUntp.errors ?? [], JSON.stringify(validateUntp.errors)).toEqual([]);
      expect(valid).toBe(true);
      await expect(expandSafe(credential)).resolves.toBeDefined();
      const again = await expandSafe((await exportOf(id)).json());
      expect(again).toHaveLength(1);
    }
  });

  it('exports the published version, older versions on request, and marks a draft', async () => {
    const id = await create('Versioned', '5901234123457');
    await fill(id, FULL_PASSPORT);
    const draft = (await exportOf(id)).json();
    expect(draft.dppStatus).toBe('complete');
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` });
    await fill(id, { carbon_footprint_kg: 4 });
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` });
    await fill(id, { carbon_footprint_kg: 9 }); // unpublished change: not exported
    const current = (await exportOf(id)).json();
    expect(current).toMatchObject({ carbonFootprint: 4, version: 2, dppStatus: 'published' });
    expect((await exportOf(id, '?version=1')).json()).toMatchObject({ carbonFootprint: 2.5, version: 1 });
    expect((await exportOf(id, '?version=3')).statusCode).toBe(404);
    const unpublished = await create('Unpublished');
    await fill(unpublished, { manufacturer: 'X' });
    expect((await exportOf(unpublished)).json().dppStatus).toBe('draft');
  });

  it('answers 404 without a passport and for another organisation', async () => {
    const id = await create('Bare');
    expect((await exportOf(id)).statusCode).toBe(404);
    await fill(id, { manufacturer: 'X' });
    const other = await t.key('export-other');
    expect((await t.call(other, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/export` })).statusCode).toBe(404);
    expect((await t.call(other, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/qr` })).statusCode).toBe(404);
  });

  it('streams every passport of the organisation as NDJSON, and nothing of others', async () => {
    const org = await t.key('bulk-org');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = (await t.call(org, { method: 'POST', url: '/api/v1/products', payload: { title: `Bulk ${i}` } })).json().product_id;
      if (i < 5) await t.call(org, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: { manufacturer: `M${i}` } });
      ids.push(id);
    }
    const res = await t.call(org, { method: 'GET', url: '/api/v1/compliance/dpp/export?format=ndjson' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const lines = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.productId).sort()).toEqual(ids.slice(0, 5).sort());
    const untp = await t.call(org, { method: 'GET', url: '/api/v1/compliance/dpp/export?format=ndjson&profile=untp' });
    for (const line of untp.body.trim().split('\n')) expect(validateUntp(JSON.parse(line))).toBe(true);
  });
});
