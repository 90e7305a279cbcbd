import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedQuery } from '../../src/db/prepared.js';
import type { Schema } from '../../src/db/schema.js';
import { createTestDatabase, dialects, type TestDatabase } from '../helpers/db.js';

const nameOf = preparedQuery((db: Kysely<Schema>, param: (name: 'id') => string) =>
  db.selectFrom('organisations').select(['name']).where('id', '=', param('id')),
);

describe.each(dialects)('preparedQuery (%s)', (dialect) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    await t.db.insertInto('organisations').values([
      { id: 'o1', slug: 'one', name: 'One', created_at: new Date().toISOString() },
      { id: 'o2', slug: 'two', name: 'Two', created_at: new Date().toISOString() },
    ]).execute();
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
