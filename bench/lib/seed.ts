/**
 * Seeding for bench/api.ts: products through the real importer, then passports written straight into
 * compliance_records (plus the list/stats columns and counters the service would keep in step).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../../src/db/dialect.js';
import type { ComplianceRow, Schema } from '../../src/db/schema.js';
import { ALL_FIELDS, columnsFor, type ComplianceValues } from '../../src/features/passports/record.js';
import { missingForComplete } from '../../src/features/passports/rules.js';
import { passportView } from '../../src/features/passports/views.js';
import { importProducts } from '../../src/features/products/import.js';
import { createStatsRepository } from '../../src/features/stats/repository.js';
import { CatalogCsvStream, passportValues, prng, type Status } from './catalog.js';

export interface ProductRef {
  id: string;
  title: string;
  ean: string | null;
  brand: string | null;
  category: string | null;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export async function seedProducts(db: Kysely<Schema>, orgId: string, total: number, log: (s: string) => void) {
  const csv = new CatalogCsvStream(total);
  const t0 = performance.now();
  let next = Math.max(10_000, Math.round(total / 10));
  const summary = await importProducts(db, orgId, csv, 'csv', {
    onProgress: (done) => {
      if (done >= next) {
        const s = (performance.now() - t0) / 1000;
        log(`  import ${fmt(done)} rows  ${s.toFixed(1)} s  ${fmt(done / s)} rows/s`);
        next += Math.max(10_000, Math.round(total / 10));
      }
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  if (summary.failed > 0 || summary.created !== total) {
    throw new Error(`import: ${summary.created} created, ${summary.failed} failed of ${total}: ${JSON.stringify(summary.failures.slice(0, 3))}`);
  }
  return { seconds, search: csv.searchWord() };
}

/** Status mix of the seeded passports. */
function statusFor(r: () => number): Status {
  const x = r();
  return x < 0.4 ? 'draft' : x < 0.75 ? 'complete' : 'published';
}

const BOOL_COLUMNS = ['reach_compliant', 'rohs_compliant', 'ce_marked', 'recyclable', 'has_unpublished_changes'] as const;

/**
 * The compliance record (and publication, when published) that the API path — PATCH passport, PATCH
 * environmental data, then publish — leaves behind for these values.
 */
export function directRows(dialect: Dialect, orgId: string, product: ProductRef, values: ComplianceValues, status: Status, now: string) {
  const published = status === 'published';
  const missing = missingForComplete(values);
  if ((missing.length === 0) !== (status !== 'draft')) throw new Error(`values do not fit status ${status}`);
  const record = {
    product_id: product.id,
    org_id: orgId,
    dpp_id: randomUUID(),
    passport_created_at: now,
    // v1 = PATCH passport (creates it), v2 = PATCH environmental data, v3 = publish.
    version: published ? 3 : 2,
    ...(Object.fromEntries(ALL_FIELDS.map((f) => [f, null])) as object),
    ...columnsFor(values),
    field_sources: JSON.stringify(Object.fromEntries(ALL_FIELDS.filter((f) => values[f] !== null).map((f) => [f, 'api']))),
    published_version: published ? 1 : null,
    published_at: published ? now : null,
    withdrawn_at: null,
    has_unpublished_changes: 0,
    updated_at: now,
    missing_fields: JSON.stringify(missing),
  } as ComplianceRow;
  if (dialect === 'postgres') {
    const r = record as unknown as Record<string, unknown>;
    for (const c of BOOL_COLUMNS) if (r[c] !== null) r[c] = r[c] === 1;
  }
  const publication = published
    ? {
        product_id: product.id,
        published_version: 1,
        org_id: orgId,
        revision: 2,
        published_at: now,
        key_id: null,
        snapshot: JSON.stringify(passportView(product, record, values, 'published')),
        withdrawn_at: null,
      }
    : undefined;
  return { record, publication };
}

export interface Counters {
  with_dpp: number;
  draft: number;
  complete: number;
  published: number;
  certs: Map<string, number>;
}

/** Writes passports for `items` in one transaction: records, publications, product columns. Adds to `counters`. */
export async function writePassports(
  db: Kysely<Schema>,
  dialect: Dialect,
  orgId: string,
  items: Array<{ product: ProductRef; values: ComplianceValues; status: Status }>,
  now: string,
  counters: Counters,
) {
  if (items.length === 0) return;
  const rows = items.map((i) => ({ ...directRows(dialect, orgId, i.product, i.values, i.status, now), status: i.status }));
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += 500) {
      await trx
        .insertInto('compliance_records')
        .values(rows.slice(i, i + 500).map((r) => r.record))
        .execute();
    }
    const pubs = rows.flatMap((r) => (r.publication ? [r.publication] : []));
    for (let i = 0; i < pubs.length; i += 1000) {
      await trx
        .insertInto('passport_publications')
        .values(pubs.slice(i, i + 1000))
        .execute();
    }
    for (let i = 0; i < rows.length; i += 2000) {
      const chunk = rows.slice(i, i + 2000);
      if (dialect === 'postgres') {
        await sql`update products as p set has_dpp = true, dpp_status = v.s, updated_at = v.u
                  from unnest(${chunk.map((r) => r.record.product_id)}::text[], ${chunk.map((r) => r.status)}::text[],
                              ${chunk.map(() => now)}::text[]) as v(id, s, u)
                  where p.id = v.id and p.org_id = ${orgId}`.execute(trx);
      } else {
        const tuples = sql.join(chunk.map((r) => sql`(${r.record.product_id}, ${r.status}, ${now})`));
        await sql`update products set has_dpp = 1, dpp_status = v.column2, updated_at = v.column3
                  from (values ${tuples}) as v where products.id = v.column1 and products.org_id = ${orgId}`.execute(trx);
      }
    }
  });
  for (const r of rows) {
    counters.with_dpp++;
    counters[r.status]++;
    const certs: string[] = r.record.certifications ? JSON.parse(r.record.certifications) : [];
    for (const c of new Set(certs)) counters.certs.set(c, (counters.certs.get(c) ?? 0) + 1);
  }
}

/** Adds the counters to org_stats / org_certifications the way the service does (same repository). */
export async function addCounters(db: Kysely<Schema>, orgId: string, c: Counters) {
  const stats = createStatsRepository(db);
  await stats.adjust(orgId, { with_dpp: c.with_dpp, draft: c.draft, complete: c.complete, published: c.published });
  await stats.adjustCertifications(orgId, c.certs);
}

export const emptyCounters = (): Counters => ({ with_dpp: 0, draft: 0, complete: 0, published: 0, certs: new Map() });

/**
 * Gives every other product (in id order, i.e. a random half) a passport. Returns the ids that got one.
 */
export async function seedPassports(db: Kysely<Schema>, dialect: Dialect, orgId: string, log: (s: string) => void) {
  const t0 = performance.now();
  const counters = emptyCounters();
  const ids: string[] = [];
  const r = prng(77);
  let after = '';
  let seen = 0;
  let nextLog = 100_000;
  for (;;) {
    // Keyset over the primary key alone: with an org_id condition, SQLite (no ANALYZE statistics) walks the
    // org's whole index and sorts it for every batch. The org filter is applied here instead.
    const batch = await db.selectFrom('products').select(['id', 'org_id', 'title', 'ean', 'brand', 'category']).where('id', '>', after).orderBy('id').limit(4000).execute();
    if (batch.length === 0) break;
    after = batch[batch.length - 1]!.id;
    const items = [];
    for (const p of batch) {
      if (p.org_id !== orgId || seen++ % 2 === 1) continue;
      const status = statusFor(r.next);
      items.push({ product: p, values: passportValues(p.id, p.brand, p.category, p.title, status), status });
      ids.push(p.id);
    }
    await writePassports(db, dialect, orgId, items, new Date().toISOString(), counters);
    if (ids.length >= nextLog) {
      const s = (performance.now() - t0) / 1000;
      log(`  passports ${fmt(ids.length)}  ${s.toFixed(1)} s  ${fmt(ids.length / s)} rows/s`);
      nextLog += 100_000;
    }
  }
  await addCounters(db, orgId, counters);
  return { seconds: (performance.now() - t0) / 1000, ids, counters };
}

/** Recounts what the counters say from the rows themselves; returns the differences (empty = consistent). */
export async function checkCounters(db: Kysely<Schema>, dialect: Dialect, orgId: string): Promise<string[]> {
  const problems: string[] = [];
  const stats = await db.selectFrom('org_stats').selectAll().where('org_id', '=', orgId).executeTakeFirstOrThrow();
  const byStatus = await db
    .selectFrom('products')
    .select(['dpp_status', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('org_id', '=', orgId)
    .groupBy('dpp_status')
    .execute();
  const count = (s: string | null) => Number(byStatus.find((r) => r.dpp_status === s)?.n ?? 0);
  const total = byStatus.reduce((s, r) => s + Number(r.n), 0);
  const hasDpp = Number(
    (
      await db
        .selectFrom('products')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('org_id', '=', orgId)
        .where('has_dpp', '=', dialect === 'postgres' ? true : 1)
        .executeTakeFirstOrThrow()
    ).n,
  );
  const expect = { total_products: total, with_dpp: hasDpp, draft: count('draft'), complete: count('complete'), published: count('published') };
  for (const [k, v] of Object.entries(expect)) {
    if (Number(stats[k as keyof typeof stats]) !== v) problems.push(`org_stats.${k} = ${stats[k as keyof typeof stats]}, recount ${v}`);
  }
  if (count('draft') + count('complete') + count('published') !== hasDpp) problems.push('has_dpp and dpp_status disagree');
  const recount =
    dialect === 'sqlite'
      ? await sql<{ code: string; n: number }>`select j.value as code, count(distinct cr.product_id) as n
          from compliance_records cr, json_each(cr.certifications) j
          where cr.org_id = ${orgId} and cr.passport_created_at is not null group by j.value`.execute(db)
      : await sql<{ code: string; n: string }>`select j.code, count(distinct cr.product_id) as n
          from compliance_records cr cross join lateral jsonb_array_elements_text(cr.certifications::jsonb) as j(code)
          where cr.org_id = ${orgId} and cr.passport_created_at is not null group by j.code`.execute(db);
  const stored = await db.selectFrom('org_certifications').select(['code', 'products']).where('org_id', '=', orgId).execute();
  const storedMap = new Map(stored.filter((r) => Number(r.products) !== 0).map((r) => [r.code, Number(r.products)]));
  const recountMap = new Map(recount.rows.map((r) => [r.code, Number(r.n)]));
  for (const code of new Set([...storedMap.keys(), ...recountMap.keys()])) {
    if (storedMap.get(code) !== recountMap.get(code)) problems.push(`org_certifications ${code} = ${storedMap.get(code)}, recount ${recountMap.get(code)}`);
  }
  return problems;
}
