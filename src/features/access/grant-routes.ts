import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf, principalOf } from '../../http/auth.js';
import { PageParams, ProblemResponses } from '../../http/schemas.js';
import { GRANT_MAX_DAYS, GRANT_TIERS, type GrantService } from './grants.js';

const GrantTier = Type.Union([Type.Literal(GRANT_TIERS[0]), Type.Literal(GRANT_TIERS[1])], {
  description:
    'legitimate_interest: repairers, recyclers and other persons with a legitimate interest; authority: market surveillance, customs, notified bodies (sees every field)',
});

const GrantBody = Type.Object(
  {
    grantee: Type.String({ minLength: 1, maxLength: 200, description: 'who holds the grant, e.g. "Repair Café Lyon"' }),
    tier: GrantTier,
    expires_at: Type.String({ format: 'date-time', description: `when the grant stops working; at most ${GRANT_MAX_DAYS} days ahead` }),
    purpose: Type.Optional(Type.String({ maxLength: 500, description: 'why it was granted (shown in listings and the audit log)' })),
  },
  { additionalProperties: false },
);

const Grant = Type.Object({
  id: Type.String(),
  grantee: Type.String(),
  tier: GrantTier,
  purpose: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
  revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  active: Type.Boolean({ description: 'neither revoked nor expired' }),
});

const CreatedGrant = Type.Object({
  ...Grant.properties,
  token: Type.String({ description: 'the bearer token, shown this once: `Authorization: Bearer dppg_…` on the public passport URIs' }),
});

const GrantPage = Type.Object({ items: Type.Array(Grant), total: Type.Integer(), page: Type.Integer(), per_page: Type.Integer() });
const GrantIdParams = Type.Object({ grant_id: Type.String({ format: 'uuid' }) });

export interface GrantRoutesOptions {
  grants: GrantService;
}

/** Access grants to restricted passport fields, managed by admin keys (see grants.ts). */
export const grantRoutes: FastifyPluginAsyncTypebox<GrantRoutesOptions> = async (app, { grants }) => {
  const tags = ['Access grants'];
  const config = { scope: 'admin' as const };

  app.post(
    '/compliance/access-grants',
    {
      config,
      schema: {
        tags,
        summary: "Issue an access grant to the restricted fields of the organisation's published passports",
        description:
          'The holder sends the token as `Authorization: Bearer dppg_…` on the public passport URIs (/01/{gtin}, /dpp/{id}) and sees the fields of ' +
          'the grant tier and those below it, in every format; each use is logged (audit action grant.use).',
        body: GrantBody,
        response: { 201: CreatedGrant, ...ProblemResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await grants.create(principalOf(request).orgId, request.body, actorOf(request))),
  );

  app.get(
    '/compliance/access-grants',
    {
      config,
      schema: {
        tags,
        summary: 'List access grants, newest first',
        querystring: Type.Object(PageParams, { additionalProperties: false }),
        response: { 200: GrantPage, ...ProblemResponses },
      },
    },
    async (request) => grants.list(principalOf(request).orgId, request.query.page, request.query.per_page),
  );

  app.delete(
    '/compliance/access-grants/:grant_id',
    { config, schema: { tags, summary: 'Revoke an access grant (at once; idempotent)', params: GrantIdParams, response: { 200: Grant, ...ProblemResponses } } },
    async (request) => grants.revoke(principalOf(request).orgId, request.params.grant_id, actorOf(request)),
  );
};
