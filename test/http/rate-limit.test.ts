import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { createAccessService } from '../../src/features/access/service.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, dialects, openSecondConnection, type TestDatabase } from '../helpers/db.js';

const LIMITS = { RATE_LIMIT_PER_KEY: '5', RATE_LIMIT_PER_IP: '3', RATE_LIMIT_WINDOW_MS: '60000' };

describe.each(dialects)('rate limits (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, LIMITS);
  });
  afterAll(() => t.close());

  it('limits each API key on its own, with RateLimit-* headers, then answers 429 problem+json with Retry-After', async () => {
    const a = await t.key('rl-a');
    const b = await t.key('rl-b');
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await t.call(a, { method: 'GET', url: '/api/v1/products' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('5');
      remaining.push(String(res.headers['ratelimit-remaining']));
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
    const refused = await t.call(a, { method: 'GET', url: '/api/v1/products' });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ status: 429, code: 'rate_limited', limit: 5 });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    expect((await t.call(b, { method: 'GET', url: '/api/v1/products' })).statusCode).toBe(200);
  });

  it('documents the 429 of every operation in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const ops = Object.values<Record<string, { responses: Record<string, { headers?: object; content?: object }> }>>(doc.paths).flatMap((item) => Object.values(item));
    const apiOps = ops.filter((op) => Object.keys(op.responses).some((s) => s === '401'));
    expect(apiOps.length).toBeGreaterThan(10);
    for (const op of apiOps) {
      expect(op.responses['429']?.headers).toHaveProperty('Retry-After');
      expect(op.responses['429']?.content).toHaveProperty(['application/problem+json']);
    }
  });

  it('refuses a request over the limit before reading its body', async () => {
    const k = await t.key('rl-body');
    for (let i = 0; i < 5; i++) await t.call(k, { method: 'GET', url: '/api/v1/products' });
    // Not valid JSON: a body that were parsed would be a 400, not a 429.
    const res = await t.call(k, { method: 'POST', url: '/api/v1/products', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    expect(res.statusCode).toBe(429);
  });

  it('limits the public routes per client address, and never the health check', async () => {
    const from = (remoteAddress: string) => t.app.inject({ method: 'GET', url: '/01/04012345000012', remoteAddress });
    for (let i = 0; i < 3; i++) expect((await from('203.0.113.7')).statusCode).not.toBe(429);
    const refused = await from('203.0.113.7');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect((await from('203.0.113.8')).statusCode).not.toBe(429);
    for (let i = 0; i < 10; i++) expect((await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '203.0.113.9' })).statusCode).toBe(200);
  });
});

describe('rate limits behind a trusted proxy', () => {
  it('counts each forwarded client address separately only when TRUST_PROXY says so', async () => {
    for (const [trust, expected] of [
      ['true', 200],
      ['false', 429],
    ] as const) {
      const t = await createTestApp('sqlite', { ...LIMITS, TRUST_PROXY: trust });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) {
          const res = await t.app.inject({ method: 'GET', url: '/01/04012345000012', remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': `198.51.100.${i}` } });
          statuses.push(res.statusCode);
        }
        expect(statuses.at(-1) === 429 ? 429 : 200).toBe(expected);
      } finally {
        await t.close();
      }
    }
  });
});

/** Two applications on one database, as two processes would run. */
async function twoApps(database: TestDatabase, env: Record<string, string>) {
  const config = loadConfig({ DATA_DIR: '/tmp/dpp-test-unused', PUBLIC_BASE_URL: 'https://dpp.example.test', ...LIMITS, ...env });
  const second: Database = await openSecondConnection(database);
  const one = await buildApp({ config, database, logger: false });
  const two = await buildApp({ config, database: second, logger: false });
  await Promise.all([one.ready(), two.ready()]);
  const key = (await createAccessService(database.db).createKey({ org: `rl-shared-${Math.random().toString(36).slice(2)}`, scopes: 'read' })).key;
  const get = (app: typeof one) => app.inject({ method: 'GET', url: '/api/v1/products', headers: { authorization: `Bearer ${key}` } });
  return {
    one,
    two,
    get,
    async close() {
      await one.close();
      await two.close();
      await second.close();
    },
  };
}

describe('rate limits shared by processes on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
  });
  afterAll(() => database.dispose());

  it('adds up the counts of two processes once they synchronise', async () => {
    const apps = await twoApps(database, { RATE_LIMIT_SYNC_MS: '60000' });
    try {
      for (let i = 0; i < 3; i++) expect((await apps.get(apps.one)).statusCode).toBe(200);
      await apps.one.rateLimitSync!();
      // The second process has counted nothing itself; the first one's three hits reach it at its sync.
      expect((await apps.get(apps.two)).statusCode).toBe(200);
      await apps.two.rateLimitSync!();
      expect((await apps.get(apps.two)).headers['ratelimit-remaining']).toBe('0'); // 3 + 2 = 5
      expect((await apps.get(apps.two)).statusCode).toBe(429);
      await apps.two.rateLimitSync!();
      await apps.one.rateLimitSync!();
      expect((await apps.get(apps.one)).statusCode).toBe(429);
    } finally {
      await apps.close();
    }
  });
});

describe('rate limits shared through Redis (REDIS_URL)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
  });
  afterAll(() => database.dispose());

  it('counts every request of every process exactly', async () => {
    const apps = await twoApps(database, { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' });
    try {
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await apps.get(i % 2 ? apps.two : apps.one)).statusCode);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    } finally {
      await apps.close();
    }
  });
});
