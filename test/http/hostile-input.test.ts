import fs from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { listen, rawConnect } from '../helpers/sockets.js';

type Res = { statusCode: number; headers: Record<string, unknown>; json(): any };

/** A problem+json answer with the given status, and (when named) the field and rule of its first error. */
function expectProblem(res: Res, status: number, field?: string, rule?: string) {
  expect(res.statusCode).toBe(status);
  expect(String(res.headers['content-type'])).toContain('application/problem+json');
  const body = res.json();
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  if (field) expect(body.errors?.[0]).toMatchObject({ field, ...(rule ? { rule } : {}) });
  return body;
}

/** `{"a":{"a":…}}` nested `depth` levels, built as text (building it as a value and stringifying would overflow). */
function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

describe.each(dialects)('hostile input (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await createTestApp(dialect, { BODY_LIMIT_BYTES: '65536' });
    key = await t.key('hostile');
  });
  afterAll(() => t.close());

  const csvImport = (body: string) => t.call(key, { method: 'POST', url: '/api/v1/products/import', payload: body, headers: { 'content-type': 'text/csv' } });

  it('imports a CSV field with a stray quote as text, keeping the rows around it', async () => {
    const res = await csvImport('sku,title\nq-1,Kettle\nq-2,TV 55" screen\nq-3,Toaster\n');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ created: 3, failed: 0 });
    const list = (await t.call(key, { method: 'GET', url: '/api/v1/products?per_page=200' })).json();
    expect(list.items.map((p: { title: string }) => p.title)).toContain('TV 55" screen');
  });

  it('refuses JSON nested deeper than 32 levels with a 400 naming the field, and stores nothing', async () => {
    const before = (await t.call(key, { method: 'GET', url: '/api/v1/products' })).json().total;
    for (const depth of [40, 5000]) {
      const res = await t.call(key, {
        method: 'POST',
        url: '/api/v1/products',
        payload: `{"title":"Deep","attributes":${nested(depth)}}`,
        headers: { 'content-type': 'application/json' },
      });
      const body = expectProblem(res, 400);
      expect(body.errors[0].rule).toBe('max_depth');
      expect(body.errors[0].field).toMatch(/^\/attributes\/a\/a/);
    }
    // The same nesting 31 levels deep is fine.
    const ok = await t.call(key, {
      method: 'POST',
      url: '/api/v1/products',
      payload: `{"title":"Deep enough","attributes":${nested(30)}}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(ok.statusCode).toBe(201);
    expect((await t.call(key, { method: 'GET', url: '/api/v1/products' })).json().total).toBe(before + 1);
  });

  it('fails only the NDJSON line that nests too deep', async () => {
    const body = [`{"sku":"n-1","title":"Fine"}`, `{"sku":"n-2","title":"Deep","attributes":${nested(5000)}}`, `{"sku":"n-3","title":"Also fine"}`].join('\n');
    const res = await t.call(key, { method: 'POST', url: '/api/v1/products/import', payload: body, headers: { 'content-type': 'application/x-ndjson' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ created: 2, failed: 1, failures: [expect.objectContaining({ line: 2, field: 'attributes' })] });
  });

  it('bounds page numbers in every list (400, not a database error)', async () => {
    const created = await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Paged' } });
    const id = created.json().product_id;
    for (const url of [
      '/api/v1/products?page=99999999999999999999',
      '/api/v1/compliance/dpp/products?page=99999999999999999999',
      `/api/v1/compliance/dpp/${id}/history?page=99999999999999999999`,
    ]) {
      expectProblem(await t.call(key, { method: 'GET', url }), 400, 'querystring/page', 'maximum');
    }
    // A version number beyond PostgreSQL's integer: a 400, not "out of range for type integer".
    expectProblem(await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/export?version=2147483648` }), 400, 'querystring/version', 'maximum');
    const last = await t.call(key, { method: 'GET', url: '/api/v1/products?page=1000000' });
    expect(last.statusCode).toBe(200);
    expect(last.json().items).toEqual([]);
  });

  it('refuses text that shows nothing (only zero-width or blank characters) or holds a NUL, in the API and in imports', async () => {
    for (const title of ['\u200B', '\u200B\u200C\u200D\u2060\uFEFF', ' \u00AD ']) {
      expectProblem(await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title } }), 400, '/title', 'minLength');
    }
    const res = await csvImport('sku,title\nz-1,\u200B\u200B\nz-2,Visible\u200B\n');
    expect(res.json()).toMatchObject({ created: 1, failed: 1, failures: [expect.objectContaining({ line: 2, field: 'title' })] });
    const nul = await csvImport('sku,title\nn-1,Bad\u0000title\n');
    expect(nul.json()).toMatchObject({ created: 0, failed: 1, failures: [expect.objectContaining({ line: 2, field: 'title' })] });
    expectProblem(await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'a\u0000b' } }), 400, '/title', 'no_nul');
    expectProblem(await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'ok', attributes: { 'k\u0000': 1 } } }), 400, '/attributes/k\u0000', 'no_nul');
    expectProblem(await t.call(key, { method: 'GET', url: '/api/v1/compliance/dpp/products?search=a%00b' }), 400, 'querystring/search', 'no_nul');
    const huge = await t.call(key, {
      method: 'POST',
      url: '/api/v1/products',
      payload: '{"title":"Big","attributes":{"mass":1e400}}',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(huge, 400, '/attributes/mass', 'finite');
  });

  it('answers the docs static files with problems, not 500, for Range, If-Match and dot-segment paths', async () => {
    const attempts = [
      { url: '/docs/static/swagger-ui.css', headers: { range: 'bytes=999999999-' } },
      { url: '/docs/static/swagger-ui.css', headers: { 'if-match': '"nope"' } },
      { url: '/docs/static/swagger-ui.css', headers: { 'if-unmodified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' } },
      { url: '/docs/static/.%2e/.%2e/package.json', headers: {} },
      { url: '/docs/static/%2e%2e%2fpackage.json', headers: {} },
    ];
    for (const a of attempts) {
      const res = await t.app.inject({ method: 'GET', ...a });
      expect(res.statusCode, a.url).toBeLessThan(500);
      if (res.statusCode >= 400) {
        expectProblem(res, res.statusCode);
        expect(res.body).not.toMatch(/node_modules|\/work\/|at .*\.js:\d+/);
      }
    }
  });

  it('names the one broken rule of a nullable field (no "must be null" or anyOf noise)', async () => {
    const id = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Nullable' } })).json().product_id;
    for (const [url, payload, field, message] of [
      [`/api/v1/compliance/dpp/${id}`, { manufacturer: 123 }, '/manufacturer', 'must be string or null'],
      [`/api/v1/compliance/dpp/${id}`, { carbon_footprint_kg: 'x' }, '/carbon_footprint_kg', 'must be number or null'],
      [`/api/v1/products/${id}`, { brand: 5 }, '/brand', 'must be string or null'],
    ] as const) {
      const body = expectProblem(await t.call(key, { method: 'PATCH', url, payload }), 400);
      expect(body.errors).toEqual([{ field, rule: 'type', message }]);
    }
    // A rule inside the non-null branch is named as it is.
    const short = expectProblem(await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: { country_of_origin: 'FRA' } }), 400);
    expect(short.errors).toEqual([expect.objectContaining({ field: '/country_of_origin', rule: 'maxLength' })]);
  });

  it('lists an unknown query parameter precisely (API routes); the public resolver keeps them', async () => {
    const body = expectProblem(await t.call(key, { method: 'GET', url: '/api/v1/products?pgae=2' }), 400);
    expect(body.errors).toEqual([{ field: 'querystring/pgae', rule: 'unknown_field', message: 'is not a known field' }]);
  });

  it('names the real limit in a 413', async () => {
    const res = await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'x', description: 'y'.repeat(70_000) } });
    const body = expectProblem(res, 413);
    expect(body.limit_bytes).toBe(65536);
    expect(body.detail).toContain('65536');
  });

  it('asks for Bearer credentials on a 401', async () => {
    const none = await t.app.inject({ method: 'GET', url: '/api/v1/products' });
    expectProblem(none, 401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="dpp-compliance"');
    const wrong = await t.app.inject({ method: 'GET', url: '/api/v1/products', headers: { authorization: 'Bearer dpp_000000000000_nope' } });
    expectProblem(wrong, 401);
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('answers a method a route does not have with 405 and Allow; an unknown path stays 404', async () => {
    const res = await t.call(key, { method: 'PUT', url: '/api/v1/products' });
    expectProblem(res, 405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    const onItem = await t.call(key, { method: 'POST', url: '/api/v1/products/550e8400-e29b-41d4-a716-446655440000' });
    expectProblem(onItem, 405);
    expect(String(onItem.headers.allow).split(', ')).toEqual(['DELETE', 'GET', 'HEAD', 'PATCH']);
    expectProblem(await t.call(key, { method: 'GET', url: '/api/v1/nothing-here' }), 404);
  });

  it('answers URLs the router refuses (bad percent-encoding, overlong segment) with problem+json', async () => {
    expectProblem(await t.call(key, { method: 'GET', url: '/api/v1/products/%E0%A4%A' }), 400);
    expectProblem(await t.call(key, { method: 'GET', url: `/api/v1/products/${'a'.repeat(300)}` }), 414);
    expectProblem(await t.app.inject({ method: 'GET', url: `/01/${'9'.repeat(300)}` }), 414);
  });

  it('keeps a sane caller request id and replaces one that is too long or odd', async () => {
    const sane = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'proxy-1234' } });
    expect(sane.headers['x-request-id']).toBe('proxy-1234');
    for (const bad of ['x'.repeat(500), 'a b', 'line\u2028break']) {
      const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': bad } });
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("refuses a batch extract that queues nothing (another organisation's ids) and writes no task", async () => {
    const otherKey = await t.key('hostile-other');
    const theirs = (await t.call(otherKey, { method: 'POST', url: '/api/v1/products', payload: { title: 'Theirs' } })).json().product_id;
    const countTasks = async () => Number((await sql<{ n: number }>`select count(*) as n from extraction_tasks`.execute(t.database.db)).rows[0]!.n);
    const before = await countTasks();
    const res = await t.call(key, { method: 'POST', url: '/api/v1/compliance/batch/extract', payload: { product_ids: [theirs] } });
    const body = expectProblem(res, 422);
    expect(body).toMatchObject({ code: 'nothing_queued', rejected: [{ product_id: theirs, reason: 'not_found' }] });
    expect(await countTasks()).toBe(before);
  });

  it('answers requests Node refuses itself (malformed, headers too large) with problem+json', async () => {
    const { port } = await listen(t.app);
    const send = async (raw: string) => {
      const client = await rawConnect(port);
      client.write(raw);
      await client.closed;
      return client.received();
    };
    const malformed = await send('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n');
    expect(malformed).toMatch(/^HTTP\/1\.1 400 [\s\S]*application\/problem\+json[\s\S]*"status":400/);
    const huge = await send(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431 [\s\S]*application\/problem\+json[\s\S]*"status":431/);
  });
});

describe('the SQLite file', () => {
  it('is created readable by its owner only, with its WAL files', async () => {
    const t = await createTestApp('sqlite');
    try {
      await t.key('mode');
      expect(fs.statSync(t.database.file!).mode & 0o777).toBe(0o600);
      for (const suffix of ['-wal', '-shm']) {
        if (fs.existsSync(t.database.file! + suffix)) expect(fs.statSync(t.database.file! + suffix).mode & 0o077).toBe(0);
      }
    } finally {
      await t.close();
    }
  });
});
