/**
 * did:web identifiers (https://w3c-ccg.github.io/did-method-web/) of the service and of each
 * organisation, derived from PUBLIC_BASE_URL: the host (a port percent-encoded as `%3A`), then the
 * base URL's path segments, each joined with `:`.
 *
 * - the service: `did:web:<host>[:<path>]`, document at `<base>/.well-known/did.json`;
 * - an organisation: `did:web:<host>[:<path>]:orgs:<org-id>`, document at `<base>/orgs/<org-id>/did.json`.
 */

/** The DID of the service itself (the host of PUBLIC_BASE_URL, and its path when it has one). */
export function serviceDid(baseUrl: string): string {
  const url = new URL(baseUrl);
  const host = url.port ? `${url.hostname}%3A${url.port}` : url.hostname;
  const segments = url.pathname.split('/').filter(Boolean).map(encodeURIComponent);
  return ['did:web', host, ...segments].join(':');
}

/** An organisation's DID: its document is `GET /orgs/<org-id>/did.json`. */
export function orgDid(baseUrl: string, orgId: string): string {
  return `${serviceDid(baseUrl)}:orgs:${encodeURIComponent(orgId)}`;
}

/** The DID URL of a key in an organisation's DID document (a JWS `kid`). */
export function verificationMethodId(baseUrl: string, orgId: string, kid: string): string {
  return `${orgDid(baseUrl, orgId)}#${kid}`;
}

/** Where an organisation's revocation status list credential is served. */
export function statusListUrl(baseUrl: string, orgId: string, listNumber: number): string {
  return `${baseUrl}/orgs/${encodeURIComponent(orgId)}/status/revocation/${listNumber}`;
}

/** The public address of a published version's signed credential (its UNTP credential id). */
export function credentialUrl(baseUrl: string, productId: string, publishedVersion: number): string {
  return `${baseUrl}/dpp/${productId}/credentials/v${publishedVersion}`;
}

export interface PublicKeyEntry {
  kid: string;
  publicJwk: Record<string, unknown>;
}

const DID_CONTEXT = 'https://www.w3.org/ns/did/v1';
/** Defines `JsonWebKey` and `publicKeyJwk` (W3C Controlled Identifiers v1.0). */
const JWK_CONTEXT = 'https://www.w3.org/ns/cid/v1';

/** An organisation's DID document: each key (active and retired) a `JsonWebKey` usable for `assertionMethod`. */
export function orgDidDocument(baseUrl: string, orgId: string, keys: PublicKeyEntry[]): Record<string, unknown> {
  const did = orgDid(baseUrl, orgId);
  const methods = keys.map((k) => ({ id: `${did}#${k.kid}`, type: 'JsonWebKey', controller: did, publicKeyJwk: k.publicJwk }));
  return {
    '@context': [DID_CONTEXT, JWK_CONTEXT],
    id: did,
    verificationMethod: methods,
    assertionMethod: methods.map((m) => m.id),
  };
}

/**
 * The service's own DID document: it names the service and its web origin. It holds no keys: every
 * credential is issued, and signed, by an organisation's DID.
 */
export function serviceDidDocument(baseUrl: string): Record<string, unknown> {
  return {
    '@context': [DID_CONTEXT],
    id: serviceDid(baseUrl),
    service: [{ id: `${serviceDid(baseUrl)}#origin`, type: 'LinkedDomains', serviceEndpoint: baseUrl }],
  };
}
