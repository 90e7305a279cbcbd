import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/database.js';
import { createPgListener } from '../../src/db/pg-listen.js';
import { KEY_CHANGES_CHANNEL } from '../../src/features/access/key-cache.js';
import { createAccessService } from '../../src/features/access/service.js';
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
function get(port: number, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: url, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${url} timed out`)));
  });
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
