/**
 * Captures the exact SQL the service's repositories build for the benchmarked endpoints (through a Kysely
 * instance that logs its queries), times each query in-process, and shows its plan:
 * EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL.
 */
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import type { Dialect } from '../../src/db/dialect.js';
import type { Schema } from '../../src/db/schema.js';
import { createAccessRepository } from '../../src/features/access/repository.js';
import { createResultCache } from '../../src/db/result-cache.js';
import { createCatalogView } from '../../src/features/catalog/catalog-view.js';
import { createComplianceService } from '../../src/features/passports/service.js';

interface Captured {
  sql: string;
  params: readonly unknown[];
}

export interface ExplainTarget {
  dialect: Dialect;
  sqliteFile?: string;
  databaseUrl?: string;
  pgSchema?: string;
}

export interface ExplainInput {
  orgId: string;
  keyId: string;
  productId: string;
  searchWord: string;
  listPage: number;
}

export async function explainEndpoints(target: ExplainTarget, input: ExplainInput): Promise<string> {
  let captured: Captured[] = [];
  const log = (e: LogEvent) => {
    if (e.level === 'query') captured.push({ sql: e.query.sql, params: e.query.parameters });
  };
  let conn: SQLite.Database | undefined;
  let pool: pg.Pool | undefined;
  let db: Kysely<Schema>;
  if (target.dialect === 'sqlite') {
    conn = new SQLite(target.sqliteFile!, { readonly: true });
    conn.pragma('cache_size = -65536');
    db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: conn }), log });
  } else {
    pool = new pg.Pool({ connectionString: target.databaseUrl, max: 2, options: `-c search_path=${target.pgSchema}` });
    db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }), log });
  }
  // No result cache: these are the timings of the queries themselves.
  const catalog = createCatalogView(db, target.dialect, createResultCache(db, target.dialect, 0));
  const compliance = createComplianceService(db);
  const access = createAccessRepository(db);

  const endpoints: Array<[string, () => Promise<unknown>]> = [
    ['auth (every request): findKeyById', () => access.findKeyById(input.keyId)],
    ['GET /compliance/dpp/{id}', () => compliance.getPassportDocument(input.orgId, input.productId)],
    [`GET /compliance/dpp/products?search=${input.searchWord}`, () => catalog.list(input.orgId, { page: 1, per_page: 50, search: input.searchWord })],
    [`GET /compliance/dpp/products?has_dpp=true&page=${input.listPage}`, () => catalog.list(input.orgId, { page: input.listPage, per_page: 50, has_dpp: true })],
    ['GET /compliance/dpp/stats', () => catalog.stats(input.orgId)],
  ];

  const out: string[] = [];
  try {
    for (const [name, call] of endpoints) {
      captured = [];
      const t0 = performance.now();
      await call();
      const first = performance.now() - t0;
      const runs: number[] = [];
      for (let i = 0; i < 15; i++) {
        const t = performance.now();
        await call();
        runs.push(performance.now() - t);
      }
      runs.sort((a, b) => a - b);
      const queries = captured.slice(0, captured.length / 16);
      out.push(`== ${name}: in-process (repository/service call) first ${first.toFixed(2)} ms, median ${runs[7]!.toFixed(2)} ms, ${queries.length} queries`);
      for (const q of queries) {
        const times: number[] = [];
        for (let i = 0; i < 9; i++) {
          const t = performance.now();
          if (conn) conn.prepare(q.sql).all(...(q.params as unknown[]));
          else await pool!.query(q.sql, q.params as unknown[]);
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        out.push(`-- ${times[4]!.toFixed(3)} ms (median of 9)  params ${JSON.stringify(q.params).slice(0, 200)}`);
        out.push(`   ${q.sql}`);
        if (conn) {
          const plan = conn.prepare(`explain query plan ${q.sql}`).all(...(q.params as unknown[])) as Array<{ id: number; parent: number; detail: string }>;
          const depth = new Map<number, number>();
          for (const p of plan) {
            const d = (depth.get(p.parent) ?? -1) + 1;
            depth.set(p.id, d);
            out.push(`   ${'  '.repeat(d)}${p.detail}`);
          }
        } else {
          const r = await pool!.query(`explain (analyze, buffers) ${q.sql}`, q.params as unknown[]);
          for (const row of r.rows as Array<Record<string, string>>) out.push(`   ${row['QUERY PLAN']}`);
        }
      }
      out.push('');
    }
  } finally {
    await db.destroy();
  }
  return out.join('\n');
}
