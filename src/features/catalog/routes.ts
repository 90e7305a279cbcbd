import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../../http/auth.js';
import { sendJson } from '../../http/send-json.js';
import { ProblemResponses } from '../../http/schemas.js';
import type { CatalogView } from './catalog-view.js';
import { ListQuery, ListResult, StatsResult } from './schemas.js';

export interface CatalogRoutesOptions {
  catalog: CatalogView;
}

/** The spec's DPP list and coverage stats: the catalog seen through its passports. */
export const catalogRoutes: FastifyPluginAsyncTypebox<CatalogRoutesOptions> = async (app, { catalog }) => {
  const tags = ['Compliance & DPP'];

  app.get(
    '/compliance/dpp/stats',
    {
      schema: { tags, summary: 'DPP coverage statistics', response: { 200: StatsResult, ...ProblemResponses } },
    },
    async (request, reply) => sendJson(reply, await catalog.stats(principalOf(request).orgId)),
  );

  app.get(
    '/compliance/dpp/products',
    {
      schema: { tags, summary: 'List products with their DPP status', querystring: ListQuery, response: { 200: ListResult, ...ProblemResponses } },
    },
    async (request, reply) => sendJson(reply, await catalog.list(principalOf(request).orgId, request.query)),
  );
};
