import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { actorOf, principalOf } from '../../http/auth.js';
import { sendJson } from '../../http/send-json.js';
import { ProblemResponses } from '../../http/schemas.js';
import { ProductIdParams } from '../products/schemas.js';
import { etagOf, passportEtagOf } from './etag.js';
import { ENVIRONMENTAL_FIELDS, PASSPORT_FIELDS, type Field } from './record.js';
import { EnvironmentalPatchBody, EnvironmentalSchema, HistoryQuery, HistoryResult, PassportGetSchema, PassportPatchBody, PatchResult, PublishResult } from './schemas.js';
import { GEN_LANGS, type GenLang } from './generate.js';
import type { GenerateService } from './generate-service.js';
import type { ComplianceService } from './service.js';

export interface PassportRoutesOptions {
  compliance: ComplianceService;
  generator: GenerateService;
}

const ifMatchOf = (request: FastifyRequest) => request.headers['if-match'];

/** Sets the ETag and answers 304 when the client already has this version. */
function withEtag(request: FastifyRequest, reply: FastifyReply, version: number, etag = etagOf(version)): boolean {
  reply.header('etag', etag).header('cache-control', 'private, no-cache');
  const none = request.headers['if-none-match'];
  return none !== undefined && none.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** The fields the client sent, as stored after normalisation. */
function sentFields(body: object, values: Record<Field, unknown>, allowed: readonly Field[]) {
  return Object.fromEntries(allowed.filter((f) => f in body).map((f) => [f, values[f]]));
}

/** The spec's Compliance & DPP endpoints, plus publish, withdraw and history. */
export const passportRoutes: FastifyPluginAsyncTypebox<PassportRoutesOptions> = async (app, { compliance, generator }) => {
  const tags = ['Compliance & DPP'];

  app.get(
    '/compliance/dpp/:product_id',
    {
      schema: { tags, summary: 'Get the DPP of a product', params: ProductIdParams, response: { 200: PassportGetSchema, ...ProblemResponses } },
    },
    async (request, reply) => {
      const passport = await compliance.getPassportDocument(principalOf(request).orgId, request.params.product_id);
      if (withEtag(request, reply, passport.version, passportEtagOf(passport.version, passport.registry))) return reply.code(304).send();
      // JSON text rendered by the database in the shape of PassportSchema, and its EU registry status (README, "EU registry").
      return sendJson(reply, `${passport.body.slice(0, -1)},"registry_status":${passport.registry ?? 'null'}}`);
    },
  );

  app.patch(
    '/compliance/dpp/:product_id',
    {
      schema: {
        tags,
        summary: 'Create or update the DPP (fields present replace, null clears)',
        description: 'Send `If-Match` with the ETag you read to refuse the change (412) if someone else changed the passport since.',
        params: ProductIdParams,
        body: PassportPatchBody,
        response: { 200: PatchResult, 412: ProblemResponses[409], ...ProblemResponses },
      },
    },
    async (request, reply) => {
      const { orgId } = principalOf(request);
      const result = await compliance.change(orgId, request.params.product_id, request.body, {
        actor: actorOf(request),
        ifMatch: ifMatchOf(request),
        createPassport: true,
      });
      const row = result.row!;
      withEtag(request, reply, row.version);
      return {
        product_id: request.params.product_id,
        ...sentFields(request.body, result.values as unknown as Record<Field, unknown>, PASSPORT_FIELDS),
        updated_at: row.updated_at,
        dpp_status: result.product.dpp_status,
        version: row.version,
      };
    },
  );

  const transition = (action: 'publish' | 'withdraw') => async (request: FastifyRequest<{ Params: { product_id: string } }>) => {
    const { orgId } = principalOf(request);
    const { row, status } =
      action === 'publish'
        ? await compliance.publish(orgId, request.params.product_id, actorOf(request), ifMatchOf(request))
        : await compliance.withdraw(orgId, request.params.product_id, actorOf(request));
    return {
      product_id: row.product_id,
      dpp_id: row.dpp_id,
      dpp_status: status,
      published_version: row.published_version,
      published_at: row.published_at,
      withdrawn_at: row.withdrawn_at,
      version: row.version,
      // The published version's content hash and public credential address (publish only).
      ...(action === 'publish' && row.published_version !== null ? (await compliance.seals(orgId, row.product_id, [row.published_version])).get(row.published_version) : {}),
    };
  };

  app.post(
    '/compliance/dpp/:product_id/publish',
    {
      schema: {
        tags,
        summary: 'Publish the passport as a new immutable version (409 listing what is missing when incomplete)',
        params: ProductIdParams,
        response: { 200: PublishResult, 412: ProblemResponses[409], ...ProblemResponses },
      },
    },
    transition('publish'),
  );

  app.post(
    '/compliance/dpp/:product_id/generate',
    {
      schema: {
        tags,
        summary: 'Draft the passport from the product data and extraction results (fills empty fields only)',
        description:
          'provider=rules (offline) reads the product data and extraction results; provider=openai or anthropic also asks the model, ' +
          'whose answer is checked before anything is stored (a refused value is listed under `rejected`). Every value written names ' +
          "its source under `sources`. The end-of-life text is written in `lang`, else in the product's language. A provider that fails " +
          'answers 502 (unavailable, refused, unusable answer), 503 (rate limited) or 504 (timeout), and nothing is written.',
        params: ProductIdParams,
        querystring: Type.Object(
          {
            provider: Type.Optional(Type.String({ maxLength: 40, description: 'rules, openai or anthropic; the server default (EXTRACTION_PROVIDER) when absent' })),
            lang: Type.Optional(
              Type.Unsafe<GenLang>({ type: 'string', enum: [...GEN_LANGS], description: "language of the end-of-life text; the product's language when absent" }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            product_id: Type.String(),
            status: Type.Union([Type.Literal('draft'), Type.Literal('complete'), Type.Literal('published')], {
              description: 'the passport status after generation (draft, complete, or published when it was published before)',
            }),
            generated_at: Type.String(),
            fields_filled: Type.Array(Type.String()),
            dpp_status: Type.Union([Type.String(), Type.Null()]),
            provider: Type.Union([Type.Literal('rules'), Type.Literal('openai'), Type.Literal('anthropic')], { description: 'the provider that generated' }),
            model: Type.Union([Type.String(), Type.Null()], { description: 'the model that answered (null for rules)' }),
            lang: Type.Unsafe<GenLang>({ type: 'string', enum: [...GEN_LANGS], description: 'the language of the end-of-life text' }),
            sources: Type.Record(Type.String(), Type.String(), {
              description:
                'for each field filled, where its value came from: rules:product-title, rules:product-brand, rules:product-attributes, ' +
                'rules:product-description, rules:template-<lang>, extraction:<extraction id>, or llm:<provider>:<model> (joined with + when several)',
            }),
            rejected: Type.Array(Type.Object({ field: Type.String(), reason: Type.String() }), {
              description: 'values the model gave that were refused (invalid, or not found in the sources), and why; they were not stored',
            }),
          }),
          ...ProblemResponses,
          502: Type.Unsafe<unknown>({ $ref: 'Problem#', description: 'the model provider is unavailable, refused the request, or answered unusably; nothing was written' }),
          503: Type.Unsafe<unknown>({ $ref: 'Problem#', description: 'the model provider is rate limiting (Retry-After when known); nothing was written' }),
          504: Type.Unsafe<unknown>({ $ref: 'Problem#', description: 'the model did not answer in time; nothing was written' }),
        },
      },
    },
    async (request) =>
      generator.generate(principalOf(request).orgId, request.params.product_id, actorOf(request), {
        provider: request.query.provider,
        lang: request.query.lang,
      }),
  );

  app.post(
    '/compliance/dpp/:product_id/withdraw',
    {
      schema: {
        tags,
        summary: 'Withdraw the published passport from the public (published versions are kept)',
        params: ProductIdParams,
        response: { 200: PublishResult, ...ProblemResponses },
      },
    },
    transition('withdraw'),
  );

  app.get(
    '/compliance/dpp/:product_id/history',
    {
      schema: {
        tags,
        summary: 'Every change to the passport and environmental data, newest first',
        params: ProductIdParams,
        querystring: HistoryQuery,
        response: { 200: HistoryResult, ...ProblemResponses },
      },
    },
    async (request) => compliance.history(principalOf(request).orgId, request.params.product_id, request.query.page, request.query.per_page),
  );

  app.get(
    '/compliance/products/:product_id/environmental',
    {
      schema: { tags, summary: 'Environmental and regulatory data', params: ProductIdParams, response: { 200: EnvironmentalSchema, ...ProblemResponses } },
    },
    async (request, reply) => {
      const env = await compliance.getEnvironmental(principalOf(request).orgId, request.params.product_id);
      if (withEtag(request, reply, env.version)) return reply.code(304).send();
      return env;
    },
  );

  app.patch(
    '/compliance/products/:product_id/environmental',
    {
      schema: {
        tags,
        summary: 'Update environmental data (fields present replace, null clears)',
        params: ProductIdParams,
        body: EnvironmentalPatchBody,
        response: { 200: PatchResult, 412: ProblemResponses[409], ...ProblemResponses },
      },
    },
    async (request, reply) => {
      const result = await compliance.change(principalOf(request).orgId, request.params.product_id, request.body, {
        actor: actorOf(request),
        ifMatch: ifMatchOf(request),
        createPassport: false,
      });
      const row = result.row!;
      withEtag(request, reply, row.version);
      return {
        product_id: request.params.product_id,
        ...sentFields(request.body, result.values as unknown as Record<Field, unknown>, ENVIRONMENTAL_FIELDS),
        updated_at: row.updated_at,
        version: row.version,
      };
    },
  );
};
