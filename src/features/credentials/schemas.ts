import { Type } from 'typebox';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const SigningKeySchema = Type.Object({
  kid: Type.String({ description: 'RFC 7638 thumbprint of the public key' }),
  verification_method: Type.String({ description: 'DID URL of the key in the organisation DID document (the JWS `kid`)' }),
  status: Type.Union([Type.Literal('active'), Type.Literal('retired')], { description: 'active signs new credentials; retired keys still verify what they signed' }),
  created_at: Type.String(),
  retired_at: Nullable(Type.String()),
  sealed: Type.Boolean({ description: 'whether the private key is stored encrypted (SIGNING_SECRET)' }),
  public_jwk: Type.Object({}, { additionalProperties: true, description: 'the public key (Ed25519, OKP)' }),
});

export const SigningKeysResult = Type.Object({
  did: Type.String({ description: "the organisation's did:web" }),
  items: Type.Array(SigningKeySchema, { description: 'newest first' }),
});

export const RotateResult = Type.Object({
  did: Type.String(),
  kid: Type.String({ description: 'the new active key' }),
  retired_kid: Nullable(Type.String({ description: 'the key it replaced, now retired' })),
  keys: Type.Array(SigningKeySchema),
});

/** A signed credential: a compact JWS. */
export const JwtResponse = (description: string) => ({
  description,
  content: { 'application/vc+jwt': { schema: { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' } } },
});

export const DidDocumentResponse = {
  description: 'DID document (did:web)',
  content: { 'application/did+json': { schema: { type: 'object', additionalProperties: true } } },
};
