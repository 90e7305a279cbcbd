import { sql, type Kysely, type Transaction } from 'kysely';
import { hasDppCondition, type Dialect } from '../../db/dialect.js';
import { readRows } from '../../db/prepared.js';
import type { Schema } from '../../db/schema.js';
import { INDEXED_PREFIX_LENGTHS } from '../../db/migrations/0018-search-prefixes.js';

type Db = Kysely<Schema> | Transaction<Schema>;

export interface ListFilter {
  search?: { words: string[] } | { gtin14: string };
  dppStatus?: string;
  hasDpp?: boolean;
}

/**
 * How a title search finds its page, per dialect (bench/search.ts measures both at a million products):
 * - `exactUpTo`: the total is counted exactly up to this many matches; beyond, `total_is_estimate`
 *   says it is a lower bound. SQLite counts in the FTS5 index alone (10,001 postings: about 1 ms);
 *   PostgreSQL must visit each match's row for its visibility (1–6 µs each, more when the table is
 *   bigger than shared_buffers), so it stops sooner.
 * - `sortUpTo`: up to this many matches the page is found by fetching every match and sorting them
 *   (cost grows with the matches); above, by walking the list order and keeping the rows that match
 *   (cost grows with 1 ÷ the share of products that match). The threshold is where the two cost about
 *   the same, so neither goes much above ~10 ms for page 1.
 */
export const SEARCH_PLAN: Record<Dialect, { exactUpTo: number; sortUpTo: number }> = {
  sqlite: { exactUpTo: 10_000, sortUpTo: 5_000 },
  postgres: { exactUpTo: 2_000, sortUpTo: 2_000 },
};

/**
 * True when every product in the database belongs to this organisation (the usual single-tenant
 * install): SQLite then counts the matches in the FTS5 index alone, without looking up each match's
 * organisation. Both ends of the organisation index, so two seeks.
 */
async function soleOwner(db: Db, orgId: string): Promise<boolean> {
  const [r] = await readRows(
    db,
    sql<{ sole: number }>`
    select (select min(org_id) from products) = ${orgId} and (select max(org_id) from products) = ${orgId} as sole`,
  );
  return Number(r?.sole) === 1;
}

/** SQL for the DPP product list: filters, title search on either dialect, capped totals. */
export function createListRepository(db: Db, dialect: Dialect, plan = SEARCH_PLAN[dialect]) {
  /** The organisation's products that pass the filters; `search` says how the title words are matched. */
  const filtered = (orgId: string, filter: ListFilter, search: 'index' | 'walk' | 'none') => {
    // `+org_id` (SQLite) keeps the planner off the organisation's index when the search index leads,
    // so it looks up the matches by rowid instead of scanning every product of the organisation.
    const org = dialect === 'sqlite' && search === 'index' ? sql<boolean>`+products.org_id = ${orgId}` : sql<boolean>`products.org_id = ${orgId}`;
    let q = db.selectFrom('products').where(org);
    if (filter.hasDpp !== undefined) q = q.where(hasDppCondition(dialect, filter.hasDpp));
    if (filter.dppStatus) q = q.where('products.dpp_status', '=', filter.dppStatus);
    if (filter.search && 'gtin14' in filter.search) q = q.where('products.gtin14', '=', filter.search.gtin14);
    if (filter.search && 'words' in filter.search && search !== 'none') {
      q = q.where(search === 'index' ? indexedMatch(dialect, filter.search.words) : rowMatch(dialect, filter.search.words));
    }
    return q;
  };

  /** Matches, counted up to `cap` + 1. */
  async function countUpTo(orgId: string, filter: ListFilter, cap: number): Promise<number> {
    const words = filter.search && 'words' in filter.search ? filter.search.words : undefined;
    if (dialect === 'sqlite' && words && filter.hasDpp === undefined && !filter.dppStatus && (await soleOwner(db, orgId))) {
      const [r] = await readRows(db, sql<{ n: number }>`select count(*) as n from (select rowid from products_fts where products_fts match ${ftsMatch(words)} limit ${cap + 1})`);
      return Number(r!.n);
    }
    const matches = filtered(orgId, filter, 'index')
      .select(sql<number>`1`.as('one'))
      .limit(cap + 1);
    const [r] = await readRows(
      db,
      db.selectFrom(matches.as('m')).select((eb) => eb.fn.countAll<string | number>().as('n')),
    );
    return Number(r!.n);
  }

  const listColumns = ['products.id', 'products.title', 'products.ean', 'products.dpp_status', 'products.updated_at'] as const;

  return {
    /** One page of the organisation's products in list order, and the matching total when it must be counted. */
    async listProducts(orgId: string, filter: ListFilter, limit: number, offset: number, withCount: boolean) {
      const words = filter.search && 'words' in filter.search ? filter.search.words : undefined;
      let total: number | undefined;
      let totalIsEstimate = false;
      if (withCount) {
        const n = await countUpTo(orgId, filter, plan.exactUpTo);
        totalIsEstimate = n > plan.exactUpTo;
        total = totalIsEstimate ? plan.exactUpTo : n;
      }
      const walk = words !== undefined && (total === undefined || totalIsEstimate || total > plan.sortUpTo);
      if (words && !walk) {
        // Few matches: fetch them all through the search index and sort. On PostgreSQL the subquery
        // (OFFSET 0 keeps it one) has no order to follow, so the planner takes the GIN index rather
        // than walking the list order in the hope of meeting the few matches early.
        const matches = filtered(orgId, filter, 'index').select(listColumns);
        const fetched = dialect === 'postgres' ? db.selectFrom(matches.offset(0).as('products')).selectAll() : matches;
        const items = await readRows(db, fetched.orderBy('products.updated_at', 'desc').orderBy('products.id', 'desc').limit(limit).offset(offset));
        return { items, total, totalIsEstimate };
      }
      const items = await readRows(
        db,
        filtered(orgId, filter, words ? 'walk' : 'none')
          .select(listColumns)
          .orderBy('products.updated_at', 'desc')
          .orderBy('products.id', 'desc')
          .limit(limit)
          .offset(offset),
      );
      return { items, total, totalIsEstimate };
    },

    /** has_unpublished_changes for a page of products. */
    async unpublishedFlags(productIds: string[]) {
      if (productIds.length === 0) return new Map<string, boolean>();
      const rows = await db.selectFrom('compliance_records').select(['product_id', 'has_unpublished_changes']).where('product_id', 'in', productIds).execute();
      return new Map(rows.map((r) => [r.product_id, r.has_unpublished_changes === true || r.has_unpublished_changes === 1]));
    },
  };
}

/** FTS5 query: every word as a quoted prefix (quotes removed from the words, so no FTS syntax gets through). */
function ftsMatch(words: string[]): string {
  return words.map((w) => `"${w.replaceAll('"', '')}"*`).join(' ');
}

/**
 * Words as a PostgreSQL tsquery, written as lexemes (no text-search parser, as the stored vector is
 * built: migration 0018): one of 2 to 10 letters is an indexed prefix, any other a prefix match.
 * Words hold only letters and digits (foldForSearch), so nothing needs quoting inside the quotes.
 */
function tsQuery(words: string[]): string {
  const [shortest, longest] = [INDEXED_PREFIX_LENGTHS[0], INDEXED_PREFIX_LENGTHS.at(-1)!];
  return words
    .map((w) => w.replace(/[^\p{L}\p{N}]/gu, ''))
    .map((w) => (w.length >= shortest && w.length <= longest ? `'${w}'` : `'${w}':*`))
    .join(' & ');
}

/**
 * Title search through the search index, every word as a prefix of a word of the folded title:
 * SQLite's FTS5 index, PostgreSQL's GIN index over the stored tsvector.
 */
function indexedMatch(dialect: Dialect, words: string[]) {
  if (dialect === 'sqlite') return sql<boolean>`products.rowid in (select rowid from products_fts where products_fts match ${ftsMatch(words)})`;
  return sql<boolean>`products.search_vector @@ ${tsQuery(words)}::tsquery`;
}

/**
 * The same test on the row itself, for walking the list order, where it must not send the planner to
 * the search index. SQLite: the folded title (`search_text`: words of letters and digits, one space
 * apart, as FTS5 reads them) has a word starting with each search word. PostgreSQL: the row's stored
 * tsvector, behind coalesce so the GIN index cannot serve it.
 */
function rowMatch(dialect: Dialect, words: string[]) {
  if (dialect === 'sqlite') {
    const each = words.map((w) => sql`instr(' ' || products.search_text, ${` ${w}`}) > 0`);
    return sql<boolean>`(${sql.join(each, sql` and `)})`;
  }
  return sql<boolean>`coalesce(products.search_vector @@ ${tsQuery(words)}::tsquery, false)`;
}

export type ListRepository = ReturnType<typeof createListRepository>;
