import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { createDatabase, type Database } from '../../src/db/database.js';
import { createPgListener } from '../../src/db/pg-listen.js';
import { KEY_CHANGES_CHANNEL } from '../../src/features/access/key-cache.js';
import { createAccessService } from '../../src/features/access/service.js';
import { clusterScraper, type PrimaryChannel } from '../../src/http/cluster-metrics.js';
import { createMetrics, installMetrics } from '../../src/http/metrics.js';
import { installProblemHandlers } from '../../src/http/problem.js';
import { enqueue } from '../../src/jobs/queue.js';
import { TEST_DATABASE_URL, createTestDatabase, dialects } from '../helpers/db.js';

const CLI = path.resolve('dist/cli.js');
const postgres = dialects.includes('postgres');
const sqlite = dialects.includes('sqlite');

/** Builds dist/ when a source file is newer than dist/cli.js (`npm test` has built it already). */
async function ensureBuilt(): Promise<void> {
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...fs.readdirSync(dir, { withFileTypes: true }).map((e) => {
        const full = path.join(dir, e.name);
        return e.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs;
      }),
    );
  const built = fs.existsSync(CLI) ? fs.statSync(CLI).mtimeMs : 0;
  if (built >= newest(path.resolve('src'))) return;
  await promisify(execFile)(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A GET on a connection of its own (no keep-alive), so the cluster may hand each to another worker. */
function getText(port: number, url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: url, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], text }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${url} timed out`)));
  });
}

/** getText with the answer parsed as JSON. */
async function get(port: number, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const { status, text } = await getText(port, url, headers);
  return { status, body: text ? JSON.parse(text) : undefined };
}

interface Spawned {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Every process a test started, killed at the end even when a test timed out (a cluster's workers exit with their primary). */
const spawned: ChildProcess[] = [];

function spawnCli(args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  spawned.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A fresh PostgreSQL schema and the DATABASE_URL that selects it, as a deployment's would. */
async function freshSchema(prefix: string): Promise<{ schema: string; url: string; drop: () => Promise<void> }> {
  const schema = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = async (query: string) => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(query);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE SCHEMA ${schema}`);
  return {
    schema,
    url: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: () => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`),
  };
}

const baseEnv = (dir: string, port: number): Record<string, string> => {
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    LOG_LEVEL: 'warn',
    DEMO_SEED: 'false',
    RATE_LIMIT: 'false',
    QR_WORKERS: '0',
    EXTRACTION_WORKERS: '1',
  } as Record<string, string>;
  delete env.DATABASE_URL;
  delete env.WEB_CONCURRENCY;
  return env;
};

beforeAll(ensureBuilt, 180_000);
afterAll(() => {
  for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe.runIf(postgres)('API key changes across processes on PostgreSQL (LISTEN/NOTIFY)', () => {
  const silent = { info: () => undefined, warn: () => undefined };

  it('a listener hears a change committed in its schema (only on commit, not another schema’s) and falls back while reconnecting', async () => {
    const t = await createTestDatabase('postgres');
    const other = await createTestDatabase('postgres');
    const applicationName = `dpp-listen-test-${process.pid}-${Date.now()}`;
    const listener = createPgListener({
      connectionString: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${t.pgSchema}`)}`,
      channel: KEY_CHANGES_CHANNEL,
      applicationName,
      reconnect: { minMs: 50, maxMs: 200 },
    });
    try {
      await listener.start(silent);
      expect(listener.live()).toBe(true);
      const moved = async (from: number) => waitFor('a notification', async () => (listener.version() > from ? true : undefined), 2000, 10);
      const stays = async (at: number) => {
        await new Promise((r) => setTimeout(r, 300));
        expect(listener.version()).toBe(at);
      };

      let v = listener.version();
      const created = await createAccessService(t.db).createKey({ org: 'listen', scopes: 'read' });
      await moved(v);

      // Another schema (another deployment or test in the same database) is not ours.
      v = listener.version();
      await createAccessService(other.db).createKey({ org: 'elsewhere', scopes: 'read' });
      await stays(v);

      // Delivered when the transaction commits, not before.
      v = listener.version();
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const revoking = t.db.transaction().execute(async (trx) => {
        expect(await createAccessService(trx).revokeKey(created.id)).toBe(true);
        await held;
      });
      await stays(v);
      release();
      await revoking;
      await moved(v);

      // The connection dropped: not live (caches fall back to the 5 s TTL) and the version moves;
      // it reconnects by itself, and the version moves again (changes in between were missed).
      v = listener.version();
      const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await admin.connect();
      try {
        const killed = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [applicationName]);
        expect(killed.rowCount).toBe(1);
      } finally {
        await admin.end();
      }
      await waitFor('the drop to be noticed', async () => (!listener.live() ? true : undefined), 2000, 5);
      expect(listener.version()).toBeGreaterThan(v);
      await waitFor('the reconnection', async () => (listener.live() ? true : undefined), 5000, 10);
      v = listener.version();
      await createAccessService(t.db).createKey({ org: 'listen', scopes: 'read' });
      await moved(v);
    } finally {
      await listener.close();
      await t.dispose();
      await other.dispose();
    }
  }, 30_000);

  describe('two real `dpp serve` processes', () => {
    const servers: Spawned[] = [];
    let ports: number[] = [];
    let db: { schema: string; url: string; drop: () => Promise<void> };
    let database: Database;
    let dir: string;

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-keys-xproc-'));
      db = await freshSchema('xproc');
      database = await createDatabase({ databaseUrl: TEST_DATABASE_URL, pgSchema: db.schema, poolSize: 2 });
      await database.migrate();
      ports = [await freePort(), await freePort()];
      for (const port of ports) servers.push(spawnCli(['serve'], { ...baseEnv(dir, port), DATABASE_URL: db.url, WORKER: 'false' }));
      for (const port of ports) await waitFor(`the server on ${port}`, async () => ((await get(port, '/readyz')).status === 200 ? true : undefined));
    }, 120_000);

    afterAll(async () => {
      for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
      await database?.close();
      await db?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('a key revoked elsewhere is refused by both within 1 s (well inside the 5 s TTL)', async () => {
      const access = createAccessService(database.db);
      const { key } = await access.createKey({ org: 'xproc', scopes: 'read' });
      const list = (port: number) => get(port, '/api/v1/products', { authorization: `Bearer ${key}` });
      // Each process reads the key once and then answers from its cache.
      for (const port of ports) for (let i = 0; i < 3; i++) expect((await list(port)).status).toBe(200);

      // Revoked by a third process (this one), right after both cached the key: only a notification
      // can make them refuse it before their cached rows would expire (5 s).
      const revokedAt = Date.now();
      expect(await access.revokeKey(key)).toBe(true);
      for (const port of ports) {
        await waitFor(`401 from ${port}`, async () => ((await list(port)).status === 401 ? true : undefined), 1000, 20);
      }
      expect(Date.now() - revokedAt).toBeLessThan(1000);
      const refused = await list(ports[1]!);
      expect(refused.body).toMatchObject({ status: 401, code: 'unauthenticated' });
      expect(refused.body.detail).toContain('revoked');
    }, 30_000);

    it('a key revoked with `dpp keys revoke` is refused by both', async () => {
      const { key, id } = await createAccessService(database.db).createKey({ org: 'xproc', scopes: 'read' });
      const list = (port: number) => get(port, '/api/v1/products', { authorization: `Bearer ${key}` });
      for (const port of ports) expect((await list(port)).status).toBe(200);
      const revoke = spawnCli(['keys', 'revoke', `dpp_${id}`], { ...baseEnv(dir, 0), DATABASE_URL: db.url });
      expect(await revoke.exited).toBe(0);
      for (const port of ports) await waitFor(`401 from ${port}`, async () => ((await list(port)).status === 401 ? true : undefined), 1000, 20);
    }, 60_000);
  });
});

describe('dpp serve --workers', () => {
  it.runIf(postgres)(
    'PostgreSQL: N workers share the port, a dead one is restarted, SIGTERM stops them all (exit 0)',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-cluster-'));
      const db = await freshSchema('cluster');
      const port = await freePort();
      const primary = spawnCli(['serve', '--workers', '2'], { ...baseEnv(dir, port), DATABASE_URL: db.url });
      try {
        const health = async () => (await get(port, '/healthz')).body as { status: string; worker: number; pid: number };
        const byWorker = new Map<number, number>();
        await waitFor(
          'answers from 2 workers',
          async () => {
            const h = await health();
            byWorker.set(h.worker, h.pid);
            return byWorker.size === 2 ? true : undefined;
          },
          90_000,
        );
        expect([...byWorker.keys()].sort()).toEqual([1, 2]);
        const pids = [...byWorker.values()];
        expect(new Set(pids).size).toBe(2);
        expect(pids).not.toContain(primary.child.pid);
        expect(primary.stderr()).toContain('2 HTTP workers');
        // The primary migrated before forking.
        const check = await createDatabase({ databaseUrl: TEST_DATABASE_URL, pgSchema: db.schema, poolSize: 1 });
        try {
          expect((await check.migrate()).results ?? []).toEqual([]);
        } finally {
          await check.close();
        }

        // A worker that dies is replaced (same number, new pid) and the death is logged.
        process.kill(byWorker.get(2)!, 'SIGKILL');
        const replaced = await waitFor(
          'worker 2 replaced',
          async () => {
            const h = await health();
            return h.worker === 2 && h.pid !== byWorker.get(2) ? h.pid : undefined;
          },
          90_000,
        );
        expect(primary.stderr()).toMatch(/worker 2 \(pid \d+\) exited unexpectedly \(signal SIGKILL\); restarting/);
        const workers = [byWorker.get(1)!, replaced];
        expect(workers.every(alive)).toBe(true);

        primary.child.kill('SIGTERM');
        expect(await primary.exited).toBe(0);
        expect(primary.stderr()).toContain('all workers stopped');
        // No orphans: every worker has exited too.
        expect(workers.filter(alive)).toEqual([]);
      } finally {
        if (primary.child.exitCode === null) primary.child.kill('SIGKILL');
        await db.drop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    240_000,
  );

  it.runIf(sqlite)(
    'SQLite: --workers 2 runs one process and says so',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-cluster-sqlite-'));
      const port = await freePort();
      const server = spawnCli(['serve', '--workers', '2'], baseEnv(dir, port));
      try {
        const health = await waitFor('the server', async () => {
          const res = await get(port, '/healthz');
          return res.status === 200 ? res.body : undefined;
        });
        // Not a cluster: /healthz names no worker.
        expect(health).toEqual({ status: 'ok' });
        expect(server.stderr()).toMatch(/--workers 2 ignored: SQLite allows one writer, so dpp serve runs as one process/);
        server.child.kill('SIGTERM');
        expect(await server.exited).toBe(0);
      } finally {
        if (server.child.exitCode === null) server.child.kill('SIGKILL');
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseMetrics(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`unparsable exposition line: ${line}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

/** The samples of `name` whose labels include `labels`. */
const samplesOf = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe('/metrics of a cluster', () => {
  const TOKEN = 'cluster-metrics-token-0123456789';

  it.runIf(postgres)(
    'PostgreSQL, 2 workers: whichever worker is scraped, requests are summed over both, a database gauge is read once, process metrics are per worker',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-cluster-metrics-'));
      const db = await freshSchema('clustermetrics');
      const port = await freePort();
      const primary = spawnCli(['serve', '--workers', '2'], { ...baseEnv(dir, port), DATABASE_URL: db.url, METRICS_TOKEN: TOKEN });
      const database = await createDatabase({ databaseUrl: TEST_DATABASE_URL, pgSchema: db.schema, poolSize: 1 });
      try {
        await waitFor('the cluster', async () => ((await get(port, '/readyz')).status === 200 ? true : undefined), 90_000);
        // Requests on connections of their own until both workers have served some (the second may still be starting).
        const served = new Map<number, number>();
        let sent = 0;
        const until = Date.now() + 90_000;
        while (served.size < 2 || sent < 20) {
          if (Date.now() > until) throw new Error(`only worker(s) ${[...served.keys()]} answered ${sent} requests`);
          const { status, body } = await get(port, '/healthz');
          expect(status).toBe(200);
          sent++;
          served.set(body.worker, (served.get(body.worker) ?? 0) + 1);
          if (served.size < 2) await new Promise((r) => setTimeout(r, 20));
        }
        expect([...served.keys()].sort()).toEqual([1, 2]);

        // Jobs in a queue no worker runs: every worker reads the same 3 from the database.
        const queue = 'cluster-metrics.test';
        for (let n = 0; n < 3; n++) await enqueue(database.db, { queue, payload: { n } });

        // The token is still required.
        expect((await getText(port, '/metrics')).status).toBe(401);
        // Each scrape on a new connection: the cluster hands them to the workers in turn, so both answer some.
        for (let i = 0; i < 6; i++) {
          const res = await getText(port, '/metrics', { authorization: `Bearer ${TOKEN}` });
          expect(res.status, res.text).toBe(200);
          expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
          const samples = parseMetrics(res.text);
          // One series (no worker label), summed over both workers: every request sent, whoever served it.
          const healthz = samplesOf(samples, 'dpp_http_requests_total', { route: '/healthz' });
          expect(healthz).toEqual([{ name: 'dpp_http_requests_total', labels: { method: 'GET', route: '/healthz', status_code: '200' }, value: sent }]);
          expect(samplesOf(samples, 'dpp_http_request_duration_seconds_count', { route: '/healthz' }).map((s) => s.value)).toEqual([sent]);
          // Read from the shared database by both workers, reported once: 3, not 6.
          expect(samplesOf(samples, 'dpp_job_queue_depth', { queue, state: 'queued' }).map((s) => s.value)).toEqual([3]);
          // Per process: one series per worker.
          for (const name of ['process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'dpp_db_pool_max_connections']) {
            expect(
              samplesOf(samples, name)
                .map((s) => s.labels.worker)
                .sort(),
              name,
            ).toEqual(['1', '2']);
          }
        }

        primary.child.kill('SIGTERM');
        expect(await primary.exited).toBe(0);
      } finally {
        if (primary.child.exitCode === null) primary.child.kill('SIGKILL');
        await database.close();
        await db.drop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    240_000,
  );

  it('a worker whose primary does not answer (or answers an error) answers 503 problem+json, not a hang', async () => {
    // A fake primary: silent, or answering the way cluster-metrics.ts's primary does.
    let answer: ((ask: { id: number }) => object) | undefined;
    let deliver: (message: unknown) => void = () => undefined;
    const channel: PrimaryChannel = {
      send(ask, callback) {
        callback(null);
        if (answer) setImmediate(() => deliver({ type: 'dpp:cluster-metrics:answer', id: ask.id, ...answer!(ask) }));
      },
      on: (_event, listener) => (deliver = listener),
    };
    const config = { metricsToken: TOKEN, metricsAllowUnauthenticated: false };
    const app = Fastify();
    installProblemHandlers(app, { bodyLimitBytes: 1024 });
    const registry = new Registry();
    installMetrics(app, config, { registry, extractionFinished: () => undefined, recordRequest: () => undefined, scrape: clusterScraper(200, channel) });
    const scrape = () => app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    try {
      const started = Date.now();
      const silent = await scrape();
      expect(Date.now() - started).toBeLessThan(2000);
      expect(silent.statusCode).toBe(503);
      expect(silent.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(silent.json()).toMatchObject({ status: 503, code: 'unavailable' });
      expect(silent.json().detail).toContain('did not answer within 200 ms');

      answer = () => ({ error: 'Operation timed out.' });
      const failed = await scrape();
      expect(failed.statusCode).toBe(503);
      expect(failed.json().detail).toContain('Operation timed out.');

      answer = () => ({ metrics: 'dpp_up 1\n' });
      const ok = await scrape();
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toBe('dpp_up 1\n');
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });

  it.runIf(sqlite)('one process (no cluster): no worker label, and the job gauges are read at each scrape', async () => {
    const t = await createTestDatabase('sqlite');
    try {
      const metrics = createMetrics({ metricsToken: TOKEN, metricsAllowUnauthenticated: false }, t)!;
      const queue = 'cluster-metrics.single';
      await enqueue(t.db, { queue, payload: {} });
      let samples = parseMetrics(await metrics.scrape());
      expect(samplesOf(samples, 'dpp_job_queue_depth', { queue, state: 'queued' }).map((s) => s.value)).toEqual([1]);
      expect(samples.some((s) => 'worker' in s.labels)).toBe(false);
      expect(samplesOf(samples, 'process_start_time_seconds')).toHaveLength(1);
      await enqueue(t.db, { queue, payload: {} });
      samples = parseMetrics(await metrics.scrape());
      expect(samplesOf(samples, 'dpp_job_queue_depth', { queue, state: 'queued' }).map((s) => s.value)).toEqual([2]);
    } finally {
      await t.dispose();
    }
  });
});
