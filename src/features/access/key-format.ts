import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API key format: `dpp_<id>_<secret>`. The id (12 hex) is public, shown in listings and logs,
 * and is the row's primary key; the secret (32 random bytes, base64url) is shown once.
 * The `dpp_` prefix makes leaked keys recognisable to secret scanners.
 */
export const KEY_PREFIX = 'dpp_';
const KEY_RE = /^dpp_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface GeneratedKey {
  id: string;
  key: string;
  hash: string;
}

export function generateKey(): GeneratedKey {
  const id = randomBytes(6).toString('hex');
  const key = `${KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
  return { id, key, hash: hashKey(key) };
}

/** The key id of a well-formed key, or undefined. */
export function keyIdOf(key: string): string | undefined {
  return KEY_RE.exec(key)?.[1];
}

/** SHA-256 of the whole key, hex. One-shot `crypto.hash`: several times cheaper than a Hash object. */
export function hashKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** Compares a presented key with a stored hash (hex, or its bytes) in constant time. */
export function keyMatches(key: string, storedHash: string | Buffer): boolean {
  const a = hash('sha256', key, 'buffer');
  const b = typeof storedHash === 'string' ? Buffer.from(storedHash, 'hex') : storedHash;
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Parses `read,write` into scopes; throws on an unknown or empty list. */
export function parseScopes(input: string | readonly string[]): Scope[] {
  const list = (typeof input === 'string' ? input.split(',') : [...input]).map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new Error('at least one scope is required (read, write, admin)');
  for (const s of list) {
    if (!(SCOPES as readonly string[]).includes(s)) throw new Error(`unknown scope "${s}" (use read, write, admin)`);
  }
  return [...new Set(list)] as Scope[];
}

/** admin implies write and read; write does not imply read (a write-only ingestion key is allowed). */
export function hasScope(granted: readonly Scope[], needed: Scope): boolean {
  return granted.includes(needed) || granted.includes('admin');
}
