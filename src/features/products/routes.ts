import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Kysely } from 'kysely';
import type { Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';
import { actorOf, principalOf } from '../../http/auth.js';
import { ProblemResponses } from '../../http/schemas.js';
import { importProducts } from './import.js';
import { shouldParseInWorker } from './parse-in-worker.js';
import { formatFrom } from './row-sources.js';
import { CreateProductBody, ImportQuery, ImportSummarySchema, PageQuery, ProductIdParams, ProductPage, ProductSchema, UpdateProductBody } from './schemas.js';
import type { ProductService } from './service.js';
import { limitBytes } from '../../http/limit-bytes.js';
import { createSlots } from '../../lib/slots.js';

const IMPORT_TYPES = ['text/csv', 'application/x-ndjson', 'application/jsonl', 'application/json-seq'];

export interface ProductRoutesOptions {
  products: ProductService;
  db: Kysely<Schema>;
  importLimitBytes: number;
  /** Streamed imports at once (each holds a parse thread); more are refused with 503 + Retry-After. */
  importConcurrency: number;
}

/** Seconds a refused import is told to wait: about one batch of a running import. */
const IMPORT_RETRY_AFTER_S = 5;

/** The catalog: CRUD under /products and the streamed bulk import. */
export const productRoutes: FastifyPluginAsyncTypebox<ProductRoutesOptions> = async (app, { products, db, importLimitBytes, importConcurrency }) => {
  const tags = ['Products'];
  const importSlots = createSlots(importConcurrency);

  // Import bodies are streamed straight into the importer, never buffered whole.
  app.addContentTypeParser(IMPORT_TYPES, { bodyLimit: Number.MAX_SAFE_INTEGER }, (_req, payload, done) => done(null, payload));

  app.post(
    '/products',
    {
      schema: { tags, summary: 'Create a product', body: CreateProductBody, response: { 201: ProductSchema, ...ProblemResponses } },
    },
    async (request, reply) => {
      const product = await products.create(principalOf(request).orgId, request.body);
      return reply.code(201).header('location', `/api/v1/products/${product.product_id}`).send(product);
    },
  );

  app.get(
    '/products',
    {
      schema: { tags, summary: 'List products', querystring: PageQuery, response: { 200: ProductPage, ...ProblemResponses } },
    },
    async (request) => products.list(principalOf(request).orgId, request.query.page, request.query.per_page),
  );

  app.get(
    '/products/:product_id',
    {
      schema: { tags, summary: 'Get a product', params: ProductIdParams, response: { 200: ProductSchema, ...ProblemResponses } },
    },
    async (request) => products.get(principalOf(request).orgId, request.params.product_id),
  );

  app.patch(
    '/products/:product_id',
    {
      schema: {
        tags,
        summary: 'Update a product (fields present replace, null clears)',
        params: ProductIdParams,
        body: UpdateProductBody,
        response: { 200: ProductSchema, ...ProblemResponses },
      },
    },
    async (request) => {
      const { orgId, keyId } = principalOf(request);
      return products.update(orgId, request.params.product_id, request.body, { keyId, source: 'api' });
    },
  );

  app.delete(
    '/products/:product_id',
    {
      schema: { tags, summary: 'Delete a product', params: ProductIdParams, response: { 204: Type.Null(), ...ProblemResponses } },
    },
    async (request, reply) => {
      const { orgId } = principalOf(request);
      await products.remove(orgId, request.params.product_id, actorOf(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/products/import',
    {
      schema: {
        tags,
        summary: 'Bulk import (CSV or NDJSON), upsert by external_id or EAN',
        description:
          'Send `text/csv` (header row; comma, semicolon or tab) or `application/x-ndjson`. Known columns: title|name, ean|gtin|upc, ' +
          'external_id|sku, brand, category, description, attributes (JSON object); other columns go to attributes. ' +
          'Rows are written in batches of 2500, each in its own transaction: good rows land even when some fail.',
        querystring: ImportQuery,
        consumes: IMPORT_TYPES,
        response: { 200: ImportSummarySchema, ...ProblemResponses, 503: Type.Unsafe<unknown>({ $ref: 'Problem#' }) },
      },
    },
    async (request) => {
      const contentType = request.headers['content-type'] ?? '';
      const format = request.query.format ?? formatFrom(contentType);
      if (!format || !(request.body as unknown as Readable)?.pipe) throw errors.unsupportedMediaType(contentType, IMPORT_TYPES);
      const declared = Number(request.headers['content-length']);
      if (declared > importLimitBytes) throw errors.payloadTooLarge(importLimitBytes);
      const release = importSlots.tryTake();
      if (!release) {
        throw errors.busy(`${importConcurrency} imports are running; try again in ${IMPORT_RETRY_AFTER_S} s.`, IMPORT_RETRY_AFTER_S);
      }
      try {
        const body = limitBytes(request.body as unknown as Readable, importLimitBytes);
        const parseInWorker = shouldParseInWorker(Number.isFinite(declared) ? declared : undefined);
        const { orgId, keyId } = principalOf(request);
        return await importProducts(db, orgId, body, format, { parseInWorker, actor: { keyId, source: 'import' } });
      } finally {
        release();
      }
    },
  );
};
