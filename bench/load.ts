/**
 * Mixed load test: seeds N products (half with passports) into a fresh SQLite file and/or a fresh
 * PostgreSQL schema, exactly as bench/api.ts does, runs the built service as its own process
 * (`node dist/cli.js serve`), and drives it with wrk (loopback only) at 64 connections with a mix of
 *   80 %  GET   /api/v1/compliance/dpp/{id}                    random ids that have a passport
 *   10 %  GET   /api/v1/compliance/dpp/products?…              half `search=<word>&page=1–3` (a title word in
 *                                                              ~1.5 % of the products), half `has_dpp=true&page=1–100`
 *   10 %  PATCH /api/v1/compliance/dpp/{id}                    {"carbon_footprint_kg": <random>} (JSON, no If-Match)
 * for --duration seconds after a --warmup. Reports per dialect: requests, requests/s, responses by status
 * (counted in the wrk script), socket errors, latency p50/p90/p99/max, the service's CPU (and its
 * PostgreSQL backends'), and the service process's resident memory (VmRSS from /proc/<pid>/status) at
 * start, before the load (seeded, warmed up, then idle), right after it, after idling again, plus its peak
 * (VmHWM) and the highest VmRSS sampled during the measured run; RSS is split into anonymous memory (heap,
 * buffers) and file-backed pages (on SQLite mostly the memory-mapped database file: shared, reclaimable page
 * cache). wrk's latency mixes the kinds of request, so a probe beside the load sends one request of each kind
 * in turn, one at a time, and reports their latencies by kind. After the load it checks that the org
 * counters the PATCHes keep in step still match a recount.
 * CPU columns are % of one core over the measured run: the service, its PostgreSQL backends, wrk, other
 * processes alive throughout, and "short-lived" (the rest of the machine's busy time: work that came and went).
 *
 * The PATCHes send no If-Match, so concurrent changes of one passport are serialised, not refused:
 * 412 is not expected (nor 409, which only publish answers), nor 429 (bench/lib/procs.ts `startServer`
 * raises the rate limits to 100,000,000 per minute), nor any 5xx.
 *
 *   npx tsx bench/load.ts [--dialect sqlite|postgres|both] [--products 100000] [--duration 20] [--warmup 5]
 *                         [--connections 64] [--threads 2] [--mix 80,10,10] [--idle 5] [--quiet-wait 180] [--skip-build]
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 * Logs, wrk output, the service's log and a JSON summary go to bench/results/load-<timestamp>/ (git-ignored);
 * the database and wrk script live in os.tmpdir() and are removed at the end.
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
import { mixCounts, mixedScript, mixLatency, type MixCounts } from './lib/mixed-lua.js';
import { cpuMeter, freePort, killChildren, run, startServer, waitQuiet, type Server } from './lib/procs.js';
import { checkCounters, seedPassports, seedProducts } from './lib/seed.js';
import { runWrk, wrkAvailable, type WrkResult } from './lib/wrk.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PG_BASE = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Options {
  dialects: Dialect[];
  products: number;
  duration: number;
  warmup: number;
  connections: number;
  threads: number;
  mix: { read: number; list: number; patch: number };
  idle: number;
  quietWait: number;
  skipBuild: boolean;
}

const usage =
  'usage: npx tsx bench/load.ts [--dialect sqlite|postgres|both] [--products N] [--duration S] [--warmup S] [--connections C] [--threads T] [--mix READ,LIST,PATCH] [--idle S] [--quiet-wait S] [--skip-build]';

function parseArgs(argv: string[]): Options {
  const o: Options = {
    dialects: ['sqlite', 'postgres'],
    products: 100_000,
    duration: 20,
    warmup: 5,
    connections: 64,
    threads: 2,
    mix: { read: 80, list: 10, patch: 10 },
    idle: 5,
    quietWait: 180,
    skipBuild: false,
  };
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
      case '--threads':
        o.threads = Math.round(positive('--threads'));
        break;
      case '--mix': {
        const parts = value().split(',').map(Number);
        if (parts.length !== 3 || parts.some((n) => !Number.isFinite(n) || n < 0) || parts[0]! + parts[1]! + parts[2]! !== 100) {
          throw new Error('--mix must be three percentages READ,LIST,PATCH that add up to 100');
        }
        o.mix = { read: parts[0]!, list: parts[1]!, patch: parts[2]! };
        break;
      }
      case '--idle':
        o.idle = positive('--idle', true);
        break;
      case '--quiet-wait':
        o.quietWait = Math.round(positive('--quiet-wait', true));
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
  return o;
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const resultsDir = path.join(ROOT, 'bench', 'results', `load-${stamp}`);
fs.mkdirSync(resultsDir, { recursive: true });
const logFile = path.join(resultsDir, 'run.log');
function log(line = '') {
  console.log(line);
  fs.appendFileSync(logFile, line + '\n');
}
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMB = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

// ---------------------------------------------------------------------------------------------
// Memory of the service process
// ---------------------------------------------------------------------------------------------

interface Mem {
  rssKb: number;
  hwmKb: number;
  /** Of VmRSS: anonymous memory (JS heap, buffers) and file-backed pages (on SQLite, the memory-mapped database file). */
  anonKb: number;
  fileKb: number;
}

function memOf(pid: number): Mem {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), anonKb: kb('RssAnon'), fileKb: kb('RssFile') + kb('RssShmem') };
}

/** Samples VmRSS every `everyMs` until stopped; returns the highest sample. */
function rssSampler(pid: number, everyMs = 250) {
  let max = 0;
  const t = setInterval(() => {
    try {
      max = Math.max(max, memOf(pid).rssKb);
    } catch {
      /* exited */
    }
  }, everyMs);
  return () => {
    clearInterval(t);
    return max;
  };
}

const fmtMem = (m: Mem) => `${fmtMB(m.rssKb)} (anon ${fmtMB(m.anonKb)} + file ${fmtMB(m.fileKb)})`;

const fmtMemShort = (m: Mem) => `${fmtMB(m.rssKb)} (${(m.anonKb / 1024).toFixed(0)} + ${(m.fileKb / 1024).toFixed(0)})`;
/** CPU ticks of this process's exited, waited-for children (cutime + cstime): around one wrk run, wrk's own CPU. */
function childTicks(): number {
  const stat = fs.readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

interface DialectResult {
  dialect: Dialect;
  products: number;
  passports: number;
  seedingSec: number;
  search: { word: string; apiTotal: number };
  wrk: Omit<WrkResult, 'raw'>;
  latency: ReturnType<typeof mixLatency>;
  counts: MixCounts;
  cpu: { serverPct: number; postgresPct: number; otherPct: number; machinePct: number; wrkPct: number };
  mem: { start: Mem; before: Mem; after: Mem; afterIdle: Mem; peakDuringKb: number; hwmKb: number };
  probe: Record<ProbeKind, ProbeStats>;
  quiet: { waited: number; busyPct: number };
  counters: string[];
  serverErrorLines: number;
}

// ---------------------------------------------------------------------------------------------
// Latency by kind of request: wrk's distribution mixes the kinds, so a probe sends one request of each
// kind in turn, one at a time, beside the load, and times them (a few hundred samples: indicative).
// ---------------------------------------------------------------------------------------------

type ProbeKind = 'passport' | 'search' | 'list' | 'patch';
interface ProbeStats {
  n: number;
  p50ms: number;
  p90ms: number;
  maxMs: number;
  errors: number;
}

function startProbe(url: string, key: string, ids: string[], searchWord: string, searchPages: number, listPages: number) {
  const samples: Record<ProbeKind, number[]> = { passport: [], search: [], list: [], patch: [] };
  const errors: Record<ProbeKind, number> = { passport: 0, search: 0, list: 0, patch: 0 };
  let stop = false;
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
  const page = (n: number) => 1 + Math.floor(Math.random() * n);
  const loop = (async () => {
    while (!stop) {
      for (const kind of ['passport', 'search', 'list', 'patch'] as const) {
        if (stop) break;
        const p = {
          passport: `/api/v1/compliance/dpp/${pick(ids)}`,
          search: `/api/v1/compliance/dpp/products?search=${encodeURIComponent(searchWord)}&page=${page(searchPages)}`,
          list: `/api/v1/compliance/dpp/products?has_dpp=true&page=${page(listPages)}`,
          patch: `/api/v1/compliance/dpp/${pick(ids)}`,
        }[kind];
        const init: RequestInit =
          kind === 'patch'
            ? {
                method: 'PATCH',
                headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
                body: JSON.stringify({ carbon_footprint_kg: Math.round(Math.random() * 50000) / 100 }),
              }
            : { headers: { authorization: `Bearer ${key}` } };
        const t0 = performance.now();
        try {
          const r = await fetch(url + p, init);
          await r.arrayBuffer();
          if (r.status >= 300) errors[kind]++;
          else samples[kind].push(performance.now() - t0);
        } catch {
          errors[kind]++;
        }
        await sleep(20);
      }
    }
  })();
  return async (): Promise<Record<ProbeKind, ProbeStats>> => {
    stop = true;
    await loop;
    const stats = (xs: number[], e: number): ProbeStats => {
      const s = [...xs].sort((a, b) => a - b);
      const q = (f: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(f * s.length))]! : NaN);
      return { n: s.length, p50ms: q(0.5), p90ms: q(0.9), maxMs: s.length ? s[s.length - 1]! : NaN, errors: e };
    };
    return {
      passport: stats(samples.passport, errors.passport),
      search: stats(samples.search, errors.search),
      list: stats(samples.list, errors.list),
      patch: stats(samples.patch, errors.patch),
    };
  };
}

/** Removal of temporary data still to do if the run is interrupted. */
const pendingCleanups = new Set<() => Promise<void>>();

async function runDialect(dialect: Dialect, o: Options): Promise<DialectResult> {
  log(`\n=== ${dialect}: ${fmtInt(o.products)} products ===`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `dpp-load-bench-${dialect}-`));
  const schema = dialect === 'postgres' ? `bench_load_${randomBytes(5).toString('hex')}` : undefined;
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATA_DIR: tmp, DEMO_SEED: 'false' };
  delete env.DATABASE_URL;
  if (schema) {
    await pgAdmin((c) => c.query(`create schema ${schema}`));
    // application_name tells this service's PostgreSQL backends apart (for their CPU time).
    env.DATABASE_URL = `${PG_BASE}?options=-c%20search_path%3D${schema}&application_name=${schema}`;
    log(`postgres schema ${schema}`);
  } else {
    log(`sqlite ${path.join(tmp, 'dpp.sqlite')}`);
  }
  let database: Database | undefined;
  let service: Server | undefined;
  const cleanup = async () => {
    if (schema) await pgAdmin((c) => c.query(`drop schema if exists ${schema} cascade`)).catch((e) => log(`could not drop schema ${schema}: ${e}`));
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  pendingCleanups.add(cleanup);
  try {
    const cli = path.join(ROOT, 'dist', 'cli.js');
    await run(process.execPath, [cli, 'migrate'], env, ROOT);
    const keyOut = await run(process.execPath, [cli, 'keys', 'create', '--org', 'bench', '--scopes', 'read,write'], env, ROOT);
    const key = keyOut.stdout.trim().split('\n').pop()!.trim();
    if (!/^dpp_[0-9a-f]{12}_/.test(key)) throw new Error(`keys create printed no key: ${keyOut.stdout}`);

    database = await createDatabase(schema ? { databaseUrl: PG_BASE, pgSchema: schema } : { sqliteFile: path.join(tmp, 'dpp.sqlite') });
    const db = database.db;
    const org = await db.selectFrom('organisations').select('id').where('slug', '=', 'bench').executeTakeFirstOrThrow();

    // ---- seeding (as bench/api.ts)
    const t0 = performance.now();
    log('seeding products through importProducts (CSV stream)…');
    const imported = await seedProducts(db, org.id, o.products, log);
    log(`  imported ${fmtInt(o.products)} products in ${imported.seconds.toFixed(1)} s`);
    log('seeding passports (direct inserts)…');
    const passports = await seedPassports(db, dialect, org.id, log);
    const c = passports.counters;
    log(
      `  ${fmtInt(passports.ids.length)} passports in ${passports.seconds.toFixed(1)} s: ${fmtInt(c.draft)} draft, ${fmtInt(c.complete)} complete, ${fmtInt(c.published)} published`,
    );
    if (dialect === 'postgres') {
      await sql`vacuum (analyze) products`.execute(db);
      await sql`vacuum (analyze) compliance_records`.execute(db);
      await sql`vacuum (analyze) passport_publications`.execute(db);
    } else {
      await sql`pragma wal_checkpoint(truncate)`.execute(db);
    }
    const seedingSec = (performance.now() - t0) / 1000;
    log(`  seeding total ${seedingSec.toFixed(1)} s`);
    if (dialect === 'sqlite') log(`  database file ${(fs.statSync(path.join(tmp, 'dpp.sqlite')).size / 2 ** 20).toFixed(0)} MB`);

    // ---- ids: every passport (shuffled), at most 100,000
    const sample = [...passports.ids];
    for (let i = sample.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [sample[i], sample[j]] = [sample[j]!, sample[i]!];
    }
    const idsFile = path.join(tmp, 'passport-ids.txt');
    fs.writeFileSync(idsFile, sample.slice(0, 100_000).join('\n') + '\n');

    // ---- the service
    service = await startServer([cli, 'serve'], env, ROOT, port, '/readyz');
    const pid = service.child.pid!;
    log(`service pid ${pid} on ${service.url}`);
    const startMem = memOf(pid);
    const auth = { authorization: `Bearer ${key}` };
    const call = async (method: string, p: string, body?: unknown) => {
      const r = await fetch(service!.url + p, {
        method,
        headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await r.text();
      if (r.status !== 200) throw new Error(`${method} ${p} answered ${r.status}: ${text}`);
      return JSON.parse(text) as Record<string, unknown>;
    };
    // Each kind of request once, by hand, before wrk: a wrong path or body fails here, not as 4xx counts.
    const searchPath = `/api/v1/compliance/dpp/products?search=${encodeURIComponent(imported.search.word)}`;
    const apiTotal = (await call('GET', searchPath)).total as number;
    log(`search word "${imported.search.word}": ${fmtInt(apiTotal)} matching products (${((apiTotal / o.products) * 100).toFixed(2)}%, ${Math.ceil(apiTotal / 50)} pages)`);
    const listTotal = (await call('GET', '/api/v1/compliance/dpp/products?has_dpp=true')).total as number;
    const before = await call('GET', `/api/v1/compliance/dpp/${sample[0]}`);
    const patched = await call('PATCH', `/api/v1/compliance/dpp/${sample[0]}`, { carbon_footprint_kg: 12.34 });
    log(
      `has_dpp list: ${fmtInt(listTotal)} products; PATCH ${sample[0]}: version ${String(before.version)} → ${String(patched.version)}, carbon_footprint_kg ${String(patched.carbon_footprint_kg)}`,
    );
    const searchPages = Math.max(1, Math.min(3, Math.ceil(apiTotal / 50)));
    const listPages = Math.max(1, Math.min(100, Math.ceil(listTotal / 50)));

    const script = mixedScript(tmp, {
      idsFile,
      readPct: o.mix.read,
      listPct: o.mix.list,
      patchPct: o.mix.patch,
      searchWord: imported.search.word,
      searchPages,
      listPages,
      apiKey: key,
    });
    const common = { url: service.url + '/api/v1/compliance/dpp/' + sample[0], script, threads: o.threads, connections: o.connections, timeoutSec: 10 };

    // ---- warm-up, then idle, then the measured run
    let quiet = { waited: 0, busyPct: NaN };
    if (o.quietWait > 0) {
      quiet = await waitQuiet(o.quietWait);
      log(`  machine quiet check: waited ${quiet.waited.toFixed(0)} s, busy ${quiet.busyPct.toFixed(0)}% of all cores`);
    }
    if (o.warmup > 0) {
      const w = await runWrk({ ...common, seconds: o.warmup });
      const wc = mixCounts(w.raw);
      log(`  warm-up ${o.warmup} s: ${fmtInt(w.requests)} requests, statuses ${JSON.stringify(wc.status)}`);
    }
    await sleep(o.idle * 1000);
    const beforeMem = memOf(pid);
    log(`  RSS at start ${fmtMem(startMem)}, before the load (warmed up, ${o.idle} s idle) ${fmtMem(beforeMem)}`);

    const meter = cpuMeter(pid);
    const wrkTicks0 = childTicks();
    const sampler = rssSampler(pid);
    const wrkRun = runWrk({ ...common, seconds: o.duration });
    await sleep(1000); // the probe starts once wrk's connections are up
    const stopProbe = startProbe(service.url, key, sample.slice(0, 100_000), imported.search.word, searchPages, listPages);
    const result = await wrkRun;
    const wrkPct = ((childTicks() - wrkTicks0) / 100 / result.durationSec) * 100;
    const probe = await stopProbe();
    const peakDuringKb = sampler();
    const cpu = { ...meter(schema ? await backendPids(schema) : []), wrkPct };
    const afterMem = memOf(pid);
    await sleep(o.idle * 1000);
    const afterIdleMem = memOf(pid);
    fs.writeFileSync(path.join(resultsDir, `wrk-${dialect}.txt`), result.raw);
    const counts = mixCounts(result.raw);
    const latency = mixLatency(result.raw);
    log(
      `  ${fmtInt(result.requests)} requests in ${result.durationSec.toFixed(1)} s = ${fmtInt(result.rps)} req/s; p50 ${result.p50ms.toFixed(2)} ms, p90 ${result.p90ms.toFixed(2)} ms, ` +
        `p99 ${result.p99ms.toFixed(2)} ms, p99.9 ${latency.p999ms.toFixed(1)} ms, max ${result.maxMs.toFixed(1)} ms; socket errors ${result.socketErrors}`,
    );
    log(`  statuses ${JSON.stringify(counts.status)}; 2xx by kind ${JSON.stringify(counts.kinds)}; sent by kind ${JSON.stringify(counts.sent)}`);
    log(
      `  service CPU ${cpu.serverPct.toFixed(0)}%${dialect === 'postgres' ? `, postgres backends ${cpu.postgresPct.toFixed(0)}%` : ''}, other ${cpu.otherPct.toFixed(0)}%, wrk ${cpu.wrkPct.toFixed(0)}%, machine ${cpu.machinePct.toFixed(0)}%`,
    );
    log(
      `  probe beside the load (one request at a time): ` +
        (Object.entries(probe) as Array<[ProbeKind, ProbeStats]>)
          .map(([k, p]) => `${k} n=${p.n} p50 ${p.p50ms.toFixed(1)} ms p90 ${p.p90ms.toFixed(1)} ms max ${p.maxMs.toFixed(1)} ms${p.errors ? ` errors ${p.errors}` : ''}`)
          .join('; '),
    );
    log(
      `  RSS right after ${fmtMem(afterMem)}, after ${o.idle} s idle ${fmtMem(afterIdleMem)}; highest sampled during the run ${fmtMB(peakDuringKb)}; VmHWM ${fmtMB(afterIdleMem.hwmKb)}`,
    );

    // ---- after: the service's own error log lines, and the counters the PATCHes keep in step
    await service.stop();
    const output = service.output();
    fs.writeFileSync(path.join(resultsDir, `service-${dialect}.log`), output);
    const serverErrorLines = output.split('\n').filter((l) => /"level":\s*(50|60)/.test(l)).length;
    if (serverErrorLines > 0) log(`  the service logged ${serverErrorLines} error lines (see service-${dialect}.log)`);
    service = undefined;
    const counters = await checkCounters(db, dialect, org.id);
    log(`  counters (org_stats, org_certifications) ${counters.length ? `differ from a recount: ${counters.join('; ')}` : 'match a recount'}`);

    const { raw: _raw, ...wrk } = result;
    return {
      dialect,
      products: o.products,
      passports: passports.ids.length,
      seedingSec,
      search: { word: imported.search.word, apiTotal },
      wrk,
      latency,
      counts,
      cpu,
      mem: { start: startMem, before: beforeMem, after: afterMem, afterIdle: afterIdleMem, peakDuringKb, hwmKb: afterIdleMem.hwmKb },
      probe,
      quiet,
      counters,
      serverErrorLines,
    };
  } finally {
    if (service) {
      fs.writeFileSync(path.join(resultsDir, `service-${dialect}.log`), service.output());
      await service.stop().catch(() => undefined);
    }
    await database?.close().catch(() => undefined);
    pendingCleanups.delete(cleanup);
    await cleanup();
  }
}

// ---------------------------------------------------------------------------------------------

function statusSummary(s: Record<string, number>) {
  let ok = 0;
  let fiveXx = 0;
  const fourXx: string[] = [];
  const other: string[] = [];
  for (const [code, n] of Object.entries(s).sort()) {
    const c = Number(code);
    if (c >= 200 && c < 300) ok += n;
    else if (c >= 400 && c < 500) fourXx.push(`${code}×${n}`);
    else if (c >= 500) fiveXx += n;
    else other.push(`${code}×${n}`);
  }
  return { ok, fourXx: fourXx.join(' ') || '0', fiveXx, other: other.join(' ') };
}

function table(all: DialectResult[]): string {
  const rows: Array<[string, ...string[]]> = [
    ['products / passports', ...all.map((r) => `${fmtInt(r.products)} / ${fmtInt(r.passports)}`)],
    ['requests', ...all.map((r) => fmtInt(r.wrk.requests))],
    ['requests/s', ...all.map((r) => fmtInt(r.wrk.rps))],
    ['2xx', ...all.map((r) => fmtInt(statusSummary(r.counts.status).ok))],
    [
      '  of which GET passport / list / PATCH',
      ...all.map((r) => `${fmtInt(r.counts.kinds.passport ?? 0)} / ${fmtInt(r.counts.kinds.list ?? 0)} / ${fmtInt(r.counts.kinds.patch ?? 0)}`),
    ],
    ['4xx (by code)', ...all.map((r) => statusSummary(r.counts.status).fourXx)],
    ['5xx', ...all.map((r) => fmtInt(statusSummary(r.counts.status).fiveXx))],
    ['socket errors / timeouts', ...all.map((r) => `${r.wrk.socketErrors}`)],
    ['latency p50', ...all.map((r) => `${r.wrk.p50ms.toFixed(2)} ms`)],
    ['latency p90', ...all.map((r) => `${r.wrk.p90ms.toFixed(2)} ms`)],
    ['latency p99', ...all.map((r) => `${r.wrk.p99ms.toFixed(2)} ms`)],
    ['latency p99.9', ...all.map((r) => `${r.latency.p999ms.toFixed(1)} ms`)],
    ['latency max', ...all.map((r) => `${r.wrk.maxMs.toFixed(1)} ms`)],
    ['service CPU (% of a core)', ...all.map((r) => `${r.cpu.serverPct.toFixed(0)}%`)],
    ['postgres backends CPU', ...all.map((r) => (r.dialect === 'postgres' ? `${r.cpu.postgresPct.toFixed(0)}%` : '-'))],
    ['other CPU / machine', ...all.map((r) => `${r.cpu.otherPct.toFixed(0)}% / ${r.cpu.machinePct.toFixed(0)}%`)],
    ['wrk CPU', ...all.map((r) => `${r.cpu.wrkPct.toFixed(0)}%`)],
    [
      'short-lived processes CPU',
      ...all.map((r) => `${Math.max(0, r.cpu.machinePct * os.cpus().length - r.cpu.serverPct - r.cpu.postgresPct - r.cpu.otherPct - r.cpu.wrkPct).toFixed(0)}%`),
    ],
    ...(['passport', 'search', 'list', 'patch'] as const).map((k): [string, ...string[]] => [
      `  probe ${k} p50 / p90 / max`,
      ...all.map((r) => `${r.probe[k].p50ms.toFixed(0)} / ${r.probe[k].p90ms.toFixed(0)} / ${r.probe[k].maxMs.toFixed(0)} ms`),
    ]),
    ['RSS at start (anon + file)', ...all.map((r) => fmtMemShort(r.mem.start))],
    ['RSS before load (warm, idle)', ...all.map((r) => fmtMemShort(r.mem.before))],
    ['RSS highest during load', ...all.map((r) => fmtMB(r.mem.peakDuringKb))],
    ['RSS right after load', ...all.map((r) => fmtMemShort(r.mem.after))],
    ['RSS after idle', ...all.map((r) => fmtMemShort(r.mem.afterIdle))],
    ['VmHWM (peak RSS)', ...all.map((r) => fmtMB(r.mem.hwmKb))],
    ['counters match recount', ...all.map((r) => (r.counters.length ? 'NO' : 'yes'))],
  ];
  const head = ['', ...all.map((r) => r.dialect)];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!wrkAvailable()) throw new Error('wrk is not installed (Debian: apt-get install -y wrk)');
  log(`bench/load.ts ${process.argv.slice(2).join(' ')}`);
  log(
    `node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
      `wrk -t${o.threads} -c${o.connections}, ${o.duration} s after ${o.warmup} s warm-up; mix ${o.mix.read} % GET passport, ${o.mix.list} % GET list/search, ${o.mix.patch} % PATCH; ` +
      `load average ${os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
  );
  if (!o.skipBuild) {
    log('building: npm run build');
    await run('npm', ['run', 'build'], process.env, ROOT);
  }
  const all: DialectResult[] = [];
  for (const d of o.dialects) all.push(await runDialect(d, o));

  log('\n================ results ================');
  log(
    `${o.connections} connections (wrk -t${o.threads}), ${o.duration} s after a ${o.warmup} s warm-up; ${o.mix.read} % GET /compliance/dpp/{id}, ` +
      `${o.mix.list} % GET /compliance/dpp/products (search / has_dpp list), ${o.mix.patch} % PATCH /compliance/dpp/{id} carbon_footprint_kg`,
  );
  log(table(all));
  for (const r of all) {
    const s = statusSummary(r.counts.status);
    const notes: string[] = [];
    if (s.fiveXx > 0) notes.push(`${s.fiveXx} 5xx responses`);
    if (s.fourXx !== '0') notes.push(`4xx responses: ${s.fourXx}`);
    if (s.other) notes.push(`other statuses: ${s.other}`);
    if (r.wrk.socketErrors > 0) notes.push(`${r.wrk.socketErrors} socket errors/timeouts`);
    if (r.counters.length) notes.push(`counters differ from a recount: ${r.counters.join('; ')}`);
    if (r.serverErrorLines) notes.push(`${r.serverErrorLines} error lines in the service log`);
    if (r.quiet.busyPct > 15) notes.push(`the machine was busy (${r.quiet.busyPct.toFixed(0)}% of all cores) before the run`);
    log(`${r.dialect}: ${notes.length ? notes.join('; ') : 'all responses 2xx, no socket errors, counters consistent'}`);
  }
  fs.writeFileSync(path.join(resultsDir, 'summary.json'), JSON.stringify({ options: o, results: all }, null, 2));
  log(`\nlogs, wrk output, service logs and summary.json in ${path.relative(ROOT, resultsDir)}/`);
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
