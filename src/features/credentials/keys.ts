import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { LRUCache } from 'lru-cache';

/** JWS algorithm of every credential: EdDSA over Ed25519 (RFC 8037). */
export const JWS_ALG = 'EdDSA';

export interface NewKey {
  /** RFC 7638 thumbprint of the public JWK. */
  kid: string;
  publicJwk: JWK;
  privateJwk: JWK;
}

/** A fresh Ed25519 key pair as JWKs, its kid the public key's thumbprint. */
export async function generateSigningKey(): Promise<NewKey> {
  const { publicKey, privateKey } = await generateKeyPair(JWS_ALG, { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  return { kid: await calculateJwkThumbprint(publicJwk), publicJwk, privateJwk };
}

const SEALED_PREFIX = 'aesgcm:v1:';

/** The AES-256 key derived from SIGNING_SECRET (HKDF-SHA-256, fixed salt and purpose). */
function sealingKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'dpp-compliance', 'signing-keys/aes-256-gcm/v1', 32));
}

/**
 * The private JWK as stored: with a secret, `aesgcm:v1:<iv>.<tag>.<ciphertext>` (base64url; the kid
 * is the additional data, so a sealed key moved to another row does not open); without one, its JSON.
 */
export function sealPrivateKey(privateJwk: JWK, kid: string, secret: string | undefined): string {
  const json = JSON.stringify(privateJwk);
  if (!secret) return json;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(secret), iv);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
  return `${SEALED_PREFIX}${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${ciphertext.toString('base64url')}`;
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(SEALED_PREFIX);
}

/** Opens a stored private key; throws when it is sealed and the secret is missing or wrong, or when it is not a key. */
export function openPrivateKey(stored: string, kid: string, secret: string | undefined): JWK {
  let json = stored;
  if (isSealed(stored)) {
    if (!secret) throw new Error(`signing key ${kid} is sealed and SIGNING_SECRET is not set`);
    const [iv, tag, ciphertext] = stored.slice(SEALED_PREFIX.length).split('.');
    if (!iv || !tag || ciphertext === undefined) throw new Error(`signing key ${kid} is not a sealed key`);
    const decipher = createDecipheriv('aes-256-gcm', sealingKey(secret), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    json = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
  const jwk = JSON.parse(json) as JWK;
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') throw new Error(`signing key ${kid} is not an Ed25519 private key`);
  return jwk;
}

type SigningKey = CryptoKey | KeyObject | Uint8Array;

/**
 * Imported private keys, by their stored text (so a changed row, sealed or not, is read again): opening
 * and importing a key cost more than the signature itself. One per credential service (it holds keys
 * opened with that service's secret).
 */
export type SigningKeyCache = LRUCache<string, SigningKey>;

export function createSigningKeyCache(): SigningKeyCache {
  return new LRUCache<string, SigningKey>({ max: 1000 });
}

/** The signing key of a stored private key (see `openPrivateKey`), imported once per cache. */
export async function signingKeyFor(cache: SigningKeyCache, stored: string, kid: string, secret: string | undefined): Promise<SigningKey> {
  const cacheKey = `${kid}\n${stored}`;
  const found = cache.get(cacheKey);
  if (found) return found;
  const key = await importJWK(openPrivateKey(stored, kid, secret), JWS_ALG);
  cache.set(cacheKey, key);
  return key;
}

/** Signs `payload` as a compact JWS with the protected header given (plus `alg`). */
export async function signCompact(payload: object, key: SigningKey, header: { typ: string; cty?: string; kid: string }): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: JWS_ALG, ...header }).sign(key);
}
