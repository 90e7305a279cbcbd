import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';

describe.each(dialects)('environmental data (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    key = await t.key('env-org');
  });
  afterAll(() => t.close());

  const newProduct = async () => (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Laptop' } })).json().product_id as string;
  const envUrl = (id: string) => `/api/v1/compliance/products/${id}/environmental`;
  const patchEnv = (id: string, payload: object) => t.call(key, { method: 'PATCH', url: envUrl(id), payload });
  const getEnv = (id: string) => t.call(key, { method: 'GET', url: envUrl(id) });

  it('answers nulls for a product with no data yet, and 404 for an unknown product', async () => {
    const id = await newProduct();
    const res = await getEnv(id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      product_id: id,
      reach_compliant: null,
      rohs_compliant: null,
      ce_marked: null,
      weee_category: null,
      energy_class: null,
      carbon_footprint_kg: null,
      recyclable: null,
      hazardous_substances: [],
      updated_at: null,
      version: 0,
    });
    expect((await getEnv('00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });

  it('answers the spec shape on PATCH (changed fields and updated_at) and stores them', async () => {
    const id = await newProduct();
    const res = await patchEnv(id, { reach_compliant: true, rohs_compliant: true, energy_class: 'a+' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      product_id: id,
      reach_compliant: true,
      rohs_compliant: true,
      energy_class: 'A+',
      updated_at: expect.any(String),
      version: 1,
    });
    expect((await getEnv(id)).json()).toMatchObject({ reach_compliant: true, rohs_compliant: true, ce_marked: null, energy_class: 'A+' });
  });

  it.each([
    ['IT equipment', 'IT equipment'],
    [6, 'IT equipment'],
    ['6', 'IT equipment'],
    ['Small IT and telecommunication equipment', 'IT equipment'],
    ['screens', 'Screens and monitors'],
    [3, 'Lamps'],
  ])('stores WEEE category %j as %s', async (input, canonical) => {
    const id = await newProduct();
    expect((await patchEnv(id, { weee_category: input })).json().weee_category).toBe(canonical);
  });

  it.each([
    [{ weee_category: 'Category 11' }, '/weee_category', 'weee_annex_iii'],
    [{ weee_category: 7 }, '/weee_category', 'maximum'],
    [{ energy_class: 'H' }, '/energy_class', 'energy_class'],
    [{ energy_class: 'A++++' }, '/energy_class', 'energy_class'],
    [{ reach_compliant: 'yes' }, '/reach_compliant', 'type'],
    [{ carbon_footprint_kg: -1 }, '/carbon_footprint_kg', 'minimum'],
    [{ hazardous_substances: [{ name: 'Lead', cas_number: '7439-92-2' }] }, '/hazardous_substances/0/cas_number', 'cas_check_digit'],
    [{ hazardous_substances: [{ name: 'DEHP', ec_number: '204-211-1' }] }, '/hazardous_substances/0/ec_number', 'ec_check_digit'],
    [{ hazardous_substances: [{ cas_number: '7439-92-1' }] }, '/hazardous_substances/0/name', 'required'],
  ])('refuses %j naming %s (%s)', async (payload, field, rule) => {
    const id = await newProduct();
    const res = await patchEnv(id, payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toContainEqual(expect.objectContaining({ field, rule }));
    expect((await getEnv(id)).json().version).toBe(0);
  });

  it('accepts the older A+++ to D scale and SVHC declarations with valid CAS and EC numbers', async () => {
    const id = await newProduct();
    const svhc = { name: 'Lead', cas_number: '7439-92-1', ec_number: '231-100-4', concentration_pct: 0.2, location: 'solder' };
    const res = await patchEnv(id, { energy_class: 'A+++', hazardous_substances: [svhc] });
    expect(res.statusCode).toBe(200);
    expect((await getEnv(id)).json()).toMatchObject({ energy_class: 'A+++', hazardous_substances: [svhc] });
  });

  it('shares carbon_footprint_kg with the passport: one value, never two copies', async () => {
    const id = await newProduct();
    await patchEnv(id, { carbon_footprint_kg: 12.5 });
    // Environmental data alone makes no passport.
    expect((await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` })).statusCode).toBe(404);
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: { manufacturer: 'Exemplar' } });
    expect((await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` })).json().carbon_footprint_kg).toBe(12.5);
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: { carbon_footprint_kg: 9.75 } });
    expect((await getEnv(id)).json().carbon_footprint_kg).toBe(9.75);
  });

  it('clears with null and answers an ETag that If-Match checks', async () => {
    const id = await newProduct();
    const first = await patchEnv(id, { ce_marked: true });
    expect(first.headers.etag).toBe('"v1"');
    const stale = await t.call(key, { method: 'PATCH', url: envUrl(id), payload: { ce_marked: false }, headers: { 'if-match': '"v0"' } });
    expect(stale.statusCode).toBe(412);
    const cleared = await t.call(key, { method: 'PATCH', url: envUrl(id), payload: { ce_marked: null }, headers: { 'if-match': '"v1"' } });
    expect(cleared.json()).toMatchObject({ ce_marked: null, version: 2 });
  });
});
