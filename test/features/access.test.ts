import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/database.js';
import { OTHER_CONNECTIONS_CHECK_MS } from '../../src/db/sqlite-direct.js';
import { createAccessService } from '../../src/features/access/service.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';

describe.each(dialects)('API keys and organisations (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t.close());

  const list = (key: string) => t.call(key, { method: 'GET', url: '/api/v1/products' });

  it('creates keys with a recognisable prefix and stores only a hash', async () => {
    const key = await t.key('acme', 'read');
    expect(key).toMatch(/^dpp_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const rows = await t.database.db.selectFrom('api_keys').selectAll().execute();
    const serialized = JSON.stringify(rows);
    // The secret is everything after `dpp_<12 hex>_` (base64url may itself contain '_').
    expect(serialized).not.toContain(key.slice('dpp_'.length + 12 + 1));
    expect(rows.some((r) => r.secret_hash.length === 64)).toBe(true);
  });

  it('answers 401 problem+json without a key, with an unknown key, and with a tampered secret', async () => {
    const good = await t.key('acme', 'read');
    const cases = [
      await t.app.inject({ method: 'GET', url: '/api/v1/products' }),
      await list('dpp_000000000000_' + 'A'.repeat(43)),
      await list(good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A')),
      await t.app.inject({ method: 'GET', url: '/api/v1/products', headers: { authorization: `Basic ${good}` } }),
    ];
    for (const res of cases) {
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ status: 401, code: 'unauthenticated' });
    }
  });

  it('enforces scopes: read for GET, write for changes, admin for both', async () => {
    const reader = await t.key('acme', 'read');
    const writer = await t.key('acme', 'write');
    const admin = await t.key('acme', 'admin');
    const create = (key: string) => t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Kettle' } });

    expect((await list(reader)).statusCode).toBe(200);
    const denied = await create(reader);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'insufficient_scope', required_scope: 'write' });
    expect((await create(writer)).statusCode).toBe(201);
    expect((await list(writer)).statusCode).toBe(403);
    expect((await create(admin)).statusCode).toBe(201);
    expect((await list(admin)).statusCode).toBe(200);
    // HEAD (answered by every GET route) needs read like GET; the scope is bound to each route.
    const head = (key: string) => t.call(key, { method: 'HEAD', url: '/api/v1/products' });
    expect((await head(reader)).statusCode).toBe(200);
    expect((await head(writer)).statusCode).toBe(403);
  });

  it('lists keys with prefix, scopes and last use, and a revoked key stops working at once', async () => {
    const access = createAccessService(t.database.db);
    const key = await t.key('revokers', 'read,write');
    expect((await list(key)).statusCode).toBe(200);

    const [listed] = await access.listKeys('revokers');
    expect(listed).toMatchObject({ prefix: key.split('_').slice(0, 2).join('_'), scopes: ['read', 'write'], revoked_at: null });
    expect(listed!.last_used_at).not.toBeNull();

    expect(await access.revokeKey(listed!.prefix)).toBe(true);
    const res = await list(key);
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toContain('revoked');
    expect(await access.revokeKey(listed!.prefix)).toBe(false);
  });

  it('sees a revocation made by another connection (another process) within OTHER_CONNECTIONS_CHECK_MS on SQLite', async () => {
    if (dialect !== 'sqlite') return; // PostgreSQL: LISTEN/NOTIFY between real processes, see cluster.test.ts
    const key = await t.key('elsewhere', 'read');
    expect((await list(key)).statusCode).toBe(200); // the key row is now cached by the app
    // Another connection to the same file writes the revocation directly, as another process would:
    // nothing in this process is told, only SQLite's data_version moves.
    const other = await createDatabase({ sqliteFile: t.database.file! });
    try {
      await other.db.updateTable('api_keys').set({ revoked_at: new Date().toISOString() }).where('id', '=', key.split('_')[1]!).execute();
    } finally {
      await other.close();
    }
    await new Promise((resolve) => setTimeout(resolve, OTHER_CONNECTIONS_CHECK_MS + 5));
    expect((await list(key)).statusCode).toBe(401);
  });

  it('refuses unknown scopes and bad organisation slugs', async () => {
    const access = createAccessService(t.database.db);
    await expect(access.createKey({ org: 'acme', scopes: 'read,delete' })).rejects.toThrow('unknown scope');
    await expect(access.createKey({ org: 'Not A Slug', scopes: 'read' })).rejects.toThrow('slug');
  });

  it('keeps organisations apart: another organisation’s product is a 404 like a missing one', async () => {
    const alice = await t.key('alice');
    const bob = await t.key('bob');
    const created = await t.call(alice, { method: 'POST', url: '/api/v1/products', payload: { title: 'Alice kettle', ean: '4006381333931' } });
    const id = created.json().product_id as string;

    const missing = await t.call(bob, { method: 'GET', url: '/api/v1/products/00000000-0000-4000-8000-000000000000' });
    for (const res of [
      await t.call(bob, { method: 'GET', url: `/api/v1/products/${id}` }),
      await t.call(bob, { method: 'PATCH', url: `/api/v1/products/${id}`, payload: { title: 'stolen' } }),
      await t.call(bob, { method: 'DELETE', url: `/api/v1/products/${id}` }),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(Object.keys(res.json()).sort()).toEqual(Object.keys(missing.json()).sort());
      expect(res.json().code).toBe(missing.json().code);
    }
    const bobList = await t.call(bob, { method: 'GET', url: '/api/v1/products' });
    expect(bobList.json().items.map((p: { product_id: string }) => p.product_id)).not.toContain(id);
    // The same EAN is free in another organisation.
    const bobSame = await t.call(bob, { method: 'POST', url: '/api/v1/products', payload: { title: 'Bob kettle', ean: '4006381333931' } });
    expect(bobSame.statusCode).toBe(201);
    const still = await t.call(alice, { method: 'GET', url: `/api/v1/products/${id}` });
    expect(still.json().title).toBe('Alice kettle');
  });
});
