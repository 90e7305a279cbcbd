import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LRUCache } from 'lru-cache';
import { Type } from 'typebox';
import { errors } from '../../errors.js';
import { principalOf } from '../../http/auth.js';
import { ProblemResponses } from '../../http/schemas.js';
import { ProductIdParams } from '../products/schemas.js';
import { toDefaultJsonLd } from './jsonld.js';
import { renderQr, type QrEcc, type QrFormat, type QrOptions } from './qr.js';
import { QrPoolBusyError, QrRenderFailure, type QrRenderPool } from './qr-pool.js';
import type { ExportService } from './service.js';
import type { ExportInput } from './types.js';
import { toUntpCredential } from './untp.js';
import { UNTP_DPP_CONTEXT } from './contexts.js';

const Profile = Type.Union([Type.Literal('default'), Type.Literal('untp')], { description: 'default: the API shape; untp: UNTP DPP 0.6.0 credential' });

/** Which JSON-LD profile a request asks for: `?profile=untp` or the UNTP profile in Accept. */
export function profileOf(query: string | undefined, accept: string | undefined): 'default' | 'untp' {
  if (query === 'untp') return 'untp';
  if (query === 'default') return 'default';
  return accept?.includes(UNTP_DPP_CONTEXT) || /profile="?[^",;]*untp/i.test(accept ?? '') ? 'untp' : 'default';
}

/** The document of a profile, and its media type. */
export function renderExport(input: ExportInput, profile: 'default' | 'untp') {
  return profile === 'untp'
    ? { body: toUntpCredential(input), type: `application/ld+json; profile="${UNTP_DPP_CONTEXT}"` }
    : { body: toDefaultJsonLd(input), type: 'application/ld+json' };
}

export interface ExportRoutesOptions {
  exports: ExportService;
  /** Renders PNG codes off the event loop; undefined renders them inline (QR_WORKERS=0). */
  qrPool?: QrRenderPool;
}

/** PNGs in the pool when there is one (refusals become 503 problems), SVGs (~0.3 ms) inline. */
async function renderQrImage(pool: QrRenderPool | undefined, uri: string, options: QrOptions): Promise<Buffer | string> {
  if (!pool || options.format === 'svg') return renderQr(uri, options);
  try {
    return await pool.render(uri, options);
  } catch (error) {
    if (error instanceof QrPoolBusyError) throw errors.busy(`Too many QR codes are being rendered (${error.message}); try again shortly.`, 1);
    if (error instanceof QrRenderFailure) throw errors.unavailable(`The QR code could not be rendered (${error.message}); try again.`);
    throw error;
  }
}

/** Authenticated export endpoints: one passport as JSON-LD, all of them as NDJSON, and the QR code. */
export const exportRoutes: FastifyPluginAsyncTypebox<ExportRoutesOptions> = async (app, { exports, qrPool }) => {
  const tags = ['Compliance & DPP'];
  // Rendered QR images by (uri, options): a repeated request costs a map lookup.
  const qrCache = new LRUCache<string, { body: Buffer | string; etag: string }>({ max: 2000 });
  // Renders in progress by the same key: simultaneous requests for one uncached code render it once.
  const rendering = new Map<string, Promise<Buffer | string>>();

  app.get(
    '/compliance/dpp/export',
    {
      schema: {
        tags,
        summary: 'Every passport of the organisation as NDJSON (backups, bulk submission)',
        querystring: Type.Object({ format: Type.Literal('ndjson', { default: 'ndjson' }), profile: Type.Optional(Profile) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const { orgId } = principalOf(request);
      const profile = request.query.profile ?? 'default';
      async function* lines() {
        for await (const input of exports.all(orgId)) yield JSON.stringify(renderExport(input, profile).body) + '\n';
      }
      reply.header('content-disposition', 'attachment; filename="passports.ndjson"');
      return reply.type('application/x-ndjson').send(Readable.from(lines()));
    },
  );

  app.get(
    '/compliance/dpp/:product_id/export',
    {
      schema: {
        tags,
        summary: 'Export the DPP as JSON-LD (published version by default; ?version=N for an older one)',
        params: ProductIdParams,
        querystring: Type.Object({ profile: Type.Optional(Profile), version: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({}, { additionalProperties: true }), ...ProblemResponses },
      },
    },
    async (request, reply) => {
      const input = await exports.exportFor(principalOf(request).orgId, request.params.product_id, request.query.version);
      const { body, type } = renderExport(input, profileOf(request.query.profile, request.headers.accept));
      reply.header('vary', 'Accept');
      return reply.type(type).send(body);
    },
  );

  app.get(
    '/compliance/dpp/:product_id/qr',
    {
      schema: {
        tags,
        summary: 'QR code of the passport URI (GS1 Digital Link when the GTIN is valid)',
        params: ProductIdParams,
        querystring: Type.Object(
          {
            format: Type.Union([Type.Literal('png'), Type.Literal('svg')], { default: 'png' }),
            size: Type.Integer({
              minimum: 64,
              maximum: 1024,
              default: 300,
              description: 'pixels; the bound keeps one PNG render under ~100 ms (rendered off the event loop, see QR_WORKERS)',
            }),
            margin: Type.Integer({ minimum: 0, maximum: 16, default: 4, description: 'quiet zone, in modules' }),
            ecc: Type.Union([Type.Literal('L'), Type.Literal('M'), Type.Literal('Q'), Type.Literal('H')], { default: 'M' }),
            preview: Type.Boolean({
              default: false,
              description: 'a proof of the code before the passport is published (answered with X-DPP-Preview: true); without it an unpublished passport is a 409',
            }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'The code, encoding the passport URI (also in X-DPP-URI)',
            content: {
              'image/png': { schema: { type: 'string', format: 'binary' } },
              'image/svg+xml': { schema: { type: 'string' } },
            },
          },
          304: { description: 'Not modified (If-None-Match)', type: 'null' },
          ...ProblemResponses,
        },
      },
    },
    async (request, reply) => {
      const q = request.query as { format: QrFormat; size: number; margin: number; ecc: QrEcc; preview: boolean };
      const uri = await exports.qrUriFor(principalOf(request).orgId, request.params.product_id, q.preview);
      if (q.preview) reply.header('x-dpp-preview', 'true');
      const cacheKey = `${uri}|${q.format}|${q.size}|${q.margin}|${q.ecc}`;
      let entry = qrCache.get(cacheKey);
      if (!entry) {
        let pending = rendering.get(cacheKey);
        if (!pending) {
          pending = renderQrImage(qrPool, uri, q).finally(() => rendering.delete(cacheKey));
          rendering.set(cacheKey, pending);
        }
        entry = { body: await pending, etag: `"${createHash('sha256').update(cacheKey).digest('base64url').slice(0, 22)}"` };
        qrCache.set(cacheKey, entry);
      }
      reply.header('etag', entry.etag).header('cache-control', 'private, max-age=86400').header('x-dpp-uri', uri);
      if (request.headers['if-none-match'] === entry.etag) return reply.code(304).send(null);
      return reply.type(q.format === 'svg' ? 'image/svg+xml' : 'image/png').send(entry.body);
    },
  );
};
