import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { errors } from '../../errors.js';
import { DidDocumentResponse, JwtResponse } from './schemas.js';
import { VC_JWT_MEDIA_TYPE, type CredentialService } from './service.js';

export interface CredentialPublicRoutesOptions {
  credentials: CredentialService;
}

const NotFound = { description: 'Not here', content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } } };
const OrgParams = Type.Object({ org_id: Type.String({ format: 'uuid' }) });

/** Public and fetched from anywhere (verifiers, wallets), like the resolver. */
function cors(reply: FastifyReply) {
  return reply.header('access-control-allow-origin', '*').header('cross-origin-resource-policy', 'cross-origin');
}

/**
 * What a verifier needs without an API key: the DID documents (the service's and each
 * organisation's), the revocation status lists, and the credential of each published version the
 * public side shows. DID documents and status lists stay public after a withdrawal, so a credential
 * someone holds is still found revoked.
 */
export const credentialPublicRoutes: FastifyPluginAsyncTypebox<CredentialPublicRoutesOptions> = async (app, { credentials }) => {
  const tags = ['Public credentials'];

  app.get(
    '/.well-known/did.json',
    { schema: { tags, summary: "The service's own DID document (did:web of PUBLIC_BASE_URL)", security: [], response: { 200: DidDocumentResponse } } },
    async (_request, reply) => cors(reply).type('application/did+json').header('cache-control', 'public, max-age=3600').send(JSON.stringify(credentials.serviceDidDocument())),
  );

  app.get(
    '/orgs/:org_id/did.json',
    {
      schema: {
        tags,
        summary: "An organisation's DID document: its signing keys (active and retired) as JsonWebKey assertion methods",
        security: [],
        params: OrgParams,
        response: { 200: DidDocumentResponse, 404: NotFound },
      },
    },
    async (request, reply) => {
      const doc = await credentials.didDocument(request.params.org_id);
      if (!doc) throw errors.notFound('DID', `No DID document for organisation ${request.params.org_id}.`);
      // Short: a rotation must reach verifiers soon.
      return cors(reply).type('application/did+json').header('cache-control', 'public, max-age=300').send(JSON.stringify(doc));
    },
  );

  app.get(
    '/orgs/:org_id/status/revocation/:list',
    {
      schema: {
        tags,
        summary: "An organisation's revocation status list: a signed BitstringStatusListCredential (application/vc+jwt)",
        security: [],
        params: Type.Object({ org_id: Type.String({ format: 'uuid' }), list: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }),
        response: { 200: JwtResponse('The status list credential'), 404: NotFound },
      },
    },
    async (request, reply) => {
      const jws = await credentials.statusListCredential(request.params.org_id, request.params.list);
      if (!jws) throw errors.notFound('Status list', `Organisation ${request.params.org_id} has no revocation list ${request.params.list}.`);
      return cors(reply).type(VC_JWT_MEDIA_TYPE).header('cache-control', 'public, max-age=60').send(jws);
    },
  );

  app.get(
    '/dpp/:product_id/credentials/:version',
    {
      schema: {
        tags,
        summary: 'The signed credential of a published passport version (its credential id), while the public side shows that version',
        description: 'Answered for the versions the public passport shows (live passport, version never withdrawn); anything else is 404, like an unknown id.',
        security: [],
        params: Type.Object({ product_id: Type.String({ format: 'uuid' }), version: Type.String({ pattern: '^v[1-9][0-9]{0,6}$', description: 'v1, v2 …' }) }),
        response: { 200: JwtResponse('The credential'), 404: NotFound },
      },
    },
    async (request, reply) => {
      const jws = await credentials.publicCredential(request.params.product_id, Number(request.params.version.slice(1)));
      if (!jws) throw errors.notFound('Credential', 'There is no published credential at this address.');
      return cors(reply).type(VC_JWT_MEDIA_TYPE).header('cache-control', 'public, max-age=300').send(jws);
    },
  );
};
