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

  it('refuses a bad configuration value naming the variable', async () => {
    const res = await run(process.execPath, [CLI, 'migrate'], { env: { ...env, PORT: 'x' } }).catch((e) => e);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('PORT');
  });
});
