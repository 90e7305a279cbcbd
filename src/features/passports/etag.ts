/** Strong ETag of a compliance record version: `"v<version>"`. */
export function etagOf(version: number): string {
  return `"v${version}"`;
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
  return tags.some((t) => t.replace(/^W\//, '') === etagOf(version));
}
