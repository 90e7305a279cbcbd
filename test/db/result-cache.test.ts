import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_CHANGES_CHANNEL } from '../../src/db/migrations/0011-catalog-changes.js';
import { createPgListener, type PgListener, type SyncedChangeFeed } from '../../src/db/pg-listen.js';
import { createResultCache } from '../../src/db/result-cache.js';
import { OTHER_CONNECTIONS_CHECK_MS } from '../../src/db/sqlite-direct.js';
import { TEST_DATABASE_URL, createTestDatabase, dialects, openSecondConnection, type TestDatabase } from '../helpers/db.js';

describe.each(dialects)('result cache (%s)', (dialect) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    await t.db.insertInto('organisations').values({ id: 'o1', slug: 'one', name: 'One', created_at: new Date().toISOString() }).execute();
  });
  afterAll(() => t.dispose());

  /** A cached read of the organisation's name that counts how often the query really ran. */
  function cachedName(maxSize = 100) {
    const cache = createResultCache(t.db, dialect, maxSize);
    let queries = 0;
    const read = () =>
      cache.get('name', 1, async () => {
        queries += 1;
        const row = await t.db.selectFrom('organisations').select('name').where('id', '=', 'o1').executeTakeFirstOrThrow();
        return row.name;
      });
    return { read, queries: () => queries };
  }

  it('answers a repeated read from memory while nothing changes', async () => {
    const c = cachedName();
    expect(await c.read()).toBe('One');
    expect(await c.read()).toBe('One');
    expect(c.queries()).toBe(1);
  });

  it('queries again after a write through the same database', async () => {
    const c = cachedName();
    await c.read();
    await t.db.updateTable('organisations').set({ name: 'One, renamed' }).where('id', '=', 'o1').execute();
    expect(await c.read()).toBe('One, renamed');
    expect(c.queries()).toBe(2);
  });

  it('queries again after a write by another connection (another process), within OTHER_CONNECTIONS_CHECK_MS', async () => {
    const c = cachedName();
    const before = await c.read();
    const other = await openSecondConnection(t);
    try {
      await other.db
        .updateTable('organisations')
        .set({ name: `${before}, again` })
        .where('id', '=', 'o1')
        .execute();
    } finally {
      await other.close();
    }
    await new Promise((resolve) => setTimeout(resolve, OTHER_CONNECTIONS_CHECK_MS + 5));
    expect(await c.read()).toBe(`${before}, again`);
    expect(c.queries()).toBe(2);
  });

  it('is off at size 0', async () => {
    const c = cachedName(0);
    await c.read();
    await c.read();
    expect(c.queries()).toBe(2);
  });
});

/**
 * PostgreSQL with the `dpp_catalog` feed (as `dpp serve` runs it): only catalog changes empty the cache,
 * and a change committed by another connection before a read is always seen by that read.
 */
describe.runIf(dialects.includes('postgres'))('result cache on the catalog feed (postgres)', () => {
  let t: TestDatabase;
  let listener: PgListener;
  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    await t.db.insertInto('organisations').values({ id: 'o1', slug: 'one', name: 'One', created_at: new Date().toISOString() }).execute();
    listener = createPgListener({
      connectionString: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${t.pgSchema}`)}`,
      channel: CATALOG_CHANGES_CHANNEL,
    });
    await listener.start({ info: () => undefined, warn: () => undefined });
    expect(listener.live()).toBe(true);
  });
  afterAll(async () => {
    await listener.close();
    await t.dispose();
  });

  const product = (id: string) => ({
    id,
    org_id: 'o1',
    external_id: null,
    title: `Product ${id}`,
    ean: null,
    gtin14: null,
    gtin_valid: null,
    brand: null,
    category: null,
    description: null,
    attributes: '{}',
    search_text: `product ${id}`,
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
  });

  /** A cached count of the organisation's products, counting how often the query really ran. */
  function cachedCount(feed: SyncedChangeFeed) {
    const cache = createResultCache(t.db, 'postgres', 100, feed);
    let queries = 0;
    const read = () =>
      cache.get('count', 1, async () => {
        queries += 1;
        const row = await t.db
          .selectFrom('products')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('org_id', '=', 'o1')
          .executeTakeFirstOrThrow();
        return Number(row.n);
      });
    return { read, queries: () => queries };
  }

  it('keeps its answers through writes to tables outside the catalog (rate-limit counters, jobs, audit)', async () => {
    const c = cachedCount(listener);
    const n = await c.read();
    await sql`insert into rate_limit_hits (key, hits, expires_at) values ('k', 1, 0) on conflict do nothing`.execute(t.db);
    await t.db.updateTable('organisations').set({ name: 'One, renamed' }).where('id', '=', 'o1').execute();
    expect(await c.read()).toBe(n);
    expect(c.queries()).toBe(1);
  });

  it('sees a product another connection committed just before the read, without waiting', async () => {
    const c = cachedCount(listener);
    for (let i = 0; i < 20; i++) {
      const before = await c.read();
      const other = await openSecondConnection(t);
      try {
        await other.db
          .insertInto('products')
          .values(product(`p${i}`))
          .execute();
      } finally {
        await other.close();
      }
      expect(await c.read()).toBe(before + 1);
    }
    expect(c.queries()).toBe(21);
  });

  it('sees a write through its own pool at once, and many concurrent reads share one round trip', async () => {
    const c = cachedCount(listener);
    const before = await c.read();
    await t.db.insertInto('products').values(product('own')).execute();
    const answers = await Promise.all(Array.from({ length: 50 }, () => c.read()));
    expect(new Set(answers)).toEqual(new Set([before + 1]));
  });

  it('falls back to the MVCC snapshot while the feed is not listening', async () => {
    const down: SyncedChangeFeed = { version: () => 0, live: () => false, heard: async () => false };
    const c = cachedCount(down);
    const before = await c.read();
    await t.db.insertInto('products').values(product('while-down')).execute();
    expect(await c.read()).toBe(before + 1);
    expect(c.queries()).toBe(2);
  });

  it('announces changes from every table the catalog view reads, and every other table is declared unrelated', async () => {
    const triggered = await sql<{ table: string }>`
      select distinct event_object_table as table from information_schema.triggers
      where trigger_schema = current_schema() and action_statement like '%dpp_catalog_changed%'`.execute(t.db);
    const all = await sql<{ table: string }>`
      select table_name as table from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(t.db);
    // Tables no cached answer reads. A new table the catalog view reads needs a trigger (see migration 0011).
    const unrelated = [
      'organisations',
      'api_keys',
      'jobs',
      'blobs',
      'documents',
      'extraction_tasks',
      'extractions',
      'audit_events',
      'signing_keys',
      'status_lists',
      'registry_entries',
      'access_grants',
      'passport_instances',
      'passport_successors',
      'rate_limit_hits',
      'kysely_migration',
      'kysely_migration_lock',
    ];
    const catalog = triggered.rows.map((r) => r.table).sort();
    expect(catalog).toEqual(['compliance_history', 'compliance_records', 'org_certifications', 'org_stats', 'passport_publications', 'products']);
    expect(all.rows.map((r) => r.table).filter((name) => !catalog.includes(name) && !unrelated.includes(name))).toEqual([]);
  });
});
