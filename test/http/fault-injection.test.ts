import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { chunk, listen, rawConnect, sleep, waitFor } from '../helpers/sockets.js';

/** CSV rows `s<i>,Title <i>` from `from` (inclusive) to `to` (exclusive), each ending in a newline. */
function rows(from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += `s${i},Title ${i}\n`;
  return out;
}

function importHead(key: string | undefined, framing: string): string {
  return 'POST /api/v1/products/import HTTP/1.1\r\nHost: test\r\nContent-Type: text/csv\r\n' + (key ? `Authorization: Bearer ${key}\r\n` : '') + `${framing}\r\n\r\n`;
}

describe.each(dialects)('clients that go away or never finish (%s)', (dialect) => {
  let t: TestApp;
  let port: number;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp(dialect, {
      HEADERS_TIMEOUT_MS: '400',
      REQUEST_TIMEOUT_MS: '2000',
      IDLE_TIMEOUT_MS: '1500',
      IMPORT_CONCURRENCY: '1',
      MAX_CONNECTIONS: '40',
    });
    ({ port, base } = await listen(t.app));
  });
  afterAll(() => t.close());

  const total = async (key: string) => (await t.call(key, { method: 'GET', url: '/api/v1/products?per_page=1' })).json().total as number;
  const alive = async () => (await fetch(`${base}/healthz`)).status === 200;

  // The cut points: before any body, after the header row, mid-row, and inside a large declared body
  // (parsed on a worker thread) or a chunked one (size unknown, also the worker), or a small one (inline).
  const cuts = [
    { name: 'chunked, after the headers', framing: 'Transfer-Encoding: chunked', body: '' },
    { name: 'chunked, after the header row', framing: 'Transfer-Encoding: chunked', body: chunk('sku,title\n') },
    { name: 'chunked, mid-row', framing: 'Transfer-Encoding: chunked', body: chunk(`sku,title\n${rows(0, 50)}s50,Ti`) },
    { name: 'declared 1 MB (worker), mid-body', framing: 'Content-Length: 1000000', body: `sku,title\n${rows(0, 2000)}` },
    { name: 'declared 10 KB (inline), mid-body', framing: 'Content-Length: 10000', body: `sku,title\n${rows(0, 20)}` },
  ];
  for (const delay of [0, 30]) {
    for (const [n, cut] of cuts.entries()) {
      it(`stays up when an import is cut off ${cut.name}, ${delay} ms in`, async () => {
        const key = await t.key(`abort-${n}-${delay}`);
        const client = await rawConnect(port);
        client.write(importHead(key, cut.framing) + cut.body);
        await sleep(delay);
        client.destroy();
        await sleep(100);
        expect(await alive()).toBe(true);
        // Nothing half-written: whatever landed is whole batches, and the next import is served.
        // The import slot is given back as soon as the import sees the abort.
        const t0 = Date.now();
        let again;
        for (;;) {
          again = await t.call(key, {
            method: 'POST',
            url: '/api/v1/products/import',
            payload: 'sku,title\nafter,After the abort\n',
            headers: { 'content-type': 'text/csv' },
          });
          if (again.statusCode !== 503 || Date.now() - t0 > 5000) break;
          await sleep(20);
        }
        expect(again.statusCode).toBe(200);
        expect(again.json().created).toBe(1);
      });
    }
  }

  it('keeps the batches committed before the client went away, and no part of the next', async () => {
    const key = await t.key('abort-after-batches');
    const client = await rawConnect(port);
    client.write(importHead(key, 'Transfer-Encoding: chunked') + chunk(`sku,title\n${rows(0, 6000)}`));
    // Two batches of 2,500 commit while the client still holds the request open with 1,000 rows pending.
    let seen = 0;
    await waitFor(
      async () => {
        if (client.received()) throw new Error(`the import answered early: ${client.received().slice(0, 300)}`);
        seen = await total(key);
        return seen >= 5000;
      },
      30_000,
      'two committed batches',
    ).catch((e: Error) => {
      throw new Error(`${e.message} (${seen} rows committed)`);
    });
    client.destroy();
    await sleep(300);
    expect(await alive()).toBe(true);
    expect(await total(key)).toBe(5000);
  }, 45_000);

  it('answers an empty CSV body and a lone header at once, streamed or not', async () => {
    const key = await t.key('no-newline');
    for (const body of ['', 'title,sku', 'title;sku\r', '\uFEFFtitle']) {
      const plain = await t.call(key, { method: 'POST', url: '/api/v1/products/import', payload: body, headers: { 'content-type': 'text/csv' } });
      expect(plain.statusCode).toBe(200);
      expect(plain.json()).toMatchObject({ rows: 0, created: 0, failed: 0 });
      // Chunked, as `curl -T -` or a streaming client sends it: parsed on the worker thread.
      const streamed = await fetch(`${base}/api/v1/products/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
        body: new ReadableStream({
          start(controller) {
            if (body) controller.enqueue(new TextEncoder().encode(body));
            controller.close();
          },
        }),
        duplex: 'half',
        signal: AbortSignal.timeout(5000),
      } as RequestInit);
      expect(streamed.status).toBe(200);
      expect(await streamed.json()).toMatchObject({ rows: 0, created: 0 });
    }
  });

  it('closes an unauthenticated upload at once instead of reading its slow body', async () => {
    const client = await rawConnect(port);
    client.write(importHead(undefined, 'Content-Length: 1000000') + 'sku,title\n');
    const trickle = setInterval(() => client.write('a,b\n'), 50);
    const ms = await client.closed;
    clearInterval(trickle);
    expect(client.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(client.received()).toMatch(/www-authenticate: Bearer/i);
    expect(ms).toBeLessThan(1000);
  });

  it('closes a client that never finishes its headers', async () => {
    const client = await rawConnect(port);
    client.write('GET /healthz HTTP/1.1\r\nHost: test\r\n');
    const ms = await client.closed;
    // headersTimeout 400 ms, checked every 400 ms: closed well within a few seconds, with a 408 problem.
    expect(ms).toBeLessThan(3000);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 [\s\S]*application\/problem\+json/);
  });

  it('closes an authenticated upload that trickles for longer than the request timeout', async () => {
    const key = await t.key('slow-body');
    const client = await rawConnect(port);
    client.write(importHead(key, 'Transfer-Encoding: chunked') + chunk('sku,title\n'));
    let i = 0;
    const trickle = setInterval(() => client.write(chunk(`t${i},Slow ${i++}\n`)), 100);
    const ms = await client.closed;
    clearInterval(trickle);
    expect(ms).toBeGreaterThan(1500);
    expect(ms).toBeLessThan(6000);
    expect(await alive()).toBe(true);
    // Its import slot is given back with the connection.
    await waitFor(
      async () => {
        const next = await t.call(key, { method: 'POST', url: '/api/v1/products/import', payload: 'sku,title\nq,Q\n', headers: { 'content-type': 'text/csv' } });
        return next.statusCode === 200;
      },
      5000,
      'the import slot',
    );
  });

  it('closes a timed-out upload for good, even when the client keeps its side open, and stores nothing sent after', async () => {
    const key = await t.key('half-open');
    const client = await rawConnect(port, { allowHalfOpen: true });
    client.write(importHead(key, 'Transfer-Encoding: chunked') + chunk('sku,title\n'));
    let i = 0;
    const trickle = setInterval(() => client.write(chunk(`h${i},Half ${i++}\n`)), 100);
    await waitFor(() => client.received().includes(' 408 '), 6000, 'the 408');
    const ms = await Promise.race([client.closed, sleep(2000).then(() => -1)]);
    clearInterval(trickle);
    expect(ms).toBeGreaterThan(0); // the server closed it, not just its own side
    client.write('0\r\n\r\n');
    // The slot is free again, and the rows of the timed-out request were not imported.
    const next = await t.call(key, { method: 'POST', url: '/api/v1/products/import', payload: 'sku,title\nafter,After\n', headers: { 'content-type': 'text/csv' } });
    expect(next.statusCode).toBe(200);
    expect(await total(key)).toBe(1);
  });

  it('runs one import at a time here and tells the next to retry (503, Retry-After)', async () => {
    const key = await t.key('one-at-a-time');
    const first = await rawConnect(port);
    first.write(importHead(key, 'Transfer-Encoding: chunked') + chunk(`sku,title\n${rows(0, 10)}`));
    await sleep(100);
    const second = await t.call(key, { method: 'POST', url: '/api/v1/products/import', payload: 'sku,title\nx,X\n', headers: { 'content-type': 'text/csv' } });
    expect(second.statusCode).toBe(503);
    expect(second.headers['content-type']).toContain('application/problem+json');
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(0);
    expect(second.json()).toMatchObject({ code: 'busy' });
    first.write('0\r\n\r\n');
    await waitFor(() => first.received().includes('"created":10'), 5000, 'the first import');
    first.destroy();
    const third = await t.call(key, { method: 'POST', url: '/api/v1/products/import', payload: 'sku,title\nx,X\n', headers: { 'content-type': 'text/csv' } });
    expect(third.statusCode).toBe(200);
  });

  it('caps open connections, and serves again once they close', async () => {
    const idle = await Promise.all(Array.from({ length: 40 }, () => rawConnect(port)));
    await sleep(100);
    const extra = await rawConnect(port);
    // Over the cap the server drops the connection without reading it.
    const ms = await Promise.race([extra.closed, sleep(2000).then(() => -1)]);
    expect(ms).toBeGreaterThanOrEqual(0);
    for (const c of idle) c.destroy();
    await waitFor(alive, 5000, 'service after the idle connections closed');
  });
});
