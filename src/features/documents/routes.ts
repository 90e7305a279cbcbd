import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError, errors } from '../../errors.js';
import { actorOf, principalOf } from '../../http/auth.js';
import { ProblemResponses } from '../../http/schemas.js';
import { ProductIdParams } from '../products/schemas.js';
import { DOCUMENT_KINDS, type DocumentService } from './service.js';
import { PUBLIC_DOCUMENT_ROLE_NAMES, PUBLIC_DOCUMENT_ROLES, ROLE_OF_KIND } from './public-roles.js';

const AssetSchema = Type.Object({
  asset_id: Type.String(),
  product_id: Type.String(),
  filename: Type.String(),
  media_type: Type.String(),
  kind: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
  created_at: Type.String(),
  public: Type.Boolean({ description: 'linked from the passport from its next published version on' }),
  public_role: Type.Union([Type.String(), Type.Null()], { description: `its role on the public passport: ${PUBLIC_DOCUMENT_ROLE_NAMES.join(', ')}` }),
});
const AssetParams = Type.Object({ asset_id: Type.String({ format: 'uuid' }) });
const ProductDocumentParams = Type.Object({ product_id: Type.String({ format: 'uuid' }), document_id: Type.String({ format: 'uuid' }) });
const VisibilityBody = Type.Object(
  {
    public: Type.Boolean({ description: 'true: linked from the passport (page, JSON-LD, linkset) from its next published version on; false: private again' }),
    // A plain string checked by the service, so a wrong value answers a problem naming `role` and its choices.
    role: Type.Optional(
      Type.String({
        maxLength: 64,
        description: `role on the public passport, and so its GS1 link type: ${Object.entries(PUBLIC_DOCUMENT_ROLES)
          .map(([role, type]) => `${role} (gs1:${type})`)
          .join(', ')}. When absent, from the document's kind (${Object.entries(ROLE_OF_KIND)
          .map(([kind, role]) => `${kind} → ${role}`)
          .join(', ')}).`,
      }),
    ),
  },
  { additionalProperties: false },
);

export interface DocumentRoutesOptions {
  documents: DocumentService;
  documentLimitBytes: number;
}

/** Upload and manage the supplier documents of a product. */
export const documentRoutes: FastifyPluginAsyncTypebox<DocumentRoutesOptions> = async (app, { documents, documentLimitBytes }) => {
  const tags = ['Documents'];
  await app.register(multipart, { limits: { fileSize: documentLimitBytes, files: 1, fields: 5, parts: 6, fieldSize: 1024 } });

  app.post(
    '/products/:product_id/documents',
    {
      schema: {
        tags,
        summary: 'Upload a document (multipart: field `file`, optional `kind`)',
        description: `Accepted: PDF, DOCX, HTML, plain text, Markdown, PNG, JPEG (detected from the bytes). kind: ${DOCUMENT_KINDS.join(', ')}. The same bytes uploaded again for the product answer the existing asset (200).`,
        consumes: ['multipart/form-data'],
        params: ProductIdParams,
        response: { 200: AssetSchema, 201: AssetSchema, ...ProblemResponses },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw errors.unsupportedMediaType(request.headers['content-type'] ?? 'none', ['multipart/form-data']);
      let file: { filename: string; bytes: Buffer } | undefined;
      let kind: string | undefined;
      try {
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file') {
              part.file.resume();
              continue;
            }
            file = { filename: part.filename, bytes: await part.toBuffer() };
          } else if (part.fieldname === 'kind') {
            kind = String(part.value);
          }
        }
      } catch (e) {
        // Size limits keep their 413; a form that cannot be read (no boundary, cut short) is the client's 400.
        if (e instanceof AppError) throw e;
        const { statusCode, code } = e as { statusCode?: number; code?: string };
        if (code === 'FST_REQ_FILE_TOO_LARGE') throw errors.payloadTooLarge(documentLimitBytes);
        if (statusCode === 413) {
          throw errors.validation('The form has too many parts: send one `file` and at most a `kind` field.', [
            { field: 'body', rule: 'parts_limit', message: 'one file part and at most 5 fields' },
          ]);
        }
        throw errors.malformedBody(`The multipart form could not be read: ${(e as Error).message}`);
      }
      if (kind !== undefined && !(DOCUMENT_KINDS as readonly string[]).includes(kind)) {
        throw errors.validation(`kind "${kind}" is not one of ${DOCUMENT_KINDS.join(', ')}.`, [
          { field: 'kind', rule: 'enum', message: `must be one of ${DOCUMENT_KINDS.join(', ')}` },
        ]);
      }
      if (!file) throw errors.validation('The form has no `file` part.', [{ field: 'file', rule: 'required', message: 'is required' }]);
      const { asset, created } = await documents.upload(principalOf(request).orgId, request.params.product_id, { ...file, ...(kind ? { kind } : {}) });
      return reply.code(created ? 201 : 200).send(asset);
    },
  );

  app.get(
    '/products/:product_id/documents',
    {
      schema: {
        tags,
        summary: 'List the documents of a product',
        params: ProductIdParams,
        response: { 200: Type.Object({ items: Type.Array(AssetSchema) }), ...ProblemResponses },
      },
    },
    async (request) => ({ items: await documents.list(principalOf(request).orgId, request.params.product_id) }),
  );

  app.patch(
    '/compliance/products/:product_id/documents/:document_id',
    {
      schema: {
        tags,
        summary: 'Mark a document public (with its role) or private',
        description:
          'A public document is linked from the public passport (page, JSON-LD, GS1 linkset) and downloadable at /dpp/{product_id}/documents/{document_id} ' +
          'once a published version lists it: publish again for the change to show (published versions never change). Needs the write scope; audited.',
        params: ProductDocumentParams,
        body: VisibilityBody,
        response: { 200: AssetSchema, ...ProblemResponses },
      },
    },
    async (request) => {
      const { orgId } = principalOf(request);
      const { product_id, document_id } = request.params;
      return documents.setPublic(orgId, product_id, document_id, request.body, actorOf(request));
    },
  );

  app.get(
    '/assets/:asset_id',
    {
      schema: { tags, summary: 'Document metadata', params: AssetParams, response: { 200: AssetSchema, ...ProblemResponses } },
    },
    async (request) => documents.get(principalOf(request).orgId, request.params.asset_id),
  );

  app.get(
    '/assets/:asset_id/content',
    {
      schema: {
        tags,
        summary: 'Document bytes',
        params: AssetParams,
        response: {
          200: {
            description: 'The stored bytes, with the media type detected at upload',
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
          ...ProblemResponses,
        },
      },
    },
    async (request, reply) => {
      const { asset, bytes } = await documents.content(principalOf(request).orgId, request.params.asset_id);
      // Stored files are served as attachments in a sandbox: an uploaded HTML file can never run as our origin.
      return reply
        .type(asset.media_type)
        .header('content-disposition', `attachment; filename="${asset.filename.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(asset.filename)}`)
        .header('content-security-policy', "sandbox; default-src 'none'")
        .header('x-content-type-options', 'nosniff')
        .header('etag', `"${asset.sha256}"`)
        .send(bytes);
    },
  );

  app.delete(
    '/assets/:asset_id',
    {
      schema: { tags, summary: 'Delete a document', params: AssetParams, response: { 204: Type.Null(), ...ProblemResponses } },
    },
    async (request, reply) => {
      const { orgId } = principalOf(request);
      await documents.remove(orgId, request.params.asset_id, actorOf(request));
      return reply.code(204).send(null);
    },
  );
};
