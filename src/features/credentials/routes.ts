import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf, principalOf } from '../../http/auth.js';
import { ProblemResponses } from '../../http/schemas.js';
import { ProductIdParams } from '../products/schemas.js';
import { orgDid } from './did.js';
import { JwtResponse, RotateResult, SigningKeysResult } from './schemas.js';
import { VC_JWT_MEDIA_TYPE, type CredentialService } from './service.js';

export interface CredentialRoutesOptions {
  credentials: CredentialService;
}

/** The signed credential of a published version, and the organisation's signing keys (admin keys only). */
export const credentialRoutes: FastifyPluginAsyncTypebox<CredentialRoutesOptions> = async (app, { credentials }) => {
  const tags = ['Signed credentials'];

  app.get(
    '/compliance/dpp/:product_id/credential',
    {
      schema: {
        tags,
        summary: 'The signed UNTP credential of a published version (VC-JOSE-COSE compact JWS, application/vc+jwt)',
        description:
          'Issued at publish by the organisation did:web, secured with EdDSA (Ed25519), `typ: vc+jwt`, with `validFrom`, `validUntil` and a ' +
          'BitstringStatusListEntry (revocation) set when the version is withdrawn. `version` defaults to the latest published version. ' +
          'Withdrawn versions are answered too: their status says revoked.',
        params: ProductIdParams,
        querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })) }, { additionalProperties: false }),
        response: { 200: JwtResponse('The credential'), ...ProblemResponses },
      },
    },
    async (request, reply) => {
      const jws = await credentials.credentialFor(principalOf(request).orgId, request.params.product_id, request.query.version);
      return reply.type(VC_JWT_MEDIA_TYPE).header('cache-control', 'private, no-cache').send(jws);
    },
  );

  app.get(
    '/compliance/signing-keys',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: "The organisation's credential signing keys, newest first (admin keys only)",
        response: { 200: SigningKeysResult, ...ProblemResponses },
      },
    },
    async (request) => {
      const { orgId } = principalOf(request);
      return { did: orgDid(credentials.settings.baseUrl, orgId), items: await credentials.listKeys(orgId) };
    },
  );

  app.post(
    '/compliance/signing-keys/rotate',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Rotate the signing key: a new active key; the old one is retired and stays in the DID document (admin keys only)',
        response: { 200: RotateResult, ...ProblemResponses },
      },
    },
    async (request) => {
      const { orgId } = principalOf(request);
      return credentials.rotate(orgId, actorOf(request));
    },
  );
};
