import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { FULL_PASSPORT, validEan } from '../helpers/fixtures.js';

/** Values no public answer may contain, whatever the route, format, profile or language. */
const LEGITIMATE = { dismantling_instructions: 'MARK-LI-DISMANTLE unscrew the 6 Torx T10 screws', spare_parts_sources: 'MARK-LI-PARTS part 88-12 from parts.example.test' };
const AUTHORITY = { conformity_test_results: 'MARK-AUTH-TESTS EN 60335-1 report 2026/117: pass' };
const MARKERS = ['MARK-LI-DISMANTLE', 'MARK-LI-PARTS', 'MARK-AUTH-TESTS'];

const ean = (n: number) => validEan('401234500', n);

describe.each(dialects)('access tiers and grants (%s)', (dialect) => {
  let t: TestApp;
  let admin: string;
  let writer: string;
  let otherAdmin: string;
  let productId: string;
  let gtinPath: string;

  const grant = async (key: string, payload: object) => t.call(key, { method: 'POST', url: '/api/v1/compliance/access-grants', payload });
  const inAWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();
  const pub = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  /** Every public representation of a passport URI: formats, profiles (read from the OpenAPI document), languages, old versions. */
  async function publicVariants(path: string): Promise<string[]> {
    const openapi = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const params = openapi.paths['/dpp/{product_id}'].get.parameters as Array<{ name: string; schema: { anyOf?: Array<{ const?: string; enum?: string[] }>; enum?: string[] } }>;
    const profileSchema = params.find((p) => p.name === 'profile')!.schema;
    const profiles = profileSchema.enum ?? profileSchema.anyOf!.flatMap((s) => s.enum ?? (s.const ? [s.const] : []));
    expect(profiles.length).toBeGreaterThanOrEqual(2);
    return [
      ...['en', 'fr', 'de'].map((lang) => `${path}?lang=${lang}`),
      `${path}?format=jsonld`,
      ...profiles.map((profile) => `${path}?format=jsonld&profile=${profile}`),
      `${path}?linkType=linkset`,
      `${path}?version=1`,
      `${path}?version=1&format=jsonld`,
      `${path}?at=${encodeURIComponent(new Date().toISOString())}&format=jsonld`,
    ];
  }

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.key('tiers-org', 'read,write,admin');
    writer = await t.key('tiers-org', 'read,write');
    otherAdmin = await t.key('tiers-other-org', 'read,write,admin');
    const created = await t.call(admin, { method: 'POST', url: '/api/v1/products', payload: { title: 'Tiered vacuum cleaner', ean: ean(201) } });
    productId = created.json().product_id;
    gtinPath = `/01/${created.json().gtin14}`;
    expect((await t.call(admin, { method: 'PATCH', url: `/api/v1/compliance/dpp/${productId}`, payload: { ...FULL_PASSPORT, ...LEGITIMATE, ...AUTHORITY } })).statusCode).toBe(200);
    expect((await t.call(admin, { method: 'POST', url: `/api/v1/compliance/dpp/${productId}/publish` })).statusCode).toBe(200);
  });
  afterAll(() => t.close());

  it('gives the owner every field through the API, restricted ones included', async () => {
    const passport = (await t.call(writer, { method: 'GET', url: `/api/v1/compliance/dpp/${productId}` })).json();
    expect(passport).toMatchObject({ ...LEGITIMATE, ...AUTHORITY, dpp_status: 'published' });
    const exported = (await t.call(writer, { method: 'GET', url: `/api/v1/compliance/dpp/${productId}/export` })).body;
    for (const marker of MARKERS) expect(exported).toContain(marker);
  });

  it('leaks no restricted field through any public route, format, profile or language', async () => {
    const urls = [...(await publicVariants(gtinPath)), ...(await publicVariants(`/dpp/${productId}`))];
    for (const url of urls) {
      const res = await pub(url, { accept: url.includes('format=') ? 'application/ld+json' : 'text/html' });
      expect(res.statusCode, url).toBe(200);
      for (const marker of MARKERS) expect(res.body, `${url} shows ${marker}`).not.toContain(marker);
      expect(res.body, url).not.toMatch(/dismantling|spare_parts|conformity_test|Restricted information/i);
      expect(res.headers['cache-control'], url).toContain('public');
      expect(String(res.headers.vary), url).toContain('Authorization');
    }
  });

  it('leaks no restricted field through any link the public linkset offers, signed credentials decoded', async () => {
    const linkset = (await pub(`${gtinPath}?linkType=linkset`)).json();
    const hrefs = new Set<string>();
    JSON.stringify(linkset, (k, v) => {
      if (k === 'href' && typeof v === 'string' && v.startsWith('https://dpp.example.test/')) hrefs.add(v);
      return v;
    });
    expect(hrefs.size).toBeGreaterThan(5);
    let signed = 0;
    for (const href of hrefs) {
      const url = href.slice('https://dpp.example.test'.length);
      const res = await pub(url);
      expect(res.statusCode, url).toBeLessThan(400);
      // A compact JWS (the signed credential) hides its payload in base64url: read it.
      const jws = /^[\w-]+\.[\w-]+\.[\w-]+$/.test(res.body.trim()) ? res.body.trim().split('.') : undefined;
      const text = jws ? `${Buffer.from(jws[0]!, 'base64url').toString()}${Buffer.from(jws[1]!, 'base64url').toString()}` : res.body;
      if (jws) signed++;
      for (const marker of MARKERS) expect(text, `${url} shows ${marker}`).not.toContain(marker);
    }
    expect(signed, 'the signed credential is among the links').toBeGreaterThan(0);
  });

  it('shows a legitimate-interest grant its tier and not the authority tier, in every format, uncached, and logs each read', async () => {
    const res = await grant(admin, { grantee: 'Repair Café Lyon', tier: 'legitimate_interest', expires_at: inAWeek(), purpose: 'repairs' });
    expect(res.statusCode).toBe(201);
    const { token, id } = res.json();
    expect(token).toMatch(/^dppg_/);
    const auth = { authorization: `Bearer ${token}` };

    const page = await pub(`${gtinPath}?lang=fr`, { ...auth, accept: 'text/html' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('MARK-LI-DISMANTLE');
    expect(page.body).toContain('Informations à accès restreint');
    expect(page.body).not.toContain('MARK-AUTH-TESTS');
    expect(page.headers['cache-control']).toBe('private, no-store');

    const jsonld = (await pub(`/dpp/${productId}?format=jsonld`, auth)).json();
    expect(jsonld).toMatchObject({ dismantlingInstructions: LEGITIMATE.dismantling_instructions, sparePartsSources: LEGITIMATE.spare_parts_sources });
    expect(jsonld).not.toHaveProperty('conformityTestResults');

    const events = (await t.call(admin, { method: 'GET', url: `/api/v1/audit-events?action=grant.use&target_id=${id}` })).json();
    expect(events.total).toBe(2);
    expect(events.items[0]).toMatchObject({ actor: 'grant', details: { grantee: 'Repair Café Lyon', tier: 'legitimate_interest', product_id: productId, published_version: 1 } });
    const listed = (await t.call(admin, { method: 'GET', url: '/api/v1/compliance/access-grants' })).json();
    expect(listed.items.find((g: { id: string }) => g.id === id)).toMatchObject({ active: true, last_used_at: expect.any(String) });
    expect(JSON.stringify(listed)).not.toMatch(/dppg_|token/);
  });

  it('shows an authority grant every field', async () => {
    const { token } = (await grant(admin, { grantee: 'Market surveillance DE-BY', tier: 'authority', expires_at: inAWeek() })).json();
    const jsonld = (await pub(`${gtinPath}?format=jsonld`, { authorization: `Bearer ${token}` })).json();
    expect(jsonld).toMatchObject({ dismantlingInstructions: LEGITIMATE.dismantling_instructions, conformityTestResults: AUTHORITY.conformity_test_results });
  });

  it("gives another organisation's grant the public view only, and logs nothing", async () => {
    const { token, id } = (await grant(otherAdmin, { grantee: 'Elsewhere', tier: 'authority', expires_at: inAWeek() })).json();
    const res = await pub(`/dpp/${productId}?format=jsonld`, { authorization: `Bearer ${token}` });
    expect(res.statusCode).toBe(200);
    for (const marker of MARKERS) expect(res.body).not.toContain(marker);
    expect(res.headers['cache-control']).toContain('public');
    const events = (await t.call(otherAdmin, { method: 'GET', url: `/api/v1/audit-events?action=grant.use&target_id=${id}` })).json();
    expect(events.total).toBe(0);
  });

  it('refuses a revoked, expired or malformed grant with 401, and leaves other Authorization headers public', async () => {
    const { token, id } = (await grant(admin, { grantee: 'Short-lived', tier: 'legitimate_interest', expires_at: inAWeek() })).json();
    expect((await pub(`/dpp/${productId}?format=jsonld`, { authorization: `Bearer ${token}` })).statusCode).toBe(200);
    const revoked = await t.call(admin, { method: 'DELETE', url: `/api/v1/compliance/access-grants/${id}` });
    expect(revoked.json()).toMatchObject({ id, active: false, revoked_at: expect.any(String) });
    // Revocation holds at once, and a second revoke answers the same grant.
    const after = await pub(`/dpp/${productId}?format=jsonld`, { authorization: `Bearer ${token}` });
    expect(after.statusCode).toBe(401);
    expect(after.headers['content-type']).toContain('application/problem+json');
    expect(after.headers['www-authenticate']).toContain('invalid_token');
    expect(after.body).not.toContain('MARK-');
    expect((await t.call(admin, { method: 'DELETE', url: `/api/v1/compliance/access-grants/${id}` })).json().revoked_at).toBe(revoked.json().revoked_at);

    const { token: expiring, id: expiringId } = (await grant(admin, { grantee: 'Expired', tier: 'authority', expires_at: inAWeek() })).json();
    await t.database.db.updateTable('access_grants').set({ expires_at: '2020-01-01T00:00:00.000Z' }).where('id', '=', expiringId).execute();
    expect((await pub(`${gtinPath}?format=jsonld`, { authorization: `Bearer ${expiring}` })).statusCode).toBe(401);

    expect((await pub(`${gtinPath}?format=jsonld`, { authorization: 'Bearer dppg_short' })).statusCode).toBe(401);
    const withApiKey = await pub(`${gtinPath}?format=jsonld`, { authorization: `Bearer ${admin}` });
    expect(withApiKey.statusCode).toBe(200);
    for (const marker of MARKERS) expect(withApiKey.body).not.toContain(marker);
  });

  it('lets only admin keys manage grants, validates them, and keeps organisations apart', async () => {
    expect((await grant(writer, { grantee: 'X', tier: 'authority', expires_at: inAWeek() })).statusCode).toBe(403);
    expect((await t.call(writer, { method: 'GET', url: '/api/v1/compliance/access-grants' })).statusCode).toBe(403);

    const badTier = await grant(admin, { grantee: 'X', tier: 'public', expires_at: inAWeek() });
    expect(badTier.statusCode).toBe(400);
    expect(JSON.stringify(badTier.json().errors)).toContain('tier');
    for (const expires_at of ['2020-01-01T00:00:00Z', new Date(Date.now() + 400 * 86_400_000).toISOString()]) {
      const res = await grant(admin, { grantee: 'X', tier: 'authority', expires_at });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors[0]).toMatchObject({ field: 'body/expires_at', rule: 'range' });
    }

    const { id } = (await grant(admin, { grantee: 'Mine', tier: 'authority', expires_at: inAWeek() })).json();
    const foreign = await t.call(otherAdmin, { method: 'DELETE', url: `/api/v1/compliance/access-grants/${id}` });
    expect(foreign.statusCode).toBe(404);
    const unknown = await t.call(otherAdmin, { method: 'DELETE', url: '/api/v1/compliance/access-grants/01900000-0000-7000-8000-000000000000' });
    expect(foreign.json().detail.replace(id, '?')).toBe(unknown.json().detail.replace('01900000-0000-7000-8000-000000000000', '?'));
    const theirs = (await t.call(otherAdmin, { method: 'GET', url: '/api/v1/compliance/access-grants' })).json();
    expect(theirs.items.map((g: { id: string }) => g.id)).not.toContain(id);
    const created = (await t.call(admin, { method: 'GET', url: `/api/v1/audit-events?action=grant.create&target_id=${id}` })).json();
    expect(created.items[0].details).toMatchObject({ grantee: 'Mine', tier: 'authority' });
  });
});

describe.each(dialects)('a passport as it was on a date (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    key = await t.key('at-org');
  });
  afterAll(() => t.close());

  it('answers ?at= with the version live at that instant, 404 before the first, and refuses at with version', async () => {
    const id = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Dated kettle', ean: ean(301) } })).json().product_id;
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: { ...FULL_PASSPORT, manufacturer: 'First Maker' } });
    const before = new Date(Date.now() - 1000).toISOString();
    const v1 = (await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` })).json();
    await new Promise((r) => setTimeout(r, 20));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: { manufacturer: 'Second Maker' } });
    expect((await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` })).json().published_version).toBe(2);

    const at = (instant: string) => t.app.inject({ method: 'GET', url: `/dpp/${id}?format=jsonld&at=${encodeURIComponent(instant)}` });
    expect((await at(between)).json().manufacturer).toBe('First Maker');
    expect((await at(new Date().toISOString())).json().manufacturer).toBe('Second Maker');
    expect(v1.published_version).toBe(1);
    const tooEarly = await at(before);
    expect(tooEarly.statusCode).toBe(404);
    expect(tooEarly.headers['content-type']).toContain('application/problem+json');

    const both = await t.app.inject({ method: 'GET', url: `/dpp/${id}?format=jsonld&version=1&at=${encodeURIComponent(between)}` });
    expect(both.statusCode).toBe(400);
    expect(both.json().errors[0]).toMatchObject({ field: 'querystring/at', rule: 'exclusive' });
    const notADate = await t.app.inject({ method: 'GET', url: `/dpp/${id}?format=jsonld&at=yesterday` });
    expect(notADate.statusCode).toBe(400);
    expect(JSON.stringify(notADate.json().errors)).toContain('at');
  });
});
