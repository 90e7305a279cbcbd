/**
 * Does rendering uncached QR PNGs stall other requests? Measures the p99 of passport GETs
 * (GET /api/v1/compliance/dpp/{id}, random ids, wrk closed loop) without and with a concurrent open-loop
 * load of uncached QR PNG requests (default 10/s; each request a new (product, size) pair, so the rendered-
 * image cache, keyed by uri|format|size|margin|ecc, always misses), once per rendering mode:
 *   inline   QR_WORKERS=0: PNGs rendered on the event loop (the old behaviour)
 *   pool     QR_WORKERS=N (default: the service's default): PNGs rendered in worker threads
 * For each mode it starts the built service (`node dist/cli.js serve`) on a fresh SQLite directory or PostgreSQL
 * schema, seeds published passports over HTTP, then alternates `without` / `with` runs (--rounds times) and
 * reports the median p99 of each and their ratio p99(with QR) / p99(without).
 *
 *   npx tsx bench/qr-stall.ts [--dialect sqlite|postgres] [--duration 10] [--rounds 3] [--products 200]
 *                             [--connections 8] [--qr-rate 10] [--qr-size-min 256] [--qr-size-max 1024]
 *                             [--workers N] [--modes inline,pool] [--quiet-wait 30] [--skip-build]
 * --quiet-wait S: before each run wait up to S s for the machine to be idle (0 disables); each line says how busy it was.
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 * Output (log, raw wrk output, summary.json) in bench/results/qr-stall-<timestamp>/.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { randomPathScript } from './lib/carrier-lua.js';
import { ean13 } from './lib/carrier-seed.js';
import { freePort, killChildren, run, startServer, waitQuiet, type Server } from './lib/procs.js';
import { runWrk, wrkAvailable, type WrkResult } from './lib/wrk.js';

type Mode = 'inline' | 'pool';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PG_BASE = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const o = {
  dialect: 'sqlite' as 'sqlite' | 'postgres',
  duration: 10,
  rounds: 3,
  products: 200,
  connections: 8,
  qrRate: 10,
  qrSizeMin: 256,
  qrSizeMax: 1024,
  workers: undefined as number | undefined,
  modes: ['inline', 'pool'] as Mode[],
  quietWait: 30,
  skipBuild: false,
};
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i]!;
  const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
  const value = () => inline ?? process.argv[++i] ?? '';
  const num = () => {
    const n = Number(value());
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a number`);
    return n;
  };
  if (flag === '--dialect') o.dialect = value() === 'postgres' ? 'postgres' : 'sqlite';
  else if (flag === '--duration') o.duration = num();
  else if (flag === '--rounds') o.rounds = Math.max(1, Math.round(num()));
  else if (flag === '--products') o.products = Math.max(10, Math.round(num()));
  else if (flag === '--connections') o.connections = Math.max(1, Math.round(num()));
  else if (flag === '--qr-rate') o.qrRate = num();
  else if (flag === '--qr-size-min') o.qrSizeMin = Math.round(num());
  else if (flag === '--qr-size-max') o.qrSizeMax = Math.round(num());
  else if (flag === '--workers') o.workers = Math.round(num());
  else if (flag === '--modes')
    o.modes = value()
      .split(',')
      .filter((m): m is Mode => m === 'inline' || m === 'pool');
  else if (flag === '--quiet-wait') o.quietWait = num();
  else if (flag === '--skip-build') o.skipBuild = true;
  else throw new Error(`unknown argument ${arg} (see the header of bench/qr-stall.ts)`);
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const resultsDir = path.join(ROOT, 'bench', 'results', `qr-stall-${stamp}`);
fs.mkdirSync(resultsDir, { recursive: true });
function log(line = '') {
  console.log(line);
  fs.appendFileSync(path.join(resultsDir, 'run.log'), line + '\n');
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! : NaN;
};

/** `count` published passports over HTTP (a small, self-consistent passport each), 8 at a time; their ids. */
async function seed(baseUrl: string, auth: Record<string, string>, count: number): Promise<string[]> {
  const call = async (method: string, p: string, body: unknown) => {
    const r = await fetch(baseUrl + p, { method, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const j = (await r.json()) as Record<string, unknown>;
    if (r.status >= 300) throw new Error(`${method} ${p} answered ${r.status}: ${JSON.stringify(j)}`);
    return j;
  };
  const ids: string[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const id = (await call('POST', '/api/v1/products', { title: `QR stall ${i}`, ean: ean13(i) })).product_id as string;
      await call('PATCH', `/api/v1/compliance/dpp/${id}`, {
        manufacturer: 'Bench Brand',
        country_of_origin: 'FR',
        materials: [
          { name: 'Steel', percentage: 80 },
          { name: 'Recycled plastic', percentage: 20 },
        ],
        carbon_footprint_kg: 2.5,
        recyclability_score: 'A',
        certifications: ['CE'],
        end_of_life_instructions: 'Recycle via separate collection.',
      });
      await call('POST', `/api/v1/compliance/dpp/${id}/publish`, {});
      ids[i] = id;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return ids;
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

/** Until stopped: `rate` uncached QR PNG requests per second, open loop (a slow answer does not slow the load). */
function qrLoad(baseUrl: string, auth: Record<string, string>, ids: string[], counter: { k: number }) {
  const span = o.qrSizeMax - o.qrSizeMin + 1;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const pending = new Set<Promise<void>>();
  const t0 = performance.now();
  let sent = 0;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    // Catch up to the schedule, so the rate holds even if the timer is late.
    while (sent < ((performance.now() - t0) / 1000) * o.qrRate) {
      // Request k: product k mod n, size min + (k·7919 mod span): sizes spread over the range, and a (uri, size)
      // pair repeats only after lcm(n, span) requests when span is prime (769 for 256..1024) or coprime to 7919.
      const k = counter.k++;
      const url = `${baseUrl}/api/v1/compliance/dpp/${ids[k % ids.length]}/qr?size=${o.qrSizeMin + ((k * 7919) % span)}`;
      const start = performance.now();
      const p = fetch(url, { headers: auth })
        .then(async (r) => {
          await r.arrayBuffer();
          latencies.push(performance.now() - start);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        })
        .catch(() => void statuses.set(0, (statuses.get(0) ?? 0) + 1))
        .finally(() => pending.delete(p));
      pending.add(p);
      sent++;
    }
    setTimeout(tick, 5);
  };
  tick();
  return async () => {
    stopped = true;
    await Promise.all([...pending]);
    return { sent, latencies, statuses: Object.fromEntries(statuses) };
  };
}

interface Run {
  round: number;
  withQr: boolean;
  wrk: WrkResult;
  qr?: { sent: number; p50ms: number; p99ms: number; statuses: Record<number, number> };
}

async function runMode(mode: Mode, port: number): Promise<{ mode: Mode; workers: string; runs: Run[] }> {
  log(`\n=== ${mode} (${o.dialect}) ===`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-qr-stall-'));
  const schema = o.dialect === 'postgres' ? `bench_qr_stall_${randomBytes(5).toString('hex')}` : undefined;
  const baseUrl = `http://127.0.0.1:${port}`;
  const workers = mode === 'inline' ? '0' : o.workers !== undefined ? String(o.workers) : '';
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DEMO_SEED: 'false', DATA_DIR: tmp, PUBLIC_BASE_URL: baseUrl };
  delete env.DATABASE_URL;
  delete env.QR_WORKERS;
  if (workers) env.QR_WORKERS = workers;
  if (schema) {
    await pgAdmin((c) => c.query(`create schema ${schema}`));
    env.DATABASE_URL = `${PG_BASE}?options=-c%20search_path%3D${schema}`;
  }
  let server: Server | undefined;
  try {
    const cli = path.join(ROOT, 'dist', 'cli.js');
    await run(process.execPath, [cli, 'migrate'], env, ROOT);
    const key = (await run(process.execPath, [cli, 'keys', 'create', '--org', 'bench-qr', '--scopes', 'read,write'], env, ROOT)).stdout.trim().split('\n').pop()!.trim();
    server = await startServer([cli, 'serve'], env, ROOT, port, '/readyz');
    const auth = { authorization: `Bearer ${key}` };
    const t0 = performance.now();
    const ids = await seed(baseUrl, auth, o.products);
    log(`QR_WORKERS=${workers || '(default)'}; ${ids.length} published passports seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const idsFile = path.join(tmp, 'ids.txt');
    fs.writeFileSync(idsFile, ids.join('\n') + '\n');
    const script = randomPathScript(tmp, 'passport.lua', idsFile, '/api/v1/compliance/dpp/');
    const wrk = (seconds: number) => runWrk({ url: `${baseUrl}/api/v1/compliance/dpp/${ids[0]}`, script, seconds, threads: 1, connections: o.connections, headers: auth });
    const counter = { k: 0 };
    // Warm-up: passport reads, then QR renders (JIT, the pool's workers started).
    await wrk(2);
    const stopWarm = qrLoad(baseUrl, auth, ids, counter);
    await new Promise((r) => setTimeout(r, 2000));
    await stopWarm();
    const runs: Run[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      for (const withQr of [false, true]) {
        const quiet = o.quietWait > 0 ? await waitQuiet(o.quietWait) : undefined;
        const stop = withQr ? qrLoad(baseUrl, auth, ids, counter) : undefined;
        const result = await wrk(o.duration);
        const qr = stop ? await stop() : undefined;
        fs.writeFileSync(path.join(resultsDir, `wrk-${mode}-r${round}-${withQr ? 'with' : 'without'}-qr.txt`), result.raw);
        const r: Run = { round, withQr, wrk: result };
        if (qr) r.qr = { sent: qr.sent, p50ms: pct(qr.latencies, 50), p99ms: pct(qr.latencies, 99), statuses: qr.statuses };
        runs.push(r);
        log(
          `  round ${round} ${withQr ? 'with QR   ' : 'without QR'}  passport GET ${Math.round(result.rps)} req/s  p50 ${result.p50ms.toFixed(2)} ms  p99 ${result.p99ms.toFixed(2)} ms  max ${result.maxMs.toFixed(1)} ms  non-2xx ${result.non2xx}` +
            (quiet ? `  (machine ${quiet.busyPct.toFixed(0)}% busy before)` : '') +
            (r.qr
              ? `  | QR ${r.qr.sent} sent (${(r.qr.sent / o.duration).toFixed(1)}/s) p50 ${r.qr.p50ms.toFixed(1)} ms p99 ${r.qr.p99ms.toFixed(1)} ms statuses ${JSON.stringify(r.qr.statuses)}`
              : ''),
        );
        await new Promise((res) => setTimeout(res, 500));
      }
    }
    return { mode, workers: workers || 'default', runs };
  } finally {
    if (server) {
      await server.stop().catch(() => null);
      const out = server.output().trim();
      if (out) fs.writeFileSync(path.join(resultsDir, `server-${mode}.log`), out + '\n');
    }
    if (schema) await pgAdmin((c) => c.query(`drop schema if exists ${schema} cascade`)).catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function main() {
  if (!wrkAvailable()) throw new Error('wrk is not installed (Debian: apt-get install -y wrk)');
  log(`bench/qr-stall.ts ${process.argv.slice(2).join(' ')}`);
  log(
    `node ${process.version}, ${os.cpus().length} cores; wrk -t1 -c${o.connections} on passport GETs, ${o.duration} s per run, ${o.rounds} rounds; ` +
      `QR load ${o.qrRate}/s uncached PNG, size ${o.qrSizeMin}..${o.qrSizeMax}; load average ${os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
  );
  if (!o.skipBuild) await run('npx', ['tsc', '-p', 'tsconfig.build.json'], process.env, ROOT);
  const port = await freePort();
  const results = [];
  for (const mode of o.modes) results.push(await runMode(mode, port));
  log('\n================ results ================');
  log('mode     QR_WORKERS  p99 without QR (median)  p99 with QR (median)  ratio   passport req/s without / with');
  const summary = results.map((r) => {
    const without = r.runs.filter((x) => !x.withQr);
    const withQr = r.runs.filter((x) => x.withQr);
    const p99Without = median(without.map((x) => x.wrk.p99ms));
    const p99With = median(withQr.map((x) => x.wrk.p99ms));
    const ratio = p99With / p99Without;
    log(
      `${r.mode.padEnd(8)} ${r.workers.padStart(10)}  ${p99Without.toFixed(2).padStart(20)} ms  ${p99With.toFixed(2).padStart(17)} ms  ${ratio.toFixed(2).padStart(5)}×  ` +
        `${Math.round(median(without.map((x) => x.wrk.rps)))} / ${Math.round(median(withQr.map((x) => x.wrk.rps)))}`,
    );
    return { ...r, p99Without, p99With, ratio, runs: r.runs.map((x) => ({ ...x, wrk: { ...x.wrk, raw: undefined } })) };
  });
  fs.writeFileSync(path.join(resultsDir, 'summary.json'), JSON.stringify({ options: o, results: summary }, null, 2));
  log(`\nlog, raw wrk output and summary.json in ${path.relative(ROOT, resultsDir)}/`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killChildren();
    process.exit(130);
  });
}
main().catch((e: unknown) => {
  killChildren();
  console.error(e);
  process.exit(1);
});
