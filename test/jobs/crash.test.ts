import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/database.js';
import { TEST_DATABASE_URL, dialects } from '../helpers/db.js';
import { multipartBody } from '../helpers/fixtures.js';

const CLI = path.resolve('dist/cli.js');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function start(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  return child;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(dialects)('kill -9 during a batch extraction (%s)', (dialect) => {
  const processes: ChildProcess[] = [];
  let env: Record<string, string>;
  let base: string;
  let schema = '';
  let dir: string;

  const openForCheck = () =>
    createDatabase(dialect === 'sqlite' ? { sqliteFile: path.join(dir, 'dpp.sqlite') } : { databaseUrl: TEST_DATABASE_URL, pgSchema: schema, poolSize: 1 });

  const http = async (method: string, url: string, key: string, body?: { payload: Buffer | string; headers: Record<string, string> }) => {
    const res = await fetch(base + url, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body?.headers ?? {}) },
      ...(body ? { body: body.payload } : {}),
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-crash-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'warn', DEMO_SEED: 'false', JOB_LEASE_MS: '1500', WORKER_CONCURRENCY: '2' } as Record<
      string,
      string
    >;
    delete env.DATABASE_URL;
    if (dialect === 'postgres') {
      schema = `crash_${process.pid}_${Date.now()}`;
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.end();
      env.DATABASE_URL = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    }
  });

  afterAll(async () => {
    for (const p of processes) if (p.exitCode === null) p.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    if (schema) {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    }
  });

  it('loses nothing and duplicates nothing when the process running the jobs is killed mid-way', async () => {
    // The process that runs jobs: the API itself on SQLite, a separate `dpp worker` on PostgreSQL.
    const runsJobs = (): ChildProcess => {
      const p = dialect === 'sqlite' ? start(['serve'], env) : start(['worker'], env);
      processes.push(p);
      return p;
    };
    const keyOut = await new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, [CLI, 'keys', 'create', '--org', 'crash-org'], { env });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.on('exit', (code) => (code === 0 ? resolve(out.trim().split('\n').at(-1)!) : reject(new Error(`keys create exited ${code}`))));
    });
    let api = dialect === 'sqlite' ? runsJobs() : start(['serve'], env);
    if (dialect === 'postgres') processes.push(api);
    await waitFor('the API', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined));

    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const product = await http('POST', '/api/v1/products', keyOut, { payload: JSON.stringify({ title: `Crash test ${i}` }), headers: { 'content-type': 'application/json' } });
      ids.push(product.json.product_id);
      const doc = `EU Declaration of Conformity ${i}\nThe product complies with the RoHS Directive 2011/65/EU and with (EU) 2015/863.\nManufacturer: Crash Test Industries GmbH`;
      const up = await http('POST', `/api/v1/products/${product.json.product_id}/documents`, keyOut, multipartBody({ name: `doc-${i}.txt`, bytes: Buffer.from(doc) }));
      expect(up.status).toBe(201);
    }
    let worker = dialect === 'postgres' ? runsJobs() : api;
    const batch = await http('POST', '/api/v1/compliance/batch/extract', keyOut, {
      payload: JSON.stringify({ product_ids: ids }),
      headers: { 'content-type': 'application/json' },
    });
    expect(batch.status).toBe(202);
    expect(batch.json.queued).toBe(50);
    const taskId = batch.json.task_id as string;
    const progress = async () => (await http('GET', `/api/v1/compliance/batch/${taskId}`, keyOut)).json;

    // Kill the job runner once some, but not all, extractions are done.
    await waitFor('some progress', async () => ((await progress()).counts.completed >= 3 ? true : undefined));
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    // Read the state the dead process left behind straight from the database.
    const left = await openForCheck();
    const counts = await left.db
      .selectFrom('extractions')
      .select(['status', (eb) => eb.fn.countAll<string | number>().as('n')])
      .where('task_id', '=', taskId)
      .groupBy('status')
      .execute();
    await left.close();
    const byStatus = Object.fromEntries(counts.map((c) => [c.status, Number(c.n)]));
    expect(byStatus.completed ?? 0).toBeGreaterThanOrEqual(3);
    expect(byStatus.completed ?? 0).toBeLessThan(50);

    worker = runsJobs();
    if (dialect === 'sqlite') {
      api = worker;
      await waitFor('the restarted API', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined));
    }
    const done = await waitFor(
      'the whole batch',
      async () => {
        const p = await progress();
        return p.status === 'completed' ? p : undefined;
      },
      120_000,
    );
    expect(done.counts).toEqual({ queued: 0, running: 0, completed: 50, failed: 0 });

    for (const id of ids) {
      const results = (await http('GET', `/api/v1/compliance/products/${id}/extraction-results`, keyOut)).json;
      expect(results.extractions).toHaveLength(1);
      expect(results.extractions[0].status).toBe('completed');
      const history = (await http('GET', `/api/v1/compliance/dpp/${id}/history`, keyOut)).json;
      const applied = history.items.filter((h: { source: string }) => h.source?.startsWith('extraction:'));
      expect(applied).toHaveLength(1);
    }
    worker.kill('SIGTERM');
    if (api !== worker) api.kill('SIGTERM');
  }, 180_000);
});
