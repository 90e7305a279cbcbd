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
import { toUntpCredential070 } from './untp-0.7.js';
import { UNTP_070_CONTEXT_URL, UNTP_DPP_CONTEXT } from './contexts.js';

/** The JSON-LD profiles of an export: `untp` stays UNTP 0.6.0, as it was before 0.7.0 existed. */
export const PROFILES = ['default', 'untp', 'untp-0.6.0', 'untp-0.7.0'] as const;
export type ExportProfile = (typeof PROFILES)[number];
/** What a profile renders: `untp` is an alias of `untp-0.6.0`. */
export type RenderedProfile = 'default' | 'untp-0.6.0' | 'untp-0.7.0';

export const Profile = Type.Union(
  PROFILES.map((p) => Type.Literal(p)),
  { description: 'default: the API shape; untp-0.6.0: UNTP DPP 0.6.0 credential; untp-0.7.0: UNTP DPP 0.7.0 credential; untp: the same as untp-0.6.0' },
);

/** The context URL each UNTP version is served with, as the `profile` of its media type. */
const PROFILE_URIS: Record<Exclude<RenderedProfile, 'default'>, string> = { 'untp-0.6.0': UNTP_DPP_CONTEXT, 'untp-0.7.0': UNTP_070_CONTEXT_URL };

/** The UNTP version a `profile` media-type parameter names: by context URL, or by a name such as `untp-0.7.0`. */
function untpVersionOf(profile: string): RenderedProfile | undefined {
  if (profile.includes(UNTP_070_CONTEXT_URL) || /untp\b.*\b0\.7\.0\b/i.test(profile)) return 'untp-0.7.0';
  if (/untp/i.test(profile)) return 'untp-0.6.0';
  return undefined;
}

/**
 * Which JSON-LD profile a request asks for: `?profile=` first, else the UNTP profile named in Accept
 * (`application/ld+json; profile="https://vocabulary.uncefact.org/untp/0.7.0/context/"`, or the 0.6.0
 * context URL), the range with the highest q-value winning; else the API shape.
 */
export function profileOf(query: string | undefined, accept: string | undefined): RenderedProfile {
  if (query === 'untp' || query === 'untp-0.6.0') return 'untp-0.6.0';
  if (query === 'untp-0.7.0' || query === 'default') return query;
  const ranges = (accept ?? '')
    .split(',')
    .map((range, order) => {
      const params = range.split(';').slice(1);
      const q = Number(params.find((p) => /^\s*q\s*=/i.test(p))?.split('=')[1] ?? 1);
      const profile = params.find((p) => /^\s*profile\s*=/i.test(p))?.replace(/^\s*profile\s*=\s*/i, '') ?? (range.includes('untp') ? range : '');
      return { q: Number.isFinite(q) ? q : 0, order, version: untpVersionOf(profile) };
    })
    .filter((r) => r.version !== undefined && r.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  return ranges[0]?.version ?? 'default';
}

/** The document of a profile, and its media type (a UNTP credential names its context as the profile). */
export function renderExport(input: ExportInput, profile: ExportProfile) {
  const rendered: RenderedProfile = profile === 'untp' ? 'untp-0.6.0' : profile;
  if (rendered === 'default') return { body: toDefaultJsonLd(input), type: 'application/ld+json' };
  const body = rendered === 'untp-0.7.0' ? toUntpCredential070(input) : toUntpCredential(input);
  return { body, type: `application/ld+json; profile="${PROFILE_URIS[rendered]}"` };
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
