import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { decodeQr, FULL_PASSPORT } from '../helpers/fixtures.js';
import { renderQr } from '../../src/features/export/qr.js';
import { QrRenderPool } from '../../src/features/export/qr-pool.js';

describe.each(dialects)('QR code, resolver and public page (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  const base = 'https://dpp.example.test';

  const create = async (title: string, ean?: string) =>
    (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title, ...(ean ? { ean } : {}) } })).json().product_id as string;
  const fill = (id: string, payload: object = FULL_PASSPORT) => t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload });
  const publish = (id: string) => t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` });
  const qr = (id: string, query = '') => t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/qr${query}` });
  const open = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  beforeAll(async () => {
    t = await createTestApp(dialect, { PUBLIC_BASE_URL: base });
    key = await t.key('carrier-org');
  });
  afterAll(() => t.close());

  it('encodes a GS1 Digital Link for a valid GTIN, decodable by a real decoder', async () => {
    const id = await create('Kettle', '9520123456788');
    const res = await qr(id, '?preview=true');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(decodeQr(res.rawPayload)).toBe(`${base}/01/09520123456788`);
  });

  it('falls back to /dpp/{id} for a product without a valid GTIN (wrong check digit or none)', async () => {
    const flagged = await create('Produit exemple', '3760000000001');
    expect(decodeQr((await qr(flagged, '?preview=true')).rawPayload)).toBe(`${base}/dpp/${flagged}`);
    const none = await create('No code');
    expect(decodeQr((await qr(none, '?preview=true')).rawPayload)).toBe(`${base}/dpp/${none}`);
  });

  it('honours size, margin, error correction and SVG, with an ETag and cheap repeats', async () => {
    const id = await create('Sized', '4006381333931');
    const big = await qr(id, '?size=600&margin=2&ecc=H&preview=true');
    const image = PNG.sync.read(big.rawPayload);
    expect(image.width).toBe(600);
    expect(decodeQr(big.rawPayload)).toBe(`${base}/01/04006381333931`);
    const svg = await qr(id, '?format=svg&preview=true');
    expect(svg.headers['content-type']).toContain('image/svg+xml');
    expect(svg.body).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const etag = big.headers.etag as string;
    const again = await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/qr?size=600&margin=2&ecc=H&preview=true`, headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect((await qr(id, '?size=5000')).statusCode).toBe(400);
    expect((await qr(id, '?ecc=X')).statusCode).toBe(400);
  });

  it('refuses a code for a passport that is not published (409), unless a preview is asked for', async () => {
    const id = await create('Unpublished', '4012345000009');
    const refused = await qr(id);
    expect(refused.statusCode).toBe(409);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json()).toMatchObject({ code: 'not_published', product_id: id });
    expect(refused.json().detail).toContain('?preview=true');
    const preview = await qr(id, '?preview=true');
    expect(preview.statusCode).toBe(200);
    expect(preview.headers['x-dpp-preview']).toBe('true');
    await fill(id);
    await publish(id);
    const live = await qr(id);
    expect(live.statusCode).toBe(200);
    expect(live.headers['x-dpp-preview']).toBeUndefined();
    expect(decodeQr(live.rawPayload)).toBe(`${base}/01/04012345000009`);
    // Withdrawn: the code would open a "not found" page again.
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/withdraw` });
    expect((await qr(id)).json().code).toBe('not_published');
  });

  it("refuses a code whose GTIN resolves to another organisation's published passport, preview or not", async () => {
    const theirKey = await t.key('carrier-first-publisher');
    const theirs = (await t.call(theirKey, { method: 'POST', url: '/api/v1/products', payload: { title: 'Original', ean: '4012345000016' } })).json().product_id;
    await t.call(theirKey, { method: 'PATCH', url: `/api/v1/compliance/dpp/${theirs}`, payload: FULL_PASSPORT });
    expect((await t.call(theirKey, { method: 'POST', url: `/api/v1/compliance/dpp/${theirs}/publish` })).statusCode).toBe(200);
    const mine = await create('Look-alike', '4012345000016');
    for (const query of ['', '?preview=true']) {
      const res = await qr(mine, query);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'carrier_taken', gtin14: '04012345000016', errors: [{ field: '/ean' }] });
    }
    expect((await t.call(theirKey, { method: 'GET', url: `/api/v1/compliance/dpp/${theirs}/qr` })).statusCode).toBe(200);
  });

  it('shows only published passports: drafts and withdrawn ones are a 404 page', async () => {
    const id = await create('Draft only', '5901234123457');
    await fill(id);
    const draft = await open('/01/05901234123457', { accept: 'text/html' });
    expect(draft.statusCode).toBe(404);
    expect(draft.headers['content-type']).toContain('text/html');
    expect(draft.body).not.toContain('Ma Marque');
    await publish(id);
    expect((await open('/01/05901234123457', { accept: 'text/html' })).statusCode).toBe(200);
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/withdraw` });
    expect((await open('/01/05901234123457', { accept: 'text/html' })).statusCode).toBe(404);
    expect((await open(`/dpp/${id}`, { accept: 'application/ld+json' })).statusCode).toBe(404);
  });

  it('refuses a GTIN with a wrong check digit or length with 400', async () => {
    expect((await open('/01/03760000000001', { accept: 'text/html' })).statusCode).toBe(400);
    const json = await open('/01/123', { accept: 'application/ld+json' });
    expect(json.statusCode).toBe(400);
    expect(json.json().errors[0].field).toBe('params/gtin');
  });

  it('renders the page in the visitor language, escaped, under a strict CSP', async () => {
    const id = await create('Bouilloire <b>inox</b>', '96385074');
    await fill(id);
    await publish(id);
    const fr = await open('/01/00000096385074', { accept: 'text/html', 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.5' });
    expect(fr.statusCode).toBe(200);
    expect(fr.body).toContain('<html lang="fr">');
    expect(fr.body).toContain('Empreinte carbone');
    expect(fr.body).toContain('2,5');
    expect(fr.body).toContain('France');
    expect(fr.body).toContain('Ma Marque &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(fr.body).not.toContain('<script>');
    expect(fr.body).toContain('Bouilloire &lt;b&gt;inox&lt;/b&gt;');
    expect(fr.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(fr.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(fr.headers.vary).toContain('Accept');
    const de = await open('/01/00000096385074?lang=de', { accept: 'text/html', 'accept-language': 'fr' });
    expect(de.body).toContain('CO₂-Fußabdruck');
    expect(de.body).toContain('Frankreich');
    const en = await open('/01/00000096385074', { accept: 'text/html' });
    expect(en.body).toContain('Carbon footprint');
    // Serial numbers and lots resolve to the same passport.
    expect((await open('/01/00000096385074/21/SN12345', { accept: 'text/html' })).statusCode).toBe(200);
    expect((await open('/01/00000096385074/10/LOT7', { accept: 'text/html' })).statusCode).toBe(200);
  });

  it('answers JSON-LD and an RFC 9264 linkset to machines', async () => {
    const id = await create('Linked', '036000291452');
    await fill(id);
    await publish(id);
    const ld = await open('/01/00036000291452', { accept: 'application/ld+json' });
    expect(ld.headers['content-type']).toContain('application/ld+json');
    expect(ld.json()).toMatchObject({ '@type': 'ProductPassport', productId: id, gtin: '00036000291452', carbonFootprint: 2.5 });
    const linkset = await open('/01/00036000291452?linkType=linkset');
    expect(linkset.headers['content-type']).toContain('application/linkset+json');
    const entry = linkset.json().linkset[0];
    expect(entry.anchor).toBe(`${base}/01/00036000291452`);
    for (const rel of ['dpp', 'pip', 'sustainabilityInfo', 'certificationInfo']) {
      expect(entry[`https://ref.gs1.org/voc/${rel}`].length).toBeGreaterThan(0);
    }
    expect((await open('/01/00036000291452', { accept: 'application/linkset+json' })).statusCode).toBe(200);
  });

  it('lets only one organisation publish a GTIN, so nobody can take over printed QR codes', async () => {
    const id = await create('Original', '0012345678905');
    await fill(id);
    expect((await publish(id)).statusCode).toBe(200);
    const intruder = await t.key('intruder-org');
    const other = (await t.call(intruder, { method: 'POST', url: '/api/v1/products', payload: { title: 'Impostor', ean: '0012345678905' } })).json().product_id;
    await t.call(intruder, { method: 'PATCH', url: `/api/v1/compliance/dpp/${other}`, payload: { ...FULL_PASSPORT, product_name: 'Impostor' } });
    const refused = await t.call(intruder, { method: 'POST', url: `/api/v1/compliance/dpp/${other}/publish` });
    expect(refused.statusCode).toBe(409);
    const resolved = await open('/01/00012345678905', { accept: 'application/ld+json' });
    expect(resolved.json().productId).toBe(id);
  });

  it('serves the JSON-LD contexts it references', async () => {
    const res = await open('/contexts/dpp/v1.jsonld');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/ld+json');
    expect(res.json()['@context']).toBeDefined();
    expect((await open('/contexts/untp-extension/v1.jsonld')).statusCode).toBe(200);
  });
});

describe.each(dialects)('QR PNG rendering off the event loop (%s)', (dialect) => {
  const base = 'https://dpp.example.test';
  const apps: TestApp[] = [];
  afterAll(() => Promise.all(apps.map((a) => a.close())));

  /** An app with its own settings, a key and one product with a valid GTIN; `qr(query)` asks for its code. */
  async function setup(env: Record<string, string>, qrPool?: QrRenderPool) {
    const t = await createTestApp(dialect, { PUBLIC_BASE_URL: base, ...env }, qrPool ? { qrPool } : {});
    apps.push(t);
    const key = await t.key('qr-pool-org');
    const id = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Pooled', ean: '9520123456788' } })).json().product_id as string;
    const qr = (query: string) => t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/qr?preview=true&${query}` });
    return { t, qr, uri: `${base}/01/09520123456788` };
  }

  it('renders many simultaneous uncached PNG codes in the workers, every one decodable', async () => {
    const { qr, uri } = await setup({ QR_WORKERS: '2' });
    const sizes = Array.from({ length: 24 }, (_, i) => 100 + i * 7);
    const answers = await Promise.all(sizes.map((size) => qr(`size=${size}`)));
    for (const [i, res] of answers.entries()) {
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('image/png');
      expect(decodeQr(res.rawPayload)).toBe(uri);
      // The very bytes the library renders inline.
      expect(res.rawPayload.equals((await renderQr(uri, { format: 'png', size: sizes[i]!, margin: 4, ecc: 'M' })) as Buffer)).toBe(true);
    }
    // Simultaneous requests for the same uncached code are rendered once, and all answered.
    const same = await Promise.all(Array.from({ length: 8 }, () => qr('size=420')));
    expect(new Set(same.map((r) => r.statusCode))).toEqual(new Set([200]));
    expect(new Set(same.map((r) => r.rawPayload.toString('base64'))).size).toBe(1);
  });

  it('refuses renders beyond the queue bound with 503 problem+json and Retry-After, and serves the rest', async () => {
    const { qr, uri } = await setup({ QR_WORKERS: '1', QR_QUEUE: '2' });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => qr(`size=${900 + i}`)));
    const ok = answers.filter((r) => r.statusCode === 200);
    const busy = answers.filter((r) => r.statusCode === 503);
    expect(ok.length + busy.length).toBe(answers.length);
    expect(ok.length).toBeGreaterThanOrEqual(3); // one rendering, two queued
    expect(busy.length).toBeGreaterThan(0);
    for (const res of ok) expect(decodeQr(res.rawPayload)).toBe(uri);
    for (const res of busy) {
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({ status: 503, code: 'busy' });
    }
    // Once the queue has drained, the refused codes render.
    expect((await qr(`size=${900 + answers.indexOf(busy[0]!)}`)).statusCode).toBe(200);
    // SVG stays inline: never queued behind PNGs.
    expect((await qr('format=svg')).statusCode).toBe(200);
  });

  it('fails a render cleanly when its worker crashes or hangs, and the next one succeeds on a new worker', async () => {
    const pool = new QrRenderPool({ size: 1, timeoutMs: 1500, workerModule: { url: new URL('../helpers/qr-test-worker.ts', import.meta.url).href, name: 'qr-test-worker' } });
    const { qr, uri } = await setup({}, pool);
    expect(decodeQr((await qr('size=200')).rawPayload)).toBe(uri);
    // margin=12: the worker exits; 13: it throws out of its event loop; 14: it never answers (timeout).
    for (const margin of [12, 13, 14]) {
      const failed = await qr(`size=200&margin=${margin}`);
      expect(failed.statusCode).toBe(503);
      expect(failed.headers['content-type']).toContain('application/problem+json');
      expect(failed.json()).toMatchObject({ status: 503, code: 'unavailable' });
      const next = await qr(`size=${210 + margin}`);
      expect(next.statusCode).toBe(200);
      expect(decodeQr(next.rawPayload)).toBe(uri);
    }
    expect(pool.stats()).toMatchObject({ workers: 1, busy: 0, queued: 0, started: 4, retired: 3 });
  });

  it('renders inline with QR_WORKERS=0 (the old behaviour), and closes its pool with the app', async () => {
    const { qr, uri } = await setup({ QR_WORKERS: '0' });
    expect(decodeQr((await qr('size=256')).rawPayload)).toBe(uri);
    const pool = new QrRenderPool({ size: 1 });
    const { t, qr: pooled } = await setup({}, pool);
    expect((await pooled('size=256')).statusCode).toBe(200);
    expect(pool.stats().workers).toBe(1);
    await t.close();
    apps.splice(apps.indexOf(t), 1);
    expect(pool.stats().workers).toBe(0);
    await expect(pool.render(uri, { format: 'png', size: 100, margin: 4, ecc: 'M' })).rejects.toMatchObject({ reason: 'closed' });
  });
});
