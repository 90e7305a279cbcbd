import { createHash } from 'node:crypto';

/** Strong ETag of a compliance record version: `"v<version>"`. */
export function etagOf(version: number): string {
  return `"v${version}"`;
}

/**
 * The passport GET's ETag: the version's, plus a digest of its EU registry status when it has one
 * (`"v<version>.r<digest>"`), so an acknowledgement from the registry is not hidden by a 304. If-Match
 * compares the version part only: the registry status is not the passport's content.
 */
export function passportEtagOf(version: number, registry: string | null): string {
  return registry === null ? etagOf(version) : `"v${version}.r${createHash('sha256').update(registry).digest('base64url').slice(0, 12)}"`;
}

/**
 * Does an If-Match header hold for the current version? `*` holds when the record exists;
 * otherwise any listed tag (weak or strong) must name the current version.
 */
export function ifMatchHolds(header: string, version: number, exists: boolean): boolean {
  const tags = header
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (tags.includes('*')) return exists;
  return tags.some((t) => {
    const tag = t.replace(/^W\//, '');
    return tag === etagOf(version) || tag.startsWith(`"v${version}.r`);
  });
}
