import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';

describe.each(dialects)('HTTP basics (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await createTestApp(dialect, { BODY_LIMIT_BYTES: '4096' });
    key = await t.key('http');
  });
  afterAll(() => t.close());

  const expectProblem = (res: { statusCode: number; headers: Record<string, unknown>; json(): any }, status: number, code: string) => {
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const body = res.json();
    expect(body).toMatchObject({ status, code });
    expect(typeof body.type).toBe('string');
    expect(typeof body.title).toBe('string');
    expect(typeof body.detail).toBe('string');
    return body;
  };

  it('answers malformed JSON with a 400 problem, and stores nothing', async () => {
    const res = await t.call(key, {
      method: 'POST',
      url: '/api/v1/products',
      payload: '{"title": "Kettle",',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(res, 400, 'malformed_body');
    const list = await t.call(key, { method: 'GET', url: '/api/v1/products' });
    expect(list.json().total).toBe(0);
  });

  it('answers an oversized body with 413 problem+json', async () => {
    const res = await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'x', description: 'y'.repeat(10_000) } });
    expectProblem(res, 413, 'payload_too_large');
  });

  it('answers an unsupported content type with 415', async () => {
    const res = await t.call(key, {
      method: 'POST',
      url: '/api/v1/products',
      payload: '<product/>',
      headers: { 'content-type': 'application/xml' },
    });
    expectProblem(res, 415, 'unsupported_media_type');
  });

  it('answers an unknown route with a 404 problem', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/nope' }), 404, 'not_found');
  });

  it('echoes or assigns a request id', async () => {
    const given = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const assigned = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(assigned.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports health and readiness without a key', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });

  it('serves an OpenAPI 3.1 document describing the routes, and the docs page', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/products', '/api/v1/products/{product_id}', '/api/v1/products/import']));
    expect(doc.paths['/api/v1/products'].post.requestBody.content['application/json'].schema.required).toContain('title');
    const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
  });
});
