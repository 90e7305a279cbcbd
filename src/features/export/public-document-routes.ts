import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import type { Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';
import { sendProblem } from '../../http/problem.js';
import { servedPublicDocument } from '../documents/public-documents.js';
import { contentDisposition } from '../documents/public-roles.js';
import { cors } from './public-routes.js';

export interface PublicDocumentRoutesOptions {
  db: Kysely<Schema>;
}

/** Nothing runs and nothing loads in a served document, even one a browser would render. */
const DOCUMENT_CSP = "sandbox; default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The public download of a passport's documents (no API key): `/dpp/{product_id}/documents/{document_id}`
 * answers the bytes while a published version the public can read lists the document (see
 * documents/public-documents.ts), else 404 (private, withdrawn, another product's, unknown: one answer).
 * Always an attachment, sandboxed and never sniffed, so an uploaded HTML file cannot run as the
 * resolver's origin; the strong ETag is the SHA-256 the version lists.
 */
export const publicDocumentRoutes: FastifyPluginAsyncTypebox<PublicDocumentRoutesOptions> = async (app, { db }) => {
  const path = '/dpp/:product_id/documents/:document_id';
  app.get(
    path,
    {
      schema: {
        tags: ['Public passport'],
        summary: 'Download a document a published passport links to (Declaration of Conformity, user manual…)',
        security: [],
        params: Type.Object({ product_id: Type.String({ format: 'uuid' }), document_id: Type.String({ format: 'uuid' }) }),
        response: {
          200: {
            description: 'The document, as an attachment, with the media type detected at upload',
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
          304: { description: 'Not modified (If-None-Match holds the ETag)', type: 'null' },
          404: { description: 'No published passport links to this document', content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } } },
        },
      },
    },
    async (request, reply) => {
      const { product_id, document_id } = request.params;
      cors(reply);
      const served = await servedPublicDocument(db, product_id, document_id);
      if (!served) {
        return sendProblem(reply, errors.notFound('Document', 'No published passport links to a document at this address.').toProblem(request.url.split('?')[0]));
      }
      const { document, bytes } = served;
      const etag = `"${document.sha256}"`;
      reply
        .header('etag', etag)
        .header('cache-control', 'public, max-age=300')
        .header('content-security-policy', DOCUMENT_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('access-control-expose-headers', 'ETag, Content-Disposition, Content-Length');
      const none = request.headers['if-none-match'];
      if (none !== undefined && none.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return reply.code(304).send(null);
      return reply.type(document.media_type).header('content-disposition', contentDisposition('attachment', document.filename)).send(bytes);
    },
  );
  app.options(path, { schema: { hide: true } }, async (_request, reply) => cors(reply).header('allow', 'GET, HEAD, OPTIONS').code(204).send());
};
