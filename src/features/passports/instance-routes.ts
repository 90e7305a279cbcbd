import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import { actorOf, principalOf } from '../../http/auth.js';
import { PageParams, ProblemResponses } from '../../http/schemas.js';
import { ProductIdParams } from '../products/schemas.js';
import { INSTANCE_LEVELS, PER_INSTANCE_FIELDS, type InstanceService } from './instances.js';
import { PASSPORT_MODEL } from './model.js';

const Level = Type.Union([Type.Literal(INSTANCE_LEVELS[0]), Type.Literal(INSTANCE_LEVELS[1])], {
  description: 'batch: a passport per production batch (GS1 AI 10, lot); item: per serialised item (AI 21, serial)',
});

/** The fields a batch or item may state itself, with the passport PATCH's own schemas (derived from the model). */
const InstanceValues = Type.Object(Object.fromEntries(PER_INSTANCE_FIELDS.map((f) => [f, Type.Optional(PASSPORT_MODEL[f].input as TSchema)])), {
  additionalProperties: false,
  description: `what this batch or item states instead of the model passport: ${PER_INSTANCE_FIELDS.join(', ')}`,
});

const InstanceBody = Type.Object(
  {
    level: Level,
    lot: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'GS1 AI 10; required for a batch, optional for an item' })),
    serial: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'GS1 AI 21; required for an item' })),
    production_date: Type.Optional(Type.String({ format: 'date', description: 'YYYY-MM-DD' })),
    values: Type.Optional(InstanceValues),
  },
  { additionalProperties: false },
);

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Instance = Type.Object({
  instance_id: Type.String(),
  level: Level,
  lot: Nullable(Type.String()),
  serial: Nullable(Type.String()),
  production_date: Nullable(Type.String()),
  version: Type.Integer({ description: 'issuing the same lot or serial again makes its next version' }),
  based_on_version: Type.Integer({ description: "the model passport's published version this one extends" }),
  values: Type.Record(Type.String(), Type.Unknown()),
  created_at: Type.String({ format: 'date-time' }),
  withdrawn_at: Nullable(Type.String({ format: 'date-time' })),
  uri: Nullable(Type.String({ description: 'the Digital Link of this batch or item, for its QR code' })),
});
const InstancePage = Type.Object({ items: Type.Array(Instance), total: Type.Integer(), page: Type.Integer(), per_page: Type.Integer() });
const InstanceParams = Type.Object({ product_id: ProductIdParams.properties.product_id, instance_id: Type.String({ format: 'uuid' }) });

export interface InstanceRoutesOptions {
  instances: InstanceService;
}

/** Batch and item passports of a product (see instances.ts). */
export const instanceRoutes: FastifyPluginAsyncTypebox<InstanceRoutesOptions> = async (app, { instances }) => {
  const tags = ['Compliance & DPP'];

  app.post(
    '/compliance/dpp/:product_id/instances',
    {
      schema: {
        tags,
        summary: 'Issue a batch or item passport over the live published model passport',
        description: 'Reached at /01/{gtin}/10/{lot} (batch) or /01/{gtin}/21/{serial} (item); the resolver falls back to the model passport for any other lot or serial.',
        params: ProductIdParams,
        body: InstanceBody,
        response: { 201: Instance, ...ProblemResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await instances.issue(principalOf(request).orgId, request.params.product_id, request.body, actorOf(request))),
  );

  app.get(
    '/compliance/dpp/:product_id/instances',
    {
      schema: {
        tags,
        summary: 'List the batch and item passports of a product, newest first (every version)',
        params: ProductIdParams,
        querystring: Type.Object({ ...PageParams, level: Type.Optional(Level) }, { additionalProperties: false }),
        response: { 200: InstancePage, ...ProblemResponses },
      },
    },
    async (request) => instances.list(principalOf(request).orgId, request.params.product_id, request.query),
  );

  app.post(
    '/compliance/dpp/:product_id/instances/:instance_id/withdraw',
    {
      schema: {
        tags,
        summary: 'Withdraw a batch or item passport (its Digital Link then opens the model passport)',
        params: InstanceParams,
        response: { 200: Instance, ...ProblemResponses },
      },
    },
    async (request) => instances.withdraw(principalOf(request).orgId, request.params.product_id, request.params.instance_id, actorOf(request)),
  );
};
