/**
 * What signing costs a publish. Prints:
 * - the sign call alone (open the stored private JWK, import it, EdDSA-sign a UNTP credential), and the
 *   content hash alone (JCS + SHA-256 of a snapshot), each over 1,000 runs;
 * - one whole publish (the service's transaction: snapshot, history, stats, audit, and the hash) with and
 *   without the signed credential, over the same number of products each, interleaved.
 *
 *   npx tsx bench/signing.ts [--runs 1000] [--database-url postgres://…]   (SQLite in a temporary directory by default)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { createAccessService } from '../src/features/access/service.js';
import { createCredentialService, contentHash } from '../src/features/credentials/service.js';
import { generateSigningKey, openPrivateKey, sealPrivateKey, signCompact } from '../src/features/credentials/keys.js';
import { importJWK } from 'jose';
import { sql } from 'kysely';
import { toUntpCredential } from '../src/features/export/untp.js';
import { createComplianceService } from '../src/features/passports/service.js';
import type { PassportView } from '../src/features/passports/views.js';
import { COMPLETE_PASSPORT as COMPLETE } from '../test/helpers/fixtures.js';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const RUNS = Number(opt('runs') ?? 1000);
const databaseUrl = opt('database-url');
const BASE = 'https://dpp.example.test';

const stats = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  const mean = ms.reduce((s, x) => s + x, 0) / ms.length;
  return { mean, p50: sorted[Math.floor(sorted.length * 0.5)]!, p99: sorted[Math.floor(sorted.length * 0.99)]! };
};
const fmt = (label: string, ms: number[]) => {
  const s = stats(ms);
  console.log(`${label.padEnd(44)} mean ${s.mean.toFixed(3)} ms   p50 ${s.p50.toFixed(3)} ms   p99 ${s.p99.toFixed(3)} ms   (${ms.length} runs)`);
  return s;
};

const dir = mkdtempSync(path.join(tmpdir(), 'dpp-bench-signing-'));
const database = await createDatabase(databaseUrl ? { databaseUrl, pgSchema: `bench_signing_${process.pid}` } : { sqliteFile: path.join(dir, 'bench.sqlite') });
try {
  await database.migrate();
  const config = loadConfig({ DATA_DIR: dir, PUBLIC_BASE_URL: BASE, RATE_LIMIT: 'false', QR_WORKERS: '0', LOG_LEVEL: 'silent' });
  const app = await buildApp({ config, database, logger: false });
  const key = (await createAccessService(database.db).createKey({ org: 'bench-signing', scopes: 'read,write' })).key;
  const orgId = (await database.db.selectFrom('organisations').select('id').where('slug', '=', 'bench-signing').executeTakeFirstOrThrow()).id;
  const call = (method: 'POST' | 'PATCH', url: string, payload: object) => app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}` } });

  // Products with complete passports, half for each mode.
  const products: string[] = [];
  for (let i = 0; i < 2 * RUNS; i++) {
    const id = (await call('POST', '/api/v1/products', { title: `Produit ${i}` })).json().product_id as string;
    await call('PATCH', `/api/v1/compliance/dpp/${id}`, COMPLETE);
    products.push(id);
  }

  const credentials = createCredentialService(database.db, { baseUrl: BASE, signingSecret: config.signingSecret, validityDays: 3650 });
  const signed = createComplianceService(database.db, { publicBaseUrl: BASE, credentials });
  const unsigned = createComplianceService(database.db, { publicBaseUrl: BASE });
  const actor = { keyId: null, source: 'bench' };

  // Warm-up (JIT, prepared statements, the organisation's key and status list).
  await signed.publish(orgId, products.pop()!, actor);
  await unsigned.publish(orgId, products.pop()!, actor);

  const withSigning: number[] = [];
  const withoutSigning: number[] = [];
  for (let i = 0; i + 1 < products.length; i += 2) {
    let t0 = performance.now();
    await unsigned.publish(orgId, products[i]!, actor);
    withoutSigning.push(performance.now() - t0);
    t0 = performance.now();
    await signed.publish(orgId, products[i + 1]!, actor);
    withSigning.push(performance.now() - t0);
  }

  // The sign call alone, on a credential as publish builds it.
  const snapshotRow = await database.db.selectFrom('passport_publications').select(['snapshot', 'published_at']).limit(1).executeTakeFirstOrThrow();
  const snapshot = JSON.parse(snapshotRow.snapshot) as PassportView;
  const vc = toUntpCredential({ passport: snapshot, gtin14: null, status: 'published', publishedVersion: 1, publishedAt: snapshotRow.published_at, baseUrl: BASE });
  const k = await generateSigningKey();
  const stored = sealPrivateKey(k.privateJwk, k.kid, config.signingSecret);
  const signOnly: number[] = [];
  const hashOnly: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let t0 = performance.now();
    // Uncached: open and import the stored key every time (the service keeps imported keys per process).
    await signCompact(vc, await importJWK(openPrivateKey(stored, k.kid, config.signingSecret), 'EdDSA'), { typ: 'vc+jwt', cty: 'vc', kid: `did:web:x#${k.kid}` });
    signOnly.push(performance.now() - t0);
    t0 = performance.now();
    contentHash(snapshot);
    hashOnly.push(performance.now() - t0);
  }

  console.log(`bench/signing.ts on ${database.dialect}, Node ${process.version}`);
  fmt('sign call (open key, import, EdDSA sign)', signOnly);
  fmt('content hash (JCS + SHA-256)', hashOnly);
  const a = fmt('publish without signing (hash only)', withoutSigning);
  const b = fmt('publish with signed credential', withSigning);
  console.log(`signing adds ${(b.mean - a.mean).toFixed(3)} ms per publish (mean), ×${(b.mean / a.mean).toFixed(2)}`);
  await app.close();
} finally {
  if (databaseUrl) await sql.raw(`drop schema if exists bench_signing_${process.pid} cascade`).execute(database.db);
  await database.close();
  rmSync(dir, { recursive: true, force: true });
}
