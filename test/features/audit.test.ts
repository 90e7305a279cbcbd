import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { keyIdOf } from '../../src/features/access/key-format.js';
import { createAccessService } from '../../src/features/access/service.js';
import { recordAudit } from '../../src/features/audit/record.js';
import { startAuditRetention } from '../../src/features/audit/retention.js';
import { createAuditService } from '../../src/features/audit/service.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { FULL_PASSPORT, multipartBody } from '../helpers/fixtures.js';

interface Event {
  id: string;
  at: string;
  actor_key_id: string | null;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  details: Record<string, unknown>;
  request_id: string | null;
}

describe.each(dialects)('audit log (%s)', (dialect) => {
  let t: TestApp;
  let writer: string;
  let admin: string;
  let reader: string;
  let otherWriter: string;
  let otherAdmin: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    writer = await t.key('audit-a', 'read,write');
    admin = await t.key('audit-a', 'admin');
    reader = await t.key('audit-a', 'read');
    otherWriter = await t.key('audit-b', 'read,write');
    otherAdmin = await t.key('audit-b', 'admin');
  });
  afterAll(() => t.close());

  const newProduct = async (title: string, ean?: string, k = writer) => {
    const res = await t.call(k, { method: 'POST', url: '/api/v1/products', payload: { title, ...(ean ? { ean } : {}) } });
    expect(res.statusCode).toBe(201);
    return res.json().product_id as string;
  };
  const fillPassport = async (id: string, k = writer) =>
    expect((await t.call(k, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: FULL_PASSPORT })).statusCode).toBe(200);
  const post = (id: string, action: 'publish' | 'withdraw', k = writer, requestId?: string) =>
    t.call(k, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/${action}`, ...(requestId ? { headers: { 'x-request-id': requestId } } : {}) });
  const events = async (query: Record<string, string> = {}, k = admin) => {
    const res = await t.call(k, { method: 'GET', url: '/api/v1/audit-events', query });
    expect(res.statusCode).toBe(200);
    return res.json() as { items: Event[]; total: number; page: number; per_page: number };
  };

  it('records publish and withdraw with the key id, the passport, the published version, GTIN and request id', async () => {
    const id = await newProduct('Bouilloire', '3760000000001');
    await fillPassport(id);
    expect((await post(id, 'publish', writer, 'req-publish-1')).statusCode).toBe(200);
    expect((await post(id, 'withdraw', writer, 'req-withdraw-1')).statusCode).toBe(200);
    expect((await post(id, 'publish')).statusCode).toBe(200);

    const { items, total } = await events({ target_id: id });
    expect(total).toBe(3);
    // Newest first: the second publish, the withdrawal, the first publish.
    expect(items.map((e) => [e.action, e.details.published_version])).toEqual([
      ['passport.publish', 2],
      ['passport.withdraw', 1],
      ['passport.publish', 1],
    ]);
    const first = items[2]!;
    expect(first).toMatchObject({
      actor_key_id: keyIdOf(writer),
      actor: 'api',
      target_type: 'passport',
      target_id: id,
      request_id: 'req-publish-1',
      details: { published_version: 1, gtin14: '03760000000001', dpp_id: expect.any(String) },
    });
    expect(items[1]!.request_id).toBe('req-withdraw-1');
    // The event's time is the change's own: the passport's published_at of that publication.
    const history = (await t.call(writer, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` })).json();
    expect(items[0]!.at).toBe(history.published_at);
  });

  it('writes no event when the change is refused (409), nor for a publish that changes nothing', async () => {
    const before = (await events()).total;
    const incomplete = await newProduct('Grille-pain');
    expect((await t.call(writer, { method: 'PATCH', url: `/api/v1/compliance/dpp/${incomplete}`, payload: { manufacturer: 'X' } })).statusCode).toBe(200);
    expect((await post(incomplete, 'publish')).statusCode).toBe(409);
    expect((await post(incomplete, 'withdraw')).statusCode).toBe(409);

    const published = await newProduct('Lampe');
    await fillPassport(published);
    expect((await post(published, 'publish')).statusCode).toBe(200);
    // Already live and unchanged: nothing happens, nothing is recorded.
    expect((await post(published, 'publish')).statusCode).toBe(200);
    // A product with a published passport is kept.
    expect((await t.call(writer, { method: 'DELETE', url: `/api/v1/products/${published}` })).statusCode).toBe(409);

    const after = await events();
    expect(after.total).toBe(before + 1);
    expect(after.items[0]).toMatchObject({ action: 'passport.publish', target_id: published });
    expect((await events({ target_id: incomplete })).total).toBe(0);
  });

  it('commits the change and its event together: a publish whose event cannot be written is rolled back', async () => {
    const id = await newProduct('Radiateur');
    await fillPassport(id);
    await sql`alter table audit_events rename to audit_events_away`.execute(t.database.db);
    try {
      expect((await post(id, 'publish')).statusCode).toBe(500);
    } finally {
      await sql`alter table audit_events_away rename to audit_events`.execute(t.database.db);
    }
    const passport = (await t.call(writer, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` })).json();
    expect(passport.dpp_status).not.toBe('published');
    expect(passport.published_version ?? null).toBeNull();
    const history = (await t.call(writer, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/history` })).json();
    expect(history.items.map((h: { action: string }) => h.action)).not.toContain('publish');
    // Once the table is back the same publish goes through, with its event.
    expect((await post(id, 'publish')).statusCode).toBe(200);
    expect((await events({ target_id: id })).items.map((e) => e.action)).toEqual(['passport.publish']);
  });

  it('records product and document deletions, and the record outlives the product', async () => {
    const id = await newProduct('Ventilateur', '96385074');
    await fillPassport(id);
    const upload = await t.call(writer, {
      method: 'POST',
      url: `/api/v1/products/${id}/documents`,
      ...multipartBody({ name: 'doc.txt', bytes: Buffer.from('Declaration of conformity. CE.'), type: 'text/plain' }),
    });
    expect(upload.statusCode).toBe(201);
    const assetId = upload.json().asset_id as string;
    const deleteDoc = await t.call(writer, { method: 'DELETE', url: `/api/v1/assets/${assetId}`, headers: { 'x-request-id': 'req-doc-del' } });
    expect(deleteDoc.statusCode).toBe(204);
    expect((await t.call(writer, { method: 'DELETE', url: `/api/v1/assets/${assetId}` })).statusCode).toBe(404);
    expect((await t.call(writer, { method: 'DELETE', url: `/api/v1/products/${id}` })).statusCode).toBe(204);
    expect((await t.call(writer, { method: 'DELETE', url: `/api/v1/products/${id}` })).statusCode).toBe(404);

    const docEvents = await events({ target_id: assetId });
    expect(docEvents.items).toHaveLength(1);
    expect(docEvents.items[0]).toMatchObject({
      action: 'document.delete',
      target_type: 'document',
      actor_key_id: keyIdOf(writer),
      request_id: 'req-doc-del',
      details: { product_id: id, filename: 'doc.txt' },
    });
    const productEvents = await events({ target_id: id, action: 'product.delete' });
    expect(productEvents.items).toHaveLength(1);
    expect(productEvents.items[0]).toMatchObject({
      action: 'product.delete',
      target_type: 'product',
      actor_key_id: keyIdOf(writer),
      actor: 'api',
      details: { title: 'Ventilateur', gtin14: '00000096385074', had_passport: true, dpp_status: 'complete' },
    });
  });

  it('is for admin keys only: a read or write key gets 403 problem+json, no key 401', async () => {
    for (const k of [writer, reader]) {
      const res = await t.call(k, { method: 'GET', url: '/api/v1/audit-events' });
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 403, required_scope: 'admin' });
    }
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/audit-events' })).statusCode).toBe(401);
  });

  it("shows only the caller's organisation", async () => {
    const theirs = await newProduct('Produit B', undefined, otherWriter);
    await fillPassport(theirs, otherWriter);
    expect((await post(theirs, 'publish', otherWriter)).statusCode).toBe(200);

    const mine = await events({ per_page: '200' });
    expect(mine.items.length).toBeGreaterThan(0);
    expect(mine.items.map((e) => e.target_id)).not.toContain(theirs);
    expect(mine.items.map((e) => e.actor_key_id)).not.toContain(keyIdOf(otherWriter));
    expect((await events({ target_id: theirs })).total).toBe(0);

    const their = await events({ per_page: '200' }, otherAdmin);
    expect(their.items.filter((e) => e.action === 'passport.publish').map((e) => e.target_id)).toEqual([theirs]);
    expect(their.items.every((e) => e.actor_key_id !== keyIdOf(writer))).toBe(true);
  });

  it('filters by action and time, pages newest first, and refuses a bad date-time with 400', async () => {
    const all = await events({ per_page: '200' });
    const sorted = [...all.items].sort((a, b) => (a.at === b.at ? b.id.localeCompare(a.id) : b.at.localeCompare(a.at)));
    expect(all.items.map((e) => e.id)).toEqual(sorted.map((e) => e.id));

    const publishes = await events({ action: 'passport.publish', per_page: '200' });
    expect(publishes.total).toBeGreaterThanOrEqual(4);
    expect(publishes.items.every((e) => e.action === 'passport.publish')).toBe(true);

    const page2 = await events({ per_page: '2', page: '2' });
    expect(page2.items.map((e) => e.id)).toEqual(all.items.slice(2, 4).map((e) => e.id));
    expect(page2.total).toBe(all.total);

    const middle = all.items[Math.floor(all.items.length / 2)]!;
    const since = await events({ since: middle.at, per_page: '200' });
    expect(since.items.every((e) => e.at >= middle.at)).toBe(true);
    expect(since.items.map((e) => e.id)).toContain(middle.id);
    const until = await events({ until: middle.at, per_page: '200' });
    expect(until.items.every((e) => e.at < middle.at)).toBe(true);
    expect(since.total + until.total).toBe(all.total);
    // Another offset, same instant: still compared as the stored UTC form.
    const shifted = new Date(Date.parse(middle.at)).toISOString().replace('Z', '+00:00');
    expect((await events({ since: shifted, per_page: '200' })).total).toBe(since.total);

    const refused: Array<Record<string, string>> = [{ since: 'yesterday' }, { until: '2025-13-01T00:00:00Z' }, { action: 'passport.burn' }, { per_page: '201' }];
    for (const query of refused) {
      const res = await t.call(admin, { method: 'GET', url: '/api/v1/audit-events', query });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('records key creation and revocation made through the access service as the CLI does', async () => {
    const access = createAccessService(t.database.db);
    const cli = { keyId: null, source: 'cli' };
    const created = await access.createKey({ org: 'audit-a', scopes: 'read', name: 'ci reader' }, cli);
    expect(await access.revokeKey(`dpp_${created.id}`, cli)).toBe(true);
    // A second revocation changes nothing and records nothing.
    expect(await access.revokeKey(`dpp_${created.id}`, cli)).toBe(false);

    const { items } = await events({ target_id: created.id });
    expect(items.map((e) => e.action)).toEqual(['key.revoke', 'key.create']);
    for (const e of items) expect(e).toMatchObject({ actor: 'cli', actor_key_id: null, target_type: 'api_key', request_id: null });
    expect(items[1]!.details).toEqual({ scopes: ['read'], name: 'ci reader' });
    expect(items[1]!.at).toBe(created.created_at);
    // The keys of the test setup were created with the default (system) actor.
    const setup = (await events({ target_id: keyIdOf(admin)! })).items;
    expect(setup).toEqual([expect.objectContaining({ action: 'key.create', actor: 'system', details: { scopes: ['admin'], name: null } })]);
    // The revoked key is refused from now on, and the other organisation did not see any of it.
    expect((await t.call(created.key, { method: 'GET', url: '/api/v1/products' })).statusCode).toBe(401);
    expect((await events({ target_id: created.id }, otherAdmin)).total).toBe(0);
  });

  it('is in the OpenAPI document with its query and response schemas', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const op = doc.paths['/api/v1/audit-events']?.get;
    expect(op).toBeDefined();
    expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['page', 'per_page', 'action', 'target_id', 'since', 'until']));
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '403']));
  });

  it('retention purges events older than AUDIT_RETENTION_DAYS only, and 0 keeps everything', async () => {
    const db = t.database.db;
    // The real clock: the other events of this file, all recent, must survive the purge.
    const now = new Date();
    const actor = { keyId: null, source: 'system' };
    const day = 86_400_000;
    const at = (daysAgo: number, extraMs = 0) => new Date(now.getTime() - daysAgo * day - extraMs).toISOString();
    const purgeOrg = (await createAccessService(db).ensureOrganisation('audit-retention')).id;
    const put = (targetId: string, when: string) => recordAudit(db, { orgId: purgeOrg, actor, action: 'product.delete', targetType: 'product', targetId, at: when });
    await put('old-1', at(400));
    await put('old-2', at(30, 1));
    await put('edge', at(30));
    await put('new', at(1));
    const audit = createAuditService(db);
    const left = async () => (await db.selectFrom('audit_events').select('target_id').where('org_id', '=', purgeOrg).orderBy('target_id').execute()).map((r) => r.target_id);

    expect(await audit.purge(0, now)).toBe(0);
    expect(await left()).toEqual(['edge', 'new', 'old-1', 'old-2']);
    const before = (await events()).total;
    expect(await audit.purge(30, now)).toBe(2);
    expect(await left()).toEqual(['edge', 'new']);
    // The other organisations' recent events are untouched.
    expect((await events()).total).toBe(before);

    // The worker's periodic purge (relative to the real clock): runs at once when started.
    await put('ancient', '2001-01-01T00:00:00.000Z');
    const retention = startAuditRetention(db, 365, undefined, 60_000);
    await retention.started;
    await retention.stop();
    expect(await left()).toEqual(['edge', 'new']);
    const keepAll = startAuditRetention(db, 0);
    await put('ancient', '2001-01-01T00:00:00.000Z');
    await keepAll.started;
    await keepAll.stop();
    expect(await left()).toEqual(['ancient', 'edge', 'new']);
  });
});
