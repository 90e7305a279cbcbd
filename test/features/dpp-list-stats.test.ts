import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_PLAN } from '../../src/features/catalog/list-repository.js';
import { ListResult, StatsResult } from '../../src/features/catalog/schemas.js';
import { OTHER_CONNECTIONS_CHECK_MS } from '../../src/db/sqlite-direct.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects, openSecondConnection } from '../helpers/db.js';

const COMPLETE = {
  manufacturer: 'Ma Marque',
  materials: [{ name: 'Steel', percentage: 100 }],
  carbon_footprint_kg: 2,
  certifications: ['CE', 'RoHS'],
  end_of_life_instructions: 'Take to a WEEE collection point.',
};

describe.each(dialects)('DPP list and stats (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  const ids: Record<string, string> = {};

  const call = (url: string, k = key) => t.call(k, { method: 'GET', url });
  const create = async (title: string, ean?: string) =>
    (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title, ...(ean ? { ean } : {}) } })).json().product_id as string;
  const patch = (id: string, payload: object) => t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload });

  beforeAll(async () => {
    t = await createTestApp(dialect);
    key = await t.key('list-org');
    ids.cafe = await create('Machine à Café Expresso', '4006381333931');
    ids.kettle = await create('Bouilloire électrique 1,7 l', '96385074');
    ids.toaster = await create('Grille-pain 2 fentes');
    ids.tv = await create('LED TV 55" 4K', '036000291452');
    ids.fan = await create('Ventilateur colonne');
    await patch(ids.cafe, { ...COMPLETE, certifications: ['CE', 'RoHS', 'energy star'] }); // complete
    await patch(ids.kettle, { manufacturer: 'Ma Marque', certifications: ['ce'] }); // draft
    await patch(ids.tv, COMPLETE);
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${ids.tv}/publish` }); // published
  });
  afterAll(() => t.close());

  it('answers stats from the counters, in the spec shape', async () => {
    const stats = (await call('/api/v1/compliance/dpp/stats')).json();
    expect(stats).toEqual({
      total_products: 5,
      with_dpp: 3,
      fill_rate_pct: 60,
      certifications: { CE: 3, RoHS: 2, 'Energy Star': 1 },
      by_status: { draft: 1, complete: 1, published: 1 },
    });
  });

  it('keeps the counters right through edits, deletes and imports', async () => {
    const other = await t.key('counter-org');
    const p = async (title: string) => (await t.call(other, { method: 'POST', url: '/api/v1/products', payload: { title } })).json().product_id as string;
    const a = await p('A');
    const b = await p('B');
    await p('C');
    await t.call(other, { method: 'PATCH', url: `/api/v1/compliance/dpp/${a}`, payload: { certifications: ['CE', 'FSC'] } });
    await t.call(other, { method: 'PATCH', url: `/api/v1/compliance/dpp/${b}`, payload: { certifications: ['CE'] } });
    await t.call(other, { method: 'PATCH', url: `/api/v1/compliance/dpp/${a}`, payload: { certifications: ['FSC', 'EPEAT'] } });
    await t.call(other, { method: 'DELETE', url: `/api/v1/products/${b}` });
    await t.call(other, { method: 'POST', url: '/api/v1/products/import', payload: 'title\nD\nE\n', headers: { 'content-type': 'text/csv' } });
    const stats = (await call('/api/v1/compliance/dpp/stats', other)).json();
    expect(stats).toMatchObject({ total_products: 4, with_dpp: 1, fill_rate_pct: 25, certifications: { FSC: 1, EPEAT: 1 } });
    expect(stats.certifications.CE).toBeUndefined();
    // The counters agree with a full count.
    const counted = await t.database.db
      .selectFrom('products')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('org_id', '=', (await t.database.db.selectFrom('organisations').select('id').where('slug', '=', 'counter-org').executeTakeFirstOrThrow()).id)
      .executeTakeFirstOrThrow();
    expect(Number(counted.n)).toBe(4);
  });

  it('answers zeros for an empty catalog', async () => {
    const empty = await t.key('empty-org');
    expect((await call('/api/v1/compliance/dpp/stats', empty)).json()).toMatchObject({ total_products: 0, with_dpp: 0, fill_rate_pct: 0, certifications: {} });
  });

  it('lists every product with its status, null without a passport, most recently updated first', async () => {
    const res = await call('/api/v1/compliance/dpp/products');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const list = res.json();
    // Served as JSON text serialised once (and cached as such): still exactly the documented schema.
    expect(Value.Check(ListResult, list)).toBe(true);
    expect(Value.Check(StatsResult, (await call('/api/v1/compliance/dpp/stats')).json())).toBe(true);
    expect(list).toMatchObject({ total: 5, page: 1, per_page: 50 });
    expect(Object.keys(list.items[0]).sort()).toEqual(['dpp_status', 'ean', 'has_unpublished_changes', 'product_id', 'title', 'updated_at']);
    const byId = Object.fromEntries(list.items.map((i: { product_id: string; dpp_status: string | null }) => [i.product_id, i.dpp_status]));
    expect(byId).toEqual({ [ids.cafe!]: 'complete', [ids.kettle!]: 'draft', [ids.toaster!]: null, [ids.tv!]: 'published', [ids.fan!]: null });
    expect(list.items[0].product_id).toBe(ids.tv); // publishing touched it last
    const order = list.items.map((i: { updated_at: string; product_id: string }) => i.updated_at + i.product_id);
    expect(order).toEqual([...order].sort().reverse());
  });

  it('filters by has_dpp and dpp_status, with totals', async () => {
    const withDpp = (await call('/api/v1/compliance/dpp/products?has_dpp=true')).json();
    expect(withDpp.total).toBe(3);
    expect(withDpp.items).toHaveLength(3);
    const without = (await call('/api/v1/compliance/dpp/products?has_dpp=false')).json();
    expect(without.total).toBe(2);
    expect(without.items.every((i: { dpp_status: unknown }) => i.dpp_status === null)).toBe(true);
    const drafts = (await call('/api/v1/compliance/dpp/products?dpp_status=draft')).json();
    expect(drafts).toMatchObject({ total: 1, items: [{ product_id: ids.kettle }] });
    const none = (await call('/api/v1/compliance/dpp/products?dpp_status=draft&has_dpp=false')).json();
    expect(none).toMatchObject({ total: 0, items: [] });
  });

  it('searches title words case- and accent-insensitively, as prefixes', async () => {
    const found = (await call('/api/v1/compliance/dpp/products?search=cafe%20MACHINE')).json();
    expect(found).toMatchObject({ total: 1, items: [{ product_id: ids.cafe }] });
    const prefix = (await call('/api/v1/compliance/dpp/products?search=electri')).json();
    expect(prefix.items.map((i: { product_id: string }) => i.product_id)).toEqual([ids.kettle]);
    const combined = (await call('/api/v1/compliance/dpp/products?search=colonne&has_dpp=false')).json();
    expect(combined).toMatchObject({ total: 1, items: [{ product_id: ids.fan }] });
    expect((await call('/api/v1/compliance/dpp/products?search=nothing-like-this')).json()).toMatchObject({ total: 0, items: [] });
  });

  it('counts only the organisation’s matches, when it holds every product and when it does not', async () => {
    const fresh = await createTestApp(dialect);
    try {
      const [a, b] = [await fresh.key('only-org'), await fresh.key('other-org')];
      const add = (k: string, title: string) => fresh.call(k, { method: 'POST', url: '/api/v1/products', payload: { title } });
      const total = async (k: string) => (await fresh.call(k, { method: 'GET', url: '/api/v1/compliance/dpp/products?search=walnut' })).json().total as number;
      await add(a, 'Walnut desk');
      await add(a, 'Walnut chair');
      await add(a, 'Oak table');
      expect(await total(a)).toBe(2); // the one organisation holds every product (SQLite counts in FTS alone)
      const desk = (await fresh.call(a, { method: 'GET', url: '/api/v1/compliance/dpp/products?search=desk' })).json().items[0];
      await fresh.call(a, { method: 'PATCH', url: `/api/v1/compliance/dpp/${desk.product_id}`, payload: { manufacturer: 'Acme' } });
      const withoutPassport = await fresh.call(a, { method: 'GET', url: '/api/v1/compliance/dpp/products?search=walnut&has_dpp=false' });
      expect(withoutPassport.json()).toMatchObject({ total: 1, items: [{ title: 'Walnut chair' }] });
      await add(b, 'Walnut bookcase');
      expect(await total(a)).toBe(2); // now each match's organisation is checked
      expect(await total(b)).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('answers a repeated list or stats from its result cache, never stale and never another organisation’s', async () => {
    const fresh = await createTestApp(dialect);
    try {
      const [a, b] = [await fresh.key('cache-a'), await fresh.key('cache-b')];
      const get = async (k: string, url: string) => (await fresh.call(k, { method: 'GET', url })).json();
      await fresh.call(a, { method: 'POST', url: '/api/v1/products', payload: { title: 'Walnut desk' } });
      await fresh.call(b, { method: 'POST', url: '/api/v1/products', payload: { title: 'Walnut bench' } });
      const search = '/api/v1/compliance/dpp/products?search=walnut';
      expect((await get(a, search)).items.map((i: { title: string }) => i.title)).toEqual(['Walnut desk']);
      // Same URL, other organisation: its own answer, not the one just cached.
      expect((await get(b, search)).items.map((i: { title: string }) => i.title)).toEqual(['Walnut bench']);
      expect((await get(a, '/api/v1/compliance/dpp/stats')).total_products).toBe(1);

      // Another process changes the data behind both answers (here: the counters and a title).
      const other = await openSecondConnection(fresh.database);
      try {
        const orgA = await other.db.selectFrom('organisations').select('id').where('slug', '=', 'cache-a').executeTakeFirstOrThrow();
        await other.db
          .updateTable('org_stats')
          .set((eb) => ({ total_products: eb('total_products', '+', 1000) }))
          .where('org_id', '=', orgA.id)
          .execute();
        await other.db.updateTable('products').set({ title: 'Walnut desk, oiled' }).where('org_id', '=', orgA.id).execute();
      } finally {
        await other.close();
      }
      // SQLite notices other processes' commits within OTHER_CONNECTIONS_CHECK_MS; PostgreSQL at once.
      await new Promise((resolve) => setTimeout(resolve, OTHER_CONNECTIONS_CHECK_MS + 5));
      expect((await get(a, '/api/v1/compliance/dpp/stats')).total_products).toBe(1001);
      expect((await get(a, search)).items.map((i: { title: string }) => i.title)).toEqual(['Walnut desk, oiled']);
    } finally {
      await fresh.close();
    }
  });

  it('finds a product by its EAN in any GTIN form', async () => {
    for (const form of ['4006381333931', '04006381333931', '036000291452', '00036000291452', '96385074']) {
      const res = (await call(`/api/v1/compliance/dpp/products?search=${form}`)).json();
      expect(res.total, form).toBe(1);
    }
  });

  it('keeps search index in step with renamed products', async () => {
    await t.call(key, { method: 'PATCH', url: `/api/v1/products/${ids.toaster}`, payload: { title: 'Toaster Deluxe' } });
    expect((await call('/api/v1/compliance/dpp/products?search=toaster')).json().total).toBe(1);
    expect((await call('/api/v1/compliance/dpp/products?search=grille')).json().total).toBe(0);
  });

  it.each([
    ['per_page=201', 'querystring/per_page', 'maximum'],
    ['per_page=0', 'querystring/per_page', 'minimum'],
    ['page=0', 'querystring/page', 'minimum'],
    ['dpp_status=archived', 'querystring/dpp_status', 'anyOf'],
    ['has_dpp=maybe', 'querystring/has_dpp', 'type'],
    ['search=%20%2F%20', 'querystring/search', 'words'],
    ['sort=title', 'querystring/sort', 'unknown_field'],
  ])('refuses ?%s with a 400 naming %s', async (query, field, rule) => {
    const res = await call(`/api/v1/compliance/dpp/products?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toContainEqual(expect.objectContaining({ field, rule }));
  });

  it('paginates with the spec defaults', async () => {
    const page = (await call('/api/v1/compliance/dpp/products?per_page=2&page=3')).json();
    expect(page).toMatchObject({ total: 5, page: 3, per_page: 2 });
    expect(page.items).toHaveLength(1);
  });

  it("counts a search exactly up to the dialect's cap (10,000 SQLite, 2,000 PostgreSQL), then says the total is a lower bound, with the first page still right", async () => {
    const k = await t.key('many-org');
    const rows = ['external_id,title'];
    for (let i = 0; i < 10_050; i++) rows.push(`W-${i},Widget ${i}`);
    rows.push('G-1,Gadget 1');
    const imported = await t.call(k, { method: 'POST', url: '/api/v1/products/import', payload: rows.join('\n'), headers: { 'content-type': 'text/csv' } });
    expect(imported.json()).toMatchObject({ created: 10_051, failed: 0 });
    // Another organisation's products exist (list-org's), so no shortcut counts the index alone.
    const common = (await call('/api/v1/compliance/dpp/products?search=widget&per_page=5', k)).json();
    expect(common).toMatchObject({ total: SEARCH_PLAN[dialect].exactUpTo, total_is_estimate: true });
    expect(common.items).toHaveLength(5);
    expect(common.items.every((i: { title: string }) => i.title.startsWith('Widget '))).toBe(true);
    const rare = (await call('/api/v1/compliance/dpp/products?search=widget%201004', k)).json();
    expect(rare).toMatchObject({ total: 11, total_is_estimate: false }); // 1004, 10040 … 10049
    const none = (await call('/api/v1/compliance/dpp/products?search=gadget', k)).json();
    expect(none).toMatchObject({ total: 1, total_is_estimate: false });
    expect((await call('/api/v1/compliance/dpp/products', k)).json()).toMatchObject({ total: 10_051, total_is_estimate: false });
  }, 60_000);
});
