/**
 * Checks that the bench's direct inserts leave the same state as the API would: for each status, one
 * product gets its passport through the HTTP API (PATCH passport, PATCH environmental data, publish) and a
 * twin product gets the same values through `writePassports`; their GET responses, list rows, stored
 * records and publication snapshots must agree (ids and timestamps aside).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Kysely } from 'kysely';
import type { Dialect } from '../../src/db/dialect.js';
import type { Schema } from '../../src/db/schema.js';
import { ENVIRONMENTAL_FIELDS, PASSPORT_FIELDS } from '../../src/features/passports/record.js';
import { passportValues, type Status } from './catalog.js';
import { addCounters, emptyCounters, writePassports } from './seed.js';

const IDENTITY = ['product_id', 'ean', 'dpp_id', 'updated_at', 'published_at', 'passport_created_at', 'title'];
/**
 * What publishing through the API adds beyond the passport itself and direct seeding does not write:
 * the EU registry entry (GET's registry_status) and the signed credential with its content hash and
 * status-list slot. Seeding a million signatures would measure signing, not the reads benchmarked.
 */
const PUBLISH_ONLY_GET = ['registry_status'];
const PUBLISH_ONLY_PUBLICATION = ['content_hash', 'credential', 'credential_kid', 'status_list', 'status_index'];

function without(o: Record<string, unknown> | undefined, keys: string[]) {
  const c: Record<string, unknown> = { ...(o ?? {}) };
  for (const k of keys) delete c[k];
  return c;
}

function diff(a: Record<string, unknown>, b: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !isDeepStrictEqual(a[k], b[k]));
  return keys.map((k) => `${k}: api=${JSON.stringify(a[k])} direct=${JSON.stringify(b[k])}`).join('; ');
}

export async function twinCheck(db: Kysely<Schema>, dialect: Dialect, orgId: string, baseUrl: string, key: string): Promise<{ ok: boolean; lines: string[] }> {
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`${method} ${path} answered ${r.status}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const candidates = await db
    .selectFrom('products')
    .select(['id', 'title', 'ean', 'brand', 'category'])
    .where('org_id', '=', orgId)
    .where('has_dpp', '=', dialect === 'postgres' ? false : 0)
    .orderBy('id')
    .limit(6)
    .execute();
  const lines: string[] = [];
  let ok = true;
  const statuses: Status[] = ['draft', 'complete', 'published'];
  for (let i = 0; i < statuses.length; i++) {
    const status = statuses[i]!;
    const a = candidates[2 * i]!;
    const b = candidates[2 * i + 1]!;
    const values = passportValues(a.id, a.brand, a.category, a.title, status);
    const pick = (fields: readonly string[]) =>
      Object.fromEntries(fields.flatMap((f) => ((values as unknown as Record<string, unknown>)[f] === null ? [] : [[f, (values as unknown as Record<string, unknown>)[f]]])));
    await api('PATCH', `/api/v1/compliance/dpp/${a.id}`, pick(PASSPORT_FIELDS));
    await api('PATCH', `/api/v1/compliance/products/${a.id}/environmental`, pick(ENVIRONMENTAL_FIELDS));
    if (status === 'published') await api('POST', `/api/v1/compliance/dpp/${a.id}/publish`);

    const counters = emptyCounters();
    await writePassports(db, dialect, orgId, [{ product: b, values, status }], new Date().toISOString(), counters);
    await addCounters(db, orgId, counters);

    const problems: string[] = [];
    const [ga, gb] = [await api('GET', `/api/v1/compliance/dpp/${a.id}`), await api('GET', `/api/v1/compliance/dpp/${b.id}`)];
    const getOf = (g: Record<string, unknown>) => without(g, [...IDENTITY, ...PUBLISH_ONLY_GET]);
    if (!isDeepStrictEqual(getOf(ga), getOf(gb))) problems.push(`GET differs: ${diff(getOf(ga), getOf(gb))}`);
    const la = ((await api('GET', `/api/v1/compliance/dpp/products?search=${a.ean}`)).items as Array<Record<string, unknown>>)[0];
    const lb = ((await api('GET', `/api/v1/compliance/dpp/products?search=${b.ean}`)).items as Array<Record<string, unknown>>)[0];
    if (!isDeepStrictEqual(without(la, IDENTITY), without(lb, IDENTITY))) problems.push(`list row differs: ${diff(without(la, IDENTITY), without(lb, IDENTITY))}`);
    const rec = async (id: string) => {
      const r = (await db.selectFrom('compliance_records').selectAll().where('product_id', '=', id).executeTakeFirstOrThrow()) as Record<string, unknown>;
      return {
        ...without(r, IDENTITY),
        field_sources: JSON.parse(r.field_sources as string) as unknown,
        carbon_footprint_kg: r.carbon_footprint_kg === null ? null : Number(r.carbon_footprint_kg),
      };
    };
    const [ra, rb] = [await rec(a.id), await rec(b.id)];
    if (!isDeepStrictEqual(ra, rb)) problems.push(`stored record differs: ${diff(ra, rb)}`);
    const prod = (id: string) => db.selectFrom('products').select(['has_dpp', 'dpp_status']).where('id', '=', id).executeTakeFirstOrThrow();
    const [pa, pb] = [await prod(a.id), await prod(b.id)];
    if (!isDeepStrictEqual(pa, pb)) problems.push(`product columns differ: ${diff(pa, pb)}`);
    if (status === 'published') {
      const pub = async (id: string) => {
        const r = await db.selectFrom('passport_publications').selectAll().where('product_id', '=', id).executeTakeFirst();
        return r
          ? {
              ...without(r as Record<string, unknown>, [...IDENTITY, 'key_id', ...PUBLISH_ONLY_PUBLICATION]),
              snapshot: without(JSON.parse(r.snapshot) as Record<string, unknown>, IDENTITY),
            }
          : undefined;
      };
      const [pba, pbb] = [await pub(a.id), await pub(b.id)];
      if (!pba || !pbb || !isDeepStrictEqual(pba, pbb)) problems.push(`publication differs: ${pba && pbb ? diff(pba, pbb) : `api ${!!pba} direct ${!!pbb}`}`);
    }
    if (problems.length) ok = false;
    lines.push(
      `  ${status.padEnd(9)} api ${a.id} vs direct ${b.id}: ${problems.length ? 'DIFFERENT\n    ' + problems.join('\n    ') : `same (GET passport, list row, stored record, product columns${status === 'published' ? ', publication snapshot; signature and registry entry aside' : ''}; version ${ga.version})`}`,
    );
  }
  return { ok, lines };
}
