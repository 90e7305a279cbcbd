/**
 * Backup benchmark: an organisation of N published passports (each signed, as the service publishes
 * them), exported with `backupChunks` to a file and imported with `importBackup` into a fresh
 * database, each in its own process so that its peak RSS is its own. Reports rows/s (records of the
 * backup per second) and peak RSS for export and import, on SQLite and/or PostgreSQL.
 *
 *   npx tsx bench/backup.ts [--passports 10000] [--dialect sqlite|postgres|both]
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createDatabase, type Database } from '../src/db/database.js';
import type { Dialect } from '../src/db/dialect.js';
import { createAccessService } from '../src/features/access/service.js';
import { backupChunks } from '../src/features/backup/export.js';
import { importBackup } from '../src/features/backup/import.js';
import { createCredentialService } from '../src/features/credentials/service.js';
import { createComplianceService } from '../src/features/passports/service.js';
import { createProductService } from '../src/features/products/service.js';
import { gtinCheckDigit } from '../src/lib/gtin.js';

const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BASE_URL = 'https://dpp.example.test';
const SELF = fileURLToPath(import.meta.url);

interface Target {
  dialect: Dialect;
  /** SQLite file, or PostgreSQL schema. */
  where: string;
}

async function open(target: Target): Promise<Database> {
  const database =
    target.dialect === 'sqlite' ? await createDatabase({ sqliteFile: target.where }) : await createDatabase({ databaseUrl: PG_URL, pgSchema: target.where, poolSize: 8 });
  await database.migrate();
  return database;
}

const PASSPORT = {
  manufacturer: 'Ma Marque',
  country_of_origin: 'FR',
  materials: [
    { name: 'Acier inoxydable', percentage: 80 },
    { name: 'Plastique recyclé', percentage: 20 },
  ],
  recyclability_score: 'A',
  certifications: ['CE', 'RoHS'],
  end_of_life_instructions: 'Recyclable via collecte sélective.',
};

/** N products, each with a complete passport published once. */
async function seed(target: Target, passports: number): Promise<void> {
  const database = await open(target);
  const { db } = database;
  await createAccessService(db).createKey({ org: 'bench-backup', scopes: 'admin' });
  const org = await createAccessService(db).requireOrganisation('bench-backup');
  const products = createProductService(db);
  const credentials = createCredentialService(db, { baseUrl: BASE_URL, signingSecret: undefined, validityDays: 365 });
  const compliance = createComplianceService(db, { publicBaseUrl: BASE_URL, credentials });
  const actor = { keyId: null, source: 'bench' };
  const concurrency = target.dialect === 'postgres' ? 8 : 1;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < passports; i = next++) {
        const body = String(400_000_000_000 + i).padStart(12, '0');
        const ean = `${body}${gtinCheckDigit(body)}`;
        const product = await products.create(org.id, { title: `Bouilloire inox modèle ${i}`, ean });
        await compliance.change(org.id, product.product_id, { ...PASSPORT, carbon_footprint_kg: 1 + (i % 50) / 10 }, { actor, createPassport: true });
        await compliance.publish(org.id, product.product_id, actor);
      }
    }),
  );
  console.log(`  seeded ${passports} published passports in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await database.close();
}

/** Child process: one export or import, then its figures as JSON on stdout. */
async function phase(kind: 'export' | 'import', target: Target, file: string): Promise<void> {
  const database = await open(target);
  const started = performance.now();
  let records = 0;
  if (kind === 'export') {
    const org = await createAccessService(database.db).requireOrganisation('bench-backup');
    await pipeline(
      Readable.from(backupChunks(database.db, { baseUrl: BASE_URL, signingSecret: undefined }, { orgId: org.id, actor: { keyId: null, source: 'cli' } })),
      fs.createWriteStream(file),
    );
    // The header's counts (reading the file back would weigh on this process's peak RSS).
    const fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(64 * 1024);
    const read = fs.readSync(fd, head, 0, head.length, 0);
    fs.closeSync(fd);
    const header = JSON.parse(head.subarray(0, read).toString('utf8').split('\n')[0]!) as { counts: Record<string, number> };
    records = Object.values(header.counts).reduce((a, b) => a + b, 0);
  } else {
    const summary = await importBackup(database.db, { signingSecret: undefined }, { file });
    records = Object.values(summary.counts).reduce((a, b) => a + (b ?? 0), 0);
  }
  const seconds = (performance.now() - started) / 1000;
  await database.close();
  process.stdout.write(JSON.stringify({ records, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

function runPhase(kind: 'export' | 'import', target: Target, file: string): { records: number; seconds: number; peakRssMb: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--phase', kind, '--dialect', target.dialect, '--where', target.where, '--file', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

async function main() {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const phaseKind = arg('phase');
  if (phaseKind === 'export' || phaseKind === 'import') {
    return phase(phaseKind, { dialect: arg('dialect') as Dialect, where: arg('where')! }, arg('file')!);
  }
  const passports = Number(arg('passports') ?? 10_000);
  const choice = arg('dialect') ?? 'both';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-bench-backup-'));
  console.log(`backup bench: ${passports} published passports, node ${process.version}, ${os.cpus().length} CPUs`);
  try {
    for (const dialect of (choice === 'both' ? ['sqlite', 'postgres'] : [choice]) as Dialect[]) {
      const tag = `${process.pid}_${Date.now()}`;
      const source: Target = dialect === 'sqlite' ? { dialect, where: path.join(dir, 'source.sqlite') } : { dialect, where: `bench_backup_src_${tag}` };
      const copy: Target = dialect === 'sqlite' ? { dialect, where: path.join(dir, 'copy.sqlite') } : { dialect, where: `bench_backup_dst_${tag}` };
      const file = path.join(dir, `backup-${dialect}.ndjson`);
      console.log(`${dialect}:`);
      try {
        await seed(source, passports);
        const exported = runPhase('export', source, file);
        const size = fs.statSync(file).size;
        console.log(
          `  export: ${exported.records} records in ${exported.seconds.toFixed(2)} s = ${Math.round(exported.records / exported.seconds)} rows/s, ` +
            `${(size / 1e6).toFixed(1)} MB, peak RSS ${exported.peakRssMb.toFixed(0)} MB`,
        );
        const imported = runPhase('import', copy, file);
        console.log(
          `  import: ${imported.records} records in ${imported.seconds.toFixed(2)} s = ${Math.round(imported.records / imported.seconds)} rows/s, peak RSS ${imported.peakRssMb.toFixed(0)} MB`,
        );
      } finally {
        if (dialect === 'postgres') {
          await dropSchema(source.where);
          await dropSchema(copy.where);
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
