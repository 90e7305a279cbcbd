import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { COMPLETE_PASSPORT as COMPLETE } from '../helpers/fixtures.js';

describe.each(dialects)('passports (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    key = await t.key('dpp-org');
  });
  afterAll(() => t.close());

  const newProduct = async (title = 'Produit exemple', ean?: string, k = key) =>
    (await t.call(k, { method: 'POST', url: '/api/v1/products', payload: { title, ...(ean ? { ean } : {}) } })).json().product_id as string;
  const patch = (id: string, payload: object, headers: Record<string, string> = {}, k = key) =>
    t.call(k, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload, headers });
  const get = (id: string, k = key) => t.call(k, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` });
  const post = (id: string, action: string, k = key) => t.call(k, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/${action}` });

  it('answers 404 for a product without a passport, saying how to create one', async () => {
    const id = await newProduct();
    const res = await get(id);
    expect(res.statusCode).toBe(404);
    expect(res.json().detail).toContain(`PATCH /api/v1/compliance/dpp/${id}`);
  });

  it('creates the passport on PATCH and answers the spec shape', async () => {
    const id = await newProduct('Produit exemple', '3760000000001');
    const res = await patch(id, { carbon_footprint_kg: 2.1, certifications: ['CE', 'RoHS', 'Energy Star'] });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual({
      product_id: id,
      carbon_footprint_kg: 2.1,
      certifications: ['CE', 'RoHS', 'Energy Star'],
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      dpp_status: 'draft',
      version: 1,
    });
    expect(res.headers.etag).toBe('"v1"');

    const passport = (await get(id)).json();
    for (const field of [
      'product_id',
      'ean',
      'dpp_id',
      'product_name',
      'manufacturer',
      'country_of_origin',
      'materials',
      'carbon_footprint_kg',
      'recyclability_score',
      'certifications',
      'end_of_life_instructions',
      'updated_at',
    ]) {
      expect(passport).toHaveProperty(field);
    }
    expect(passport).toMatchObject({ ean: '3760000000001', product_name: 'Produit exemple', dpp_status: 'draft', version: 1 });
    expect(passport.dpp_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(passport.missing_fields).toEqual(expect.arrayContaining(['manufacturer', 'materials', 'end_of_life_instructions']));
  });

  it('normalises values: certifications, country, recyclability score', async () => {
    const id = await newProduct();
    const res = await patch(id, {
      ...COMPLETE,
      certifications: ['energy-star', 'ENERGY STAR®', 'Blauer Engel', 'nordic ecolabel', 'ce', 'Sello Verde'],
    });
    expect(res.json()).toMatchObject({
      certifications: ['Energy Star', 'Blue Angel', 'Nordic Swan', 'CE', 'Sello Verde'],
      country_of_origin: 'FR',
      recyclability_score: 'A',
      dpp_status: 'complete',
    });
  });

  it.each([
    [
      {
        materials: [
          { name: 'Steel', percentage: 80 },
          { name: 'Glass', percentage: 30 },
        ],
      },
      '/materials',
      'sum_at_most_100',
    ],
    [{ materials: [{ name: 'Steel', percentage: 101 }] }, '/materials/0/percentage', 'maximum'],
    [{ materials: [{ name: 'Steel', percentage: -1 }] }, '/materials/0/percentage', 'minimum'],
    [{ materials: [{ name: 'Steel' }] }, '/materials/0/percentage', 'required'],
    [{ carbon_footprint_kg: -0.5 }, '/carbon_footprint_kg', 'minimum'],
    [{ carbon_footprint_kg: '2.1' }, '/carbon_footprint_kg', 'type'],
    [{ country_of_origin: 'XX' }, '/country_of_origin', 'iso3166_alpha2'],
    [{ country_of_origin: 'FRA' }, '/country_of_origin', 'maxLength'],
    [{ recyclability_score: 'F' }, '/recyclability_score', 'pattern'],
    [{ manufacturer: '   ' }, '/manufacturer', 'minLength'],
    [{ colour: 'red' }, '/colour', 'unknown_field'],
    [{}, '/', 'minProperties'],
  ])('refuses %j with a 400 naming %s (%s) and changes nothing', async (payload, field, rule) => {
    const id = await newProduct();
    await patch(id, { manufacturer: 'Before' });
    const res = await patch(id, payload);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().errors).toContainEqual(expect.objectContaining({ field, rule }));
    const after = (await get(id)).json();
    expect(after).toMatchObject({ manufacturer: 'Before', version: 1 });
  });

  it('replaces fields present, clears with null, keeps the rest', async () => {
    const id = await newProduct();
    await patch(id, COMPLETE);
    const res = await patch(id, { manufacturer: 'Autre Marque', end_of_life_instructions: null });
    expect(res.json()).toMatchObject({ manufacturer: 'Autre Marque', end_of_life_instructions: null, dpp_status: 'draft', version: 2 });
    const passport = (await get(id)).json();
    expect(passport).toMatchObject({ manufacturer: 'Autre Marque', end_of_life_instructions: null, carbon_footprint_kg: 2.5 });
    expect(passport.missing_fields).toEqual(['end_of_life_instructions']);
  });

  it('is draft until materials sum to 100, then complete', async () => {
    const id = await newProduct();
    const partial = await patch(id, { ...COMPLETE, materials: [{ name: 'Steel', percentage: 60 }] });
    expect(partial.json().dpp_status).toBe('draft');
    expect((await get(id)).json().missing_fields).toEqual(['materials (percentages must sum to 100)']);
    const full = await patch(id, {
      materials: [
        { name: 'Steel', percentage: 60 },
        { name: 'Glass', percentage: 40 },
      ],
    });
    expect(full.json().dpp_status).toBe('complete');
  });

  it('publishes only a complete passport, then keeps the published version while edits make a new draft', async () => {
    const id = await newProduct();
    await patch(id, { manufacturer: 'Ma Marque' });
    const refused = await post(id, 'publish');
    expect(refused.statusCode).toBe(409);
    expect(refused.json().missing_fields).toEqual(expect.arrayContaining(['materials', 'carbon_footprint_kg', 'certifications']));

    await patch(id, COMPLETE);
    const published = await post(id, 'publish');
    expect(published.statusCode).toBe(200);
    expect(published.json()).toMatchObject({ dpp_status: 'published', published_version: 1, withdrawn_at: null });

    const again = await post(id, 'publish');
    expect(again.json()).toMatchObject({ published_version: 1 });

    await patch(id, { carbon_footprint_kg: 3.2 });
    const passport = (await get(id)).json();
    expect(passport).toMatchObject({ dpp_status: 'published', has_unpublished_changes: true, published_version: 1, carbon_footprint_kg: 3.2 });
    const list = (await t.call(key, { method: 'GET', url: '/api/v1/compliance/dpp/products?dpp_status=published' })).json();
    expect(list.items.find((i: { product_id: string }) => i.product_id === id)).toMatchObject({ dpp_status: 'published', has_unpublished_changes: true });

    const snapshot = await t.database.db.selectFrom('passport_publications').selectAll().where('product_id', '=', id).execute();
    expect(snapshot).toHaveLength(1);
    expect(JSON.parse(snapshot[0]!.snapshot).carbon_footprint_kg).toBe(2.5);

    const second = await post(id, 'publish');
    expect(second.json()).toMatchObject({ published_version: 2 });
    expect((await get(id)).json().has_unpublished_changes).toBe(false);
  });

  it('withdraws a published passport, keeps its versions, and refuses to delete the product', async () => {
    const id = await newProduct();
    await patch(id, COMPLETE);
    expect((await post(id, 'withdraw')).statusCode).toBe(409);
    await post(id, 'publish');
    const withdrawn = await post(id, 'withdraw');
    expect(withdrawn.statusCode).toBe(200);
    expect(withdrawn.json()).toMatchObject({ dpp_status: 'complete', published_version: 1 });
    expect(withdrawn.json().withdrawn_at).not.toBeNull();
    expect((await post(id, 'withdraw')).statusCode).toBe(409);
    const versions = await t.database.db.selectFrom('passport_publications').selectAll().where('product_id', '=', id).execute();
    expect(versions).toHaveLength(1);
    expect(versions[0]!.withdrawn_at).not.toBeNull();
    expect((await t.call(key, { method: 'DELETE', url: `/api/v1/products/${id}` })).statusCode).toBe(409);
    const republished = await post(id, 'publish');
    expect(republished.json()).toMatchObject({ dpp_status: 'published', published_version: 2, withdrawn_at: null });
  });

  it('records every change in the history, newest first, with key and old/new values, paginated', async () => {
    const id = await newProduct();
    await patch(id, { manufacturer: 'A' });
    await patch(id, { manufacturer: 'B', carbon_footprint_kg: 1 });
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/products/${id}/environmental`, payload: { rohs_compliant: true } });
    const history = (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/history?per_page=2` })).json();
    expect(history).toMatchObject({ total: 3, page: 1, per_page: 2 });
    expect(history.items.map((i: { version: number }) => i.version)).toEqual([3, 2]);
    const keyId = key.slice(4, 16);
    expect(history.items[0]).toMatchObject({ action: 'update', key_id: keyId, source: 'api', changes: [{ field: 'rohs_compliant', old: null, new: true }] });
    expect(history.items[1].changes).toEqual([
      { field: 'manufacturer', old: 'A', new: 'B' },
      { field: 'carbon_footprint_kg', old: null, new: 1 },
    ]);
    const page2 = (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/history?per_page=2&page=2` })).json();
    expect(page2.items).toEqual([expect.objectContaining({ version: 1, action: 'create' })]);
  });

  it('answers ETags and refuses a stale If-Match with 412, changing nothing', async () => {
    const id = await newProduct();
    await patch(id, { manufacturer: 'A' });
    const read = await get(id);
    const etag = read.headers.etag as string;
    expect(etag).toBe('"v1"');
    expect((await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}`, headers: { 'if-none-match': etag } })).statusCode).toBe(304);

    expect((await patch(id, { manufacturer: 'B' }, { 'if-match': etag })).statusCode).toBe(200);
    const stale = await patch(id, { manufacturer: 'C' }, { 'if-match': etag });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'precondition_failed', current_version: 2 });
    expect((await get(id)).json()).toMatchObject({ manufacturer: 'B', version: 2 });
  });

  it('loses no change under 50 concurrent PATCHes: every one in the history, versions without gaps', async () => {
    const id = await newProduct();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => patch(id, { carbon_footprint_kg: i + 1, manufacturer: `Maker ${i}` })));
    expect(results.map((r) => r.statusCode)).toEqual(Array(50).fill(200));
    expect(new Set(results.map((r) => r.json().version)).size).toBe(50);
    const history = (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/history?per_page=200` })).json();
    expect(history.total).toBe(50);
    expect(history.items.map((i: { version: number }) => i.version)).toEqual(Array.from({ length: 50 }, (_, i) => 50 - i));
    const recorded = history.items.map((i: { changes: Array<{ field: string; new: unknown }> }) => i.changes.find((c) => c.field === 'manufacturer')?.new);
    expect(new Set(recorded).size).toBe(50);
    const last = history.items[0].changes.find((c: { field: string }) => c.field === 'manufacturer').new;
    expect((await get(id)).json()).toMatchObject({ version: 50, manufacturer: last });
  });

  it('keeps organisations apart on every compliance endpoint', async () => {
    const id = await newProduct();
    await patch(id, COMPLETE);
    const other = await t.key('other-org');
    for (const [method, url] of [
      ['GET', `/api/v1/compliance/dpp/${id}`],
      ['GET', `/api/v1/compliance/dpp/${id}/history`],
      ['POST', `/api/v1/compliance/dpp/${id}/publish`],
      ['GET', `/api/v1/compliance/products/${id}/environmental`],
    ] as const) {
      expect((await t.call(other, { method, url })).statusCode, url).toBe(404);
    }
    expect((await patch(id, { manufacturer: 'Intruder' }, {}, other)).statusCode).toBe(404);
    expect((await get(id)).json().manufacturer).toBe('Ma Marque');
  });
});
