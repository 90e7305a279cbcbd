import { readFileSync } from 'node:fs';
import addFormatsModule from 'ajv-formats';
import { Ajv2020 } from 'ajv/dist/2020.js';
import jsonld from 'jsonld';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { FULL_PASSPORT, validEan } from '../helpers/fixtures.js';
import { testDocumentLoader } from '../helpers/untp.js';

// ajv-formats is CommonJS with a default export.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const validateUntp = ajv.compile(JSON.parse(readFileSync(new URL('../../../shared/standards/untp-dpp-0.6.0/schema.json', import.meta.url), 'utf8')) as object);

const ean = (n: number) => validEan('401234501', n);

describe.each(dialects)('batch and item passports (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  let otherKey: string;
  let productId: string;
  let gtin: string;

  const issue = (payload: object, id = productId, k = key) => t.call(k, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/instances`, payload });
  const resolve = async (path: string, query = 'format=jsonld') => {
    const res = await t.app.inject({ method: 'GET', url: `${path}?${query}`, headers: { accept: 'application/ld+json' } });
    expect(res.statusCode, path).toBe(200);
    return res.json();
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    key = await t.key('granularity-org');
    otherKey = await t.key('granularity-other');
    const created = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Cordless drill battery pack', ean: ean(1) } })).json();
    productId = created.product_id;
    gtin = created.gtin14;
    await t.call(key, {
      method: 'PATCH',
      url: `/api/v1/compliance/dpp/${productId}`,
      payload: { ...FULL_PASSPORT, carbon_footprint_kg: 9.5, dismantling_instructions: 'MARK-LI open the case' },
    });
    expect((await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${productId}/publish` })).statusCode).toBe(200);
  });
  afterAll(() => t.close());

  it('issues a batch passport that /01/{gtin}/10/{lot} opens, with its own values over the model version, in every format', async () => {
    const res = await issue({ level: 'batch', lot: 'L2026-07', production_date: '2026-07-01', values: { carbon_footprint_kg: 3.1, country_of_origin: 'de' } });
    expect(res.statusCode).toBe(201);
    const batch = res.json();
    expect(batch).toMatchObject({
      level: 'batch',
      lot: 'L2026-07',
      serial: null,
      version: 1,
      based_on_version: 1,
      values: { carbon_footprint_kg: 3.1, country_of_origin: 'DE' },
      uri: `https://dpp.example.test/01/${gtin}/10/L2026-07`,
    });

    const doc = await resolve(`/01/${gtin}/10/L2026-07`);
    expect(doc).toMatchObject({
      '@id': batch.uri,
      granularityLevel: 'batch',
      batchNumber: 'L2026-07',
      productionDate: '2026-07-01',
      basedOnVersion: 1,
      carbonFootprint: 3.1,
      countryOfOrigin: 'DE',
      manufacturer: FULL_PASSPORT.manufacturer,
    });
    // Every term of the batch passport is defined by the served context: safe mode would fail on one it drops.
    const options = { safe: true, documentLoader: testDocumentLoader('https://dpp.example.test') } as unknown as jsonld.Options.Expand;
    const expanded = (await jsonld.expand(doc, options)) as Array<Record<string, unknown>>;
    const iris = Object.keys(expanded[0]!);
    for (const iri of ['https://ref.gs1.org/voc/hasBatchLotNumber', 'https://dpp-compliance.dev/vocab#granularityLevel', 'https://dpp-compliance.dev/vocab#productionDate']) {
      expect(iris).toContain(iri);
    }

    const credential = await resolve(`/01/${gtin}/10/L2026-07`, 'format=jsonld&profile=untp');
    expect(credential.credentialSubject).toMatchObject({
      granularityLevel: 'batch',
      product: { batchNumber: 'L2026-07', productionDate: '2026-07-01', countryOfProduction: 'DE' },
    });
    expect(validateUntp(credential), JSON.stringify(validateUntp.errors)).toBe(true);

    const page = await t.app.inject({ method: 'GET', url: `/01/${gtin}/10/L2026-07?lang=de`, headers: { accept: 'text/html' } });
    expect(page.body).toContain('Chargenpass · Charge L2026-07 · Hergestellt am 2026-07-01');
    const linkset = await resolve(`/01/${gtin}/10/L2026-07`, 'linkType=linkset');
    expect(JSON.stringify(linkset)).toContain(`/01/${gtin}/10/L2026-07`);

    // Another lot, a variant, or the bare GTIN: the model passport.
    for (const path of [`/01/${gtin}/10/L-OTHER`, `/01/${gtin}`, `/01/${gtin}/22/RED`]) {
      const model = await resolve(path);
      expect(model.carbonFootprint, path).toBe(9.5);
      expect(model).not.toHaveProperty('granularityLevel');
    }
  });

  it('issues item passports reached by serial, with or without the lot, and falls back when the lot does not match', async () => {
    const item = (await issue({ level: 'item', lot: 'L2026-07', serial: 'SN-0001', values: { carbon_footprint_kg: 2.9 } })).json();
    expect(item.uri).toBe(`https://dpp.example.test/01/${gtin}/10/L2026-07/21/SN-0001`);
    for (const path of [`/01/${gtin}/10/L2026-07/21/SN-0001`, `/01/${gtin}/21/SN-0001`]) {
      expect(await resolve(path)).toMatchObject({ granularityLevel: 'item', serialNumber: 'SN-0001', carbonFootprint: 2.9 });
    }
    // The serial under another lot is not this item; that lot has no batch passport either.
    expect((await resolve(`/01/${gtin}/10/L-OTHER/21/SN-0001`)).carbonFootprint).toBe(9.5);
    // A serial without an item passport, under a lot with one: the batch passport.
    expect(await resolve(`/01/${gtin}/10/L2026-07/21/SN-9999`)).toMatchObject({ granularityLevel: 'batch', carbonFootprint: 3.1 });
  });

  it('re-issues a batch as its next version and withdraws an item, each shown at once, and audits both', async () => {
    const v2 = (await issue({ level: 'batch', lot: 'L2026-08', values: { carbon_footprint_kg: 4 } })).json();
    const v2b = (await issue({ level: 'batch', lot: 'L2026-08', values: { carbon_footprint_kg: 4.2 } })).json();
    expect(v2b.version).toBe(2);
    expect((await resolve(`/01/${gtin}/10/L2026-08`)).carbonFootprint).toBe(4.2);
    const list = (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${productId}/instances?level=batch` })).json();
    expect(list.items.find((i: { instance_id: string }) => i.instance_id === v2.instance_id).withdrawn_at).not.toBeNull();

    const item = (await issue({ level: 'item', serial: 'SN-0002' })).json();
    expect((await resolve(`/01/${gtin}/21/SN-0002`)).granularityLevel).toBe('item');
    const withdrawn = await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${productId}/instances/${item.instance_id}/withdraw` });
    expect(withdrawn.json().withdrawn_at).toEqual(expect.any(String));
    const fallback = await resolve(`/01/${gtin}/21/SN-0002`);
    expect(fallback).not.toHaveProperty('granularityLevel');
    expect((await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${productId}/instances/${item.instance_id}/withdraw` })).statusCode).toBe(409);

    const events = (await t.call(await t.key('granularity-org', 'read,admin'), { method: 'GET', url: `/api/v1/audit-events?target_id=${productId}` })).json();
    const actions = events.items.map((e: { action: string }) => e.action);
    expect(actions).toContain('passport.instance.issue');
    expect(actions).toContain('passport.instance.withdraw');
  });

  it('keeps restricted fields of the model out of the public batch passport', async () => {
    const page = await t.app.inject({ method: 'GET', url: `/01/${gtin}/10/L2026-07`, headers: { accept: 'text/html' } });
    const doc = await t.app.inject({ method: 'GET', url: `/01/${gtin}/10/L2026-07?format=jsonld` });
    expect(page.body).not.toContain('MARK-LI');
    expect(doc.body).not.toContain('MARK-LI');
  });

  it('refuses bad identities and values naming the field, and batches before the model is published or without a GTIN', async () => {
    const cases: Array<[object, string, string]> = [
      [{ level: 'batch' }, 'body/lot', 'required'],
      [{ level: 'batch', lot: 'L1', serial: 'S1' }, 'body/serial', 'absent'],
      [{ level: 'item', lot: 'L1' }, 'body/serial', 'required'],
      [{ level: 'item', serial: 'SN 1' }, 'body/serial', 'cset82'],
      [{ level: 'batch', lot: 'L1', values: { country_of_origin: 'XX' } }, 'body/values/country_of_origin', 'iso3166_alpha2'],
    ];
    for (const [payload, field, rule] of cases) {
      const res = await issue(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().errors, JSON.stringify(payload)).toContainEqual(expect.objectContaining({ field, rule }));
    }
    // Only the fields a batch or item may state itself.
    const notPerInstance = await issue({ level: 'batch', lot: 'L1', values: { manufacturer: 'Someone else' } });
    expect(notPerInstance.statusCode).toBe(400);
    expect(JSON.stringify(notPerInstance.json().errors)).toContain('values');

    const draft = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Unpublished', ean: ean(2) } })).json().product_id;
    expect((await issue({ level: 'batch', lot: 'L1' }, draft)).statusCode).toBe(409);
    const noGtin = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'No GTIN' } })).json().product_id;
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${noGtin}`, payload: FULL_PASSPORT });
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${noGtin}/publish` });
    const refused = await issue({ level: 'batch', lot: 'L1' }, noGtin);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toContain('GTIN');
  });

  it("answers another organisation's product as unknown", async () => {
    const foreign = await issue({ level: 'batch', lot: 'L9' }, productId, otherKey);
    expect(foreign.statusCode).toBe(404);
    expect((await t.call(otherKey, { method: 'GET', url: `/api/v1/compliance/dpp/${productId}/instances` })).statusCode).toBe(404);
    expect((await resolve(`/01/${gtin}/10/L9`)).carbonFootprint).toBe(9.5);
  });
});
