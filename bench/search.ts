/**
 * First-time search latency, in process: runs every query of a kept `bench/api.ts` database's
 * first-time-search list (cold-searches.txt, one URL-encoded query per line) through the catalog view
 * with its result cache off, one after another, and prints the latency distribution, where the time
 * goes (each SQL statement, as Kysely reports it) and the slowest queries with their totals.
 * No HTTP and no concurrency: the cost of the queries themselves, which `bench/api.ts --only search-cold`
 * then measures through the server under load.
 *
 *   npx tsx bench/search.ts --sqlite DIR | --postgres DIR  [--queries N] [--page P] [--explain-worst N]
 *
 * DIR is a directory kept by `npx tsx bench/api.ts --keep` (bench-meta.json names its PostgreSQL schema).
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kysely, PostgresDialect, SqliteDialect, type LogEvent } from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { Dialect } from '../src/db/dialect.js';
import { createResultCache } from '../src/db/result-cache.js';
import type { Schema } from '../src/db/schema.js';
import { createCatalogView } from '../src/features/catalog/catalog-view.js';

const PG_BASE = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function parseArgs(argv: string[]) {
  const o = { dialect: undefined as Dialect | undefined, dir: '', queries: 1000, page: 1, explainWorst: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--sqlite' || a === '--postgres') {
      o.dialect = a === '--sqlite' ? 'sqlite' : 'postgres';
      o.dir = next();
    } else if (a === '--queries') o.queries = Number(next());
    else if (a === '--page') o.page = Number(next());
    else if (a === '--explain-worst') o.explainWorst = Number(next());
    else throw new Error(`unknown argument ${a}; usage: npx tsx bench/search.ts --sqlite DIR | --postgres DIR [--queries N] [--page P] [--explain-worst N]`);
  }
  if (!o.dialect) throw new Error('--sqlite DIR or --postgres DIR is required');
  return o as typeof o & { dialect: Dialect };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const meta = JSON.parse(fs.readFileSync(path.join(o.dir, 'bench-meta.json'), 'utf8')) as { schema?: string };
  const queries = fs
    .readFileSync(path.join(o.dir, 'cold-searches.txt'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, o.queries)
    .map((q) => decodeURIComponent(q));

  let statements: Array<{ sql: string; params: readonly unknown[]; ms: number }> = [];
  const log = (e: LogEvent) => {
    if (e.level === 'query') statements.push({ sql: e.query.sql, params: e.query.parameters, ms: e.queryDurationMillis });
  };
  let conn: SQLite.Database | undefined;
  let pool: pg.Pool | undefined;
  let db: Kysely<Schema>;
  if (o.dialect === 'sqlite') {
    conn = new SQLite(path.join(o.dir, 'dpp.sqlite'), { readonly: true });
    conn.pragma('cache_size = -65536');
    conn.pragma('mmap_size = 1073741824');
    db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: conn }), log });
  } else {
    if (!meta.schema) throw new Error(`${o.dir}/bench-meta.json names no PostgreSQL schema`);
    pool = new pg.Pool({ connectionString: PG_BASE, max: 2, options: `-c search_path=${meta.schema}` });
    db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }), log });
  }
  const orgRow = await db.selectFrom('products').select('org_id').limit(1).executeTakeFirstOrThrow();
  const catalog = createCatalogView(db, o.dialect, createResultCache(db, o.dialect, 0));

  // Warm the caches the way a running service has them warm (index pages, prepared plans).
  for (const q of queries.slice(0, 50)) await catalog.list(orgRow.org_id, { page: o.page, per_page: 50, search: q });

  const results: Array<{ q: string; ms: number; total: number; estimate: boolean; statements: typeof statements }> = [];
  for (const q of queries) {
    statements = [];
    const t0 = performance.now();
    const body = JSON.parse(await catalog.list(orgRow.org_id, { page: o.page, per_page: 50, search: q })) as { total: number; total_is_estimate: boolean };
    results.push({ q, ms: performance.now() - t0, total: body.total, estimate: body.total_is_estimate, statements });
  }
  const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
  console.log(`${o.dialect}: ${results.length} first-time searches, page ${o.page}, one at a time, in process`);
  console.log(`  p50 ${pct(sorted, 50).toFixed(2)} ms  p90 ${pct(sorted, 90).toFixed(2)} ms  p99 ${pct(sorted, 99).toFixed(2)} ms  max ${sorted.at(-1)!.toFixed(2)} ms`);
  // Time per statement shape, summed over every query: where a first-time search spends its time.
  const byShape = new Map<string, { n: number; ms: number }>();
  for (const r of results) {
    for (const s of r.statements) {
      const shape = s.sql.replace(/\s+/g, ' ').slice(0, 140);
      const e = byShape.get(shape) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += s.ms;
      byShape.set(shape, e);
    }
  }
  console.log('  time by statement (sum over all queries):');
  for (const [shape, e] of [...byShape].sort((a, b) => b[1].ms - a[1].ms)) console.log(`    ${e.ms.toFixed(0).padStart(7)} ms  ${String(e.n).padStart(5)}×  ${shape}`);
  const worst = [...results].sort((a, b) => b.ms - a.ms).slice(0, 15);
  console.log('  slowest:');
  for (const r of worst) {
    const parts = r.statements.map((s) => s.ms.toFixed(1)).join(' + ');
    console.log(`    ${r.ms.toFixed(1).padStart(7)} ms  total ${r.estimate ? '≥' : ''}${r.total}  "${r.q}"  (${parts})`);
  }
  for (const r of worst.slice(0, o.explainWorst)) {
    for (const s of r.statements) {
      console.log(`\n-- "${r.q}": ${s.ms.toFixed(1)} ms\n${s.sql}`);
      if (conn) {
        const plan = conn.prepare(`explain query plan ${s.sql}`).all(...(s.params as unknown[])) as Array<{ detail: string }>;
        for (const p of plan) console.log(`   ${p.detail}`);
      } else {
        const plan = await pool!.query(`explain (analyze, buffers) ${s.sql}`, s.params as unknown[]);
        for (const row of plan.rows as Array<Record<string, string>>) console.log(`   ${row['QUERY PLAN']}`);
      }
    }
  }
  await db.destroy();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
