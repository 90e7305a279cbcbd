import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errors } from '../../errors.js';
import { Type } from 'typebox';
import { principalOf } from '../../http/auth.js';
import { ProblemResponses } from '../../http/schemas.js';
import { ProductIdParams } from '../products/schemas.js';
import { BatchQueued, ExtractionResults, QueuedDocument, QueuedProducts, TaskProgress } from './schemas.js';
import type { ExtractionService } from './service.js';

const ProviderQuery = Type.Object(
  { provider: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'rules (default), openai, anthropic' })) },
  { additionalProperties: false },
);

/** The spec's extraction endpoints, plus the batch task's progress. */
export const extractionRoutes: FastifyPluginAsyncTypebox<{ extraction: ExtractionService }> = async (app, { extraction }) => {
  const tags = ['Extraction'];

  app.post(
    '/compliance/batch/extract',
    {
      schema: {
        tags,
        summary: 'Queue extraction from every document of up to 500 products',
        body: Type.Object(
          {
            product_ids: Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 500 }),
            provider: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
          },
          { additionalProperties: false },
        ),
        response: {
          202: BatchQueued,
          ...ProblemResponses,
          422: Type.Unsafe<unknown>({ $ref: 'Problem#', description: 'no product could be queued; nothing was written' }),
        },
      },
    },
    async (request, reply) => {
      const r = await extraction.queueProducts(principalOf(request).orgId, request.body.product_ids, request.body.provider);
      if (r.queuedProducts === 0) throw errors.nothingQueued(r.rejected);
      return reply.code(202).send({
        task_id: r.taskId,
        queued: r.queuedProducts,
        documents_queued: r.queuedDocuments,
        status: 'queued',
        message: `Extraction queued for ${r.queuedProducts} products (${r.queuedDocuments} documents). Poll /api/v1/compliance/batch/${r.taskId} or /extraction-results per product for progress.`,
        provider: r.provider,
        rejected: r.rejected,
      });
    },
  );

  app.get(
    '/compliance/batch/:task_id',
    {
      schema: {
        tags,
        summary: 'Progress of an extraction task',
        params: Type.Object({ task_id: Type.String({ format: 'uuid' }) }),
        response: { 200: TaskProgress, ...ProblemResponses },
      },
    },
    async (request) => extraction.task(principalOf(request).orgId, request.params.task_id),
  );

  app.post(
    '/compliance/products/:product_id/extract-from-docs',
    {
      schema: {
        tags,
        summary: 'Queue extraction from every document of a product',
        params: ProductIdParams,
        querystring: ProviderQuery,
        response: { 200: QueuedProducts, 202: QueuedProducts, ...ProblemResponses },
      },
    },
    async (request, reply) => {
      const { orgId } = principalOf(request);
      const r = await extraction.queueProducts(orgId, [request.params.product_id], request.query.provider);
      if (r.rejected[0]?.reason === 'not_found') await extraction.requireProduct(orgId, request.params.product_id);
      const none = r.queuedDocuments === 0;
      return reply.code(none ? 200 : 202).send({
        product_id: request.params.product_id,
        status: none ? 'no_documents' : 'queued',
        documents_found: r.queuedDocuments,
        ...(none ? { message: 'The product has no documents; upload some to /api/v1/products/{product_id}/documents first.' } : { task_id: r.taskId }),
      });
    },
  );

  app.post(
    '/compliance/products/:product_id/extract-from-document/:asset_id',
    {
      schema: {
        tags,
        summary: 'Queue extraction from one document',
        params: Type.Object({ product_id: Type.String({ format: 'uuid' }), asset_id: Type.String({ format: 'uuid' }) }),
        querystring: ProviderQuery,
        response: { 202: QueuedDocument, ...ProblemResponses },
      },
    },
    async (request, reply) => {
      const r = await extraction.queueDocument(principalOf(request).orgId, request.params.product_id, request.params.asset_id, request.query.provider);
      return reply.code(202).send({ product_id: request.params.product_id, asset_id: request.params.asset_id, status: 'queued', task_id: r.taskId });
    },
  );

  app.get(
    '/compliance/products/:product_id/extraction-results',
    {
      schema: {
        tags,
        summary: 'Extraction results with per-field confidence and evidence (the latest run of each document; ?history=true for every run)',
        params: ProductIdParams,
        querystring: Type.Object(
          { history: Type.Boolean({ default: false, description: 'every run, newest first, instead of the latest run of each document' }) },
          { additionalProperties: false },
        ),
        response: { 200: ExtractionResults, ...ProblemResponses },
      },
    },
    async (request) => extraction.results(principalOf(request).orgId, request.params.product_id, { history: request.query.history }),
  );
};
