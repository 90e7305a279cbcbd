import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf, principalOf } from '../../http/auth.js';
import { ProblemResponses } from '../../http/schemas.js';
import { ProductIdParams } from '../products/schemas.js';
import { SUCCESSION_REASONS, type SuccessorService } from './successors.js';

const Reason = Type.Union([Type.Literal(SUCCESSION_REASONS[0]), Type.Literal(SUCCESSION_REASONS[1])], {
  description:
    'replaced: a newer product replaces this one (its passport stays live and points to the successor); moved: the passport now lives at the successor (withdraw it first; its URIs then redirect)',
});
const SuccessorBody = Type.Object({ successor_product_id: Type.String({ format: 'uuid' }), reason: Reason }, { additionalProperties: false });
const Successor = Type.Object({ product_id: Type.String(), successor_product_id: Type.String(), reason: Reason, created_at: Type.String({ format: 'date-time' }) });

export interface SuccessorRoutesOptions {
  successors: SuccessorService;
}

/** The successor link of a product's passport (see successors.ts). */
export const successorRoutes: FastifyPluginAsyncTypebox<SuccessorRoutesOptions> = async (app, { successors }) => {
  const tags = ['Compliance & DPP'];
  const path = '/compliance/dpp/:product_id/successor';

  app.put(
    path,
    {
      schema: {
        tags,
        summary: 'Link the passport to its successor (product replaced, or passport moved)',
        params: ProductIdParams,
        body: SuccessorBody,
        response: { 200: Successor, ...ProblemResponses },
      },
    },
    async (request) => successors.set(principalOf(request).orgId, request.params.product_id, request.body, actorOf(request)),
  );
  app.get(path, { schema: { tags, summary: "The passport's successor link", params: ProductIdParams, response: { 200: Successor, ...ProblemResponses } } }, async (request) =>
    successors.get(principalOf(request).orgId, request.params.product_id),
  );
  app.delete(
    path,
    { schema: { tags, summary: 'Remove the successor link', params: ProductIdParams, response: { 204: Type.Null(), ...ProblemResponses } } },
    async (request, reply) => {
      await successors.clear(principalOf(request).orgId, request.params.product_id, actorOf(request));
      return reply.code(204).send(null);
    },
  );
};
