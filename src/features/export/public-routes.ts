import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { errors } from '../../errors.js';
import { sendProblem } from '../../http/problem.js';
import { CONTEXT_PATHS } from './contexts.js';
import { gtinFromDigitalLink, passportUri } from './digital-link.js';
import { negotiateLanguage } from './i18n.js';
import { buildLinkset } from './linkset.js';
import { PAGE_CSP, renderMessagePage, renderPassportPage } from './page.js';
import { profileOf, renderExport } from './routes.js';
import type { ExportService } from './service.js';
import type { ExportInput } from './types.js';

const PublicQuery = Type.Object(
  {
    lang: Type.Optional(Type.String({ maxLength: 35 })),
    linkType: Type.Optional(Type.String({ maxLength: 100 })),
    format: Type.Optional(Type.Union([Type.Literal('html'), Type.Literal('jsonld')])),
    profile: Type.Optional(Type.Union([Type.Literal('default'), Type.Literal('untp')])),
  },
  { additionalProperties: true },
);
type PublicQueryValues = { lang?: string; linkType?: string; format?: string; profile?: string };
type PublicRequest = FastifyRequest & { query: PublicQueryValues };

type Wanted = 'html' | 'jsonld' | 'linkset';

function wanted(request: PublicRequest): Wanted {
  const accept = request.headers.accept ?? '';
  if (request.query.linkType === 'linkset' || accept.includes('application/linkset+json')) return 'linkset';
  if (request.query.format === 'jsonld' || accept.includes('application/ld+json')) return 'jsonld';
  if (request.query.format === 'html' || accept.includes('text/html') || accept === '' || accept.includes('*/*')) return 'html';
  return accept.includes('application/json') ? 'jsonld' : 'html';
}

/** Headers every public HTML answer carries: a strict CSP and no sniffing, framing or referrer leaks. */
function htmlHeaders(reply: FastifyReply) {
  return reply
    .header('content-security-policy', PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8');
}

/**
 * Answers a passport URI the way a GS1 Digital Link resolver does: a page for people, JSON-LD for
 * machines, a linkset on request. Only live published versions are ever shown.
 */
function answer(request: PublicRequest, reply: FastifyReply, input: ExportInput | undefined, uri: string) {
  const kind = wanted(request);
  const lang = negotiateLanguage(request.query.lang, request.headers['accept-language']);
  const selfPath = request.url.split('?')[0]!;
  reply.header('vary', 'Accept, Accept-Language');
  if (!input) {
    if (kind === 'html') return htmlHeaders(reply).code(404).send(renderMessagePage(lang, 'notFound', selfPath));
    return sendProblem(reply, errors.notFound('Passport', 'There is no published passport at this address.').toProblem(selfPath));
  }
  reply.header('cache-control', 'public, max-age=300');
  if (kind === 'linkset') return reply.type('application/linkset+json').send(buildLinkset(uri, input.passport.product_name));
  if (kind === 'jsonld') {
    const { body, type } = renderExport(input, profileOf(request.query.profile, request.headers.accept));
    return reply.type(type).send(body);
  }
  reply.header('link', `<${uri}?linkType=linkset>; rel="linkset"; type="application/linkset+json"`);
  return htmlHeaders(reply).send(renderPassportPage(input, lang, selfPath));
}

export interface PublicRoutesOptions {
  exports: ExportService;
  baseUrl: string;
}

/** The public side, no API key: GS1 Digital Link resolver, passport pages, and the served JSON-LD contexts. */
export const publicRoutes: FastifyPluginAsyncTypebox<PublicRoutesOptions> = async (app, { exports, baseUrl }) => {
  const tags = ['Public passport'];
  const schema = (summary: string, params: ReturnType<typeof Type.Object>) => ({
    tags,
    summary,
    security: [],
    params,
    querystring: PublicQuery,
  });

  const byGtin = async (req: FastifyRequest, reply: FastifyReply) => {
    const request = req as PublicRequest;
    const { gtin: segment } = request.params as { gtin: string };
    const gtin = gtinFromDigitalLink(segment);
    if (!gtin) {
      const lang = negotiateLanguage(request.query.lang, request.headers['accept-language']);
      if (wanted(request) === 'html') {
        return htmlHeaders(reply).code(400).send(renderMessagePage(lang, 'badRequest', request.url.split('?')[0]!));
      }
      throw errors.validation(`"${segment}" is not a GTIN-14 with a valid check digit.`, [
        { field: 'params/gtin', rule: 'gtin14', message: 'must be 14 digits with a valid GS1 check digit' },
      ]);
    }
    return answer(request, reply, await exports.publicByGtin(gtin), `${baseUrl}/01/${gtin}`);
  };

  const Gtin = { gtin: Type.String({ maxLength: 40 }) };
  app.get('/01/:gtin', { schema: schema('Resolve a GS1 Digital Link (GTIN)', Type.Object(Gtin)) }, byGtin);
  // Serial numbers and lots are accepted (kept for item-level passports later) and resolve to the model's passport.
  app.get('/01/:gtin/21/:serial', { schema: schema('Resolve a GS1 Digital Link (GTIN + serial)', Type.Object({ ...Gtin, serial: Type.String({ maxLength: 20 }) })) }, byGtin);
  app.get('/01/:gtin/10/:lot', { schema: schema('Resolve a GS1 Digital Link (GTIN + lot)', Type.Object({ ...Gtin, lot: Type.String({ maxLength: 20 }) })) }, byGtin);

  app.get('/dpp/:product_id', {
    schema: schema('Passport of a product without a valid GTIN', Type.Object({ product_id: Type.String({ format: 'uuid' }) })),
  }, async (request, reply) => {
    const { product_id } = request.params as { product_id: string };
    const input = await exports.publicById(product_id);
    return answer(request as PublicRequest, reply, input, input ? passportUri(baseUrl, product_id, input.gtin14) : `${baseUrl}/dpp/${product_id}`);
  });

  for (const [path, document] of Object.entries(CONTEXT_PATHS)) {
    const body = JSON.stringify(document);
    app.get(path, { schema: { tags, summary: 'JSON-LD context served by the service', security: [] } }, async (_request, reply) =>
      reply.type('application/ld+json').header('cache-control', 'public, max-age=86400, immutable').header('access-control-allow-origin', '*').send(body),
    );
  }
};
