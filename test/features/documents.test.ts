import fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { CORPUS, multipartBody } from '../helpers/fixtures.js';

const corpus = (name: string) => fs.readFileSync(new URL(name, CORPUS));
const PNG_1PX = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

describe.each(dialects)('documents (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  let productId: string;

  const upload = (file: { name: string; bytes: Buffer; type?: string }, fields: Record<string, string> = {}, id = productId, k = key) => {
    const body = multipartBody(file, fields);
    return t.call(k, { method: 'POST', url: `/api/v1/products/${id}/documents`, ...body });
  };

  beforeAll(async () => {
    t = await createTestApp(dialect, { DOCUMENT_LIMIT_BYTES: String(2 * 1024 * 1024) });
    key = await t.key('docs-org');
    productId = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Raspberry Pi Pico' } })).json().product_id;
  });
  afterAll(() => t.close());

  it('stores a real PDF and answers its metadata, listing and bytes', async () => {
    const bytes = corpus('raspberrypi_pico_eu-doc.pdf');
    const res = await upload({ name: 'Pico DoC.pdf', bytes }, { kind: 'declaration_of_conformity' });
    expect(res.statusCode).toBe(201);
    const asset = res.json();
    expect(asset).toMatchObject({
      product_id: productId,
      filename: 'Pico DoC.pdf',
      media_type: 'application/pdf',
      kind: 'declaration_of_conformity',
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(asset.asset_id).toMatch(/^[0-9a-f-]{36}$/);
    const list = (await t.call(key, { method: 'GET', url: `/api/v1/products/${productId}/documents` })).json();
    expect(list.items.map((a: { asset_id: string }) => a.asset_id)).toContain(asset.asset_id);
    expect((await t.call(key, { method: 'GET', url: `/api/v1/assets/${asset.asset_id}` })).json()).toEqual(asset);
    const content = await t.call(key, { method: 'GET', url: `/api/v1/assets/${asset.asset_id}/content` });
    expect(content.headers['content-type']).toBe('application/pdf');
    expect(content.headers['content-disposition']).toContain('attachment');
    expect(content.rawPayload.equals(bytes)).toBe(true);
  });

  it('answers the existing asset when the same bytes are uploaded again for the product', async () => {
    const bytes = corpus('molex_0010897041_rohs-coc.pdf');
    const first = (await upload({ name: 'a.pdf', bytes })).json();
    const again = await upload({ name: 'renamed.pdf', bytes });
    expect(again.statusCode).toBe(200);
    expect(again.json().asset_id).toBe(first.asset_id);
    const blobs = await t.database.db.selectFrom('blobs').select('sha256').where('sha256', '=', first.sha256).execute();
    expect(blobs).toHaveLength(1);
  });

  it('detects the type from the bytes: markdown, HTML, text, DOCX-less zip refused, PNG accepted', async () => {
    const md = await upload({ name: 'doc.pdf', bytes: corpus('teqsas_lap-teq-plus-interface_eu-konformitaetserklaerung_de.md') });
    expect(md.json().media_type).toBe('text/markdown');
    const html = await upload({ name: 'x.txt', bytes: Buffer.from('<!doctype html><html><body><p>RoHS</p></body></html>') });
    expect(html.json().media_type).toBe('text/html');
    const text = await upload({ name: 'x.md', bytes: Buffer.from('Declaration: this product complies with 2011/65/EU.') });
    expect(text.json().media_type).toBe('text/plain');
    const png = await upload({ name: 'label.jpg', bytes: PNG_1PX });
    expect(png.json().media_type).toBe('image/png');
  });

  it('refuses random bytes named .pdf with 415, and a file over the limit with 413', async () => {
    const random = await upload({ name: 'scan.pdf', bytes: randomBytes(4096), type: 'application/pdf' });
    expect(random.statusCode).toBe(415);
    expect(random.headers['content-type']).toContain('application/problem+json');
    const big = await upload({ name: 'big.txt', bytes: Buffer.alloc(3 * 1024 * 1024, 'a') });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('payload_too_large');
  });

  it('validates the form: kind, missing file, not multipart', async () => {
    const badKind = await upload({ name: 'a.txt', bytes: Buffer.from('hello world') }, { kind: 'invoice' });
    expect(badKind.statusCode).toBe(400);
    expect(badKind.json().errors[0]).toMatchObject({ field: 'kind', rule: 'enum' });
    const json = await t.call(key, { method: 'POST', url: `/api/v1/products/${productId}/documents`, payload: { file: 'x' } });
    expect(json.statusCode).toBe(415);
  });

  it('answers a malformed multipart form with 400, not 500', async () => {
    const url = `/api/v1/products/${productId}/documents`;
    const noBoundary = await t.call(key, { method: 'POST', url, payload: 'abc', headers: { 'content-type': 'multipart/form-data' } });
    expect([400, 415]).toContain(noBoundary.statusCode);
    const cut = await t.call(key, {
      method: 'POST',
      url,
      payload: '--XX\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello',
      headers: { 'content-type': 'multipart/form-data; boundary=XX' },
    });
    expect(cut.statusCode).toBe(400);
    expect(cut.headers['content-type']).toContain('application/problem+json');
  });

  it('deletes a document and its bytes when nothing else refers to them', async () => {
    const asset = (await upload({ name: 'tmp.txt', bytes: Buffer.from('temporary compliance note ' + Date.now()) })).json();
    expect((await t.call(key, { method: 'DELETE', url: `/api/v1/assets/${asset.asset_id}` })).statusCode).toBe(204);
    expect((await t.call(key, { method: 'GET', url: `/api/v1/assets/${asset.asset_id}` })).statusCode).toBe(404);
    const blobs = await t.database.db.selectFrom('blobs').select('sha256').where('sha256', '=', asset.sha256).execute();
    expect(blobs).toHaveLength(0);
  });

  it('frees the bytes of a deleted product that no other document uses', async () => {
    const temp = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Short-lived' } })).json().product_id;
    const only = Buffer.from('only here ' + Date.now());
    const shared = Buffer.from('shared note ' + Date.now());
    const a = (await upload({ name: 'only.txt', bytes: only }, {}, temp)).json();
    const b = (await upload({ name: 'shared.txt', bytes: shared }, {}, temp)).json();
    await upload({ name: 'shared.txt', bytes: shared }, {}, productId);
    expect((await t.call(key, { method: 'DELETE', url: `/api/v1/products/${temp}` })).statusCode).toBe(204);
    const left = await t.database.db.selectFrom('blobs').select('sha256').where('sha256', 'in', [a.sha256, b.sha256]).execute();
    expect(left.map((r) => r.sha256)).toEqual([b.sha256]);
  });

  it('keeps organisations apart', async () => {
    const other = await t.key('docs-other');
    const asset = (await upload({ name: 'nexperia.pdf', bytes: corpus('nexperia_rohs_certificate-of-compliance_2022.pdf') })).json();
    for (const url of [`/api/v1/assets/${asset.asset_id}`, `/api/v1/assets/${asset.asset_id}/content`, `/api/v1/products/${productId}/documents`]) {
      expect((await t.call(other, { method: 'GET', url })).statusCode, url).toBe(404);
    }
    expect((await t.call(other, { method: 'DELETE', url: `/api/v1/assets/${asset.asset_id}` })).statusCode).toBe(404);
    expect((await upload({ name: 'x.txt', bytes: Buffer.from('hello there') }, {}, productId, other)).statusCode).toBe(404);
  });
});
