import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';

describe.each(dialects)('product catalog (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    key = await t.key('catalog');
  });
  afterAll(() => t.close());

  const post = (payload: unknown) => t.call(key, { method: 'POST', url: '/api/v1/products', payload: payload as object });

  it('creates a product with a UUID, normalises the GTIN and answers 201 with a Location', async () => {
    const res = await post({ title: 'Bouilloire', ean: '036000291452', brand: 'Ma Marque', attributes: { volume_l: 1.7 } });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.product_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body).toMatchObject({ title: 'Bouilloire', ean: '036000291452', gtin14: '00036000291452', gtin_valid: true, attributes: { volume_l: 1.7 } });
    expect(res.headers.location).toBe(`/api/v1/products/${body.product_id}`);
    const got = await t.call(key, { method: 'GET', url: `/api/v1/products/${body.product_id}` });
    expect(got.json()).toEqual(body);
  });

  it('accepts the spec example EAN with its wrong check digit, flagged', async () => {
    const res = await post({ title: 'Produit exemple', ean: '3760000000001' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ ean: '3760000000001', gtin14: '03760000000001', gtin_valid: false });
  });

  it('refuses a duplicate EAN in the organisation with 409, in any of its forms', async () => {
    expect((await post({ title: 'First', ean: '5901234123457' })).statusCode).toBe(201);
    const dup = await post({ title: 'Second', ean: '05901234123457' });
    expect(dup.statusCode).toBe(409);
    expect(dup.headers['content-type']).toContain('application/problem+json');
    expect(dup.json()).toMatchObject({ code: 'conflict', field: 'ean' });
  });

  it('validates input with field paths and rules', async () => {
    const cases: Array<[unknown, string, string]> = [
      [{}, '/title', 'required'],
      [{ title: '' }, '/title', 'minLength'],
      [{ title: 'x', ean: '12345' }, '/ean', 'pattern'],
      [{ title: 'x', ean: 4006381333931 }, '/ean', 'type'],
      [{ title: 'x', colour: 'red' }, '/colour', 'unknown_field'],
      [{ title: 'x', attributes: [] }, '/attributes', 'type'],
    ];
    for (const [payload, field, rule] of cases) {
      const res = await post(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      const problem = res.json();
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors).toContainEqual(expect.objectContaining({ field, rule }));
    }
  });

  it('updates fields present, clears with null, keeps the rest, and bumps updated_at', async () => {
    const created = (await post({ title: 'Lamp', ean: '4006381333931', brand: 'Lumen', category: 'Lighting' })).json();
    await new Promise((r) => setTimeout(r, 5));
    const res = await t.call(key, {
      method: 'PATCH',
      url: `/api/v1/products/${created.product_id}`,
      payload: { title: 'Desk lamp', brand: null, ean: '96385074' },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ title: 'Desk lamp', brand: null, category: 'Lighting', ean: '96385074', gtin14: '00000096385074' });
    expect(body.updated_at > created.updated_at).toBe(true);
    const empty = await t.call(key, { method: 'PATCH', url: `/api/v1/products/${created.product_id}`, payload: {} });
    expect(empty.statusCode).toBe(400);
    const taken = await t.call(key, { method: 'PATCH', url: `/api/v1/products/${created.product_id}`, payload: { ean: '5901234123457' } });
    expect(taken.statusCode).toBe(409);
    const after = await t.call(key, { method: 'GET', url: `/api/v1/products/${created.product_id}` });
    expect(after.json().ean).toBe('96385074');
  });

  it('deletes a product; a second delete and a read are 404', async () => {
    const { product_id } = (await post({ title: 'Temporary' })).json();
    expect((await t.call(key, { method: 'DELETE', url: `/api/v1/products/${product_id}` })).statusCode).toBe(204);
    expect((await t.call(key, { method: 'DELETE', url: `/api/v1/products/${product_id}` })).statusCode).toBe(404);
    expect((await t.call(key, { method: 'GET', url: `/api/v1/products/${product_id}` })).statusCode).toBe(404);
  });

  it('rejects a malformed product id with 400 naming the parameter', async () => {
    const res = await t.call(key, { method: 'GET', url: '/api/v1/products/not-a-uuid' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].field).toBe('params/product_id');
  });

  it('paginates in a stable order, most recently updated first', async () => {
    const other = await t.key('pager');
    for (let i = 0; i < 7; i++) {
      await t.call(other, { method: 'POST', url: '/api/v1/products', payload: { title: `P${i}` } });
    }
    type Item = { title: string; product_id: string; updated_at: string };
    const pages: Item[][] = [];
    for (const page of [1, 2, 3]) {
      const body = (await t.call(other, { method: 'GET', url: `/api/v1/products?per_page=3&page=${page}` })).json();
      expect(body).toMatchObject({ total: 7, page, per_page: 3 });
      pages.push(body.items);
    }
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    const all = pages.flat();
    expect(new Set(all.map((p) => p.title)).size).toBe(7);
    const key = (p: Item) => p.updated_at + p.product_id;
    expect(all.map(key)).toEqual([...all.map(key)].sort().reverse());
    const tooMany = await t.call(other, { method: 'GET', url: '/api/v1/products?per_page=201' });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().errors[0]).toMatchObject({ field: 'querystring/per_page', rule: 'maximum' });
  });
});
