import fs from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * The README promises Node.js 20.19 (the machines run 20.20): every installed package must accept it,
 * or `npm ci` warns (EBADENGINE) and the package may break at run time (better-sqlite3 13 does).
 */
describe('supported Node.js versions', () => {
  const manifest = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean }> };

  it('declares the Node.js range the README states', () => {
    expect(manifest.engines.node).toBe('>=20.19');
  });

  it('installs no package whose engines exclude the oldest supported Node.js', () => {
    const oldest = semver.minVersion(manifest.engines.node)!.version;
    const excluded = Object.entries(lock.packages).flatMap(([name, entry]) => {
      const range = !Array.isArray(entry.engines) ? entry.engines?.node : undefined;
      return name && range && !semver.satisfies(oldest, range, { includePrerelease: true }) ? [`${name} (${range})`] : [];
    });
    expect(excluded).toEqual([]);
  });
});
