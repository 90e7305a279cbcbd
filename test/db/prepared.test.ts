import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedQuery, readRows } from '../../src/db/prepared.js';
import type { Dialect } from '../../src/db/dialect.js';
import type { Schema } from '../../src/db/schema.js';
import { startSqliteReader, startSqliteReaderPool } from '../../src/db/sqlite-reader.js';
import { createTestDatabase, dialects, type TestDatabase } from '../helpers/db.js';

const nameOf = preparedQuery((db: Kysely<Schema>, param: (name: 'id') => string) => db.selectFrom('organisations').select(['name']).where('id', '=', param('id')));

// SQLite runs prepared reads on its reader thread when it has one (as `dpp serve` does), else on the
// main connection: both ways are tested.
type Setup = { name: string; dialect: Dialect; readerThread: boolean };
const setups = dialects.flatMap((dialect): Setup[] =>
  dialect === 'sqlite'
    ? [
        { name: 'sqlite, reader thread', dialect, readerThread: true },
        { name: 'sqlite, main connection', dialect, readerThread: false },
      ]
    : [{ name: dialect, dialect, readerThread: false }],
);

describe.each(setups)('preparedQuery ($name)', ({ dialect, readerThread }) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(dialect, undefined, { readerThread });
    await t.db
      .insertInto('organisations')
      .values([
        { id: 'o1', slug: 'one', name: 'One', created_at: new Date().toISOString() },
        { id: 'o2', slug: 'two', name: 'Two', created_at: new Date().toISOString() },
      ])
      .execute();
  });
  afterAll(() => t.dispose());

  it('runs one compiled query with new values each time', async () => {
    expect(await nameOf(t.db, { id: 'o1' })).toEqual([{ name: 'One' }]);
    expect(await nameOf(t.db, { id: 'o2' })).toEqual([{ name: 'Two' }]);
    expect(await nameOf(t.db, { id: 'nobody' })).toEqual([]);
  });

  it('never reads what an open transaction has written and later rolls back', async () => {
    let read: Promise<Array<{ name: string }>> | undefined;
    await expect(
      t.db.transaction().execute(async (trx) => {
        await trx.updateTable('organisations').set({ name: 'Uncommitted' }).where('id', '=', 'o1').execute();
        // A request served meanwhile, outside the transaction (on SQLite the same connection).
        read = nameOf(t.db, { id: 'o1' });
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await read).toEqual([{ name: 'One' }]);
    expect(await nameOf(t.db, { id: 'o1' })).toEqual([{ name: 'One' }]);
  });

  it('reads inside a transaction through it, seeing its own writes', async () => {
    await t.db.transaction().execute(async (trx) => {
      await trx.updateTable('organisations').set({ name: 'Two, renamed' }).where('id', '=', 'o2').execute();
      expect(await nameOf(trx, { id: 'o2' })).toEqual([{ name: 'Two, renamed' }]);
    });
    expect(await nameOf(t.db, { id: 'o2' })).toEqual([{ name: 'Two, renamed' }]);
  });
});

describe.runIf(dialects.includes('sqlite'))('SQLite reader thread', () => {
  let t: TestDatabase;
  // A temporary table exists only on the connection that created it: reading it tells the connections apart.
  const markers = preparedQuery((db: Kysely<Schema>) => ({
    compile: () => sql<{ n: number }>`select count(*) as n from temp.main_connection_marker`.compile(db),
  }));
  beforeAll(async () => {
    t = await createTestDatabase('sqlite', undefined, { readerThread: true });
    await sql`create temp table main_connection_marker (x)`.execute(t.db);
  });
  afterAll(() => t.dispose());

  it('runs prepared reads outside a transaction on its own connection, and inside one on the main connection', async () => {
    await expect(markers(t.db, {})).rejects.toThrow('no such table: temp.main_connection_marker');
    await t.db.transaction().execute(async (trx) => {
      expect(await markers(trx, {})).toEqual([{ n: 0 }]);
    });
  });

  it('runs Kysely-built reads (readRows) the same way: off the main thread outside a transaction, through it inside one', async () => {
    const count = () => readRows(t.db, sql<{ n: number }>`select count(*) as n from temp.main_connection_marker`);
    await expect(count()).rejects.toThrow('no such table: temp.main_connection_marker');
    await t.db.transaction().execute(async (trx) => {
      expect(await readRows(trx, sql<{ n: number }>`select count(*) as n from temp.main_connection_marker`)).toEqual([{ n: 0 }]);
    });
    expect(await readRows(t.db, t.db.selectFrom('organisations').select('id').where('id', '=', 'none'))).toEqual([]);
  });

  it('sends each read to the idlest of its threads, so a slow read does not hold up a quick one', async () => {
    const pool = startSqliteReaderPool(t.file!, 0, 2);
    try {
      // Both threads started (the second read finds the first thread busy).
      await Promise.all([pool.read('select 1', []), pool.read('select 1', [])]);
      let slowDone = false;
      const slow = pool.read('with recursive c(x) as (select 1 union all select x + 1 from c where x < 5000000) select count(*) as n from c', []).then((rows) => {
        slowDone = true;
        return rows;
      });
      expect(await pool.read('select 41 + 1 as n', [])).toEqual([{ n: 42 }]);
      expect(slowDone).toBe(false);
      expect(pool.pending).toBe(1);
      expect(await slow).toEqual([{ n: 5_000_000 }]);
    } finally {
      await pool.close();
    }
    expect(pool.alive).toBe(false);
  });

  it('sees every commit made before the read was asked for', async () => {
    for (let i = 0; i < 50; i++) {
      await t.db
        .updateTable('organisations')
        .set({ name: `Name ${i}` })
        .where('id', '=', 'r1')
        .execute()
        .then(
          async (r) =>
            r[0]!.numUpdatedRows > 0n ||
            (await t.db
              .insertInto('organisations')
              .values({ id: 'r1', slug: 'r1', name: `Name ${i}`, created_at: '2026-01-01' })
              .execute()),
        );
      expect(await nameOf(t.db, { id: 'r1' })).toEqual([{ name: `Name ${i}` }]);
    }
  });

  it('answers an error of the query as a rejection, and refuses reads once closed', async () => {
    const reader = startSqliteReader(t.file!, 0);
    await expect(reader.read('select * from no_such_table', [])).rejects.toMatchObject({ message: 'no such table: no_such_table', code: 'SQLITE_ERROR' });
    await expect(reader.read("update organisations set name = 'x'", [])).rejects.toThrow('not a read statement');
    expect(await reader.read('select ? + 1 as n', [41])).toEqual([{ n: 42 }]);
    await reader.close();
    expect(reader.alive).toBe(false);
    await expect(reader.read('select 1', [])).rejects.toThrow('closed');
  });
});
