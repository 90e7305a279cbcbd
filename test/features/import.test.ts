import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { createAccessService } from '../../src/features/access/service.js';
import { importProducts } from '../../src/features/products/import.js';

const ICECAT = new URL('../../../shared/catalog/icecat-harvester-sample/', import.meta.url);

describe.each(dialects)('bulk import (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { IMPORT_LIMIT_BYTES: '200000' });
  });
  afterAll(() => t.close());
  const access = () => createAccessService(t.database.db);

  const importBody = (key: string, body: string, contentType: string, url = '/api/v1/products/import') =>
    t.call(key, { method: 'POST', url, payload: body, headers: { 'content-type': contentType } });
  const all = async (key: string) => (await t.call(key, { method: 'GET', url: '/api/v1/products?per_page=200' })).json().items as Array<Record<string, any>>;

  it('imports CSV, keeps good rows, and reports bad rows by line with the reason', async () => {
    const key = await t.key('csv-org');
    const csv = [
      'external_id,title,ean,brand,colour',
      'SKU-1,Kettle 1.7 l,4006381333931,Ma Marque,steel',
      'SKU-2,,5901234123457,Ma Marque,red', // line 3: no title
      'SKU-3,Toaster,12345,Ma Marque,', // line 4: bad EAN length
      'SKU-4,"Lamp, desk",3760000000001,Lumen,white', // wrong check digit: imported, flagged
      '',
      'SKU-5,Fan,96385074,Aero,blue',
    ].join('\n');
    const res = await importBody(key, csv, 'text/csv');
    expect(res.statusCode).toBe(200);
    const summary = res.json();
    expect(summary).toMatchObject({ created: 3, updated: 0, failed: 2, rows: 5 });
    expect(summary.failures).toEqual([{ line: 3, field: 'title', reason: 'title is required for a new product' }, expect.objectContaining({ line: 4, field: 'ean' })]);
    const items = await all(key);
    expect(items.map((p) => p.external_id).sort()).toEqual(['SKU-1', 'SKU-4', 'SKU-5']);
    const lamp = items.find((p) => p.external_id === 'SKU-4')!;
    expect(lamp).toMatchObject({ title: 'Lamp, desk', gtin14: '03760000000001', gtin_valid: false, attributes: { colour: 'white' } });
  });

  it('upserts: by external_id when given, else by EAN in any form, keeping fields the file leaves empty', async () => {
    const key = await t.key('upsert-org');
    await importBody(key, 'external_id,title,ean,brand\nA-1,Old title,4006381333931,Brand A\n,No sku,5901234123457,Brand B\n', 'text/csv');
    const res = await importBody(key, 'external_id,title,ean,brand,category\nA-1,New title,,,Kitchen\n,Renamed,05901234123457,,\nA-3,Brand new,96385074,C,\n', 'text/csv');
    expect(res.json()).toMatchObject({ created: 1, updated: 2, failed: 0 });
    const items = await all(key);
    expect(items).toHaveLength(3);
    expect(items.find((p) => p.external_id === 'A-1')).toMatchObject({ title: 'New title', ean: '4006381333931', brand: 'Brand A', category: 'Kitchen' });
    expect(items.find((p) => p.gtin14 === '05901234123457')).toMatchObject({ title: 'Renamed', brand: 'Brand B' });
  });

  it('rewrites nothing when the same data is imported again', async () => {
    const key = await t.key('reimport-org');
    const csv = 'external_id,title,ean,colour\nR-1,Kettle,4006381333931,steel\nR-2,Fan,96385074,white\n';
    await importBody(key, csv, 'text/csv');
    const before = await all(key);
    const again = await importBody(key, csv, 'text/csv');
    expect(again.json()).toMatchObject({ created: 0, updated: 0, unchanged: 2, failed: 0 });
    expect(await all(key)).toEqual(before);
    const changed = await importBody(key, 'external_id,colour\nR-1,black\n', 'text/csv');
    expect(changed.json()).toMatchObject({ updated: 1, unchanged: 0 });
  });

  it('hands a GTIN over from one product to another within one batch', async () => {
    const key = await t.key('handover-org');
    await importBody(key, 'external_id,title,ean\nA,Old owner,4006381333931\n', 'text/csv');
    const res = await importBody(key, 'external_id,title,ean\nN,Newcomer,96385074\nA,Old owner,5901234123457\nN,Newcomer,4006381333931\n', 'text/csv');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ failed: 0 });
    const items = await all(key);
    expect(items.find((p) => p.external_id === 'N')?.gtin14).toBe('04006381333931');
    expect(items.find((p) => p.external_id === 'A')?.gtin14).toBe('05901234123457');
  });

  it('hands a GTIN over even when the row that gave it up changes again later in the batch', async () => {
    const key = await t.key('handover-again-org');
    await importBody(key, 'external_id,title,ean\nA,Giver,4006381333931\nB,Taker,96385074\n', 'text/csv');
    const res = await importBody(key, 'external_id,title,ean\nA,Giver,5901234123457\nB,Taker,4006381333931\nA,Giver renamed,\n', 'text/csv');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ failed: 0, updated: 3 }); // one per row that changed something
    const items = await all(key);
    expect(items.find((p) => p.external_id === 'A')).toMatchObject({ title: 'Giver renamed', gtin14: '05901234123457' });
    expect(items.find((p) => p.external_id === 'B')?.gtin14).toBe('04006381333931');
  });

  it('gives the same outcome whether rows are new, known, or mixed in one batch, across batches that switch between inserting first and looking up first', async () => {
    const key = await t.key('mixed-org');
    const row = (i: number, title = `Product ${i}`) => `SKU-${i},${title},,Brand ${i % 7}`;
    const header = 'external_id,title,ean,brand';
    // 3,000 products exist; the next file repeats them unchanged, renames every tenth, and adds 3,000
    // new ones, interleaved: batches of known rows, of new rows, and of both.
    expect((await importBody(key, [header, ...Array.from({ length: 3000 }, (_, i) => row(i))].join('\n'), 'text/csv')).json()).toMatchObject({
      created: 3000,
      failed: 0,
    });
    const second = [header];
    for (let i = 0; i < 3000; i++) second.push(row(i, i % 10 === 0 ? `Renamed ${i}` : `Product ${i}`), row(10_000 + i));
    second.push('SKU-20000,,,'); // new and without a title: refused
    second.push(`SKU-10001,Product 10001 again,,Brand 1`); // new earlier in this file: an update of it
    const res = (await importBody(key, second.join('\n'), 'text/csv')).json();
    expect(res).toMatchObject({ rows: 6002, created: 3000, updated: 301, unchanged: 2700, failed: 1 });
    expect(res.failures).toEqual([{ line: 6002, reason: 'title is required for a new product', field: 'title' }]);
    const total = (await t.call(key, { method: 'GET', url: '/api/v1/products?per_page=1' })).json().total;
    expect(total).toBe(6000);
    const stats = (await t.call(key, { method: 'GET', url: '/api/v1/compliance/dpp/stats' })).json();
    expect(stats.total_products).toBe(6000);
    // The title search sees new, renamed and re-imported rows as the catalog has them.
    const search = async (q: string) => (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/products?search=${encodeURIComponent(q)}` })).json().total;
    expect(await search('10001 again')).toBe(1);
    expect(await search('Renamed')).toBe(300);
  });

  it('reports an EAN that belongs to another product instead of merging them', async () => {
    const key = await t.key('clash-org');
    await importBody(key, 'external_id,title,ean\nX-1,One,4006381333931\nX-2,Two,5901234123457\n', 'text/csv');
    const res = await importBody(key, 'external_id,title,ean\nX-2,Two again,4006381333931\n', 'text/csv');
    expect(res.json()).toMatchObject({ created: 0, updated: 0, failed: 1 });
    expect(res.json().failures[0]).toMatchObject({ line: 2, field: 'ean' });
  });

  it('reports an unreadable CSV (unclosed quote) as a failure, not a 500, and keeps earlier batches', async () => {
    const key = await t.key('broken-csv-org');
    const good = Array.from({ length: 1500 }, (_, i) => `Product ${i},`).join('\n');
    const res = await importBody(key, `title,ean\n${good}\n"unterminated,123\nMore,96385074\n`, 'text/csv');
    expect(res.statusCode).toBe(200);
    expect(res.json().failed).toBe(1);
    expect(res.json().failures[0].reason).toContain('unreadable CSV');
    // Every row before the broken quote was written.
    expect(res.json().created).toBe(1500);
  });

  it('reads semicolon-separated CSV with a BOM, as European spreadsheets write it', async () => {
    const key = await t.key('semicolon-org');
    const res = await importBody(key, '\uFEFFTitle;EAN;Brand\nMachine à café;4006381333931;Café SA\n', 'text/csv; charset=utf-8');
    expect(res.json()).toMatchObject({ created: 1, failed: 0 });
    expect((await all(key))[0]).toMatchObject({ title: 'Machine à café', brand: 'Café SA' });
  });

  it('imports NDJSON, reporting invalid JSON and non-object lines by number', async () => {
    const key = await t.key('ndjson-org');
    const body = [
      JSON.stringify({ title: 'Phone', ean: '4006381333931', specs: { ram_gb: 8 } }),
      '{"title": "broken"',
      '[1,2]',
      JSON.stringify({ title: 'Tablet', gtin: 5901234123457, attributes: { screen_in: 11 } }),
    ].join('\n');
    const res = await importBody(key, body, 'application/x-ndjson');
    expect(res.json()).toMatchObject({ created: 2, failed: 2, rows: 4 });
    expect(res.json().failures.map((f: { line: number }) => f.line)).toEqual([2, 3]);
    const tablet = (await all(key)).find((p) => p.title === 'Tablet')!;
    expect(tablet).toMatchObject({ gtin14: '05901234123457', attributes: { screen_in: 11 } });
    expect((await all(key)).find((p) => p.title === 'Phone')!.attributes).toEqual({ specs: { ram_gb: 8 } });
  });

  it('imports the real Open Icecat sample (83 products) without a failure', async () => {
    const key = await t.key('icecat-org');
    const files = fs.readdirSync(ICECAT).filter((f) => f.endsWith('.ndjson'));
    let created = 0;
    for (const file of files) {
      const res = await importBody(key, fs.readFileSync(new URL(file, ICECAT), 'utf8'), 'application/x-ndjson');
      expect(res.json().failed, file).toBe(0);
      created += res.json().created;
    }
    expect(created).toBe(83);
    const page = (await t.call(key, { method: 'GET', url: '/api/v1/products?per_page=1' })).json();
    expect(page.total).toBe(83);
    expect(Object.keys(page.items[0].attributes)).toEqual(expect.arrayContaining(['id', 'attrs']));
  });

  it('refuses other media types with 415 and an oversized stream with 413', async () => {
    const key = await t.key('limits-org');
    const xml = await importBody(key, '<products/>', 'application/xml');
    expect(xml.statusCode).toBe(415);
    expect(xml.headers['content-type']).toContain('application/problem+json');
    const big = 'title\n' + 'A product title long enough\n'.repeat(10_000);
    const tooBig = await importBody(key, big, 'text/csv');
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().code).toBe('payload_too_large');
  });

  it('parses in a worker thread with the same results as inline, from a stream and from a file', async () => {
    const rows = Array.from({ length: 6000 }, (_, i) => `W-${i},"Worker product ${i}, ${i % 7} kg",${i % 1000 === 0 ? '123' : ''},Brand`);
    rows[4321] = 'W-4321,,,Brand'; // no title
    const csv = `external_id,title,ean,brand\n${rows.join('\n')}\n"unterminated,1\n`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-import-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'rows.csv');
    fs.writeFileSync(file, csv);
    const orgs = await Promise.all(['inline', 'stream', 'file'].map(async (o) => (await access().ensureOrganisation(`worker-${o}`)).id));
    const run = (orgId: string, source: Parameters<typeof importProducts>[2], parseInWorker: boolean) => importProducts(t.database.db, orgId, source, 'csv', { parseInWorker });
    const inline = await run(orgs[0]!, Readable.from([csv]), false);
    // Small chunks, so the worker asks for input many times.
    const chunks = csv.match(/[\s\S]{1,4096}/g)!;
    const streamed = await run(orgs[1]!, Readable.from(chunks), true);
    const fromFile = await run(orgs[2]!, { path: file }, true);
    const comparable = ({ duration_ms: _, ...rest }: Record<string, unknown>) => rest;
    expect(inline).toMatchObject({ created: 5993, failed: 8, rows: 6001 });
    expect(inline.failures.map((f) => f.line)).toEqual([2, 1002, 2002, 3002, 4002, 4323, 5002, 6002]);
    expect(comparable(streamed)).toEqual(comparable(inline));
    expect(comparable(fromFile)).toEqual(comparable(inline));
  });

  it('keeps every row before a line the CSV parser cannot read, mid-file', async () => {
    const key = await t.key('midfile-org');
    const good = Array.from({ length: 1499 }, (_, i) => `Row ${i},`).join('\n');
    // A quote that never closes swallows the rest of the file: the parser can go no further. (A stray
    // quote inside a field, `"bad"x` or `TV 55" screen`, is read as text: see hostile-input.test.ts.)
    const res = await importBody(key, `title,ean\n${good}\n"unclosed,1\n${good}\n`, 'text/csv');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ created: 1499, failed: 1, rows: 1500 });
    expect(res.json().failures[0].reason).toContain('Quote Not Closed');
  });

  it('parses rows with long descriptions in the worker without running out of its memory', async () => {
    const org = (await access().ensureOrganisation('long-rows-org')).id;
    const text = 'x'.repeat(16_000);
    const csv = `title,description\n${Array.from({ length: 2600 }, (_, i) => `Long ${i},${text}`).join('\n')}\n`;
    const summary = await importProducts(t.database.db, org, Readable.from([csv]), 'csv', { parseInWorker: true });
    expect(summary).toMatchObject({ created: 2600, failed: 0 });
  });

  it('keeps the title search in step with imports, edits and deletes', async () => {
    const key = await t.key('search-sync-org');
    await importBody(key, 'external_id,title\nS-1,Walnut chair\nS-2,Birch table\nS-3,Walnut shelf\n', 'text/csv');
    await importBody(key, 'external_id,title\nS-2,Walnut table\nS-3,Pine shelf\nS-4,Walnut lamp\n', 'text/csv');
    const created = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Walnut bench' } })).json();
    const chair = (await all(key)).find((p) => p.external_id === 'S-1')!;
    await t.call(key, { method: 'PATCH', url: `/api/v1/products/${chair.product_id}`, payload: { title: 'Oak chair' } });
    await t.call(key, { method: 'DELETE', url: `/api/v1/products/${created.product_id}` });
    const found = (await t.call(key, { method: 'GET', url: '/api/v1/compliance/dpp/products?search=walnut' })).json();
    expect(found.items.map((i: { title: string }) => i.title).sort()).toEqual(['Walnut lamp', 'Walnut table']);
    expect(found.total).toBe(2);
    if (dialect === 'sqlite') {
      // FTS5 compares its index with the products table and throws on any difference.
      await sql`insert into products_fts (products_fts, rank) values ('integrity-check', 1)`.execute(t.database.db);
    }
  });

  it('needs the write scope', async () => {
    const reader = await t.key('limits-org', 'read');
    expect((await importBody(reader, 'title\nx\n', 'text/csv')).statusCode).toBe(403);
  });
});
