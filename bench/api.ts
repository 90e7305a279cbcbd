/**
 * HTTP API benchmark: seeds N products (half with passports) into a fresh SQLite file and/or a fresh
 * PostgreSQL schema, runs the built service as its own process (`node dist/cli.js serve`), and measures
 * throughput and latency with wrk (loopback only) on:
 *   1. GET /api/v1/compliance/dpp/{id}           random ids that have a passport
 *   2. GET /api/v1/compliance/dpp/products?search=<word>   a title word in ~1–2% of the products
 *   3. GET /api/v1/compliance/dpp/products?has_dpp=true&page=200
 *   4. GET /api/v1/compliance/dpp/stats
 *   5. 2–4 again on a second service process with its result cache off (RESULT_CACHE_ITEMS=0): the cost
 *      of a request that is not a repeat, since 2–4 repeat one URL and so hit the cache after the first
 *   6. a bare Fastify process answering a real passport from memory (the ceiling)
 *   7. first-time searches: a different query on every request (title words and word pairs), on the
 *      cache-off service, at --cold-connections (default 4): the latency a user typing a new search sees
 *
 * --workers N (PostgreSQL; default 1) runs the service as `dpp serve --workers N` (node:cluster: a primary and
 * N workers sharing the port), the result-cache-off service likewise, and the ceiling as N bare processes on
 * one port (bench/lib/bare-cluster.ts, node:cluster the same way), so passport ÷ bare compares like with like.
 * The server CPU column then covers the primary and its workers. SQLite stays one process (the service
 * refuses --workers there), so --workers > 1 applies to --dialect postgres only.
 *
 *   npx tsx bench/api.ts [--dialect sqlite|postgres|both] [--products 1000000] [--duration 10]
 *                        [--warmup 2] [--connections 32] [--cold-connections 4] [--threads 2] [--workers 1] [--quiet-wait 180] [--profile] [--explain] [--keep] [--skip-build]
 *
 * --profile runs the service under `node --cpu-prof` (numbers are then lower) and prints where it spends CPU;
 * --quiet-wait: before each scenario, wait up to S seconds for the machine to be idle (other benchmarks on a
 * 2-core machine distort the numbers; the "other CPU" column shows what still ran). 0 disables.
 * --keep keeps the seeded database (the temp directory, and the PostgreSQL schema) with a bench-meta.json;
 * --reuse-sqlite DIR / --reuse-postgres DIR measure such a kept database again without seeding (and keep it).
 * --service-root DIR runs DIR/dist/cli.js as the service (built there; e.g. a checkout with a candidate change).
 * --rounds N runs the scenarios N times in turn and reports medians (this machine's speed drifts by ±30 %).
 * --only passport,bare runs just those scenarios (names: passport, search, list, stats, search-uncached,
 * search-cold, list-uncached, stats-uncached, bare).
 * --explain prints the plans and in-process timings of the queries behind scenarios (also done when a target fails).
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 * Logs, plans, profiles and a JSON summary go to bench/results/api-<timestamp>/ (git-ignored);
 * the database and wrk scripts live in os.tmpdir() and are removed at the end (unless --keep).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { createDatabase, type Database } from '../src/db/database.js';
import type { Dialect } from '../src/db/dialect.js';
import { explainEndpoints } from './lib/explain.js';
import { descendantCpuMeter, descendants, waitBareWorkers, waitServiceWorkers } from './lib/cluster.js';
import { cpuMeter, freePort, killChildren, run, startServer, waitQuiet, type Server } from './lib/procs.js';
import { summariseProfile } from './lib/profile.js';
import { checkCounters, seedPassports, seedProducts } from './lib/seed.js';
import { twinCheck } from './lib/twins.js';
import { fixedScript, randomIdScript, runWrk, wrkAvailable, type WrkResult } from './lib/wrk.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PG_BASE = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Options {
  dialects: Dialect[];
  products: number;
  duration: number;
  warmup: number;
  connections: number;
  threads: number;
  /** Service processes (`dpp serve --workers N`) and bare processes; PostgreSQL only when > 1. */
  workers: number;
  profile: boolean;
  explain: boolean;
  keep: boolean;
  skipBuild: boolean;
  quietWait: number;
  /** A directory kept by an earlier --keep run, per dialect: measure its data again without seeding. */
  reuse: Partial<Record<Dialect, string>>;
  /** Project whose dist/cli.js is run as the service (another checkout, e.g. to measure a candidate change). */
  serviceRoot: string;
  /** Times to run the scenarios, alternating; figures are medians over rounds. */
  rounds: number;
  /** Connections for the first-time-search scenario (search-cold). */
  coldConnections: number;
  /** Scenario names to run (passport, search, list, stats, bare); all when absent. */
  only?: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    dialects: ['sqlite', 'postgres'],
    products: 1_000_000,
    duration: 10,
    warmup: 2,
    connections: 32,
    threads: 2,
    workers: 1,
    profile: false,
    explain: false,
    keep: false,
    skipBuild: false,
    quietWait: 180,
    rounds: 1,
    coldConnections: 4,
    reuse: {},
    serviceRoot: ROOT,
  };
  const usage =
    'usage: npx tsx bench/api.ts [--dialect sqlite|postgres|both] [--products N] [--duration S] [--warmup S] [--connections C] [--threads T] [--workers N] [--quiet-wait S] [--profile] [--explain] [--keep] [--reuse-sqlite DIR] [--reuse-postgres DIR] [--service-root DIR] [--skip-build]';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const positive = (name: string, allowZero = false) => {
      const n = Number(value().replace(/[_,]/g, ''));
      if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new Error(`${name} must be a positive number`);
      return n;
    };
    switch (flag) {
      case '--dialect': {
        const d = value();
        if (d === 'both') o.dialects = ['sqlite', 'postgres'];
        else if (d === 'sqlite' || d === 'postgres') o.dialects = [d];
        else throw new Error('--dialect must be sqlite, postgres or both');
        break;
      }
      case '--products':
        o.products = Math.round(positive('--products'));
        if (o.products < 1000) throw new Error('--products must be at least 1000');
        break;
      case '--duration':
        o.duration = Math.round(positive('--duration'));
        break;
      case '--warmup':
        o.warmup = Math.round(positive('--warmup', true));
        break;
      case '--connections':
        o.connections = Math.round(positive('--connections'));
        break;
      case '--cold-connections':
        o.coldConnections = Math.round(positive('--cold-connections'));
        break;
      case '--threads':
        o.threads = Math.round(positive('--threads'));
        break;
      case '--workers':
        o.workers = Math.round(positive('--workers'));
        break;
      case '--quiet-wait':
        o.quietWait = Math.round(positive('--quiet-wait', true));
        break;
      case '--profile':
        o.profile = true;
        break;
      case '--explain':
        o.explain = true;
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--reuse-sqlite':
      case '--reuse-postgres': {
        const dir = path.resolve(value());
        if (!fs.existsSync(path.join(dir, 'bench-meta.json'))) throw new Error(`${dir} holds no bench-meta.json (made by --keep)`);
        o.reuse[flag === '--reuse-sqlite' ? 'sqlite' : 'postgres'] = dir;
        break;
      }
      case '--service-root':
        o.serviceRoot = path.resolve(value());
        if (!fs.existsSync(path.join(o.serviceRoot, 'dist', 'cli.js'))) throw new Error(`${o.serviceRoot}/dist/cli.js does not exist`);
        break;
      case '--rounds':
        o.rounds = positive('--rounds');
        break;
      case '--only':
        o.only = value().split(',');
        break;
      case '--skip-build':
        o.skipBuild = true;
        break;
      case '--help':
      case '-h':
        console.log(usage);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${arg}\n${usage}`);
    }
  }
  if (o.workers > 1 && o.dialects.includes('sqlite')) throw new Error('--workers > 1 needs --dialect postgres (SQLite serves from one process)');
  if (o.workers > 1 && o.profile) throw new Error('--profile profiles one process: use it without --workers');
  return o;
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const resultsDir = path.join(ROOT, 'bench', 'results', `api-${stamp}`);
fs.mkdirSync(resultsDir, { recursive: true });
const logFile = path.join(resultsDir, 'run.log');
function log(line = '') {
  console.log(line);
  fs.appendFileSync(logFile, line + '\n');
}
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Scenario {
  name: string;
  label: string;
  result: WrkResult;
  round: number;
  cpu: { serverPct: number; postgresPct: number; otherPct: number; machinePct: number };
}

interface Meta {
  products: number;
  seededAt: string;
  schema?: string;
  search: { word: string; products: number };
  seeding: DialectResult['seeding'];
}

interface DialectResult {
  dialect: Dialect;
  workers: number;
  products: number;
  reused: boolean;
  seeding: { importSec: number; passportsSec: number; maintenanceSec: number; totalSec: number; passports: number };
  search: { word: string; generated: number; apiTotal: number };
  scenarios: Scenario[];
  twins: { ok: boolean; lines: string[] };
  counters: string[];
  targets: Array<{ text: string; pass: boolean }>;
  profile?: string;
  explain?: string;
}

function table(r: DialectResult): string {
  const head = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'p90 ms', 'max ms', 'sock err', 'server CPU', 'pg CPU', 'other CPU', 'machine'];
  const rows = r.scenarios.map((s) => [
    s.label,
    fmtInt(s.result.rps),
    s.result.p50ms.toFixed(2),
    s.result.p99ms.toFixed(2),
    String(s.result.non2xx),
    s.result.p90ms.toFixed(2),
    s.result.maxMs.toFixed(1),
    String(s.result.socketErrors),
    `${s.cpu.serverPct.toFixed(0)}%`,
    r.dialect === 'postgres' ? `${s.cpu.postgresPct.toFixed(0)}%` : '-',
    `${s.cpu.otherPct.toFixed(0)}%`,
    `${s.cpu.machinePct.toFixed(0)}%`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// One dialect
// ---------------------------------------------------------------------------------------------

async function pgAdmin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_BASE });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** PIDs of the PostgreSQL backends of the service (its connections carry application_name = the schema). */
async function backendPids(schema: string): Promise<number[]> {
  return pgAdmin(async (c) => (await c.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [schema])).rows.map((r) => r.pid));
}

/** Removal of temporary data still to do if the run is interrupted. */
const pendingCleanups = new Set<() => Promise<void>>();

async function runDialect(dialect: Dialect, o: Options): Promise<DialectResult> {
  log(`\n=== ${dialect}: ${o.reuse[dialect] ? `reusing ${o.reuse[dialect]}` : `${fmtInt(o.products)} products`} ===`);
  const reuse = o.reuse[dialect];
  const meta = reuse ? (JSON.parse(fs.readFileSync(path.join(reuse, 'bench-meta.json'), 'utf8')) as Meta) : undefined;
  const tmp = reuse ?? fs.mkdtempSync(path.join(os.tmpdir(), `dpp-api-bench-${dialect}-`));
  const schema = dialect === 'postgres' ? (meta?.schema ?? `bench_api_${randomBytes(5).toString('hex')}`) : undefined;
  const keep = o.keep || reuse !== undefined;
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATA_DIR: tmp, DEMO_SEED: 'false' };
  delete env.DATABASE_URL;
  if (schema) {
    if (!meta) await pgAdmin((c) => c.query(`create schema ${schema}`));
    // application_name tells this service's PostgreSQL backends apart (for their CPU time).
    env.DATABASE_URL = `${PG_BASE}?options=-c%20search_path%3D${schema}&application_name=${schema}`;
    log(`postgres schema ${schema}`);
  } else {
    log(`sqlite ${path.join(tmp, 'dpp.sqlite')}`);
  }
  let database: Database | undefined;
  const servers: Server[] = [];
  const cleanup = async () => {
    if (schema) await pgAdmin((c) => c.query(`drop schema if exists ${schema} cascade`)).catch((e) => log(`could not drop schema ${schema}: ${e}`));
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  if (!keep) pendingCleanups.add(cleanup);
  try {
    const cli = path.join(o.serviceRoot, 'dist', 'cli.js');
    await run(process.execPath, [cli, 'migrate'], env, o.serviceRoot);
    const keyOut = await run(process.execPath, [cli, 'keys', 'create', '--org', 'bench', '--scopes', 'read,write'], env, o.serviceRoot);
    const key = keyOut.stdout.trim().split('\n').pop()!.trim();
    const keyId = /^dpp_([0-9a-f]{12})_/.exec(key)?.[1];
    if (!keyId) throw new Error(`keys create printed no key: ${keyOut.stdout}`);

    database = await createDatabase(schema ? { databaseUrl: PG_BASE, pgSchema: schema } : { sqliteFile: path.join(tmp, 'dpp.sqlite') });
    const db = database.db;
    const org = await db.selectFrom('organisations').select('id').where('slug', '=', 'bench').executeTakeFirstOrThrow();

    // ---- seeding
    let seeded: Meta;
    let passportIds: string[];
    if (meta) {
      seeded = meta;
      log(`reusing the data seeded at ${meta.seededAt} (seeding took ${meta.seeding.totalSec.toFixed(1)} s then)`);
      passportIds = (
        await db
          .selectFrom('products')
          .select('id')
          .where('org_id', '=', org.id)
          .where('has_dpp', '=', dialect === 'postgres' ? true : 1)
          .execute()
      ).map((r) => r.id);
    } else {
      const t0 = performance.now();
      log('seeding products through importProducts (CSV stream)…');
      const imported = await seedProducts(db, org.id, o.products, log);
      log(`  imported ${fmtInt(o.products)} products in ${imported.seconds.toFixed(1)} s (${fmtInt(o.products / imported.seconds)} rows/s)`);
      log('seeding passports (direct inserts, one transaction per 2,000 passports)…');
      const passports = await seedPassports(db, dialect, org.id, log);
      const c = passports.counters;
      log(
        `  ${fmtInt(passports.ids.length)} passports in ${passports.seconds.toFixed(1)} s: ${fmtInt(c.draft)} draft, ${fmtInt(c.complete)} complete, ${fmtInt(c.published)} published; ` +
          `${c.certs.size} certification codes`,
      );
      const tm = performance.now();
      if (dialect === 'postgres') {
        // Steady state after a bulk load: what autovacuum would do shortly anyway, done now so it does not run during the measurements.
        await sql`vacuum (analyze) products`.execute(db);
        await sql`vacuum (analyze) compliance_records`.execute(db);
        await sql`vacuum (analyze) passport_publications`.execute(db);
      } else {
        // Fold the WAL back into the database file. (No ANALYZE: the service never runs it, so the plans are the ones it gets.)
        await sql`pragma wal_checkpoint(truncate)`.execute(db);
      }
      const maintenanceSec = (performance.now() - tm) / 1000;
      const totalSec = (performance.now() - t0) / 1000;
      log(`  ${dialect === 'postgres' ? 'vacuum analyze' : 'wal checkpoint'} ${maintenanceSec.toFixed(1)} s; seeding total ${totalSec.toFixed(1)} s`);
      passportIds = passports.ids;
      seeded = {
        products: o.products,
        seededAt: new Date().toISOString(),
        ...(schema ? { schema } : {}),
        search: imported.search,
        seeding: { importSec: imported.seconds, passportsSec: passports.seconds, maintenanceSec, totalSec, passports: passports.ids.length },
      };
      if (keep) fs.writeFileSync(path.join(tmp, 'bench-meta.json'), JSON.stringify(seeded, null, 2));
    }
    const imported = { search: seeded.search };
    if (dialect === 'sqlite') {
      const size = fs.statSync(path.join(tmp, 'dpp.sqlite')).size;
      log(`  database file ${(size / 2 ** 20).toFixed(0)} MB`);
    }

    // ---- ids for the passport scenario
    const sample = [...passportIds];
    for (let i = sample.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [sample[i], sample[j]] = [sample[j]!, sample[i]!];
    }
    const idsFile = path.join(tmp, 'passport-ids.txt');
    fs.writeFileSync(idsFile, sample.slice(0, 100_000).join('\n') + '\n');

    // ---- the service
    // With --profile, every service scenario gets a service process of its own, run under --cpu-prof.
    const profDir = (scenario: string) => path.join(resultsDir, `cpu-profile-${dialect}-${scenario}`);
    const startService = async (profile?: string) => {
      const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir(profile)}`] : [];
      const s = await startServer([...flags, cli, 'serve', ...(o.workers > 1 ? ['--workers', String(o.workers)] : [])], env, o.serviceRoot, port, '/readyz');
      servers.push(s);
      if (o.workers > 1) await waitServiceWorkers(s, o.workers);
      return s;
    };
    let service = await startService();
    log(`service pid ${service.child.pid} on ${service.url}${o.workers > 1 ? ` (cluster primary; workers ${descendants(service.child.pid!).join(', ')})` : ''}`);
    const auth = { authorization: `Bearer ${key}` };
    const get = async (p: string) => {
      const r = await fetch(service.url + p, { headers: auth });
      const text = await r.text();
      if (r.status !== 200) throw new Error(`GET ${p} answered ${r.status}: ${text}`);
      return text;
    };

    log('checking direct inserts against the API path (PATCH passport + PATCH environmental + publish):');
    const twins = await twinCheck(db, dialect, org.id, service.url, key);
    for (const l of twins.lines) log(l);

    const passportJson = await get(`/api/v1/compliance/dpp/${sample[0]}`);
    const bodyFile = path.join(tmp, 'passport.json');
    fs.writeFileSync(bodyFile, passportJson);
    const searchPath = `/api/v1/compliance/dpp/products?search=${encodeURIComponent(imported.search.word)}`;
    const apiTotal = (JSON.parse(await get(searchPath)) as { total: number }).total;
    log(
      `search word "${imported.search.word}": in ${fmtInt(imported.search.products)} generated titles, the API counts ${fmtInt(apiTotal)} matching products ` +
        `(${((apiTotal / seeded.products) * 100).toFixed(2)}%)`,
    );
    const listPath = '/api/v1/compliance/dpp/products?has_dpp=true&page=200';
    const list = JSON.parse(await get(listPath)) as { items: unknown[]; total: number };
    log(`list page 200: ${list.items.length} items of ${fmtInt(list.total)}; passport response ${Buffer.byteLength(passportJson)} bytes`);

    // ---- the ceiling
    const barePort = await freePort();
    // N > 1: N bare processes on one port through node:cluster, as the service runs.
    const bareScript = path.join(ROOT, 'bench', 'lib', o.workers > 1 ? 'bare-cluster.ts' : 'bare-server.ts');
    const bareEnv = { ...process.env, PORT: String(barePort), BODY_FILE: bodyFile, WORKERS: String(o.workers) };
    const bare = await startServer(['--import', 'tsx', bareScript], bareEnv, ROOT, barePort, '/healthz');
    servers.push(bare);
    if (o.workers > 1) await waitBareWorkers(bare, o.workers);

    // ---- first-time searches: words and word pairs of real titles, each URL different, on the service
    // with its result cache off, so every request runs its query (the search as a user types it anew).
    const coldQueries = await firstTimeSearches(db, org.id, 20_000);
    const coldFile = path.join(tmp, 'cold-searches.txt');
    fs.writeFileSync(coldFile, coldQueries.join('\n') + '\n');
    log(
      `first-time searches: ${fmtInt(coldQueries.length)} different queries (e.g. ${coldQueries
        .slice(0, 3)
        .map((q) => `"${decodeURIComponent(q)}"`)
        .join(', ')})`,
    );

    // ---- wrk
    const idScript = randomIdScript(tmp, idsFile, '/api/v1/compliance/dpp/');
    const coldScript = randomIdScript(tmp, coldFile, '/api/v1/compliance/dpp/products?search=', 'cold-searches.lua');
    const fixed = fixedScript(tmp);
    // The same service with its result cache off: what a search, list or stats request costs when it
    // is not a repeat (the cached scenarios above repeat one URL, so after the first request they hit).
    const uncachedPort = await freePort();
    const uncached = await startServer(
      [cli, 'serve', ...(o.workers > 1 ? ['--workers', String(o.workers)] : [])],
      { ...env, PORT: String(uncachedPort), RESULT_CACHE_ITEMS: '0' },
      o.serviceRoot,
      uncachedPort,
      '/readyz',
    );
    servers.push(uncached);
    if (o.workers > 1) await waitServiceWorkers(uncached, o.workers);

    type Target = 'service' | 'uncached' | 'bare';
    const scenarios: Array<{ name: string; label: string; target: Target; path: string; script: string }> = [
      { name: 'passport', label: 'GET /compliance/dpp/{id}', target: 'service', path: `/api/v1/compliance/dpp/${sample[0]}`, script: idScript },
      // Right after the passport run: this machine's speed drifts by tens of percent within a minute, and
      // the target is the ratio of the two.
      { name: 'bare', label: 'bare Fastify, passport from memory', target: 'bare', path: `/api/v1/compliance/dpp/${sample[0]}`, script: idScript },
      { name: 'search', label: `GET /compliance/dpp/products?search=${imported.search.word}`, target: 'service', path: searchPath, script: fixed },
      { name: 'list', label: 'GET /compliance/dpp/products?has_dpp=true&page=200', target: 'service', path: listPath, script: fixed },
      { name: 'stats', label: 'GET /compliance/dpp/stats', target: 'service', path: '/api/v1/compliance/dpp/stats', script: fixed },
      { name: 'search-uncached', label: '  same search, result cache off', target: 'uncached', path: searchPath, script: fixed },
      {
        name: 'search-cold',
        label: `  first-time searches (a different query each time, ${o.coldConnections} connections)`,
        target: 'uncached',
        path: '/api/v1/compliance/dpp/products?search=x',
        script: coldScript,
      },
      { name: 'list-uncached', label: '  same list page, result cache off', target: 'uncached', path: listPath, script: fixed },
      { name: 'stats-uncached', label: '  same stats, result cache off', target: 'uncached', path: '/api/v1/compliance/dpp/stats', script: fixed },
    ];
    const results: Scenario[] = [];
    const profiles: string[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      if (o.rounds > 1) log(`  round ${round} of ${o.rounds}`);
      for (const s of scenarios) {
        if (o.only && !o.only.includes(s.name)) continue;
        const profiled = o.profile && s.target === 'service';
        if (profiled) {
          await service.stop();
          servers.splice(servers.indexOf(service), 1);
          service = await startService(s.name);
        }
        const target = { service, uncached, bare }[s.target];
        // Uncached searches queue for seconds at 32 connections: measure them rather than time them out.
        const connections = s.name === 'search-cold' ? o.coldConnections : o.connections;
        const common = {
          url: target.url + s.path,
          script: s.script,
          threads: Math.min(o.threads, connections),
          connections,
          headers: auth,
          timeoutSec: s.target === 'uncached' ? 15 : 5,
        };
        if (o.quietWait > 0) {
          const q = await waitQuiet(o.quietWait);
          if (q.waited > 2.5) log(`  (waited ${q.waited.toFixed(0)} s for other work on the machine to stop; busy ${q.busyPct.toFixed(0)}% at start)`);
        }
        if (o.warmup > 0) await runWrk({ ...common, seconds: o.warmup });
        const meter = cpuMeter(target.child.pid!);
        const workerMeter = descendantCpuMeter(target.child.pid!);
        const result = await runWrk({ ...common, seconds: o.duration });
        const cpu = meter(schema ? await backendPids(schema) : []);
        // A cluster's workers are the primary's children: count them as the server, not as other work.
        const workersPct = workerMeter();
        cpu.serverPct += workersPct;
        cpu.otherPct = Math.max(0, cpu.otherPct - workersPct);
        if (profiled) {
          await service.stop();
          servers.splice(servers.indexOf(service), 1);
          const dir = profDir(s.name);
          const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
          const summary = files.length ? summariseProfile(path.join(dir, files[0]!)) : 'no profile written';
          profiles.push(`--- ${s.name} (${s.label}) ---\n${summary}`);
          service = await startService();
        }
        fs.writeFileSync(path.join(resultsDir, `wrk-${dialect}-${s.name}.txt`), result.raw);
        log(
          `  ${s.name.padEnd(8)} ${fmtInt(result.rps).padStart(7)} req/s  p50 ${result.p50ms.toFixed(2)} ms  p99 ${result.p99ms.toFixed(2)} ms  non-2xx ${result.non2xx}  ` +
            `server CPU ${cpu.serverPct.toFixed(0)}%${dialect === 'postgres' ? `  postgres CPU ${cpu.postgresPct.toFixed(0)}%` : ''}  other CPU ${cpu.otherPct.toFixed(0)}%  machine ${cpu.machinePct.toFixed(0)}%`,
        );
        results.push({ name: s.name, label: s.label, result, cpu, round });
      }
    }

    // ---- targets
    // With --rounds, every figure is the median over the rounds, and the passport/bare ratio the median
    // of each round's ratio (the two ran a few seconds apart, so machine noise hits both alike).
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    const ran = (n: string) => results.some((r) => r.name === n);
    const by = (n: string) => {
      const runs = results.filter((r) => r.name === n).map((r) => r.result);
      const rps = median(runs.map((r) => r.rps));
      return { ...runs.find((r) => r.rps === rps)!, p99ms: median(runs.map((r) => r.p99ms)) };
    };
    const targets: Array<{ text: string; pass: boolean }> = [];
    if (ran('passport') && ran('bare')) {
      const ratios = [...new Set(results.map((r) => r.round))].map((round) => {
        const of = (n: string) => results.find((r) => r.round === round && r.name === n)!.result.rps;
        return of('passport') / of('bare');
      });
      const ratio = median(ratios);
      const needed = dialect === 'sqlite' ? 0.5 : 0.4;
      const perRound = ratios.length > 1 ? ` (median of ${ratios.length} rounds: ${ratios.map((r) => `${(r * 100).toFixed(1)}%`).join(', ')})` : '';
      targets.push({
        text: `passport GET ${fmtInt(by('passport').rps)} req/s = ${(ratio * 100).toFixed(1)}% of bare ${fmtInt(by('bare').rps)} req/s${perRound} (target ≥ ${needed * 100}%)`,
        pass: ratio >= needed,
      });
    }
    if (dialect === 'sqlite') {
      // Only the scenarios this run measured (--only).
      for (const [name, limit] of [
        ['list', 25],
        ['search', 25],
        ['stats', 10],
      ] as const) {
        if (ran(name)) targets.push({ text: `${name} p99 ${by(name).p99ms.toFixed(2)} ms (target < ${limit} ms)`, pass: by(name).p99ms < limit });
      }
    }
    if (ran('search-cold')) {
      const cold = by('search-cold');
      targets.push({
        text: `first-time search p99 ${cold.p99ms.toFixed(2)} ms at ${o.coldConnections} connections, ${fmtInt(cold.rps)} req/s (target ≤ 25 ms)`,
        pass: cold.p99ms <= 25,
      });
    }
    const bad = results.filter((r) => r.result.non2xx > 0 || r.result.socketErrors > 0);
    targets.push({ text: `no non-2xx responses or socket errors${bad.length ? ` (not so in: ${bad.map((b) => b.name).join(', ')})` : ''}`, pass: bad.length === 0 });
    targets.push({ text: 'direct inserts match the API path', pass: twins.ok });

    for (const s of servers.splice(0)) await s.stop();

    const counters = await checkCounters(db, dialect, org.id);
    targets.push({ text: `counters (org_stats, org_certifications) match a recount${counters.length ? `: ${counters.join('; ')}` : ''}`, pass: counters.length === 0 });

    const result: DialectResult = {
      dialect,
      workers: o.workers,
      products: seeded.products,
      reused: meta !== undefined,
      seeding: seeded.seeding,
      search: { word: imported.search.word, generated: imported.search.products, apiTotal },
      scenarios: results,
      twins,
      counters,
      targets,
    };
    if (o.profile) {
      result.profile = `CPU profiles of the service (one process per scenario, warm-up included; numbers above are under the profiler):\n${profiles.join('\n\n')}`;
      fs.writeFileSync(path.join(resultsDir, `cpu-profile-${dialect}.txt`), result.profile);
    }
    if (o.explain || targets.some((t) => !t.pass)) {
      result.explain = await explainEndpoints(
        { dialect, sqliteFile: path.join(tmp, 'dpp.sqlite'), databaseUrl: PG_BASE, ...(schema ? { pgSchema: schema } : {}) },
        { orgId: org.id, keyId, productId: sample[1]!, searchWord: imported.search.word, listPage: 200 },
      );
      fs.writeFileSync(path.join(resultsDir, `explain-${dialect}.txt`), result.explain);
    }
    return result;
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
    await database?.close().catch(() => undefined);
    if (!keep) {
      pendingCleanups.delete(cleanup);
      await cleanup();
    } else {
      log(`kept ${tmp}${schema ? ` and schema ${schema}` : ''}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!wrkAvailable()) throw new Error('wrk is not installed (Debian: apt-get install -y wrk)');
  log(`bench/api.ts ${process.argv.slice(2).join(' ')}`);
  log(
    `node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
      `wrk -t${o.threads} -c${o.connections} on the same machine, ${o.workers} service/bare process${o.workers > 1 ? 'es' : ''}, ${o.duration} s per scenario after ${o.warmup} s warm-up; load average ${os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
  );
  if (!o.skipBuild) {
    log('building: npx tsc -p tsconfig.build.json');
    await run('npx', ['tsc', '-p', 'tsconfig.build.json'], process.env, o.serviceRoot);
  }
  const all: DialectResult[] = [];
  for (const d of o.dialects) all.push(await runDialect(d, o));

  log('\n================ results ================');
  for (const r of all) {
    const s = r.seeding;
    log(
      `\n${r.dialect} — ${fmtInt(r.products)} products, ${fmtInt(s.passports)} with passports; ${r.workers} service process${r.workers > 1 ? `es (dpp serve --workers ${r.workers}) and ${r.workers} bare processes (node:cluster)` : ' and 1 bare process'}`,
    );
    log(
      `seeding${r.reused ? ' (reused data; its seeding took)' : ''}: import ${s.importSec.toFixed(1)} s (${fmtInt(r.products / s.importSec)} rows/s) + passports ${s.passportsSec.toFixed(1)} s ` +
        `+ ${r.dialect === 'postgres' ? 'vacuum analyze' : 'checkpoint'} ${s.maintenanceSec.toFixed(1)} s = ${s.totalSec.toFixed(1)} s`,
    );
    log(`search "${r.search.word}" matches ${fmtInt(r.search.apiTotal)} products (${((r.search.apiTotal / r.products) * 100).toFixed(2)}%)`);
    log(table(r));
    log(
      '(CPU columns: % of one core over the measured run — the server process (with its cluster workers), its PostgreSQL backends, and every other process on the machine except wrk; machine: % of all cores)',
    );
    for (const t of r.targets) log(`${t.pass ? 'PASS' : 'FAIL'}  ${t.text}`);
    if (r.profile) log(`\n${r.profile}`);
    if (r.explain) log(`\nqueries behind the scenarios (${r.dialect}):\n${r.explain}`);
  }
  fs.writeFileSync(
    path.join(resultsDir, 'summary.json'),
    JSON.stringify(
      all.map((r) => ({ ...r, scenarios: r.scenarios.map((s) => ({ ...s, result: { ...s.result, raw: undefined } })) })),
      null,
      2,
    ),
  );
  log(`\nlogs, wrk output${all.some((r) => r.profile) ? ', profiles' : ''}${all.some((r) => r.explain) ? ', plans' : ''} and summary.json in ${path.relative(ROOT, resultsDir)}/`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killChildren();
    console.error(`\n${signal}: removing temporary data…`);
    Promise.allSettled([...pendingCleanups].map((c) => c())).then(() => process.exit(130));
  });
}
main().catch((e: unknown) => {
  killChildren();
  console.error(e);
  process.exit(1);
});

/**
 * Search queries as users type them: single title words (3+ letters, from rare to common) and pairs of
 * words from one title, taken from a spread of the organisation's products, URL-encoded, shuffled.
 */
async function firstTimeSearches(db: Database['db'], orgId: string, max: number): Promise<string[]> {
  const rows = await db.selectFrom('products').select('title').where('org_id', '=', orgId).orderBy('id').limit(5000).execute();
  const singles = new Set<string>();
  const pairs = new Set<string>();
  for (const { title } of rows) {
    const words = title
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((w) => w.length >= 3);
    for (const w of words) singles.add(w);
    if (words.length >= 2) pairs.add(`${words[0]} ${words[words.length - 1]}`);
  }
  const all = [...singles, ...pairs];
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, max).map((q) => encodeURIComponent(q));
}
