import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL, dialects } from './helpers/db.js';

const run = promisify(execFile);
// The built CLI, as users run it (`npm test` builds first).
const CLI = path.resolve('dist/cli.js');

describe.each(dialects)('dpp CLI (%s)', (dialect) => {
  let env: Record<string, string>;
  let dir: string;
  let schema: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-cli-'));
    env = { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'silent' } as Record<string, string>;
    delete env.DATABASE_URL;
    if (dialect === 'postgres') {
      schema = `cli_${process.pid}_${Date.now()}`;
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.end();
      env.DATABASE_URL = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    }
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (dialect === 'postgres') {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    }
  });

  const dpp = (...args: string[]) => run(process.execPath, [CLI, ...args], { env });

  it('migrates, creates a key (printed alone on the last line), lists and revokes it', async () => {
    expect((await dpp('migrate')).stdout).toMatch(/0001-foundation|up to date/);
    const created = await dpp('keys', 'create', '--org', 'cli-org', '--scopes', 'read,write,admin');
    const lines = created.stdout.trimEnd().split('\n');
    const key = lines.at(-1)!;
    expect(key).toMatch(/^dpp_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.stdout.endsWith(key + '\n')).toBe(true);

    const listed = JSON.parse((await dpp('keys', 'list', '--org', 'cli-org', '--json')).stdout);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ prefix: key.split('_').slice(0, 2).join('_'), scopes: ['read', 'write', 'admin'], revoked_at: null });
    expect(JSON.stringify(listed)).not.toContain(key);

    await dpp('keys', 'revoke', listed[0].prefix);
    const after = JSON.parse((await dpp('keys', 'list', '--org', 'cli-org', '--json')).stdout);
    expect(after[0].revoked_at).not.toBeNull();
  });

  it('imports a CSV file and reports bad lines, exiting 2 when some rows failed', async () => {
    const file = path.join(dir, 'catalog.csv');
    fs.writeFileSync(file, 'sku,title,ean\nS-1,Kettle,4006381333931\nS-2,Toaster,123\nS-3,Fan,96385074\n');
    const ok = await dpp('keys', 'create', '--org', 'import-org');
    expect(ok.stdout).toMatch(/dpp_/);
    const failure = await dpp('import', file, '--org', 'import-org', '--json').catch((e: { code: number; stdout: string }) => e);
    expect((failure as { code: number }).code).toBe(2);
    const summary = JSON.parse((failure as { stdout: string }).stdout);
    expect(summary).toMatchObject({ created: 2, failed: 1, failures: [expect.objectContaining({ line: 3 })] });

    const again = await dpp('import', file, '--org', 'import-org').catch((e: { stdout: string }) => e);
    expect((again as { stdout: string }).stdout).toContain('0 created, 0 updated, 2 unchanged, 1 failed');
  });

  it('says which database it opened, and never creates an empty one outside `migrate`', async () => {
    // Run from another folder with the default DATA_DIR (./data there).
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-cli-elsewhere-'));
    const there = { ...env };
    delete there.DATA_DIR;
    const keys = await run(process.execPath, [CLI, 'keys', 'list', '--org', 'x'], { env: there, cwd: elsewhere }).catch((e) => e);
    if (dialect === 'sqlite') {
      expect(keys.code).toBe(1);
      expect(keys.stderr).toContain(`no database at ${path.join(elsewhere, 'data', 'dpp.sqlite')}`);
      expect(keys.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(fs.existsSync(path.join(elsewhere, 'data', 'dpp.sqlite'))).toBe(false);
      const migrated = await run(process.execPath, [CLI, 'migrate'], { env: there, cwd: elsewhere });
      expect(migrated.stderr).toContain(`database: SQLite ${path.join(elsewhere, 'data', 'dpp.sqlite')}`);
      expect(migrated.stdout).toContain('applied 0001-foundation');
    } else {
      expect(keys.stderr).toMatch(/database: PostgreSQL 127\.0\.0\.1:5432\/test/);
      expect(keys.stderr).not.toContain('postgres@');
    }
    fs.rmSync(elsewhere, { recursive: true, force: true });
  });

  it('explains a wrong eval-extraction path in one line', async () => {
    const res = await dpp('eval-extraction', '/no/such/folder').catch((e) => e);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe('error: /no/such/folder is not a folder (give the folder of labelled documents, e.g. ../shared/corpus/dev)');
    const noLabels = await dpp('eval-extraction', dir).catch((e) => e);
    expect(noLabels.stderr.trim()).toBe(`error: no labels file at ${path.join(dir, 'labels.json')} (pass --labels FILE)`);
  });

  it('serve: warns when public links will carry localhost, and runs the job worker on this database', async () => {
    const { spawn } = await import('node:child_process');
    const { key } = { key: (await dpp('keys', 'create', '--org', 'serve-org')).stdout.trim().split('\n').at(-1)! };
    const server = spawn(process.execPath, [CLI, 'serve'], { env: { ...env, PORT: '0', HOST: '0.0.0.0', LOG_LEVEL: 'info', DEMO_SEED: 'false' } });
    let log = '';
    server.stdout.on('data', (d) => (log += d));
    server.stderr.on('data', (d) => (log += d));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${log}`)), 20_000);
        server.stdout.on('data', () => {
          const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(log).toContain('PUBLIC_BASE_URL is not set');
      // A document queued through the API is extracted by this same process, on SQLite and PostgreSQL.
      const base = `http://127.0.0.1:${port}/api/v1`;
      const auth = { authorization: `Bearer ${key}` };
      const product: any = await (
        await fetch(`${base}/products`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Worker check' }) })
      ).json();
      const form = new FormData();
      form.set('file', new Blob(['EU Declaration of Conformity. Manufacturer: Example GmbH. The product bears the CE marking.'], { type: 'text/plain' }), 'doc.txt');
      expect((await fetch(`${base}/products/${product.product_id}/documents`, { method: 'POST', headers: auth, body: form })).status).toBe(201);
      const queued: any = await (await fetch(`${base}/compliance/products/${product.product_id}/extract-from-docs`, { method: 'POST', headers: auth })).json();
      expect(queued.status).toBe('queued');
      let task: { status?: string; counts?: { completed: number } } = {};
      for (let i = 0; i < 200 && task.status !== 'completed'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        task = (await (await fetch(`${base}/compliance/batch/${queued.task_id}`, { headers: auth })).json()) as typeof task;
      }
      expect(task).toMatchObject({ status: 'completed', counts: { completed: 1 } });
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  }, 60_000);

  it('refuses a bad configuration value naming the variable', async () => {
    const res = await run(process.execPath, [CLI, 'migrate'], { env: { ...env, PORT: 'x' } }).catch((e) => e);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('PORT');
  });
});
