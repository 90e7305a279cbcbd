import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createListRepository, type ListFilter } from '../../src/features/catalog/list-repository.js';
import { foldForSearch } from '../../src/lib/text.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';

/**
 * A title search finds its page in one of two ways (list-repository.ts, SEARCH_PLAN): through the
 * search index then sorted, or by walking the list order and testing each row. Both must give the
 * same page, the same total and the same estimate flag as the definition: the products of the
 * organisation whose folded title has, for every search word, a word starting with it, newest change
 * first. Small thresholds force each way on a catalog of a few hundred products.
 */
const BRANDS = ['Acer', 'Asus', 'Bosch', 'Électrolux', 'Ψυγείο', 'Sony', 'Smarttech'];
const WORDS = ['Smartphone', 'Smart', 'Pro', 'Case', 'Blue', 'Câble', 'USB3', '840', '8400', 'Anthracite', 'Schutzhülle', 'Kühlschrank', 'x'];

/** A deterministic generator, so a failure names a reproducible catalog. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function titles(n: number, seed: number): string[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  return Array.from({ length: n }, (_, i) => `${pick(BRANDS)} ${pick(WORDS)} ${rnd() < 0.5 ? pick(WORDS) : ''} ${i}`.replace(/\s+/g, ' ').trim());
}

const QUERIES = [
  'smart', // a prefix of Smart, Smartphone and the brand Smarttech
  'smartphone',
  'smartp',
  'sm',
  's',
  'acer pro',
  'electrolux', // folded: É
  'cable', // folded: â
  'ψυγειο',
  'kuhl',
  'schutzhulle',
  'anthracite blue',
  '840', // and 8400
  '8400',
  'usb3 case',
  'x',
  'nothingmatches',
];

const PLANS = {
  sorted: { exactUpTo: 10_000, sortUpTo: 10_000 },
  walked: { exactUpTo: 12, sortUpTo: 0 },
  mixed: { exactUpTo: 60, sortUpTo: 25 },
};

describe.each(dialects)('title search plans (%s)', (dialect) => {
  let t: TestApp;
  let orgId: string;
  let catalog: Array<{ id: string; folded: string; updated_at: string }>;

  const importCsv = async (key: string, prefix: string, list: string[]) => {
    const csv = ['external_id,title', ...list.map((title, i) => `${prefix}-${i},"${title}"`)].join('\n');
    const res = await t.call(key, { method: 'POST', url: '/api/v1/products/import', payload: csv, headers: { 'content-type': 'text/csv' } });
    expect(res.json()).toMatchObject({ failed: 0 });
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    const key = await t.key('search-org');
    // Another organisation with the same words: the search must not count or show its products.
    await importCsv(await t.key('other-org'), 'O', titles(150, 7));
    await importCsv(key, 'A', titles(250, 1));
    // Later changes reorder the list: renamed products move to the front.
    const db = t.database.db;
    const some = await db.selectFrom('products').select(['id', 'org_id']).where('external_id', 'like', 'A-%').orderBy('external_id').limit(40).execute();
    orgId = some[0]!.org_id;
    for (const [i, p] of some.entries()) {
      if (i % 3 !== 0) continue;
      const res = await t.call(key, { method: 'PATCH', url: `/api/v1/products/${p.id}`, payload: { title: `Smart Blue renamed ${i}` } });
      expect(res.statusCode).toBe(200);
    }
    await importCsv(key, 'B', titles(100, 3));
    const rows = await db.selectFrom('products').select(['id', 'title', 'updated_at']).where('org_id', '=', orgId).execute();
    catalog = rows
      .map((r) => ({ id: r.id, folded: foldForSearch(r.title), updated_at: String(r.updated_at) }))
      .sort((a, b) => (a.updated_at === b.updated_at ? (a.id < b.id ? 1 : -1) : a.updated_at < b.updated_at ? 1 : -1));
  }, 60_000);
  afterAll(() => t.close());

  /** The definition: every search word starts a word of the folded title. */
  const expected = (query: string) => {
    const words = foldForSearch(query).split(' ');
    return catalog.filter((p) => words.every((w) => p.folded.split(' ').some((token) => token.startsWith(w)))).map((p) => p.id);
  };

  it.each(Object.entries(PLANS))('%s: every query gives the defined page, total and estimate flag', async (_name, plan) => {
    const repo = createListRepository(t.database.db, dialect, plan);
    let nonEmpty = 0;
    for (const query of QUERIES) {
      const all = expected(query);
      if (all.length > 0) nonEmpty++;
      const filter: ListFilter = { search: { words: foldForSearch(query).split(' ') } };
      for (const [perPage, page] of [
        [7, 1],
        [7, 3],
        [50, 1],
      ] as const) {
        const got = await repo.listProducts(orgId, filter, perPage, (page - 1) * perPage, true);
        const want = all.slice((page - 1) * perPage, page * perPage);
        expect({ query, page, ids: got.items.map((i) => i.id) }).toEqual({ query, page, ids: want });
        expect({ query, total: got.total, estimate: got.totalIsEstimate }).toEqual({
          query,
          total: Math.min(all.length, plan.exactUpTo),
          estimate: all.length > plan.exactUpTo,
        });
      }
    }
    expect(nonEmpty).toBeGreaterThan(12);
  });

  it('combines a search with a passport filter the same way on both plans', async () => {
    const filter: ListFilter = { search: { words: ['smart'] }, hasDpp: false };
    const sorted = await createListRepository(t.database.db, dialect, PLANS.sorted).listProducts(orgId, filter, 20, 20, true);
    const walked = await createListRepository(t.database.db, dialect, PLANS.walked).listProducts(orgId, filter, 20, 20, true);
    expect(walked.items.map((i) => i.id)).toEqual(sorted.items.map((i) => i.id));
    expect(sorted.total).toBe(expected('smart').length);
    expect(walked.items).toHaveLength(20);
  });
});
