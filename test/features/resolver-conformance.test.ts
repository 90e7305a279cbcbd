import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { FULL_PASSPORT } from '../helpers/fixtures.js';

const require = createRequire(import.meta.url);
// GS1's linkset schema (RFC 9264 as GS1 profiles it), as GS1's resolver test suite validates linksets.
const linksetSchema = require('../helpers/gs1-linkset-schema.json') as object;
const validateLinkset = new Ajv({ strict: false, allErrors: true }).compile(linksetSchema);
const { Utils } = require('digital-link.js') as { Utils: { compressWebUri(uri: string): string } };

const BASE = 'https://dpp.example.test';
const GTIN = '04012345000108';
const DL = `${BASE}/01/${GTIN}`;

/**
 * The criteria of GS1's resolver standard (1.2.0) and of its public test suite (GS1DL-resolver-testsuite),
 * one test each; the README's "Resolver conformance" table lists them with what we answer.
 */
describe.each(dialects)('GS1 Digital Link resolver conformance (%s)', (dialect) => {
  let t: TestApp;
  let productId: string;
  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  beforeAll(async () => {
    t = await createTestApp(dialect, { PUBLIC_BASE_URL: BASE });
    const key = await t.key('resolver-org');
    productId = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Résolveur kettle', ean: GTIN } })).json().product_id;
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${productId}`, payload: { ...FULL_PASSPORT, product_name: 'Kettle v1' } });
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${productId}/publish` });
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${productId}`, payload: { product_name: 'Kettle v2' } });
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${productId}/publish` });
  });
  afterAll(() => t.close());

  it('CORS on the resolution itself: Access-Control-Allow-Origin * and methods GET, HEAD, OPTIONS', async () => {
    const res = await get(`/01/${GTIN}`, { origin: 'https://scanner.example' });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(String(res.headers['access-control-allow-methods']).split(/,\s*/)).toEqual(expect.arrayContaining(['GET', 'HEAD', 'OPTIONS']));
    expect(String(res.headers['access-control-expose-headers'])).toContain('Link');
  });

  it('answers OPTIONS (204, Allow, CORS) and HEAD (same status, no body)', async () => {
    const options = await t.app.inject({ method: 'OPTIONS', url: `/01/${GTIN}/10/LOT1` });
    expect(options.statusCode).toBe(204);
    expect(options.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect(options.headers['access-control-allow-origin']).toBe('*');
    const head = await t.app.inject({ method: 'HEAD', url: `/01/${GTIN}` });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
  });

  it('default (no linkType): the passport page is served in place, with a Link to the linkset and Vary', async () => {
    const res = await get(`/01/${GTIN}`, { accept: 'text/html' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('Kettle v2');
    expect(res.headers.link).toContain(`<${DL}?linkType=linkset>; rel="linkset"; type="application/linkset+json"`);
    expect(String(res.headers.vary)).toMatch(/Accept,\s*Accept-Language/);
  });

  it('linkType=linkset, linkType=all and Accept: application/linkset+json answer the linkset (200, exact media type)', async () => {
    for (const [url, headers] of [
      [`/01/${GTIN}?linkType=linkset`, {}],
      [`/01/${GTIN}?linkType=all`, { accept: 'application/linkset+json' }],
      [`/01/${GTIN}`, { accept: 'application/linkset+json' }],
    ] as const) {
      const res = await get(url, headers);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('application/linkset+json');
      expect(res.json().linkset[0].anchor).toBe(DL);
    }
  });

  it("the linkset validates against GS1's linkset schema; every link has a title; one default link with a title only", async () => {
    const linkset = (await get(`/01/${GTIN}?linkType=linkset`)).json();
    expect(validateLinkset(linkset), JSON.stringify(validateLinkset.errors)).toBe(true);
    const entry = linkset.linkset[0];
    expect(entry.itemDescription).toBe('Kettle v2');
    const links = Object.entries(entry)
      .filter(([k]) => k !== 'anchor' && k !== 'itemDescription')
      .flatMap(([, v]) => v as Array<Record<string, unknown>>);
    for (const link of links) expect(typeof link.title === 'string' && link.title.length > 0, JSON.stringify(link)).toBe(true);
    const defaults = entry['https://ref.gs1.org/voc/defaultLink'];
    expect(defaults).toHaveLength(1);
    expect(Object.keys(defaults[0]).sort()).toEqual(['href', 'title']);
    expect(defaults[0].href).toBe(DL);
  });

  it('the linkset lists older published versions and the UNTP credential, and each resolves', async () => {
    const entry = (await get(`/01/${GTIN}?linkType=linkset`)).json().linkset[0];
    expect(entry['predecessor-version']).toEqual([expect.objectContaining({ href: `${DL}?version=1`, title: expect.stringContaining('version 1') })]);
    const untp = entry['https://test.uncefact.org/vocabulary/linkTypes/dpp'][0];
    expect(untp).toMatchObject({ href: `${DL}?format=jsonld&profile=untp`, type: 'application/ld+json' });
    const v1 = await get(`/01/${GTIN}?version=1`, { accept: 'application/ld+json' });
    expect(v1.statusCode).toBe(200);
    expect(JSON.stringify(v1.json())).toContain('Kettle v1');
    expect((await get(`/01/${GTIN}?version=3`, { accept: 'application/ld+json' })).statusCode).toBe(404);
    const credential = await get(`/01/${GTIN}?format=jsonld&profile=untp`);
    expect(credential.json().type).toContain('DigitalProductPassport');
  });

  it("linkType=gs1:pip redirects (307) to that link, in the visitor's language, passing the query string on", async () => {
    const res = await get(`/01/${GTIN}?linkType=gs1:pip&foo=bar`, { 'accept-language': 'fr-FR,fr;q=0.9' });
    expect(res.statusCode).toBe(307);
    expect(res.headers.location).toBe(`${DL}?lang=fr&foo=bar`);
    // The full vocabulary URI, on either GS1 host, names the same type.
    expect((await get(`/01/${GTIN}?linkType=${encodeURIComponent('https://gs1.org/voc/pip')}`)).statusCode).toBe(307);
  });

  it("a redirect keeps the link's own parameters and never carries linkType on (no loop, however it is spelled)", async () => {
    // ?lang= outranks Accept-Language, and appears once.
    const de = await get(`/01/${GTIN}?linkType=gs1:pip&lang=de&utm_source=label`, { 'accept-language': 'fr' });
    expect(de.headers.location).toBe(`${DL}?lang=de&utm_source=label`);
    const encoded = await get(`/01/${GTIN}?link%54ype=gs1:pip`, { 'accept-language': 'en' });
    expect(encoded.statusCode).toBe(307);
    expect(encoded.headers.location).toBe(`${DL}?lang=en`);
    const next = await get(new URL(encoded.headers.location as string).pathname + new URL(encoded.headers.location as string).search);
    expect(next.statusCode).toBe(200);
    const jsonld = await get(`/01/${GTIN}?linkType=gs1:dpp&format=html`, { accept: 'application/ld+json' });
    expect(jsonld.headers.location).toBe(`${DL}?format=jsonld`);
  });

  it('linkType=gs1:dpp picks the link matching Accept (JSON-LD or the page); untp:dpp the credential', async () => {
    const jsonld = await get(`/01/${GTIN}?linkType=gs1:dpp`, { accept: 'application/ld+json' });
    expect(jsonld.headers.location).toBe(`${DL}?format=jsonld`);
    const page = await get(`/01/${GTIN}?linkType=gs1:dpp`, { accept: 'text/html', 'accept-language': 'de' });
    expect(page.headers.location).toBe(`${DL}?lang=de`);
    expect((await get(`/01/${GTIN}?linkType=untp:dpp`)).headers.location).toBe(`${DL}?format=jsonld&profile=untp`);
  });

  it('an unknown linkType is 404 (problem+json naming what is offered); a malformed one is 400', async () => {
    const res = await get(`/01/${GTIN}?linkType=gs1:nosuchlt`);
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().detail).toContain('https://ref.gs1.org/voc/pip');
    expect((await get(`/01/${GTIN}?linkType=${encodeURIComponent('not a type')}`)).statusCode).toBe(400);
  });

  it('key qualifiers in order resolve (to the model passport), with the request as first anchor', async () => {
    for (const path of ['/22/V1', '/10/LOT-1', '/21/SN%2F42', '/10/L1/21/S1', '/22/V/10/L/21/S', '/235/TPX-1']) {
      const res = await get(`/01/${GTIN}${path}`, { accept: 'application/linkset+json' });
      expect(res.statusCode, path).toBe(200);
      const linkset = res.json();
      expect(validateLinkset(linkset), JSON.stringify(validateLinkset.errors)).toBe(true);
      expect(linkset.linkset.map((e: { anchor: string }) => e.anchor)).toEqual([`${DL}${path}`, DL]);
    }
  });

  it('syntax errors are 400, never 200 or 404: odd segments, unknown AI, order, exclusivity, characters, check digit', async () => {
    for (const path of [
      `/01/${GTIN}/foo`,
      `/01/${GTIN}/99/x`,
      `/01/${GTIN}/21/S/10/L`,
      `/01/${GTIN}/10/L/22/V`,
      `/01/${GTIN}/10/A/10/B`,
      `/01/${GTIN}/235/T/21/S`,
      `/01/${GTIN}/10/a%20b`,
      `/01/${GTIN}/10/${'x'.repeat(21)}`,
      '/01/04012345000109',
      '/235/TPX-1',
      '/21/S1',
    ]) {
      const res = await get(path, { accept: 'application/ld+json' });
      expect(res.statusCode, path).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('a valid key this resolver does not serve, or an unknown GTIN, is 404', async () => {
    expect((await get('/414/4012345000115', { accept: 'application/ld+json' })).statusCode).toBe(404);
    expect((await get('/01/09520123456788', { accept: 'application/ld+json' })).statusCode).toBe(404);
  });

  it('a trailing slash gives the same answer', async () => {
    for (const path of [`/01/${GTIN}`, `/01/${GTIN}/10/L1`]) {
      const a = await get(`${path}?linkType=gs1:pip`);
      const b = await get(`${path}/?linkType=gs1:pip`);
      expect(b.statusCode).toBe(a.statusCode);
      expect(b.headers.location).toBe(a.headers.location);
    }
  });

  it('a compressed Digital Link resolves like its uncompressed form, announcing it as owl:sameAs', async () => {
    const full = `${DL}/10/ABC/21/12345`;
    const compressed = new URL(Utils.compressWebUri(full)).pathname;
    expect(compressed).not.toContain('/01/');
    const res = await get(`${compressed}?linkType=gs1:pip`);
    const plain = await get(`/01/${GTIN}/10/ABC/21/12345?linkType=gs1:pip`);
    expect(res.statusCode).toBe(307);
    expect(res.headers.location).toBe(plain.headers.location);
    expect(res.headers.link).toContain(`<${full}>; rel="owl:sameAs"`);
    expect((await get('/NotACompressedLink', { accept: 'application/ld+json' })).statusCode).toBe(404);
    // Data attributes carried in a compressed link (here AI 17, an expiry date) are not part of the identity.
    const withData = new URL(Utils.compressWebUri(`${DL}/10/ABC?17=201231`)).pathname;
    const resolved = await get(withData, { accept: 'application/linkset+json' });
    expect(resolved.statusCode).toBe(200);
    expect(resolved.json().linkset[0].anchor).toBe(`${DL}/10/ABC`);
  });

  it('content negotiation honours q-values (a real parser, not substring matching)', async () => {
    const html = await get(`/01/${GTIN}`, { accept: 'text/html;q=1, application/linkset+json;q=0.1' });
    expect(html.headers['content-type']).toContain('text/html');
    const linkset = await get(`/01/${GTIN}`, { accept: 'text/html;q=0.1, application/linkset+json' });
    expect(linkset.headers['content-type']).toBe('application/linkset+json');
    const jsonld = await get(`/01/${GTIN}`, { accept: 'application/ld+json, text/html;q=0.5' });
    expect(jsonld.headers['content-type']).toContain('application/ld+json');
    const none = await get(`/01/${GTIN}`, { accept: 'text/html;q=0' });
    expect(none.statusCode).toBe(200);
  });

  it('answers JSON-LD to a client that names a JSON-LD profile, and a problem (not the HTML page) when there is nothing', async () => {
    const accept = 'application/ld+json; profile="https://test.uncefact.org/vocabulary/untp/dpp/0.6.0/"';
    const found = await get(`/01/${GTIN}`, { accept });
    expect(found.statusCode).toBe(200);
    expect(found.headers['content-type']).toContain('application/ld+json');
    const missing = await get('/01/04012345999990', { accept });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it("never shows a withdrawn version, nor lists it; a GTIN withdrawn by its first publisher stays that organisation's", async () => {
    const key = await t.key('resolver-withdraw-org');
    const gtin = '04012345000122';
    const id = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Withdrawn once', ean: gtin } })).json().product_id;
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: { ...FULL_PASSPORT, product_name: 'First' } });
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` });
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/withdraw` });

    const other = await t.key('resolver-taker-org');
    const theirs = (await t.call(other, { method: 'POST', url: '/api/v1/products', payload: { title: 'Taker', ean: gtin } })).json().product_id;
    await t.call(other, { method: 'PATCH', url: `/api/v1/compliance/dpp/${theirs}`, payload: FULL_PASSPORT });
    expect((await t.call(other, { method: 'POST', url: `/api/v1/compliance/dpp/${theirs}/publish` })).statusCode).toBe(409);

    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: { product_name: 'Second' } });
    expect((await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` })).statusCode).toBe(200);
    expect((await get(`/01/${gtin}?version=1`, { accept: 'application/ld+json' })).statusCode).toBe(404);
    const entry = (await get(`/01/${gtin}?linkType=linkset`)).json().linkset[0];
    expect(entry['predecessor-version']).toBeUndefined();
    expect(JSON.stringify((await get(`/01/${gtin}`, { accept: 'application/ld+json' })).json())).toContain('Second');
  });

  it('answers unknown routes with the request id too', async () => {
    const res = await get('/no/such/route', { 'x-request-id': 'trace-404' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-request-id']).toBe('trace-404');
  });

  it('publishes /.well-known/gs1resolver with the required fields', async () => {
    const res = await get('/.well-known/gs1resolver');
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.json()).toMatchObject({
      resolverRoot: BASE,
      supportedPrimaryKeys: ['01'],
      supportedLinkType: expect.arrayContaining([{ namespace: 'https://ref.gs1.org/voc/', prefix: 'gs1:' }]),
    });
  });

  it('a passport without a valid GTIN resolves at /dpp/{id} in the same way', async () => {
    const res = await get(`/dpp/${productId}?linkType=linkset`);
    // This product has a GTIN: its links are about its Digital Link, the one URI of its passport.
    expect(res.json().linkset[0].anchor).toBe(DL);
    const options = await t.app.inject({ method: 'OPTIONS', url: `/dpp/${productId}` });
    expect(options.statusCode).toBe(204);
  });
});
