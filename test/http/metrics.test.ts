import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createSystemWorker } from '../../src/jobs/registry.js';
import { claim, enqueue, fail } from '../../src/jobs/queue.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { multipartBody } from '../helpers/fixtures.js';

const TOKEN = 'metrics-token-0123456789abcdef';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the exposition format into samples (comments skipped). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

describe('METRICS_TOKEN setting', () => {
  it('refuses a short or spaced token, and leaves metrics off by default', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_TOKEN: 'has a space in the middle!!' })).toThrow(/whitespace/);
    expect(loadConfig({})).toMatchObject({ metricsToken: undefined, metricsAllowUnauthenticated: false });
  });
});

describe.each(dialects)('/metrics (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  const scrape = async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode, res.body).toBe(200);
    return { res, samples: parse(res.body) };
  };
  const createProduct = async (title: string) => (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title } })).json().product_id as string;

  beforeAll(async () => {
    t = await createTestApp(dialect, { METRICS_TOKEN: TOKEN, EXTRACTION_TIMEOUT_MS: '20000' });
    key = await t.key('metrics-org');
  });
  afterAll(() => t.close());

  it('is off by default: 404, and nothing is counted', async () => {
    const off = await createTestApp(dialect);
    try {
      expect(off.app.metrics).toBeNull();
      const res = await off.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
    } finally {
      await off.close();
    }
  });

  it('refuses a scrape without the token, with a wrong one, and with an API key: 401 problem+json', async () => {
    const none = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-type']).toContain('application/problem+json');
    expect(none.json()).toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.body).not.toContain('dpp_http_requests_total');
    for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${key}`, TOKEN, `Basic ${TOKEN}`, 'Bearer ']) {
      const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization } });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.json().code).toBe('unauthenticated');
    }
    // The scheme is case-insensitive (RFC 7235), the token is not.
    expect((await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `bearer ${TOKEN}` } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN.toUpperCase()}` } })).statusCode).toBe(401);
  });

  it('answers in the Prometheus text format, with the process metrics of prom-client', async () => {
    const { res, samples } = await scrape();
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('# TYPE dpp_http_request_duration_seconds histogram');
    expect(value(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    // Known providers' outcome series exist from the start.
    expect(value(samples, 'dpp_extractions_total', { provider: 'rules', outcome: 'completed' })).toBe(0);
  });

  it('is not in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).not.toContain('/metrics');
    expect(Object.keys(doc.paths)).toContain('/healthz');
  });

  it('counts requests by route pattern, never by raw path, and the counts grow', async () => {
    const route = '/api/v1/products/:product_id';
    const before = (await scrape()).samples;
    const ok = (labels: Record<string, string>) => value(before, 'dpp_http_requests_total', labels) ?? 0;
    const okBefore = ok({ method: 'GET', route, status_code: '200' });
    const missingBefore = ok({ method: 'GET', route, status_code: '404' });

    const ids = [await createProduct('Metered kettle'), await createProduct('Metered toaster')];
    for (const id of ids) expect((await t.call(key, { method: 'GET', url: `/api/v1/products/${id}` })).statusCode).toBe(200);
    await t.call(key, { method: 'GET', url: `/api/v1/products/${ids[0]}?fields=all` });
    const unknownId = '0190a0b0-0000-7000-8000-00000000dead';
    expect((await t.call(key, { method: 'GET', url: `/api/v1/products/${unknownId}` })).statusCode).toBe(404);
    const strayPaths = ['/no/such/path/a1b2c3', '/api/v1/stray-path-z9', '/api/v1/products/x/y/z'];
    for (const url of strayPaths) expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(404);
    // A single segment is the resolver's compressed-link route: counted under that pattern.
    const strayLink = '/stray-link-q7';
    expect((await t.app.inject({ method: 'GET', url: strayLink })).statusCode).toBe(404);

    const { res, samples } = await scrape();
    expect(value(samples, 'dpp_http_requests_total', { method: 'GET', route, status_code: '200' })).toBe(okBefore + 3);
    expect(value(samples, 'dpp_http_requests_total', { method: 'GET', route, status_code: '404' })).toBe(missingBefore + 1);
    expect(value(samples, 'dpp_http_requests_total', { method: 'POST', route: '/api/v1/products', status_code: '201' })).toBeGreaterThanOrEqual(2);
    // Unmatched paths are one series; no id, query or stray path is ever a label value.
    expect(value(samples, 'dpp_http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' })).toBeGreaterThanOrEqual(3);
    expect(value(samples, 'dpp_http_requests_total', { method: 'GET', route: '/:compressed', status_code: '404' })).toBeGreaterThanOrEqual(1);
    for (const raw of [...ids, unknownId, 'fields=all', ...strayPaths, strayLink]) expect(res.body).not.toContain(raw);
    const routes = new Set(samples.filter((s) => s.name === 'dpp_http_requests_total').map((s) => s.labels.route!));
    for (const r of routes) expect(r === 'unmatched' || r.startsWith('/'), r).toBe(true);
    expect([...routes].every((r) => !/[0-9a-f]{8}-[0-9a-f]{4}-/.test(r))).toBe(true);

    // The latency histogram: cumulative buckets ending in +Inf, which equals the count.
    const labels = { method: 'GET', route, status_class: '2xx' };
    const buckets = samples
      .filter((s) => s.name === 'dpp_http_request_duration_seconds_bucket' && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .map((s) => ({ le: s.labels.le!, n: s.value }));
    expect(buckets.map((b) => b.le)).toEqual(['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '120', '+Inf']);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.n).toBeGreaterThanOrEqual(buckets[i - 1]!.n);
    const count = value(samples, 'dpp_http_request_duration_seconds_count', labels)!;
    expect(count).toBeGreaterThanOrEqual(3);
    expect(buckets.at(-1)!.n).toBe(count);
    expect(value(samples, 'dpp_http_request_duration_seconds_sum', labels)).toBeGreaterThan(0);
    expect(value(samples, 'dpp_http_request_duration_seconds_count', { method: 'GET', route, status_class: '4xx' })).toBeGreaterThanOrEqual(1);
  });

  it('reports queue depth per queue and state, and the wait of the oldest due job, from the jobs table', async () => {
    const db = t.database.db;
    const queue = 'metrics.test-queue';
    const minuteAgo = new Date(Date.now() - 60_000).toISOString();
    await enqueue(db, { queue, payload: { n: 1 }, runAt: minuteAgo, priority: 5 });
    await enqueue(db, { queue, payload: { n: 2 }, runAt: minuteAgo });
    await enqueue(db, { queue, payload: { n: 3 } });
    await enqueue(db, { queue, payload: { n: 4 }, runAt: new Date(Date.now() + 3_600_000).toISOString() });
    await enqueue(db, { queue, payload: { n: 5 }, maxAttempts: 1 });
    // One claimed (running): the highest priority one, due a minute ago.
    const running = await claim(db, 'metrics-test-worker', [queue], 60_000);
    expect(JSON.parse(running!.payload)).toEqual({ n: 1 });
    // One failed for good.
    const doomed = await claim(db, 'metrics-test-worker', [queue], 60_000);
    expect(JSON.parse(doomed!.payload)).toEqual({ n: 2 });
    expect(await fail(db, { ...doomed!, max_attempts: 1 }, 'boom')).toBe('failed');
    // A completed job in another queue: its queue is listed, with nothing to do.
    const doneQueue = 'metrics.done-queue';
    await enqueue(db, { queue: doneQueue, payload: {} });
    const done = await claim(db, 'metrics-test-worker', [doneQueue], 60_000);
    await db.updateTable('jobs').set({ status: 'completed' }).where('id', '=', done!.id).execute();

    const { samples } = await scrape();
    const depth = (q: string, state: string) => value(samples, 'dpp_job_queue_depth', { queue: q, state });
    // Claims go by priority, then run_at: n=1 runs, n=2 failed; n=3 and n=5 (due now) and n=4 (due in an hour) are queued.
    expect(depth(queue, 'running')).toBe(1);
    expect(depth(queue, 'failed')).toBe(1);
    expect(depth(queue, 'queued')).toBe(3);
    expect(depth(doneQueue, 'queued')).toBe(0);
    expect(depth(doneQueue, 'running')).toBe(0);
    expect(value(samples, 'dpp_job_queue_oldest_due_age_seconds', { queue: doneQueue })).toBe(0);
    // The oldest due queued job (n=3 or n=5) was enqueued moments ago; the one due in an hour does not count.
    const age = value(samples, 'dpp_job_queue_oldest_due_age_seconds', { queue })!;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(30);

    // A job waiting since a minute ago shows its wait.
    await enqueue(db, { queue, payload: { n: 6 }, runAt: new Date(Date.now() - 90_000).toISOString() });
    const after = (await scrape()).samples;
    expect(value(after, 'dpp_job_queue_depth', { queue, state: 'queued' })).toBe(4);
    const older = value(after, 'dpp_job_queue_oldest_due_age_seconds', { queue })!;
    expect(older).toBeGreaterThanOrEqual(90);
    expect(older).toBeLessThan(120);

    await db.deleteFrom('jobs').where('queue', 'in', [queue, doneQueue]).execute();
    const cleared = (await scrape()).samples;
    expect(value(cleared, 'dpp_job_queue_depth', { queue, state: 'queued' })).toBeUndefined();
  });

  it('reports the PostgreSQL pool (and no pool on SQLite)', async () => {
    const { samples } = await scrape();
    if (dialect === 'postgres') {
      expect(value(samples, 'dpp_db_pool_connections')).toBeGreaterThanOrEqual(1);
      expect(value(samples, 'dpp_db_pool_max_connections')).toBe(5);
      expect(value(samples, 'dpp_db_pool_idle_connections')).toBeGreaterThanOrEqual(0);
      expect(value(samples, 'dpp_db_pool_waiting_clients')).toBe(0);
    } else {
      expect(samples.some((s) => s.name.startsWith('dpp_db_pool_'))).toBe(false);
    }
  });

  it('counts extraction outcomes per provider where the worker finishes them', async () => {
    const before = (await scrape()).samples;
    const completedBefore = value(before, 'dpp_extractions_total', { provider: 'rules', outcome: 'completed' })!;
    const failedBefore = value(before, 'dpp_extractions_total', { provider: 'rules', outcome: 'failed' })!;

    const upload = async (productId: string, name: string, text: string) => {
      const res = await t.call(key, { method: 'POST', url: `/api/v1/products/${productId}/documents`, ...multipartBody({ name, bytes: Buffer.from(text) }) });
      expect(res.statusCode, res.body).toBeLessThan(300);
      return res.json().asset_id as string;
    };
    const good = await createProduct('Extracted lamp');
    await upload(good, 'lamp-doc.txt', 'EU DECLARATION OF CONFORMITY\nManufacturer: Example Lighting GmbH\nProduct: Lamp\nDirective 2011/65/EU (RoHS).');
    const gone = await createProduct('Vanishing lamp');
    const goneAsset = await upload(gone, 'gone-doc.txt', 'EU DECLARATION OF CONFORMITY\nManufacturer: Example Lighting GmbH');
    for (const productId of [good, gone]) {
      const res = await t.call(key, { method: 'POST', url: `/api/v1/compliance/products/${productId}/extract-from-docs` });
      expect(res.statusCode, res.body).toBeLessThan(300);
    }
    // Deleted before a worker reads it: that extraction fails.
    await t.database.db.deleteFrom('documents').where('id', '=', goneAsset).execute();

    const worker = createSystemWorker(t.config, t.database, undefined, { onExtractionOutcome: t.app.metrics!.extractionFinished });
    worker.start();
    try {
      await worker.drain();
    } finally {
      await worker.stop();
    }
    const { samples } = await scrape();
    expect(value(samples, 'dpp_extractions_total', { provider: 'rules', outcome: 'completed' })).toBe(completedBefore + 1);
    expect(value(samples, 'dpp_extractions_total', { provider: 'rules', outcome: 'failed' })).toBe(failedBefore + 1);
    expect(value(samples, 'dpp_job_queue_depth', { queue: 'extraction.run-document', state: 'queued' }) ?? 0).toBe(0);
  }, 60_000);

  it('keeps each app its own registry: another app in the process starts from nothing, and may go without a token', async () => {
    const open = await createTestApp(dialect, { METRICS_ALLOW_UNAUTHENTICATED: 'true' });
    try {
      const first = await open.app.inject({ method: 'GET', url: '/metrics' });
      expect(first.statusCode).toBe(200);
      const samples = parse(first.body);
      expect(value(samples, 'dpp_http_requests_total', { route: '/api/v1/products/:product_id', method: 'GET', status_code: '200' })).toBeUndefined();
      expect(value(samples, 'dpp_http_requests_total', { route: '/api/v1/products', method: 'POST', status_code: '201' })).toBeUndefined();
      await open.app.inject({ method: 'GET', url: '/healthz' });
      const second = parse((await open.app.inject({ method: 'GET', url: '/metrics' })).body);
      expect(value(second, 'dpp_http_requests_total', { route: '/healthz', method: 'GET', status_code: '200' })).toBe(1);
      expect(value(second, 'dpp_http_requests_total', { route: '/metrics', method: 'GET', status_code: '200' })).toBe(1);
    } finally {
      await open.close();
    }
    // The first app's counts are untouched by the second's requests.
    const { samples } = await scrape();
    expect(value(samples, 'dpp_http_requests_total', { route: '/healthz', method: 'GET', status_code: '200' })).toBeUndefined();
  });
});
