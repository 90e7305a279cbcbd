import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResultCache } from '../../src/db/result-cache.js';
import { OTHER_CONNECTIONS_CHECK_MS } from '../../src/db/sqlite-direct.js';
import { createTestDatabase, dialects, openSecondConnection, type TestDatabase } from '../helpers/db.js';

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
      await other.db.updateTable('organisations').set({ name: `${before}, again` }).where('id', '=', 'o1').execute();
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
