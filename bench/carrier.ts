/**
 * Data-carrier benchmark: the QR code, the JSON-LD exports and the public passport page (GS1 Digital Link
 * resolver). For each dialect it starts the built service as its own process (`node dist/cli.js serve`) on a
 * fresh SQLite directory or a fresh PostgreSQL schema, seeds ~1000 published passports through the HTTP API,
 * and measures with wrk (loopback only):
 *   qr-uncached       GET /api/v1/compliance/dpp/{id}/qr?size=64..MAX    every request a new (id, size): cache misses
 *                     (MAX = 2047, or the service's own maximum for ?size= when lower, read from /openapi.json)
 *   qr-uncached-300   GET /api/v1/compliance/dpp/{id}/qr?size=280..320   misses too, at about the default size
 *   qr-cached         GET /api/v1/compliance/dpp/{id}/qr?size=300        10 ids, fixed options: cache hits
 *   export            GET /api/v1/compliance/dpp/{id}/export             random ids, default profile
 *   export-untp       GET /api/v1/compliance/dpp/{id}/export?profile=untp
 *   page-html         GET /01/{gtin14}   Accept: text/html               random published GTINs
 *   page-jsonld       GET /01/{gtin14}   Accept: application/ld+json
 * and, in-process (no HTTP), the time of renderQr() for PNG and SVG over 500 different passport URIs.
 *
 *   npx tsx bench/carrier.ts [--dialect sqlite|postgres|both] [--duration 10] [--warmup 2] [--products 1000]
 *                            [--connections 32] [--threads 2] [--qr-samples 500] [--quiet-wait 60] [--skip-build]
 *
 * --quiet-wait S: before each measurement wait up to S s for the machine to be idle (0 disables); every table
 * row also says which other bench/ processes were running and how much CPU everything else used.
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 * Raw wrk output, the Lua scripts, in-process timings and summary.json go to bench/results/carrier-<timestamp>/.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { renderQr, type QrOptions } from '../src/features/export/qr.js';
import { randomPathScript, rotatingPathScript, uniqueQrScript } from './lib/carrier-lua.js';
import { ean13, seedOverHttp, type SeededProduct } from './lib/carrier-seed.js';
import { cpuMeter, freePort, killChildren, run, startServer, waitQuiet, type Server } from './lib/procs.js';
import { runWrk, wrkAvailable, type WrkResult } from './lib/wrk.js';

type Dialect = 'sqlite' | 'postgres';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PG_BASE = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Options {
  dialects: Dialect[];
  duration: number;
  warmup: number;
  products: number;
  connections: number;
  threads: number;
  qrSamples: number;
  quietWait: number;
  skipBuild: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { dialects: ['sqlite', 'postgres'], duration: 10, warmup: 2, products: 1000, connections: 32, threads: 2, qrSamples: 500, quietWait: 60, skipBuild: false };
  const usage =
    'usage: npx tsx bench/carrier.ts [--dialect sqlite|postgres|both] [--duration S] [--warmup S] [--products N] [--connections C] [--threads T] [--qr-samples N] [--quiet-wait S] [--skip-build]';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const num = (allowZero = false) => {
      const n = Number(value().replace(/[_,]/g, ''));
      if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new Error(`${flag} must be a positive number`);
      return Math.round(n);
    };
    switch (flag) {
      case '--dialect': {
        const d = value();
        if (d === 'both') o.dialects = ['sqlite', 'postgres'];
        else if (d === 'sqlite' || d === 'postgres') o.dialects = [d];
        else throw new Error('--dialect must be sqlite, postgres or both');
        break;
      }
      case '--duration':
        o.duration = num();
        break;
      case '--warmup':
        o.warmup = num(true);
        break;
      case '--products':
        o.products = num();
        if (o.products < 10) throw new Error('--products must be at least 10');
        break;
      case '--connections':
        o.connections = num();
        break;
      case '--threads':
        o.threads = num();
        break;
      case '--qr-samples':
        o.qrSamples = num();
        break;
      case '--quiet-wait':
        o.quietWait = num(true);
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
const resultsDir = path.join(ROOT, 'bench', 'results', `carrier-${stamp}`);
fs.mkdirSync(resultsDir, { recursive: true });
const logFile = path.join(resultsDir, 'run.log');
function log(line = '') {
  console.log(line);
  fs.appendFileSync(logFile, line + '\n');
}
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

function renderTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Other benchmark processes on the machine (command lines naming bench/), not this run's own. */
function otherBenchProcesses(): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    let cmd: string;
    try {
      cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue;
    }
    if (cmd.includes('bench/') && !cmd.includes('bench/carrier')) out.push(`${d} ${cmd.slice(0, 120)}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// In-process QR timings
// ---------------------------------------------------------------------------------------------

interface Timing {
  label: string;
  calls: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  avgBytes: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function timeRender(label: string, uris: string[], options: (i: number) => QrOptions, warmup = 50): Promise<Timing> {
  // Warm-up on other URIs (JIT, the library's lazy tables), then one timed call per URI.
  for (let i = 0; i < warmup; i++) await renderQr(`${uris[i % uris.length]}?warmup=${i}`, options(i));
  const times: number[] = [];
  let bytes = 0;
  for (const [i, uri] of uris.entries()) {
    const opts = options(i);
    const t0 = performance.now();
    const out = await renderQr(uri, opts);
    times.push(performance.now() - t0);
    bytes += typeof out === 'string' ? Buffer.byteLength(out) : out.length;
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    label,
    calls: times.length,
    meanMs: times.reduce((s, t) => s + t, 0) / times.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1)!,
    avgBytes: bytes / times.length,
  };
}

/** The URIs the service encodes for the seeded products: {PUBLIC_BASE_URL}/01/{GTIN-14}. */
function sampleUris(baseUrl: string, samples: number): string[] {
  const uris = Array.from({ length: samples }, (_, i) => `${baseUrl}/01/0${ean13(i)}`);
  if (new Set(uris).size !== uris.length) throw new Error('QR sample URIs are not distinct');
  return uris;
}

/** The asked-for figures: PNG and SVG at the default options, one call per distinct URI. */
async function qrInProcess(baseUrl: string, samples: number): Promise<Timing[]> {
  const uris = sampleUris(baseUrl, samples);
  log(`in-process renderQr over ${samples} distinct URIs like ${uris[0]} (${uris[0]!.length} chars)`);
  const common = { size: 300, margin: 4, ecc: 'M' } as const;
  return timeAll([
    ['png size=300 margin=4 ecc=M', uris, () => ({ ...common, format: 'png' }), 50],
    ['svg size=300 margin=4 ecc=M', uris, () => ({ ...common, format: 'svg' }), 50],
  ]);
}

/**
 * The size mix of the qr-uncached wrk scenario (size 64 + (k·997 mod S)), in-process, to compare with the service.
 * Fewer calls: the largest PNGs take a few hundred ms each.
 */
async function qrInProcessMix(baseUrl: string, sizeMax: number): Promise<Timing[]> {
  const uris = sampleUris(baseUrl, 60);
  const S = sizeMax - 64 + 1;
  return timeAll([[`png size=64..${sizeMax} (${uris.length} calls)`, uris, (i: number) => ({ size: 64 + ((i * 997) % S), margin: 4, ecc: 'M', format: 'png' }), 3]]);
}

async function timeAll(runs: Array<[string, string[], (i: number) => QrOptions, number]>): Promise<Timing[]> {
  const out: Timing[] = [];
  for (const [label, sample, options, warmup] of runs) {
    const t = await timeRender(label, sample, options, warmup);
    log(
      `  ${label.padEnd(30)} mean ${t.meanMs.toFixed(3)} ms  p50 ${t.p50Ms.toFixed(3)} ms  p99 ${t.p99Ms.toFixed(3)} ms  max ${t.maxMs.toFixed(2)} ms  ${fmtInt(t.avgBytes)} bytes`,
    );
    out.push(t);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// One dialect
// ---------------------------------------------------------------------------------------------

interface Scenario {
  name: string;
  label: string;
  result: WrkResult;
  cpu: { serverPct: number; postgresPct: number; otherPct: number; machinePct: number };
  others: string[];
  note?: string;
}

interface DialectResult {
  dialect: Dialect;
  seeding: { products: number; seconds: number; requests: number };
  scenarios: Scenario[];
  checks: string[];
}

async function pgAdmin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_BASE });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

async function backendPids(schema: string): Promise<number[]> {
  return pgAdmin(async (c) => (await c.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [schema])).rows.map((r) => r.pid));
}

const pendingCleanups = new Set<() => Promise<void>>();

/** Fetches a path and checks status and content type; returns the response. */
async function expectOk(url: string, headers: Record<string, string>, type: RegExp): Promise<Response> {
  const r = await fetch(url, { headers });
  if (r.status !== 200) throw new Error(`GET ${url} answered ${r.status}: ${await r.text()}`);
  const ct = r.headers.get('content-type') ?? '';
  if (!type.test(ct)) throw new Error(`GET ${url}: content-type ${ct}, expected ${type}`);
  return r;
}

/**
 * Waits until the service answers /healthz promptly (< 20 ms twice in a row): when wrk stops, the service may
 * still be working through requests it had already read (an uncached 2047 px QR code took most of a second),
 * and that backlog must not be billed to the next scenario.
 */
async function drain(url: string, maxSec = 180): Promise<number> {
  const t0 = performance.now();
  let fast = 0;
  while (fast < 2) {
    const t = performance.now();
    const r = await fetch(url + '/healthz');
    await r.arrayBuffer();
    fast = performance.now() - t < 20 ? fast + 1 : 0;
    if ((performance.now() - t0) / 1000 > maxSec) throw new Error(`the service at ${url} stayed busy for ${maxSec} s`);
    if (fast < 2) await new Promise((r) => setTimeout(r, 50));
  }
  return (performance.now() - t0) / 1000;
}

/** The largest ?size= the service accepts for the QR code, from its OpenAPI document. */
async function qrSizeMaxOf(baseUrl: string): Promise<number | undefined> {
  const doc = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as {
    paths?: Record<string, { get?: { parameters?: Array<{ name: string; in: string; schema?: { maximum?: number } }> } }>;
  };
  const params = doc.paths?.['/api/v1/compliance/dpp/{product_id}/qr']?.get?.parameters ?? [];
  return params.find((p) => p.name === 'size' && p.in === 'query')?.schema?.maximum;
}

/** In-process timings of the wrk size mix, made once (by the first dialect, once the size bound is known). */
const qrMixTimings: Timing[] = [];

async function runDialect(dialect: Dialect, o: Options, port: number): Promise<DialectResult> {
  log(`\n=== ${dialect} ===`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `dpp-carrier-bench-${dialect}-`));
  const schema = dialect === 'postgres' ? `bench_carrier_${randomBytes(5).toString('hex')}` : undefined;
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DEMO_SEED: 'false',
    DATA_DIR: tmp,
    PUBLIC_BASE_URL: baseUrl,
  };
  delete env.DATABASE_URL;
  const cleanup = async () => {
    if (schema)
      await pgAdmin((c) => c.query(`drop schema if exists ${schema} cascade`)).then(
        () => log(`dropped schema ${schema}`),
        (e) => log(`could not drop schema ${schema}: ${e}`),
      );
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  pendingCleanups.add(cleanup);
  if (schema) {
    await pgAdmin((c) => c.query(`create schema ${schema}`));
    // application_name tells this service's backends apart (for their CPU time).
    env.DATABASE_URL = `${PG_BASE}?options=-c%20search_path%3D${schema}&application_name=${schema}`;
    log(`postgres schema ${schema}`);
  } else {
    log(`sqlite in ${tmp}`);
  }
  let server: Server | undefined;
  try {
    const cli = path.join(ROOT, 'dist', 'cli.js');
    await run(process.execPath, [cli, 'migrate'], env, ROOT);
    const keyOut = await run(process.execPath, [cli, 'keys', 'create', '--org', 'bench-carrier', '--scopes', 'read,write'], env, ROOT);
    const key = keyOut.stdout.trim().split('\n').pop()!.trim();
    if (!key.startsWith('dpp_')) throw new Error(`keys create printed no key: ${keyOut.stdout}`);
    server = await startServer([cli, 'serve'], env, ROOT, port, '/readyz');
    log(`service pid ${server.child.pid} on ${baseUrl}`);
    const auth = { authorization: `Bearer ${key}` };

    // ---- seeding through the API
    log(`seeding ${o.products} published passports through the HTTP API (8 clients; POST product, PATCH passport, PATCH environmental, publish)…`);
    const seeded = await seedOverHttp(baseUrl, key, o.products, 8, log);
    log(`  ${seeded.products.length} products, ${fmtInt(seeded.requests)} requests in ${seeded.seconds.toFixed(1)} s (${fmtInt(seeded.requests / seeded.seconds)} req/s)`);
    const products: SeededProduct[] = seeded.products;
    const idsFile = path.join(tmp, 'ids.txt');
    fs.writeFileSync(idsFile, products.map((p) => p.id).join('\n') + '\n');
    const ids10File = path.join(tmp, 'ids10.txt');
    fs.writeFileSync(
      ids10File,
      products
        .slice(0, 10)
        .map((p) => p.id)
        .join('\n') + '\n',
    );
    const gtinsFile = path.join(tmp, 'gtins.txt');
    fs.writeFileSync(gtinsFile, products.map((p) => p.gtin14).join('\n') + '\n');

    // ---- what the scenarios request answers as it should
    const checks: string[] = [];
    const p0 = products[0]!;
    const serviceMax = await qrSizeMaxOf(baseUrl);
    const sizeMax = Math.min(2047, serviceMax ?? 2047);
    log(`  the service accepts ?size= up to ${serviceMax ?? '(no maximum found in /openapi.json)'}: qr-uncached uses sizes 64..${sizeMax}`);
    if (qrMixTimings.length === 0) {
      log('  in-process renderQr with the qr-uncached size mix (service idle):');
      qrMixTimings.push(...(await qrInProcessMix(baseUrl, sizeMax)));
    }
    for (const size of [64, 300, sizeMax]) {
      const r = await expectOk(`${baseUrl}/api/v1/compliance/dpp/${p0.id}/qr?size=${size}`, auth, /^image\/png/);
      const uri = r.headers.get('x-dpp-uri');
      if (uri !== `${baseUrl}/01/${p0.gtin14}`) throw new Error(`QR encodes ${uri}, expected the GS1 Digital Link ${baseUrl}/01/${p0.gtin14}`);
      const png = Buffer.from(await r.arrayBuffer());
      const width = png.readUInt32BE(16);
      checks.push(`qr size=${size}: image/png ${width}×${png.readUInt32BE(20)} px, ${fmtInt(png.length)} bytes, encodes ${uri}`);
    }
    const exp = await (await expectOk(`${baseUrl}/api/v1/compliance/dpp/${p0.id}/export`, auth, /^application\/ld\+json/)).text();
    checks.push(`export: application/ld+json, ${fmtInt(Buffer.byteLength(exp))} bytes`);
    const untp = await expectOk(`${baseUrl}/api/v1/compliance/dpp/${p0.id}/export?profile=untp`, auth, /^application\/ld\+json; profile=/);
    checks.push(`export untp: ${untp.headers.get('content-type')}, ${fmtInt(Buffer.byteLength(await untp.text()))} bytes`);
    const page = await (await expectOk(`${baseUrl}/01/${p0.gtin14}`, { accept: 'text/html' }, /^text\/html/)).text();
    if (!page.includes('<!doctype html>')) throw new Error('the public page is not HTML');
    checks.push(`page html: text/html, ${fmtInt(Buffer.byteLength(page))} bytes`);
    const pageLd = await (await expectOk(`${baseUrl}/01/${p0.gtin14}`, { accept: 'application/ld+json' }, /^application\/ld\+json/)).text();
    checks.push(`page jsonld: application/ld+json, ${fmtInt(Buffer.byteLength(pageLd))} bytes`);
    for (const c of checks) log(`  ok ${c}`);

    // ---- wrk
    const api = '/api/v1/compliance/dpp/';
    /** `last`: run after the others (its backlog and 16 MB images must not disturb them); the table keeps this order. */
    type Def = { name: string; label: string; url: string; headers: Record<string, string>; script: (base: number, phase: string) => string; timeoutSec?: number; last?: boolean };
    const uniqueQr = (sizeMin: number, sizeMax: number, name: string) => (base: number, phase: string) => {
      const { file, period } = uniqueQrScript(tmp, `${name}-${phase}.lua`, { idsFile, prefix: api, sizeMin, sizeMax, threads: o.threads, base });
      if (phase === 'measure')
        log(
          `  ${name}: request k → id (k·7919 mod ${products.length}), size ${sizeMin} + (k·997 mod ${sizeMax - sizeMin + 1}); keys repeat every ${fmtInt(period)} requests; k starts at ${fmtInt(base)}`,
        );
      return file;
    };
    const fixedScript = (file: string) => () => file;
    const defs: Def[] = [
      {
        name: 'qr-uncached',
        label: `GET …/{id}/qr?size=64..${sizeMax} uncached`,
        url: `${baseUrl}${api}${p0.id}/qr`,
        headers: auth,
        script: uniqueQr(64, sizeMax, 'qr-uncached'),
        timeoutSec: 60,
        last: true,
      },
      {
        name: 'qr-uncached-300',
        label: 'GET …/{id}/qr?size=280..320 uncached',
        url: `${baseUrl}${api}${p0.id}/qr`,
        headers: auth,
        script: uniqueQr(280, 320, 'qr-uncached-300'),
      },
      {
        name: 'qr-cached',
        label: 'GET …/{id}/qr?size=300 cached (10 ids)',
        url: `${baseUrl}${api}${p0.id}/qr?size=300`,
        headers: auth,
        script: fixedScript(rotatingPathScript(tmp, 'qr-cached.lua', ids10File, api, '/qr?size=300')),
      },
      {
        name: 'export',
        label: 'GET …/{id}/export',
        url: `${baseUrl}${api}${p0.id}/export`,
        headers: auth,
        script: fixedScript(randomPathScript(tmp, 'export.lua', idsFile, api, '/export')),
      },
      {
        name: 'export-untp',
        label: 'GET …/{id}/export?profile=untp',
        url: `${baseUrl}${api}${p0.id}/export?profile=untp`,
        headers: auth,
        script: fixedScript(randomPathScript(tmp, 'export-untp.lua', idsFile, api, '/export?profile=untp')),
      },
      {
        name: 'page-html',
        label: 'GET /01/{gtin14} Accept: text/html',
        url: `${baseUrl}/01/${p0.gtin14}`,
        headers: { accept: 'text/html' },
        script: fixedScript(randomPathScript(tmp, 'page.lua', gtinsFile, '/01/')),
      },
      {
        name: 'page-jsonld',
        label: 'GET /01/{gtin14} Accept: application/ld+json',
        url: `${baseUrl}/01/${p0.gtin14}`,
        headers: { accept: 'application/ld+json' },
        script: fixedScript(randomPathScript(tmp, 'page.lua', gtinsFile, '/01/')),
      },
    ];

    const scenarios: Scenario[] = [];
    for (const d of [...defs.filter((d) => !d.last), ...defs.filter((d) => d.last)]) {
      if (o.quietWait > 0) {
        const q = await waitQuiet(o.quietWait);
        if (q.waited > 2.5) log(`  (waited ${q.waited.toFixed(0)} s for the machine to be idle; busy ${q.busyPct.toFixed(0)}% at start)`);
      }
      const common = { url: d.url, threads: o.threads, connections: o.connections, headers: d.headers };
      const wrk = (script: string, seconds: number) => runWrk({ ...common, script, seconds, ...(d.timeoutSec ? { timeoutSec: d.timeoutSec } : {}) });
      let base = 0;
      if (o.warmup > 0) {
        const w = await wrk(d.script(0, 'warmup'), o.warmup);
        // Unique-key scripts: start the measured run past every request number the warm-up could have used.
        base = w.requests + 100 * o.connections + 1000;
      }
      const drained = await drain(baseUrl);
      if (drained > 1) log(`  (${d.name}: the service needed ${drained.toFixed(1)} s after the warm-up to finish the requests it had read)`);
      const others = otherBenchProcesses();
      const meter = cpuMeter(server.child.pid!);
      const result = await wrk(d.script(base, 'measure'), o.duration);
      const cpu = meter(schema ? await backendPids(schema) : []);
      const after = await drain(baseUrl);
      if (after > 1) log(`  (${d.name}: the service needed ${after.toFixed(1)} s after wrk stopped to finish the requests it had read; not counted)`);
      const othersAfter = otherBenchProcesses();
      const allOthers = [...new Set([...others, ...othersAfter])];
      fs.writeFileSync(path.join(resultsDir, `wrk-${dialect}-${d.name}.txt`), `${d.label}\n${d.url}\n\n${result.raw}\n`);
      log(
        `  ${d.name.padEnd(16)} ${fmtInt(result.rps).padStart(6)} req/s  p50 ${result.p50ms.toFixed(2)} ms  p99 ${result.p99ms.toFixed(2)} ms  non-2xx ${result.non2xx}  ` +
          `sock err ${result.socketErrors}  ${fmtInt(result.bytes / Math.max(1, result.requests))} B/resp  server CPU ${cpu.serverPct.toFixed(0)}%` +
          `${schema ? `  pg CPU ${cpu.postgresPct.toFixed(0)}%` : ''}  other CPU ${cpu.otherPct.toFixed(0)}%  other bench procs ${allOthers.length}`,
      );
      for (const p of allOthers) log(`      other: ${p}`);
      scenarios.push({ name: d.name, label: d.label, result, cpu, others: allOthers });
    }
    scenarios.sort((a, b) => defs.findIndex((d) => d.name === a.name) - defs.findIndex((d) => d.name === b.name));
    return { dialect, seeding: { products: products.length, seconds: seeded.seconds, requests: seeded.requests }, scenarios, checks };
  } finally {
    if (server) {
      const code = await server.stop().catch(() => null);
      const out = server.output().trim();
      if (out) fs.writeFileSync(path.join(resultsDir, `server-${dialect}.log`), out + '\n');
      if (code !== 0 && code !== null) log(`service exited with ${code}`);
    }
    for (const f of fs.existsSync(tmp) ? fs.readdirSync(tmp).filter((f) => f.endsWith('.lua')) : []) {
      fs.copyFileSync(path.join(tmp, f), path.join(resultsDir, `${dialect}-${f}`));
    }
    pendingCleanups.delete(cleanup);
    await cleanup();
  }
}

function dialectTable(r: DialectResult): string {
  const head = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'sock err', 'p90 ms', 'max ms', 'B/resp', 'server CPU', 'CPU ms/req', 'pg CPU', 'other CPU', 'other bench'];
  const rows = r.scenarios.map((s) => [
    s.label,
    fmtInt(s.result.rps),
    s.result.p50ms.toFixed(2),
    s.result.p99ms.toFixed(2),
    String(s.result.non2xx),
    String(s.result.socketErrors),
    s.result.p90ms.toFixed(2),
    s.result.maxMs.toFixed(1),
    fmtInt(s.result.bytes / Math.max(1, s.result.requests)),
    `${s.cpu.serverPct.toFixed(0)}%`,
    s.result.rps > 0 ? ((s.cpu.serverPct * 10) / s.result.rps).toFixed(2) : '-',
    r.dialect === 'postgres' ? `${s.cpu.postgresPct.toFixed(0)}%` : '-',
    `${s.cpu.otherPct.toFixed(0)}%`,
    String(s.others.length),
  ]);
  return renderTable(head, rows);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!wrkAvailable()) throw new Error('wrk is not installed (Debian: apt-get install -y wrk)');
  log(`bench/carrier.ts ${process.argv.slice(2).join(' ')}`);
  log(
    `node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model}); wrk -t${o.threads} -c${o.connections} --latency, ` +
      `${o.duration} s per scenario after ${o.warmup} s warm-up; load average ${os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
  );
  const others = otherBenchProcesses();
  log(others.length ? `other bench/ processes at start:\n${others.map((p) => `  ${p}`).join('\n')}` : 'no other bench/ processes at start');
  if (!o.skipBuild) {
    log('building: npx tsc -p tsconfig.build.json');
    await run('npx', ['tsc', '-p', 'tsconfig.build.json'], process.env, ROOT);
  }
  const ports = new Map<Dialect, number>();
  for (const d of o.dialects) ports.set(d, await freePort());

  if (o.quietWait > 0) await waitQuiet(o.quietWait);
  const qr = await qrInProcess(`http://127.0.0.1:${ports.get(o.dialects[0]!)}`, o.qrSamples);

  const all: DialectResult[] = [];
  for (const d of o.dialects) all.push(await runDialect(d, o, ports.get(d)!));

  log('\n================ results ================');
  log(`\nin-process renderQr (src/features/export/qr.ts), ${o.qrSamples} distinct URIs, one call at a time:`);
  log(
    renderTable(
      ['renderQr', 'mean ms', 'p50 ms', 'p99 ms', 'max ms', 'bytes', 'calls/s (1 core)'],
      [...qr, ...qrMixTimings].map((t) => [t.label, t.meanMs.toFixed(3), t.p50Ms.toFixed(3), t.p99Ms.toFixed(3), t.maxMs.toFixed(2), fmtInt(t.avgBytes), fmtInt(1000 / t.meanMs)]),
    ),
  );
  for (const r of all) {
    log(
      `\n${r.dialect} — ${r.seeding.products} published passports seeded over HTTP in ${r.seeding.seconds.toFixed(1)} s; wrk -t${o.threads} -c${o.connections}, ${o.duration} s per scenario`,
    );
    log(dialectTable(r));
    const bad = r.scenarios.filter((s) => s.result.non2xx > 0 || s.result.socketErrors > 0);
    log(bad.length ? `NOT OK: non-2xx or socket errors in ${bad.map((s) => s.name).join(', ')}` : 'ok: no non-2xx responses and no socket errors');
  }
  log(
    '(CPU: % of one core over the measured run — the service, its PostgreSQL backends, every other process except wrk; ' +
      'CPU ms/req: service CPU time per answered request; other bench: other bench/ processes seen during the run)',
  );
  fs.writeFileSync(
    path.join(resultsDir, 'summary.json'),
    JSON.stringify(
      {
        options: o,
        qrInProcess: [...qr, ...qrMixTimings],
        dialects: all.map((r) => ({ ...r, scenarios: r.scenarios.map((s) => ({ ...s, result: { ...s.result, raw: undefined } })) })),
      },
      null,
      2,
    ),
  );
  log(`\nraw wrk output, Lua scripts, server logs and summary.json in ${path.relative(ROOT, resultsDir)}/`);
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
  Promise.allSettled([...pendingCleanups].map((c) => c())).then(() => process.exit(1));
});
