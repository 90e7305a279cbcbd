import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { FULL_PASSPORT } from '../helpers/fixtures.js';

describe.each(dialects)('what was published never changes (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    key = await t.key('lifecycle-org');
  });
  afterAll(() => t.close());

  const create = async (payload: object) => (await t.call(key, { method: 'POST', url: '/api/v1/products', payload })).json().product_id as string;
  const patchPassport = (id: string, payload: object) => t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload });
  const patchEnv = (id: string, payload: object) => t.call(key, { method: 'PATCH', url: `/api/v1/compliance/products/${id}/environmental`, payload });
  const publish = (id: string) => t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` });

  it('freezes the GTIN of a product once its passport is published: PATCH is a 409 and the printed URI keeps resolving', async () => {
    const id = await create({ title: 'Frozen kettle', ean: '4012345000030', external_id: 'FROZEN-1' });
    await patchPassport(id, FULL_PASSPORT);
    expect((await publish(id)).statusCode).toBe(200);
    const v1 = (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/export?version=1` })).json();

    for (const ean of ['4012345000047', null]) {
      const res = await t.call(key, { method: 'PATCH', url: `/api/v1/products/${id}`, payload: { ean } });
      expect(res.statusCode).toBe(409);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ code: 'identifier_frozen', gtin14: '04012345000030', errors: [{ field: '/ean', rule: 'frozen_after_publication' }] });
      expect(res.json().detail).toContain('create a new product');
    }
    // The same GTIN written again, and other fields, are fine.
    expect((await t.call(key, { method: 'PATCH', url: `/api/v1/products/${id}`, payload: { ean: '04012345000030', brand: 'New brand' } })).statusCode).toBe(200);

    expect((await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/export?version=1` })).json()).toEqual(v1);
    const resolved = await t.app.inject({ method: 'GET', url: '/01/04012345000030', headers: { accept: 'application/ld+json' } });
    expect(resolved.statusCode).toBe(200);
  });

  it('freezes it in imports too: the row fails, naming the rule, and the rest of the file lands', async () => {
    const id = await create({ title: 'Imported frozen', ean: '4012345000054', external_id: 'FROZEN-2' });
    await patchPassport(id, FULL_PASSPORT);
    await publish(id);
    // Withdrawn still counts: the codes were printed.
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/withdraw` });
    const res = await t.call(key, {
      method: 'POST',
      url: '/api/v1/products/import',
      payload: 'sku,title,ean\nFROZEN-2,Imported frozen,4012345000061\nFRESH-1,Fresh,4012345000078\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(res.json()).toMatchObject({ created: 1, failed: 1, failures: [{ line: 2, field: 'ean' }] });
    expect(res.json().failures[0].reason).toContain('published passport');
    expect((await t.call(key, { method: 'GET', url: `/api/v1/products/${id}` })).json().gtin14).toBe('04012345000054');
  });

  it('lets a product without a published passport change its GTIN as before', async () => {
    const id = await create({ title: 'Draft only', ean: '4012345000085' });
    await patchPassport(id, FULL_PASSPORT);
    const res = await t.call(key, { method: 'PATCH', url: `/api/v1/products/${id}`, payload: { ean: '4012345000092' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().gtin14).toBe('04012345000092');
  });

  it('records a catalog change the passport shows as a new passport version with a history entry (PATCH and import)', async () => {
    const id = await create({ title: 'Shown title', external_id: 'SHOWN-1', ean: '4012345000115' });
    const { product_name: _ignored, ...withoutName } = FULL_PASSPORT as Record<string, unknown>;
    await patchPassport(id, withoutName);
    expect((await publish(id)).statusCode).toBe(200);
    const before = await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` });
    const etag = before.headers.etag as string;

    await t.call(key, { method: 'PATCH', url: `/api/v1/products/${id}`, payload: { title: 'Renamed title' } });
    const after = await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}`, headers: { 'if-none-match': etag } });
    expect(after.statusCode).toBe(200); // not a stale 304
    expect(after.json()).toMatchObject({ product_name: 'Renamed title', has_unpublished_changes: true, published_version: 1 });
    const history = (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/history` })).json();
    expect(history.items[0]).toMatchObject({
      action: 'product_update',
      source: 'api',
      key_id: expect.any(String),
      changes: [{ field: 'product_name', old: 'Shown title', new: 'Renamed title' }],
    });
    // The published version is a snapshot: it keeps the old name.
    const v1 = (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/export?version=1` })).json();
    expect(JSON.stringify(v1)).toContain('Shown title');

    await t.call(key, { method: 'POST', url: '/api/v1/products/import', payload: 'sku,title\nSHOWN-1,Imported title\n', headers: { 'content-type': 'text/csv' } });
    const imported = (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/history` })).json();
    expect(imported.items[0]).toMatchObject({ action: 'product_update', source: 'import', changes: [{ field: 'product_name', new: 'Imported title' }] });
    // A change the passport does not show (the brand) is not a passport change.
    await t.call(key, { method: 'PATCH', url: `/api/v1/products/${id}`, payload: { brand: 'Other' } });
    expect((await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/history` })).json().total).toBe(imported.total);
  });

  it.each([
    ['CE', { ce_marked: false }, 'ce_marked'],
    ['RoHS', { rohs_compliant: false }, 'rohs_compliant'],
    ['REACH', { reach_compliant: false }, 'reach_compliant'],
  ])('refuses to publish a passport claiming %s while %j (409 naming both fields)', async (cert, env, flag) => {
    const id = await create({ title: `Contradiction ${cert}` });
    await patchPassport(id, { ...FULL_PASSPORT, certifications: [cert] });
    await patchEnv(id, env);
    const res = await publish(id);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'inconsistent_passport' });
    expect(res.json().errors.map((e: { field: string }) => e.field)).toEqual(['/certifications', `/${flag}`]);
    // Nothing was published.
    expect((await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` })).json().dpp_status).toBe('complete');
    // Resolved either way, it publishes.
    await patchEnv(id, { [flag]: true });
    expect((await publish(id)).statusCode).toBe(200);
  });

  it('publishes when the flag is unknown (null) or agrees', async () => {
    const id = await create({ title: 'Consistent' });
    await patchPassport(id, { ...FULL_PASSPORT, certifications: ['CE', 'RoHS'] });
    await patchEnv(id, { ce_marked: true });
    expect((await publish(id)).statusCode).toBe(200);
  });
});
