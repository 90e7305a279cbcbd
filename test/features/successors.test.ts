import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { FULL_PASSPORT, validEan } from '../helpers/fixtures.js';

const ean = (n: number) => validEan('401234502', n);

describe.each(dialects)('successor links between passports (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  let otherKey: string;

  const product = async (title: string, n?: number, publish = true) => {
    const created = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title, ...(n ? { ean: ean(n) } : {}) } })).json();
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${created.product_id}`, payload: FULL_PASSPORT });
    if (publish) expect((await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${created.product_id}/publish` })).statusCode).toBe(200);
    return { id: created.product_id as string, gtin: created.gtin14 as string | null };
  };
  const link = (id: string, payload: object, k = key) => t.call(k, { method: 'PUT', url: `/api/v1/compliance/dpp/${id}/successor`, payload });

  beforeAll(async () => {
    t = await createTestApp(dialect);
    key = await t.key('successor-org', 'read,write,admin');
    otherKey = await t.key('successor-other');
  });
  afterAll(() => t.close());

  it('keeps a replaced product live and points its page and linkset to the successor, without changing the published version', async () => {
    const old = await product('Kettle 2024', 1);
    const next = await product('Kettle 2026 <b>', 2);
    const before = (await t.app.inject({ method: 'GET', url: `/01/${old.gtin}?format=jsonld` })).body;
    const res = await link(old.id, { successor_product_id: next.id, reason: 'replaced' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ product_id: old.id, successor_product_id: next.id, reason: 'replaced' });

    const linkset = (await t.app.inject({ method: 'GET', url: `/01/${old.gtin}?linkType=linkset` })).json();
    expect(JSON.stringify(linkset)).toContain(`"successor-version":[{"href":"https://dpp.example.test/01/${next.gtin}"`);
    const page = await t.app.inject({ method: 'GET', url: `/01/${old.gtin}`, headers: { accept: 'text/html' } });
    expect(page.body).toContain(`href="https://dpp.example.test/01/${next.gtin}" rel="successor-version">Kettle 2026 &lt;b&gt;</a>`);
    const redirect = await t.app.inject({ method: 'GET', url: `/01/${old.gtin}?linkType=successor-version` });
    expect(redirect.statusCode).toBe(307);
    expect(redirect.headers.location).toBe(`https://dpp.example.test/01/${next.gtin}`);
    // The published version itself is unchanged.
    expect((await t.app.inject({ method: 'GET', url: `/01/${old.gtin}?format=jsonld` })).body).toBe(before);
    expect((await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${old.id}/successor` })).json().successor_product_id).toBe(next.id);
  });

  it('redirects the URIs of a withdrawn passport that moved, and only once it is withdrawn', async () => {
    const old = await product('Duplicate record', 3);
    const next = await product('Merged record', 4);
    const early = await link(old.id, { successor_product_id: next.id, reason: 'moved' });
    expect(early.statusCode).toBe(409);
    expect(early.json().field).toBe('reason');
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${old.id}/withdraw` });
    expect((await link(old.id, { successor_product_id: next.id, reason: 'moved' })).statusCode).toBe(200);
    for (const path of [`/01/${old.gtin}?lang=fr`, `/dpp/${old.id}?lang=fr`]) {
      const res = await t.app.inject({ method: 'GET', url: path });
      expect(res.statusCode, path).toBe(308);
      expect(res.headers.location).toBe(`https://dpp.example.test/01/${next.gtin}?lang=fr`);
      expect(res.headers.link).toContain('rel="successor-version"');
    }
    // Without the link, the withdrawn passport is simply gone.
    expect((await t.call(key, { method: 'DELETE', url: `/api/v1/compliance/dpp/${old.id}/successor` })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: `/01/${old.gtin}?format=jsonld` })).statusCode).toBe(404);
    const events = (await t.call(key, { method: 'GET', url: `/api/v1/audit-events?target_id=${old.id}` })).json();
    expect(events.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['passport.successor.set', 'passport.successor.clear']));
  });

  it('refuses itself, cycles, unpublished successors and other organisations', async () => {
    const a = await product('A', 5);
    const b = await product('B', 6);
    const draft = await product('Draft', 7, false);
    const self = await link(a.id, { successor_product_id: a.id, reason: 'replaced' });
    expect(self.json().errors[0]).toMatchObject({ field: 'body/successor_product_id', rule: 'not_self' });
    expect((await link(a.id, { successor_product_id: b.id, reason: 'replaced' })).statusCode).toBe(200);
    const cycle = await link(b.id, { successor_product_id: a.id, reason: 'replaced' });
    expect(cycle.statusCode).toBe(400);
    expect(cycle.json().errors[0]).toMatchObject({ field: 'body/successor_product_id', rule: 'no_cycle' });
    expect((await link(a.id, { successor_product_id: draft.id, reason: 'replaced' })).statusCode).toBe(409);
    expect((await link(a.id, { successor_product_id: b.id, reason: 'sideways' })).statusCode).toBe(400);

    const foreign = await link(a.id, { successor_product_id: b.id, reason: 'replaced' }, otherKey);
    expect(foreign.statusCode).toBe(404);
    const theirs = (await t.call(otherKey, { method: 'POST', url: '/api/v1/products', payload: { title: 'Theirs' } })).json().product_id;
    const crossing = await link(a.id, { successor_product_id: theirs, reason: 'replaced' });
    expect(crossing.statusCode).toBe(404);
    expect((await t.call(otherKey, { method: 'GET', url: `/api/v1/compliance/dpp/${a.id}/successor` })).statusCode).toBe(404);
  });
});
