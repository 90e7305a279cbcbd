import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { dialectOf, isUniqueViolation, toBool } from '../../db/dialect.js';
import { errors } from '../../errors.js';
import type { NewProductRow, Schema } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import { nowIso } from '../../lib/time.js';
import { recordProductChanges } from '../passports/product-changes.js';
import type { Actor } from '../passports/service.js';
import { createStatsRepository } from '../stats/repository.js';
import { createProductRepository } from './repository.js';
import { prepareRowsInWorker } from './parse-in-worker.js';
import { importConnection, type ImportConnection } from './pg-copy.js';
import { prepareRows, type ImportSource, type PreparedRow } from './prepare-rows.js';
import type { ImportFormat } from './row-sources.js';
import type { ImportSummary } from './schemas.js';

/** Rows written per transaction: a commit and the pages it rewrites are shared by this many rows (a few MB of memory). */
const BATCH_ROWS = 2500;
const MAX_REPORTED_FAILURES = 1000;
const ANALYZE_FIRST_AT = 5_000;
const COMPARED = ['external_id', 'title', 'ean', 'gtin14', 'brand', 'category', 'description', 'attributes'] as const;

function sameCatalogFields(a: NewProductRow, b: NewProductRow): boolean {
  return toBool(a.gtin_valid as never) === toBool(b.gtin_valid as never) && COMPARED.every((c) => (a[c] ?? null) === (b[c] ?? null));
}

type Pending = Extract<PreparedRow, { fields: unknown }>;

/**
 * How a batch writes its new products:
 * - `copy` (PostgreSQL): COPY them all in under a savepoint; if one key is taken, roll back and go on as `insert-first`;
 * - `insert-first`: insert each unless its external id or GTIN is taken, then match the rest;
 * - `lookup-first`: look every row up, then write (a re-import: most rows exist).
 * The next batch's mode follows from what this one found, so a load of new rows and a re-import both
 * take their fast path, and a mixed file moves between them.
 */
type WriteMode = 'copy' | 'insert-first' | 'lookup-first';

function nextMode(mode: WriteMode, outcome: BatchOutcome, rows: number, canCopy: boolean): WriteMode {
  const fresh = canCopy ? 'copy' : 'insert-first';
  if (mode === 'lookup-first') return outcome.created * 2 > rows ? fresh : 'lookup-first';
  if (outcome.taken === 0) return fresh;
  return outcome.taken * 2 <= rows ? 'insert-first' : 'lookup-first';
}

export interface ImportOptions {
  /** Called after each written batch with the rows read so far and, when known, the input bytes. */
  onProgress?: (rowsDone: number, bytesRead: number | undefined) => void;
  /** Parse on a worker thread (the default); pass `shouldParseInWorker(size)` to keep small inputs inline. */
  parseInWorker?: boolean;
  /** Who imports, for the history of passports whose product data the import changes. */
  actor?: Actor;
}

/**
 * Streams rows into the catalog of one organisation, upserting by `external_id` (when the row has one)
 * or else by EAN/GTIN. Rows are written in batches, each in its own transaction, so good rows land even
 * when others fail, and memory stays flat whatever the file size.
 *
 * @example
 * const summary = await importProducts(db, orgId, { path: 'catalog.csv' }, 'csv');
 */
export async function importProducts(db: Kysely<Schema>, orgId: string, source: ImportSource, format: ImportFormat, options: ImportOptions = {}): Promise<ImportSummary> {
  const { onProgress, parseInWorker = true, actor = { keyId: null, source: 'import' } } = options;
  const started = Date.now();
  const summary: ImportSummary = { created: 0, updated: 0, unchanged: 0, failed: 0, rows: 0, failures: [], failures_truncated: false, duration_ms: 0 };
  const postgres = dialectOf(db) === 'postgres';
  let analyzeAt = ANALYZE_FIRST_AT;
  const fail = (line: number, reason: string, field?: string) => {
    summary.failed++;
    if (summary.failures.length < MAX_REPORTED_FAILURES) summary.failures.push({ line, reason, ...(field ? { field } : {}) });
    else summary.failures_truncated = true;
  };

  let batch: Pending[] = [];
  let bytesRead: number | undefined;
  // PostgreSQL imports hold one connection, so each batch can COPY within its transaction.
  const connection = postgres ? await importConnection(db) : undefined;
  let mode: WriteMode = connection ? 'copy' : 'insert-first';
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    const outcome = await writeBatchWithRetry(connection?.db ?? db, orgId, rows, summary, fail, actor, { mode, copy: connection?.copyProducts });
    mode = nextMode(mode, outcome, rows.length, connection !== undefined);
    if (postgres && summary.created >= analyzeAt) {
      // A fast-growing table outruns the planner's statistics (autovacuum may be off or late) and the
      // key lookups degrade into scans of the organisation's rows: refresh them at ×4 steps.
      analyzeAt *= 4;
      await sql`analyze products`.execute(connection?.db ?? db);
    }
    onProgress?.(summary.rows, bytesRead);
  };

  const batches = parseInWorker ? prepareRowsInWorker(source, format, BATCH_ROWS) : prepareRows(source, format, BATCH_ROWS);
  try {
    for await (const prepared of batches) {
      for (const item of prepared.rows) {
        summary.rows++;
        if ('error' in item) fail(item.line, item.error, item.field);
        else batch.push(item);
      }
      bytesRead = prepared.bytesRead;
      // One transaction per prepared batch (at most BATCH_ROWS rows or BATCH_MAX_BYTES of input).
      await flush();
      // Let I/O run between batches (the writes are synchronous on SQLite): an HTTP body keeps
      // arriving and the parse worker keeps getting input while the next batch is written.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await flush();
  } finally {
    await connection?.release();
  }
  // Parse failures are known at once, write failures at their batch's flush: report in file order.
  summary.failures.sort((a, b) => a.line - b.line);
  summary.duration_ms = Date.now() - started;
  return summary;
}

/** A concurrent writer may take a GTIN between our read and our write: re-read and try again. */
async function writeBatchWithRetry(
  db: Kysely<Schema>,
  orgId: string,
  rows: Pending[],
  summary: ImportSummary,
  fail: (line: number, reason: string, field?: string) => void,
  actor: Actor,
  how: { mode: WriteMode; copy: ImportConnection['copyProducts'] | undefined },
): Promise<BatchOutcome> {
  for (let attempt = 1; ; attempt++) {
    const local: BatchOutcome = { created: 0, updated: 0, unchanged: 0, failures: [], taken: 0 };
    try {
      await db.transaction().execute((trx) => writeBatch(trx, orgId, rows, local, actor, how));
    } catch (e) {
      if (isUniqueViolation(e) && attempt < 3) continue;
      throw e;
    }
    summary.created += local.created;
    summary.updated += local.updated;
    summary.unchanged += local.unchanged;
    for (const [line, reason, field] of local.failures) fail(line, reason, field);
    return local;
  }
}

/** A new product from an import row. */
function newProduct(orgId: string, { fields, gtin }: Pending, now: string): NewProductRow {
  return {
    id: newId(),
    org_id: orgId,
    external_id: fields.external_id ?? null,
    title: fields.title!,
    ...gtin,
    brand: fields.brand ?? null,
    category: fields.category ?? null,
    description: fields.description ?? null,
    attributes: JSON.stringify(fields.attributes),
    created_at: now,
    updated_at: now,
  };
}

type BatchOutcome = { created: number; updated: number; unchanged: number; failures: Array<[number, string, string?]>; taken: number };

async function writeBatch(
  trx: Kysely<Schema>,
  orgId: string,
  batch: Pending[],
  out: BatchOutcome,
  actor: Actor,
  { mode, copy }: { mode: WriteMode; copy: ImportConnection['copyProducts'] | undefined },
) {
  const repo = createProductRepository(trx);
  let rows = batch;
  if (mode !== 'lookup-first') {
    // Rows for products that do not exist yet are most of a catalog load: insert them straight away,
    // and only look up the rows whose external id or GTIN is taken (a unique key says so). Those go
    // through the matching below, in their file order, after every insert: a row that is new here
    // is also new there, so the outcome is the same as looking every row up first.
    const now = nowIso();
    const candidates = batch.filter((r) => r.fields.title).map((r) => ({ r, product: newProduct(orgId, r, now) }));
    const products = candidates.map((c) => c.product);
    const copied = mode === 'copy' && copy !== undefined && (await repo.copyAllNew(products, copy));
    const inserted = copied ? new Set(products.map((p) => p.id)) : await repo.insertUnlessTaken(products);
    out.created += inserted.size;
    out.taken = candidates.length - inserted.size;
    const done = new Set(candidates.filter((c) => inserted.has(c.product.id)).map((c) => c.r));
    rows = batch.filter((r) => !done.has(r));
  }
  if (rows.length === 0) {
    await createStatsRepository(trx).adjust(orgId, { total_products: out.created });
    return;
  }
  const externalIds = [...new Set(rows.flatMap((r) => (r.fields.external_id ? [r.fields.external_id] : [])))];
  const gtins = [...new Set(rows.flatMap((r) => (r.gtin.gtin14 ? [r.gtin.gtin14] : [])))];
  const existing = await repo.findByKeys(orgId, externalIds, gtins);

  // Current state of every product this batch touches, keyed by id, plus lookups by key.
  const state = new Map<string, NewProductRow>();
  const byExt = new Map<string, string>();
  const byGtin = new Map<string, string>();
  for (const row of existing) {
    state.set(row.id, row);
    if (row.external_id) byExt.set(row.external_id, row.id);
    if (row.gtin14) byGtin.set(row.gtin14, row.id);
  }
  // A published passport freezes its product's GTIN (see ProductService.update). Only a row matched by
  // external_id can bring another GTIN, so only those products are looked up (none on a plain reload).
  const gtinMoves = rows.flatMap(({ fields, gtin }) => {
    const id = fields.external_id ? byExt.get(fields.external_id) : undefined;
    return id && gtin.gtin14 && gtin.gtin14 !== state.get(id)?.gtin14 ? [id] : [];
  });
  const published = await repo.publishedAmong([...new Set(gtinMoves)]);
  const touched = new Map<string, NewProductRow>();
  const now = nowIso();
  const newIds = new Set<string>();

  for (const { line, fields, gtin } of rows) {
    const extId = fields.external_id ? byExt.get(fields.external_id) : undefined;
    const gtinId = gtin.gtin14 ? byGtin.get(gtin.gtin14) : undefined;
    if (extId && gtinId && extId !== gtinId) {
      out.failures.push([line, `ean ${gtin.ean} already belongs to another product (${gtinId})`, 'ean']);
      continue;
    }
    const targetId = extId ?? gtinId;
    const current = targetId ? (touched.get(targetId) ?? state.get(targetId)) : undefined;
    if (current && fields.external_id && current.external_id && current.external_id !== fields.external_id) {
      out.failures.push([line, `ean ${gtin.ean} already belongs to product with external_id "${current.external_id}"`, 'ean']);
      continue;
    }
    if (current && gtin.gtin14 && gtin.gtin14 !== state.get(current.id!)?.gtin14 && published.has(current.id!)) {
      out.failures.push([line, errors.gtinFrozen(current.id!, state.get(current.id!)?.gtin14 ?? null).message, 'ean']);
      continue;
    }
    if (!current && !fields.title) {
      out.failures.push([line, 'title is required for a new product', 'title']);
      continue;
    }
    const next: NewProductRow = current
      ? {
          ...current,
          external_id: fields.external_id ?? current.external_id ?? null,
          title: fields.title ?? current.title,
          ...(gtin.gtin14 ? gtin : {}),
          brand: fields.brand ?? current.brand ?? null,
          category: fields.category ?? current.category ?? null,
          description: fields.description ?? current.description ?? null,
          attributes: Object.keys(fields.attributes).length ? JSON.stringify({ ...JSON.parse(current.attributes ?? '{}'), ...fields.attributes }) : (current.attributes ?? '{}'),
          updated_at: now,
        }
      : newProduct(orgId, { line, fields, gtin }, now);
    if (current && sameCatalogFields(current, next)) {
      // A re-import of the same data rewrites nothing (no index churn, updated_at kept).
      out.unchanged++;
      continue;
    }
    if (current) out.updated++;
    else {
      out.created++;
      newIds.add(next.id);
    }
    // Keep the lookups in step so later rows of the same batch see this one.
    if (current?.gtin14 && current.gtin14 !== next.gtin14) byGtin.delete(current.gtin14);
    if (next.gtin14) byGtin.set(next.gtin14, next.id);
    if (next.external_id) byExt.set(next.external_id, next.id);
    // Re-inserted at the end: rows are written in the order of their last change, so a row that takes
    // a GTIN another row of the batch gave up is written after it.
    touched.delete(next.id);
    touched.set(next.id, next);
  }
  // Rows that give up their stored GTIN release it first: another row of the batch may take it, and
  // that row may come first in the writes whatever the order (a row can change again after giving it up).
  const moved = [...touched.values()].flatMap((r) => {
    const stored = newIds.has(r.id) ? undefined : state.get(r.id)?.gtin14;
    return stored && stored !== r.gtin14 ? [r.id] : [];
  });
  await repo.releaseGtins(orgId, moved);
  await repo.upsertMany([...touched.values()], newIds);
  // Products whose passport shows what changed (title, EAN) get a passport version and history entry.
  const shown = [...touched.values()].flatMap((r) => {
    const stored = newIds.has(r.id) ? undefined : state.get(r.id);
    return stored && (stored.title !== r.title || (stored.ean ?? null) !== (r.ean ?? null))
      ? [{ productId: r.id, before: { title: stored.title, ean: stored.ean ?? null }, after: { title: r.title, ean: r.ean ?? null } }]
      : [];
  });
  if (shown.length) {
    const withPassport = await repo.withPassportAmong(shown.map((c) => c.productId));
    await recordProductChanges(
      trx,
      orgId,
      shown.filter((c) => withPassport.has(c.productId)),
      actor,
    );
  }
  await createStatsRepository(trx).adjust(orgId, { total_products: out.created });
}
