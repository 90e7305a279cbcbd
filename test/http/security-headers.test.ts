import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, dialects } from '../helpers/db.js';
import { FULL_PASSPORT } from '../helpers/fixtures.js';

const API_CSP = "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'";

function expectBaseline(headers: Record<string, unknown>) {
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['x-powered-by']).toBeUndefined();
}

describe.each(dialects)('security headers (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  let gtin: string;
  beforeAll(async () => {
    t = await createTestApp(dialect); // PUBLIC_BASE_URL https://dpp.example.test
    key = await t.key('headers');
    gtin = '05901234123457';
    const id = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Kettle', ean: gtin.slice(1) } })).json().product_id;
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: FULL_PASSPORT });
    expect((await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` })).statusCode).toBe(200);
  });
  afterAll(() => t.close());

  it('sends the baseline, an allow-nothing CSP, same-origin CORP and HSTS on API answers and errors', async () => {
    for (const res of [
      await t.call(key, { method: 'GET', url: '/api/v1/products' }),
      await t.app.inject({ method: 'GET', url: '/api/v1/products' }), // 401
      await t.call(key, { method: 'GET', url: '/api/v1/products/00000000-0000-0000-0000-000000000000' }), // 404
      await t.call(key, { method: 'POST', url: '/api/v1/products', headers: { 'content-type': 'application/json' }, payload: '{' }), // 400
    ]) {
      expectBaseline(res.headers);
      expect(res.headers['content-security-policy']).toBe(API_CSP);
      expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
      expect(res.headers['strict-transport-security']).toMatch(/^max-age=31536000/);
    }
  });

  it("keeps the public page's own strict CSP and lets public resources be embedded (cross-origin CORP)", async () => {
    const page = await t.app.inject({ method: 'GET', url: `/01/${gtin}`, headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expectBaseline(page.headers);
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; img-src 'self' data:/);
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.headers['cross-origin-resource-policy']).toBe('cross-origin');
    const jsonld = await t.app.inject({ method: 'GET', url: `/01/${gtin}`, headers: { accept: 'application/ld+json' } });
    expect(jsonld.headers['cross-origin-resource-policy']).toBe('cross-origin');
  });
});

describe('security headers without https', () => {
  it('sends no HSTS when PUBLIC_BASE_URL is http', async () => {
    const t = await createTestApp('sqlite', { PUBLIC_BASE_URL: 'http://localhost:8080' });
    try {
      const res = await t.app.inject({ method: 'GET', url: '/healthz' });
      expect(res.headers['strict-transport-security']).toBeUndefined();
      expectBaseline(res.headers);
    } finally {
      await t.close();
    }
  });
});

describe('errors never show internals', () => {
  it('answers an unexpected failure with a generic 500: no message, stack trace or file path', async () => {
    const database = await createTestDatabase('sqlite');
    const app = await buildApp({ config: loadConfig({ DATA_DIR: '/tmp/dpp-test-unused' }), database, logger: false });
    app.get('/boom', async () => {
      const error = new Error(`ENOENT: no such file or directory, open '${process.cwd()}/data/secret.sqlite'`);
      (error as Error & { code?: string }).code = 'ENOENT';
      throw error;
    });
    await app.ready();
    try {
      const res = await app.inject({ method: 'GET', url: '/boom' });
      expect(res.statusCode).toBe(500);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).not.toContain('ENOENT');
      expect(res.body).not.toContain(process.cwd());
      expect(res.body).not.toMatch(/\bat\s+\S+\s+\(|\.ts:\d+|\.js:\d+|node_modules/);
      expectBaseline(res.headers);
    } finally {
      await app.close();
      await database.dispose();
    }
  });
});
