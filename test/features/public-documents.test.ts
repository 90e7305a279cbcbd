import fs from 'node:fs';
import { createHash } from 'node:crypto';
import jsonld from 'jsonld';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { CORPUS, FULL_PASSPORT, multipartBody } from '../helpers/fixtures.js';
import { testDocumentLoader } from '../helpers/untp.js';

type Json = Record<string, any>;

const corpus = (name: string) => fs.readFileSync(new URL(name, CORPUS));
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const CERTIFICATION_INFO = 'https://ref.gs1.org/voc/certificationInfo';
const INSTRUCTIONS = 'https://ref.gs1.org/voc/instructions';
const HOSTILE = `Q&A <img src=x onerror=alert(1)> ';x=1 ünï.pdf`;

/**
 * Public documents (issue 14, step 2, point 7): a document marked public is linked from the passport's
 * next published version (JSON-LD, page, GS1 linkset, linkType redirect) and downloadable from the
 * resolver while a version the public can read lists it. Published versions never change.
 */
describe.each(dialects)('public documents (%s)', (dialect) => {
  const base = 'https://dpp.example.test';
  let t: TestApp;
  let key: string;
  let readKey: string;
  let otherKey: string;

  const doc = corpus('raspberrypi_pico_eu-doc.pdf');
  const manual = corpus('crownstone_cr101-02_manual_nl.pdf');

  const upload = (productId: string, file: { name: string; bytes: Buffer }, fields: Record<string, string> = {}, k = key) =>
    t.call(k, { method: 'POST', url: `/api/v1/products/${productId}/documents`, ...multipartBody(file, fields) });
  const mark = (productId: string, documentId: string, payload: object, k = key) =>
    t.call(k, { method: 'PATCH', url: `/api/v1/compliance/products/${productId}/documents/${documentId}`, payload });
  const publish = (productId: string, k = key) => t.call(k, { method: 'POST', url: `/api/v1/compliance/dpp/${productId}/publish` });
  const pub = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });
  const download = (productId: string, documentId: string, headers: Record<string, string> = {}) => pub(`/dpp/${productId}/documents/${documentId}`, headers);

  /** A product with a complete passport, published once; its id. */
  const publishedProduct = async (title: string, ean?: string, k = key) => {
    const id = (await t.call(k, { method: 'POST', url: '/api/v1/products', payload: { title, ...(ean ? { ean } : {}) } })).json().product_id as string;
    expect((await t.call(k, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: FULL_PASSPORT })).statusCode).toBe(200);
    expect((await publish(id, k)).statusCode).toBe(200);
    return id;
  };

  beforeAll(async () => {
    t = await createTestApp(dialect, { PUBLIC_BASE_URL: base, DOCUMENT_LIMIT_BYTES: String(4 * 1024 * 1024) });
    key = await t.key('docs-public-org');
    readKey = await t.key('docs-public-org', 'read');
    otherKey = await t.key('docs-other-org');
  });
  afterAll(() => t.close());

  it('links a DoC and a manual from the next published version only: page, JSON-LD, linkset, linkType redirects, download', async () => {
    const id = await publishedProduct('Raspberry Pi Pico', '9520123456788');
    const gtinUri = '/01/09520123456788';
    const docAsset = (await upload(id, { name: 'Pico EU DoC.pdf', bytes: doc }, { kind: 'declaration_of_conformity' })).json();
    const manualAsset = (await upload(id, { name: 'CR101 manual.pdf', bytes: manual }, { kind: 'manual' })).json();
    expect(docAsset).toMatchObject({ public: false, public_role: null });

    const before = await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` });
    const marked = await mark(id, docAsset.asset_id, { public: true, role: 'declaration_of_conformity' });
    expect(marked.statusCode).toBe(200);
    expect(marked.json()).toMatchObject({ asset_id: docAsset.asset_id, public: true, public_role: 'declaration_of_conformity', sha256: sha256(doc) });
    // No role: the kind "manual" stands for a user manual.
    expect((await mark(id, manualAsset.asset_id, { public: true })).json()).toMatchObject({ public: true, public_role: 'user_manual' });

    // The working copy moved (new ETag, unpublished changes, a history entry); the live version did not.
    const after = await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` });
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(after.json().has_unpublished_changes).toBe(true);
    const history = (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/history` })).json();
    expect(history.items[0]).toMatchObject({
      action: 'document_update',
      changes: [{ field: 'documents', old: null, new: { document_id: manualAsset.asset_id, role: 'user_manual' } }],
    });
    const audit = await t.database.db.selectFrom('audit_events').selectAll().where('action', '=', 'document.visibility').where('target_id', '=', docAsset.asset_id).execute();
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ product_id: id, public: true, role: 'declaration_of_conformity', previous_role: null });

    const livePage = (await pub(`${gtinUri}?lang=en`)).payload;
    expect(livePage).not.toContain(docAsset.asset_id);
    expect(livePage).not.toContain('id="s-docs"');
    expect((await pub(`${gtinUri}?format=jsonld`)).json().documents).toBeUndefined();
    const liveLinkset = (await pub(`${gtinUri}?linkType=linkset`)).json().linkset[0];
    expect(JSON.stringify(liveLinkset)).not.toContain(docAsset.asset_id);
    expect((await pub(`${gtinUri}?linkType=gs1:instructions`)).statusCode).toBe(404);
    expect((await download(id, docAsset.asset_id)).statusCode).toBe(404);

    // The next published version lists both.
    const published = await publish(id);
    expect(published.json().published_version).toBe(2);
    const docUrl = `${base}/dpp/${id}/documents/${docAsset.asset_id}`;
    const manualUrl = `${base}/dpp/${id}/documents/${manualAsset.asset_id}`;

    const page = await pub(`${gtinUri}?lang=en`);
    expect(page.statusCode).toBe(200);
    expect(page.payload).toContain('<h2 id="s-docs">Documents</h2>');
    expect(page.payload).toContain(`href="${docUrl}"`);
    expect(page.payload).toContain('EU Declaration of Conformity');
    expect(page.payload).toContain('Pico EU DoC.pdf');
    expect(page.payload).toContain('User manual');
    const fr = (await pub(`${gtinUri}?lang=fr`)).payload;
    expect(fr).toContain('Déclaration UE de conformité');
    expect(fr).toContain('Manuel d&#39;utilisation');
    expect((await pub(`${gtinUri}?lang=de`)).payload).toContain('<h2 id="s-docs">Dokumente</h2>');

    const json = (await pub(`${gtinUri}?format=jsonld`)).json();
    expect(json.version).toBe(2);
    expect(json.documents).toEqual([
      {
        '@id': docUrl,
        '@type': 'DigitalDocument',
        name: 'Pico EU DoC.pdf',
        documentRole: 'declaration_of_conformity',
        linkType: CERTIFICATION_INFO,
        encodingFormat: 'application/pdf',
        contentSize: doc.length,
        sha256: sha256(doc),
      },
      expect.objectContaining({ '@id': manualUrl, documentRole: 'user_manual', linkType: INSTRUCTIONS, sha256: sha256(manual) }),
    ]);
    // Every document term is defined by the served context: a safe-mode expansion keeps them all.
    const expanded = (await jsonld.expand(json, { safe: true, documentLoader: testDocumentLoader(base) as never } as never)) as unknown as Json[];
    const documents = expanded[0]!['https://dpp-compliance.dev/vocab#document'] as Json[];
    expect(documents).toHaveLength(2);
    expect(documents[0]!['https://dpp-compliance.dev/vocab#linkType']).toEqual([{ '@id': CERTIFICATION_INFO }]);
    expect(documents[0]!['https://dpp-compliance.dev/vocab#sha256']).toEqual([{ '@type': 'http://www.w3.org/2001/XMLSchema#string', '@value': sha256(doc) }]);

    const linksetRes = await pub(`${gtinUri}?linkType=linkset`);
    expect(linksetRes.headers['content-type']).toBe('application/linkset+json');
    const linkset = linksetRes.json().linkset[0];
    expect(linkset[CERTIFICATION_INFO][0]).toEqual({ href: docUrl, title: 'EU Declaration of Conformity: Pico EU DoC.pdf', type: 'application/pdf' });
    // The page's certifications section is still offered under the same type, after the document.
    expect(linkset[CERTIFICATION_INFO].slice(1).every((l: Json) => l.type === 'text/html')).toBe(true);
    expect(linkset[INSTRUCTIONS]).toEqual([{ href: manualUrl, title: 'User manual: CR101 manual.pdf', type: 'application/pdf' }]);

    const toDoc = await pub(`${gtinUri}?linkType=gs1:certificationInfo`);
    expect(toDoc.statusCode).toBe(307);
    expect(toDoc.headers.location).toBe(docUrl);
    expect((await pub(`${gtinUri}?linkType=gs1:instructions`)).headers.location).toBe(manualUrl);
    // The /dpp/{id} URI offers the same links; a client that accepts only HTML gets the page section.
    expect((await pub(`/dpp/${id}?linkType=${encodeURIComponent(CERTIFICATION_INFO)}`)).headers.location).toBe(docUrl);
    const htmlOnly = await pub(`${gtinUri}?linkType=gs1:certificationInfo`, { accept: 'text/html' });
    expect(htmlOnly.headers.location).toMatch(/\?lang=en#certifications$/);

    // Download: the same bytes, with the SHA-256 as ETag; a revalidation answers 304.
    const file = await download(id, docAsset.asset_id);
    expect(file.statusCode).toBe(200);
    expect(file.rawPayload.equals(doc)).toBe(true);
    expect(sha256(file.rawPayload)).toBe(marked.json().sha256);
    expect(file.headers['content-type']).toBe('application/pdf');
    expect(file.headers.etag).toBe(`"${sha256(doc)}"`);
    expect(file.headers['content-disposition']).toBe(`attachment; filename="Pico EU DoC.pdf"; filename*=UTF-8''Pico%20EU%20DoC.pdf`);
    expect(file.headers['x-content-type-options']).toBe('nosniff');
    expect(file.headers['content-security-policy']).toContain('sandbox');
    expect(file.headers['access-control-allow-origin']).toBe('*');
    expect((await download(id, docAsset.asset_id, { 'if-none-match': file.headers.etag as string })).statusCode).toBe(304);
    const preflight = await t.app.inject({ method: 'OPTIONS', url: `/dpp/${id}/documents/${docAsset.asset_id}` });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');

    // Version 1 still lists nothing: published versions never change.
    expect((await pub(`${gtinUri}?format=jsonld&version=1`)).json().documents).toBeUndefined();
    expect((await pub(`${gtinUri}?version=1`)).payload).not.toContain(docAsset.asset_id);

    // A document a readable version lists cannot be deleted.
    const refused = await t.call(key, { method: 'DELETE', url: `/api/v1/assets/${docAsset.asset_id}` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'conflict', published_versions: [2] });
    expect((await download(id, docAsset.asset_id)).statusCode).toBe(200);

    // Marked private, it stays on version 2 (still readable), and leaves the next version.
    expect((await mark(id, docAsset.asset_id, { public: false })).json()).toMatchObject({ public: false, public_role: null });
    expect((await download(id, docAsset.asset_id)).statusCode).toBe(200);
    expect((await publish(id)).json().published_version).toBe(3);
    expect((await pub(`${gtinUri}?format=jsonld`)).json().documents.map((d: Json) => d['@id'])).toEqual([manualUrl]);
    expect((await pub(`${gtinUri}?format=jsonld&version=2`)).json().documents).toHaveLength(2);
    expect((await download(id, docAsset.asset_id)).statusCode).toBe(200);

    // A withdrawal takes every version off the public side, downloads included; then the document may go.
    expect((await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/withdraw` })).statusCode).toBe(200);
    expect((await download(id, docAsset.asset_id)).statusCode).toBe(404);
    expect((await download(id, manualAsset.asset_id)).statusCode).toBe(404);
    expect((await t.call(key, { method: 'DELETE', url: `/api/v1/assets/${docAsset.asset_id}` })).statusCode).toBe(204);
  });

  it('answers 404 for private documents, other products and other organisations, exactly as for unknown ids', async () => {
    const id = await publishedProduct('Kettle');
    const publicDoc = (await upload(id, { name: 'doc.pdf', bytes: corpus('teknikio_bluebird-v2_eu-doc.pdf') })).json();
    const privateDoc = (await upload(id, { name: 'private.pdf', bytes: corpus('molex_0010897041_rohs-coc.pdf') }, { kind: 'rohs' })).json();
    expect((await mark(id, publicDoc.asset_id, { public: true, role: 'declaration_of_conformity' })).statusCode).toBe(200);
    expect((await publish(id)).json().published_version).toBe(2);
    expect((await download(id, publicDoc.asset_id)).statusCode).toBe(200);

    const unknown = await download(id, '0190a0a0-0000-7000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    const privateRes = await download(id, privateDoc.asset_id);
    expect(privateRes.statusCode).toBe(404);
    expect(privateRes.json()).toEqual({ ...unknown.json(), instance: `/dpp/${id}/documents/${privateDoc.asset_id}` });

    // Another organisation's published public document, asked for under this product (and the reverse).
    const theirs = await publishedProduct('Their kettle', undefined, otherKey);
    const theirDoc = (await upload(theirs, { name: 'theirs.pdf', bytes: corpus('nexperia_rohs_certificate-of-compliance_2022.pdf') }, {}, otherKey)).json();
    expect((await mark(theirs, theirDoc.asset_id, { public: true, role: 'certificate' }, otherKey)).statusCode).toBe(200);
    expect((await publish(theirs, otherKey)).statusCode).toBe(200);
    expect((await download(theirs, theirDoc.asset_id)).statusCode).toBe(200);
    expect((await download(id, theirDoc.asset_id)).statusCode).toBe(404);
    expect((await download(theirs, publicDoc.asset_id)).statusCode).toBe(404);

    // Another organisation cannot mark this one's documents: the same 404 as an unknown product.
    const cross = await mark(id, privateDoc.asset_id, { public: true, role: 'certificate' }, otherKey);
    const unknownProduct = '0190a0a0-0000-7000-8000-000000000001';
    const none = await mark(unknownProduct, privateDoc.asset_id, { public: true, role: 'certificate' }, otherKey);
    expect(cross.statusCode).toBe(404);
    expect(none.statusCode).toBe(404);
    expect(cross.json().code).toBe(none.json().code);
    expect(cross.json().detail).toBe(none.json().detail.replace(unknownProduct, id));
    // Nor can a document be marked under another of its own products.
    const otherProduct = await publishedProduct('Other product');
    expect((await mark(otherProduct, privateDoc.asset_id, { public: true, role: 'certificate' })).statusCode).toBe(404);
    expect((await t.call(key, { method: 'GET', url: `/api/v1/assets/${privateDoc.asset_id}` })).json().public).toBe(false);
  });

  it('escapes a hostile file name in the page, the JSON-LD, the linkset and the headers', async () => {
    const id = await publishedProduct('Hostile');
    const bytes = corpus('jinhua-heshun_wh-qx006-steam-cleaner_ec-doc.pdf');
    const asset = (await upload(id, { name: HOSTILE, bytes }, { kind: 'declaration_of_conformity' })).json();
    expect(asset.filename).toBe(HOSTILE);
    expect((await mark(id, asset.asset_id, { public: true })).json().public_role).toBe('declaration_of_conformity');
    await publish(id);

    const page = (await pub(`/dpp/${id}?lang=en`)).payload;
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('Q&amp;A &lt;img src=x onerror=alert(1)&gt; &#39;;x=1 ünï.pdf');

    const json = (await pub(`/dpp/${id}?format=jsonld`)).json();
    expect(json.documents[0].name).toBe(HOSTILE);
    const linkset = (await pub(`/dpp/${id}?linkType=linkset`)).json().linkset[0];
    expect(linkset[CERTIFICATION_INFO][0].title).toBe(`EU Declaration of Conformity: ${HOSTILE}`);

    const resolver = await pub(`/dpp/${id}`);
    expect(String(resolver.headers.link)).not.toContain('img');
    const file = await download(id, asset.asset_id);
    expect(file.statusCode).toBe(200);
    const disposition = String(file.headers['content-disposition']);
    expect(disposition).toMatch(/^attachment; filename="[A-Za-z0-9._\- ()]+"; filename\*=UTF-8''[A-Za-z0-9%._~-]+$/);
    expect(disposition).toContain(`filename="Q_A _img src_x onerror_alert(1)_ __x_1 _n_.pdf"`);
    expect(decodeURIComponent(disposition.split("''")[1]!)).toBe(HOSTILE);
  });

  it('needs the write scope, and answers a problem naming `role` for a bad or missing role', async () => {
    const id = await publishedProduct('Scoped');
    const asset = (await upload(id, { name: 'statement.pdf', bytes: corpus('ti_rohs-statement_szzq088p.pdf') })).json();

    const forbidden = await mark(id, asset.asset_id, { public: true, role: 'declaration_of_conformity' }, readKey);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.headers['content-type']).toContain('application/problem+json');
    expect((await t.call(readKey, { method: 'GET', url: `/api/v1/assets/${asset.asset_id}` })).json().public).toBe(false);

    const bad = await mark(id, asset.asset_id, { public: true, role: 'brochure' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json().errors).toEqual([expect.objectContaining({ field: 'body/role', rule: 'enum' })]);
    expect(bad.json().errors[0].message).toContain('declaration_of_conformity');

    // Kind "other" implies no role: one must be named.
    const missing = await mark(id, asset.asset_id, { public: true });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors).toEqual([expect.objectContaining({ field: 'body/role', rule: 'required' })]);

    const unknownField = await mark(id, asset.asset_id, { public: true, role: 'certificate', label: 'x' });
    expect(unknownField.statusCode).toBe(400);
    const notBoolean = await mark(id, asset.asset_id, { public: 'yes' });
    expect(notBoolean.statusCode).toBe(400);
    expect(notBoolean.json().errors[0].field).toMatch(/public/);

    // Nothing changed: no new passport version, nothing to publish.
    expect((await publish(id)).json().published_version).toBe(1);
  });
});
