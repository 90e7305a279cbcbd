import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Negotiator from 'negotiator';
import { Type } from 'typebox';
import { errors } from '../../errors.js';
import { sendProblem } from '../../http/problem.js';
import { CONTEXT_PATHS } from './contexts.js';
import { gtinFromDigitalLink, passportUri } from './digital-link.js';
import { negotiateLanguage, type Lang } from './i18n.js';
import { publicUri } from './jsonld.js';
import { buildLinkset, documentLinks, expandLinkType, passportLinks, pickLink, type PassportLink } from './linkset.js';
import { PAGE_CSP, renderMessagePage, renderPassportPage } from './page.js';
import { decompressDigitalLink, gtinPath, parseGtinQualifiers, type GtinQualifiers } from './resolver/dl-path.js';
import { Profile, profileOf, renderExport } from './routes.js';
import type { GrantService } from '../access/grants.js';
import type { PublicSuccessor } from '../passports/successors.js';
import type { ExportService, PublicPassport, PublicSelector } from './service.js';

const PublicQuery = Type.Object(
  {
    lang: Type.Optional(Type.String({ maxLength: 35 })),
    linkType: Type.Optional(Type.String({ maxLength: 200, description: 'linkset (or all), or a link type such as gs1:pip, gs1:dpp, untp:dpp' })),
    format: Type.Optional(Type.Union([Type.Literal('html'), Type.Literal('jsonld')])),
    profile: Type.Optional(Profile),
    version: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'an earlier published version' })),
    at: Type.Optional(Type.String({ format: 'date-time', description: 'the passport as it was at this instant: the version live then (ISO-8601)' })),
  },
  // Scanners and campaigns add their own parameters (utm_*, context…): they are kept and passed on.
  { additionalProperties: true },
);
type PublicQueryValues = { lang?: string; linkType?: string; format?: string; profile?: string; version?: number; at?: string };
type PublicRequest = FastifyRequest & { query: PublicQueryValues };

const LINKSET = 'application/linkset+json';
/** What a resolver URI can answer with, in our order of preference for `*\/*`. */
const OFFERED = ['text/html', LINKSET, 'application/ld+json', 'application/json'];

type Wanted = 'html' | 'jsonld' | 'linkset';

/** The representation a request asks for: explicit parameters first, then Accept with its q-values. */
function wanted(request: PublicRequest): Wanted {
  const { linkType, format } = request.query;
  if (linkType === 'linkset' || linkType === 'all') return 'linkset';
  if (format === 'jsonld') return 'jsonld';
  if (format === 'html') return 'html';
  const best = new Negotiator(typesOnly(request)).mediaType(OFFERED) ?? 'text/html';
  return best === LINKSET ? 'linkset' : best === 'text/html' ? 'html' : 'jsonld';
}

/**
 * The Accept header with media-type parameters other than q dropped: a JSON-LD client that names a
 * profile (`application/ld+json; profile="…untp/dpp/0.6.0/"`) asks for JSON-LD, and Negotiator
 * would otherwise match no offered type (which carry no parameters) and answer the HTML page.
 */
function typesOnly(request: FastifyRequest): { headers: { accept: string } } {
  const accept = String(request.headers.accept ?? '*/*')
    .split(',')
    .map((range) =>
      range
        .split(';')
        .filter((part, i) => i === 0 || /^\s*q\s*=/i.test(part))
        .join(';'),
    )
    .join(',');
  return { headers: { accept } };
}

/** Media types the request accepts, best first (to choose among links of one type). */
function acceptedTypes(request: FastifyRequest, offered: readonly PassportLink[] = []): string[] {
  const documentTypes = offered.flatMap((l) => (l.type ? [l.type] : []));
  return new Negotiator(typesOnly(request)).mediaTypes([...new Set(['text/html', 'application/ld+json', 'application/json', ...documentTypes])]);
}

/** CORS for every resolver answer: the resolver is public and called from other origins' pages and apps. */
export function cors(reply: FastifyReply) {
  return (
    reply
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-methods', 'GET, HEAD, OPTIONS')
      .header('access-control-allow-headers', 'Accept, Accept-Language')
      .header('access-control-expose-headers', 'Location, Link')
      // Passports, their QR codes and JSON-LD are meant to be embedded and fetched from any site.
      .header('cross-origin-resource-policy', 'cross-origin')
  );
}

/** Headers every public HTML answer carries: a strict CSP and no sniffing, framing or referrer leaks. */
function htmlHeaders(reply: FastifyReply) {
  return reply.header('content-security-policy', PAGE_CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').type('text/html; charset=utf-8');
}

/**
 * The link's target with the request's query passed on (GS1: "SHALL pass on all key=value pairs"),
 * except `linkType` (by its decoded name, so `link%54ype` cannot loop) and the keys the link sets
 * itself (`lang`, `format`, `profile`: the link's own values decide what it opens).
 */
function redirectTarget(href: string, requestUrl: string): string {
  const target = new URL(href);
  const passed = new URLSearchParams(requestUrl.includes('?') ? requestUrl.slice(requestUrl.indexOf('?') + 1) : '');
  for (const [name, value] of passed) {
    if (name === 'linkType' || target.searchParams.has(name)) continue;
    target.searchParams.append(name, value);
  }
  return target.href;
}

interface Resolution {
  /** The URI asked for, uncompressed, without query: the linkset's first anchor. */
  anchor: string;
  /** The model's URI (the links' subject) when the passport was found. */
  passport: PublicPassport | undefined;
  /** For a compressed request: the uncompressed URI, announced as owl:sameAs. */
  sameAs?: string;
}

/**
 * Answers a passport URI as a GS1-conformant resolver does (see README, "Resolver conformance"):
 * - no linkType: the passport served in place (the default link is this very URI), as a page,
 *   JSON-LD or linkset by content negotiation;
 * - linkType=linkset (or all): the linkset, 200;
 * - linkType=<type>: 307 to the best link of that type, the rest of the query passed on; 404 for a
 *   type the passport does not offer.
 * Only live published versions are ever shown.
 */
function answer(request: PublicRequest, reply: FastifyReply, { anchor, passport, sameAs }: Resolution) {
  const kind = wanted(request);
  const lang: Lang = negotiateLanguage(request.query.lang, request.headers['accept-language']);
  const selfPath = request.url.split('?')[0]!;
  cors(reply).header('vary', 'Accept, Accept-Language, Authorization');
  const links: string[] = [];
  if (sameAs) links.push(`<${sameAs}>; rel="owl:sameAs"`);
  if (!passport) {
    if (links.length) reply.header('link', links.join(', '));
    if (kind === 'html' && !request.query.linkType)
      return htmlHeaders(reply)
        .code(404)
        .send(renderMessagePage(lang, 'notFound', selfPath));
    return sendProblem(reply, errors.notFound('Passport', 'There is no published passport at this address.').toProblem(selfPath));
  }
  const uri = publicUri(passport);
  const subject = {
    uri,
    productName: passport.passport.product_name ?? '',
    publishedVersion: passport.currentVersion,
    versions: passport.versions,
    credentialUrl: passport.credentialUrl,
    documents: documentLinks(passport.baseUrl, passport.productId, passport.passport.documents ?? []),
    successor: passport.successor,
  };
  const offered: PassportLink[] = passportLinks(subject);
  links.push(`<${anchor}?linkType=linkset>; rel="linkset"; type="${LINKSET}"`);
  reply.header('link', links.join(', '));
  // A passport shown under an access grant holds restricted fields: no cache may keep it.
  reply.header('cache-control', passport.tier === 'public' ? 'public, max-age=300' : 'private, no-store');

  const linkType = request.query.linkType;
  if (linkType && linkType !== 'linkset' && linkType !== 'all') {
    if (!/^([a-z][a-z0-9]*:[A-Za-z][A-Za-z0-9_-]*|https?:\/\/\S+|[a-z][a-z-]*)$/.test(linkType)) {
      throw errors.validation(`linkType "${linkType}" is not a link type (gs1:pip, gs1:dpp, untp:dpp, linkset …).`, [
        { field: 'querystring/linkType', rule: 'link_type', message: 'must be linkset, a CURIE such as gs1:pip, or a link type URI' },
      ]);
    }
    const chosen = pickLink(offered, expandLinkType(linkType), lang, acceptedTypes(request, offered));
    if (!chosen) {
      const available = [...new Set(offered.map((l) => l.rel))];
      throw errors.notFound('Link', `This passport offers no link of type ${linkType}; it offers: ${available.join(', ')} (or linkType=linkset for all).`);
    }
    return reply.code(307).header('location', redirectTarget(chosen.href, request.url)).send();
  }
  if (kind === 'linkset') {
    // Exactly this media type (no charset parameter): GS1's test suite compares it as a string.
    // A Buffer, because Fastify appends "; charset=utf-8" to JSON media types sent as text.
    return reply.header('content-type', LINKSET).send(Buffer.from(JSON.stringify(buildLinkset(anchor, subject, offered))));
  }
  if (kind === 'jsonld') {
    const { body, type } = renderExport(passport, profileOf(request.query.profile, request.headers.accept));
    return reply.type(type).send(body);
  }
  return htmlHeaders(reply).send(renderPassportPage(passport, lang, selfPath));
}

export interface PublicRoutesOptions {
  exports: ExportService;
  grants: GrantService;
  baseUrl: string;
}

/** GS1 primary keys this resolver does not serve (it resolves GTINs): valid syntax, nothing here (404). */
const OTHER_PRIMARY_KEYS = ['00', '253', '255', '401', '402', '410', '411', '412', '413', '414', '415', '417', '8003', '8004', '8006', '8010', '8013', '8017', '8018'];
/** Key qualifiers of a GTIN: never first in a path (400). */
const QUALIFIER_AIS = ['22', '10', '21', '235'];

/** The public side, no API key: GS1 Digital Link resolver, passport pages, and the served JSON-LD contexts. */
export const publicRoutes: FastifyPluginAsyncTypebox<PublicRoutesOptions> = async (app, { exports, grants, baseUrl }) => {
  const tags = ['Public passport'];
  const passportResponses = {
    200: {
      description: 'The published passport: an HTML page, JSON-LD, or the linkset (content negotiation, or linkType=linkset)',
      content: {
        'text/html': { schema: { type: 'string' } },
        'application/ld+json': { schema: { type: 'object', additionalProperties: true } },
        [LINKSET]: { schema: { type: 'object', additionalProperties: true } },
      },
    },
    307: { description: 'Redirect to the link of the requested linkType', type: 'null' },
    400: {
      description: 'Not a valid Digital Link (check digit, qualifiers, characters)',
      content: { 'application/problem+json': { schema: { $ref: 'Problem#' } }, 'text/html': { schema: { type: 'string' } } },
    },
    404: {
      description: 'No published passport here, or no link of the requested type',
      content: { 'application/problem+json': { schema: { $ref: 'Problem#' } }, 'text/html': { schema: { type: 'string' } } },
    },
  };
  const schema = (summary: string, params?: ReturnType<typeof Type.Object>) => ({
    tags,
    summary,
    security: [],
    ...(params ? { params } : {}),
    querystring: PublicQuery,
    response: passportResponses,
  });

  /** GET (and HEAD) plus an OPTIONS answer, as the resolver standard asks of every resolver URI. */
  const resolverRoute = (path: string, summary: string, params: ReturnType<typeof Type.Object> | undefined, handler: (req: FastifyRequest, reply: FastifyReply) => unknown) => {
    app.get(path, { schema: schema(summary, params) }, handler as never);
    app.options(path, { schema: { hide: true } }, async (_request, reply) => cors(reply).header('allow', 'GET, HEAD, OPTIONS').code(204).send());
  };

  /** Which version the request asks for, and the access grant it presents (a bad grant is a 401 here). */
  const selectorOf = async (request: PublicRequest): Promise<PublicSelector> => {
    const { version, at } = request.query;
    if (version !== undefined && at !== undefined) {
      throw errors.validation('Ask for a version or an instant, not both.', [{ field: 'querystring/at', rule: 'exclusive', message: 'cannot be combined with version' }]);
    }
    const grant = await grants.holderOf(request.headers.authorization);
    return { version, at: at === undefined ? undefined : new Date(at).toISOString(), grant };
  };

  /** Finds the passport a request asks for; a read under an access grant is logged in the organisation's audit log. */
  const find = async (request: PublicRequest, lookup: (selector: PublicSelector) => Promise<PublicPassport | undefined>) => {
    const selector = await selectorOf(request);
    const passport = await lookup(selector);
    if (passport && passport.tier !== 'public') await grants.recordUse(selector.grant!, passport.productId, passport.publishedVersion!, request.id);
    return passport;
  };

  /** A withdrawn passport that moved: its URIs redirect, for good, to where it lives now (query passed on). */
  const redirectMoved = (request: PublicRequest, reply: FastifyReply, moved: PublicSuccessor) =>
    cors(reply)
      .header('link', `<${moved.uri}>; rel="successor-version"`)
      .header('cache-control', 'public, max-age=300')
      .code(308)
      .header('location', redirectTarget(moved.uri, request.url))
      .send();

  const badLink = (request: PublicRequest, reply: FastifyReply, error: Error) => {
    cors(reply);
    if (wanted(request) === 'html' && !request.query.linkType) {
      const lang = negotiateLanguage(request.query.lang, request.headers['accept-language']);
      return htmlHeaders(reply)
        .code(400)
        .send(renderMessagePage(lang, 'badRequest', request.url.split('?')[0]!));
    }
    throw error;
  };

  /** Resolves `/01/{gtin}[/qualifiers]` (from the path, or from a decompressed link). */
  const resolveGtin = async (request: PublicRequest, reply: FastifyReply, segment: string, rest: string[], sameAs?: string) => {
    const gtin = gtinFromDigitalLink(segment);
    if (!gtin) {
      return badLink(
        request,
        reply,
        errors.validation(`"${segment}" is not a GTIN-14 with a valid check digit.`, [
          { field: 'params/gtin', rule: 'gtin14', message: 'must be 14 digits with a valid GS1 check digit' },
        ]),
      );
    }
    let qualifiers: GtinQualifiers;
    try {
      qualifiers = parseGtinQualifiers(rest);
    } catch (e) {
      return badLink(request, reply, e as Error);
    }
    // A lot or serial opens its batch or item passport when one is live; otherwise (and for a variant
    // or TPX) the model's passport answers, under the URI asked for.
    const passport = await find(request, (selector) => exports.publicByGtin(gtin, { ...selector, lot: qualifiers.lot, serial: qualifiers.serial }));
    const moved = passport ? undefined : await exports.movedTo({ gtin14: gtin });
    if (moved) return redirectMoved(request, reply, moved);
    return answer(request, reply, { anchor: `${baseUrl}${gtinPath(gtin, qualifiers)}`, passport, ...(sameAs ? { sameAs } : {}) });
  };

  const Gtin = { gtin: Type.String({ maxLength: 40 }) };
  resolverRoute('/01/:gtin', 'Resolve a GS1 Digital Link (GTIN)', Type.Object(Gtin), (req, reply) => {
    const request = req as PublicRequest;
    return resolveGtin(request, reply, (request.params as { gtin: string }).gtin, []);
  });
  resolverRoute('/01/:gtin/*', 'Resolve a GS1 Digital Link with key qualifiers: /22/{cpv}, /10/{lot}, /21/{serial} in that order, or /235/{tpx}', undefined, (req, reply) => {
    const request = req as PublicRequest;
    const params = request.params as { gtin: string };
    // Segments are split on the raw path, then decoded: a value may hold an encoded "/" (%2F). A
    // trailing slash is the same URI (GS1: the same answer with or without it); an empty segment inside is not.
    const raw = request.url.split('?')[0]!.split('/').slice(3);
    if (raw.at(-1) === '') raw.pop();
    let rest: string[];
    try {
      rest = raw.map((segment) => decodeURIComponent(segment));
    } catch {
      rest = ['%'];
    }
    return resolveGtin(request, reply, params.gtin, rest);
  });

  resolverRoute('/dpp/:product_id', 'Passport of a product without a valid GTIN', Type.Object({ product_id: Type.String({ format: 'uuid' }) }), async (req, reply) => {
    const request = req as PublicRequest;
    const { product_id } = request.params as { product_id: string };
    const passport = await find(request, (selector) => exports.publicById(product_id, selector));
    const moved = passport ? undefined : await exports.movedTo({ productId: product_id });
    if (moved) return redirectMoved(request, reply, moved);
    return answer(request, reply, { anchor: passport ? passportUri(baseUrl, product_id, passport.gtin14) : `${baseUrl}/dpp/${product_id}`, passport });
  });

  // Other GS1 keys: a qualifier first is a syntax error; a primary key we do not serve is simply not here.
  for (const ai of [...QUALIFIER_AIS, ...OTHER_PRIMARY_KEYS]) {
    app.get(`/${ai}/*`, { schema: { hide: true } }, async (request, reply) => {
      cors(reply);
      if (QUALIFIER_AIS.includes(ai)) {
        throw errors.validation(`AI ${ai} is a key qualifier of a GTIN, not a primary key: write /01/{gtin}/${ai}/{value}.`, [
          { field: 'path', rule: 'primary_key', message: `a Digital Link starts with a primary key such as 01, not ${ai}` },
        ]);
      }
      return sendProblem(reply, errors.notFound('Key', `This resolver answers GTINs (/01/…); GS1 key ${ai} is not resolved here.`).toProblem(request.url.split('?')[0]));
    });
  }

  // A compressed Digital Link is one path segment: decompressed with GS1's own tables, then resolved
  // like its uncompressed form (announced as owl:sameAs), without a redirect to it.
  app.get('/:compressed', { schema: { hide: true }, config: { catchAll: true } }, async (req, reply) => {
    const request = req as PublicRequest;
    const segment = (request.params as { compressed: string }).compressed;
    const decompressed = decompressDigitalLink(baseUrl, segment);
    // Only the path identifies; data attributes the compressed form carried (?17=…) are not part of it.
    const path = decompressed === undefined ? undefined : new URL(decompressed, 'http://x').pathname;
    const m = path && /^\/01\/([^/]+)(?:\/(.*))?$/.exec(path);
    if (!m) {
      return sendProblem(reply, errors.notFound('Route', `No route GET /${segment.slice(0, 200)}.`).toProblem(request.url.split('?')[0]));
    }
    let rest: string[];
    try {
      rest = m[2] ? m[2].split('/').map((s) => decodeURIComponent(s)) : [];
    } catch {
      rest = ['%'];
    }
    return resolveGtin(request, reply, m[1]!, rest, `${baseUrl}${path}`);
  });

  // GS1 resolver description file.
  const description = JSON.stringify({
    name: 'dpp-compliance: Digital Product Passports',
    resolverRoot: baseUrl,
    supportedPrimaryKeys: ['01'],
    supportedLinkType: [
      { namespace: 'https://ref.gs1.org/voc/', prefix: 'gs1:' },
      { namespace: 'https://test.uncefact.org/vocabulary/linkTypes/', prefix: 'untp:' },
    ],
    linkTypeDefaultCanBeLinkset: true,
    jsonLdContextLocation: 'https://ref.gs1.org/standards/resolver/linkset-context',
  });
  app.get('/.well-known/gs1resolver', { schema: { tags, summary: 'GS1 resolver description file', security: [] } }, async (_request, reply) =>
    cors(reply).type('application/json').header('cache-control', 'public, max-age=3600').send(description),
  );

  for (const [path, document] of Object.entries(CONTEXT_PATHS)) {
    const body = JSON.stringify(document);
    app.get(path, { schema: { tags, summary: 'JSON-LD context served by the service', security: [] } }, async (_request, reply) =>
      reply.type('application/ld+json').header('cache-control', 'public, max-age=86400, immutable').header('access-control-allow-origin', '*').send(body),
    );
  }
};
