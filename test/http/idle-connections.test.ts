import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { FULL_PASSPORT } from '../helpers/fixtures.js';
import { listen, rawConnect, sleep, type RawClient } from '../helpers/sockets.js';

describe.each(dialects)('1,000 idle and slow connections (%s)', (dialect) => {
  let t: TestApp;
  let base: string;
  let port: number;
  let key: string;
  let productId: string;
  const idle: RawClient[] = [];
  beforeAll(async () => {
    t = await createTestApp(dialect, { MAX_CONNECTIONS: '2000' });
    ({ port, base } = await listen(t.app));
    key = await t.key('idle');
    productId = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Lamp' } })).json().product_id;
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${productId}`, payload: FULL_PASSPORT });
  });
  afterAll(async () => {
    for (const c of idle) c.destroy();
    await t.close();
  });

  it('answers a normal request within 1 s while 1,000 connections sit idle or trickle their headers', async () => {
    for (let i = 0; i < 1000; i += 100) {
      idle.push(...(await Promise.all(Array.from({ length: 100 }, () => rawConnect(port)))));
    }
    // Half of them start a request and never finish its headers (slowloris); the rest send nothing.
    idle.forEach((c, i) => i % 2 && c.write('GET /api/v1/products HTTP/1.1\r\nHost: test\r\nX-Slow: '));
    await sleep(200);
    const open = idle.filter((c) => !c.socket.destroyed).length;
    expect(open).toBeGreaterThanOrEqual(990);

    const started = performance.now();
    const res = await fetch(`${base}/api/v1/compliance/dpp/${productId}`, { headers: { authorization: `Bearer ${key}` } });
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { product_id: string }).product_id).toBe(productId);
    expect(ms).toBeLessThan(1000);
  }, 30_000);
});
