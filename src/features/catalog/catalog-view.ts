import fastJson from 'fast-json-stringify';
import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/dialect.js';
import type { ResultCache } from '../../db/result-cache.js';
import type { Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';
import { parseGtin } from '../../lib/gtin.js';
import { foldForSearch } from '../../lib/text.js';
import { createStatsRepository } from '../stats/repository.js';
import { createListRepository, type ListFilter } from './list-repository.js';
import type { DppStatus } from '../passports/model.js';
import { ListResult, StatsResult, type ListQueryInput } from './schemas.js';

// The routes' response schemas, compiled as Fastify compiles them, so the cached text is what Fastify
// would have sent (same fields, same coercions).
const listJson = fastJson(ListResult);
const statsJson = fastJson(StatsResult);

/**
 * The catalog seen through its passports: the DPP product list and the coverage stats.
 * Totals come from the per-organisation counters whenever no search narrows the list.
 * Answers go through `results`, which serves a repeated request without querying for as long as
 * nothing in the database has changed (a dashboard polling stats, a page the user goes back to).
 * They are JSON text, serialised once when computed: serialising a page of 50 items again on every
 * repeat was a fifth of the cost of a cached list request.
 */
export function createCatalogView(db: Kysely<Schema>, dialect: Dialect, results: ResultCache) {
  const repo = createListRepository(db, dialect);
  const statsRepo = createStatsRepository(db);

  async function counters(orgId: string) {
    const stats = await statsRepo.readCounters(orgId);
    return {
      total: stats?.total_products ?? 0,
      withDpp: stats?.with_dpp ?? 0,
      byStatus: { draft: stats?.draft ?? 0, complete: stats?.complete ?? 0, published: stats?.published ?? 0 },
    };
  }

  function filterOf(query: ListQueryInput): ListFilter {
    const filter: ListFilter = {};
    if (query.has_dpp !== undefined) filter.hasDpp = query.has_dpp;
    if (query.dpp_status) filter.dppStatus = query.dpp_status;
    if (query.search !== undefined) {
      const gtin = parseGtin(query.search.trim());
      if (gtin) filter.search = { gtin14: gtin.gtin14 };
      else {
        const words = foldForSearch(query.search).split(' ').filter(Boolean).slice(0, 10);
        if (words.length === 0) {
          throw errors.validation('search has no words to look for.', [{ field: 'querystring/search', rule: 'words', message: 'must contain a letter or digit' }]);
        }
        filter.search = { words };
      }
    }
    return filter;
  }

  /** The total a filter without search has, read from the counters. */
  function countedTotal(c: Awaited<ReturnType<typeof counters>>, filter: ListFilter): number {
    if (filter.dppStatus) return filter.hasDpp === false ? 0 : c.byStatus[filter.dppStatus as keyof typeof c.byStatus];
    if (filter.hasDpp === true) return c.withDpp;
    if (filter.hasDpp === false) return c.total - c.withDpp;
    return c.total;
  }

  async function readList(orgId: string, filter: ListFilter, query: ListQueryInput) {
    const needsCount = filter.search !== undefined;
    const [page, c] = await Promise.all([
      repo.listProducts(orgId, filter, query.per_page, (query.page - 1) * query.per_page, needsCount),
      needsCount ? undefined : counters(orgId),
    ]);
    const published = page.items.filter((i) => i.dpp_status === 'published').map((i) => i.id);
    const flags = await repo.unpublishedFlags(published);
    return {
      items: page.items.map((i) => ({
        product_id: i.id,
        title: i.title,
        ean: i.ean,
        dpp_status: i.dpp_status as DppStatus | null,
        has_unpublished_changes: flags.get(i.id) ?? false,
        updated_at: i.updated_at,
      })),
      total: page.total ?? countedTotal(c!, filter),
      total_is_estimate: page.totalIsEstimate,
      page: query.page,
      per_page: query.per_page,
    };
  }

  async function readStats(orgId: string) {
    const [c, certs] = await Promise.all([counters(orgId), statsRepo.readCertifications(orgId)]);
    return {
      total_products: c.total,
      with_dpp: c.withDpp,
      fill_rate_pct: c.total === 0 ? 0 : Math.round((c.withDpp / c.total) * 1000) / 10,
      certifications: Object.fromEntries(certs.map((r) => [r.code, Number(r.products)])),
      by_status: c.byStatus,
    };
  }

  return {
    /** The DPP product list as JSON text (`ListResult`); a bad filter is a 400 before anything is read. */
    list(orgId: string, query: ListQueryInput): Promise<string> {
      const filter = filterOf(query);
      // Keyed by the normalised filter, so "Tizen" and "tizen " share an entry; weighed by page size.
      const key = JSON.stringify(['list', orgId, filter, query.page, query.per_page]);
      return results.get(key, query.per_page + 1, async () => listJson(await readList(orgId, filter, query)));
    },

    /** The coverage stats as JSON text (`StatsResult`). */
    stats(orgId: string): Promise<string> {
      return results.get(JSON.stringify(['stats', orgId]), 1, async () => statsJson(await readStats(orgId)));
    },
  };
}

export type CatalogView = ReturnType<typeof createCatalogView>;
