import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DOCX, ExtractionFailure, ExtractionPool, extractText, extractTextIsolated, mediaTypeFromFileName } from '../../src/features/extraction/text/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, '../../../shared/corpus/dev');
const docs = path.join(corpus, 'docs');
const labels = JSON.parse(fs.readFileSync(path.join(corpus, 'labels.json'), 'utf8')) as { file: string; text_layer: boolean }[];
const read = (file: string) => new Uint8Array(fs.readFileSync(path.join(docs, file)));

/** A minimal ZIP writer (stored or deflated entries), enough to make DOCX files in tests. */
function zip(entries: { name: string; data: Buffer; declaredSize?: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data, declaredSize } of entries) {
    const compressed = deflateRawSync(data);
    const nameBytes = Buffer.from(name, 'utf8');
    const header = (central: boolean) => {
      const b = Buffer.alloc(central ? 46 : 30);
      b.writeUInt32LE(central ? 0x02014b50 : 0x04034b50, 0);
      let p = 4;
      if (central) {
        b.writeUInt16LE(20, p);
        p += 2;
      }
      b.writeUInt16LE(20, p);
      b.writeUInt16LE(0, p + 2);
      b.writeUInt16LE(8, p + 4);
      b.writeUInt32LE(0, p + 6);
      b.writeUInt32LE(crc32(data), p + 10);
      b.writeUInt32LE(compressed.length, p + 14);
      b.writeUInt32LE(declaredSize ?? data.length, p + 18);
      b.writeUInt16LE(nameBytes.length, p + 22);
      if (central) b.writeUInt32LE(offset, 42);
      return Buffer.concat([b, nameBytes]);
    };
    const local = Buffer.concat([header(false), compressed]);
    centrals.push(header(true));
    locals.push(local);
    offset += local.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
const para = (text: string) => `<w:p><w:r><w:t xml:space="preserve">${text}</w:t></w:r></w:p>`;
function docx(bodyXml: string, extra: { name: string; data: Buffer; declaredSize?: number }[] = []): Buffer {
  return zip([
    { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
    {
      name: '_rels/.rels',
      data: Buffer.from(
        '<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
      ),
    },
    { name: 'word/document.xml', data: Buffer.from(`<?xml version="1.0"?><w:document ${W}><w:body>${bodyXml}</w:body></w:document>`) },
    ...extra,
  ]);
}

/** A PDF with a correct cross-reference table; `objects[i]` becomes object i + 1. */
function pdf(objects: string[]): Buffer {
  let out = '%PDF-1.7\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
const onePage = (contentObject: string) =>
  pdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    contentObject,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]);

async function failure(promise: Promise<unknown>): Promise<ExtractionFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExtractionFailure);
  return error as ExtractionFailure;
}

describe('text extraction of the dev corpus', () => {
  it.each(labels.map((l) => [l.file, l.text_layer] as const))('reads %s (text layer: %s)', async (file, textLayer) => {
    const doc = await extractText(read(file), mediaTypeFromFileName(file)!);
    const text = doc.pages.join('\n');
    if (textLayer) {
      expect(doc.needsOcr).toBeUndefined();
      expect(text.replace(/\s/g, '').length).toBeGreaterThan(500);
    } else {
      expect(doc.needsOcr).toBe(true);
      expect(text.trim()).toBe('');
    }
  });

  it('keeps one string per PDF page, in order', async () => {
    const doc = await extractText(read('ti_rohs-statement_szzq088p.pdf'), 'application/pdf');
    expect(doc.pages).toHaveLength(4);
    expect(doc.pages[0]).toContain('Statement on Restriction of Hazardous Substances');
    expect(doc.pages[1]).toContain('the CE marking, declaration of conformity');
  });

  it('runs a corpus PDF through the isolated worker too', async () => {
    const doc = await extractTextIsolated(read('raspberrypi_pico_eu-doc.pdf'), 'application/pdf', { timeoutMs: 30_000 });
    expect(doc.pages.join(' ')).toContain('European Declaration of Conformity');
  });
});

describe('text extraction of DOCX, HTML, plain text and markdown', () => {
  it('reads DOCX runs, tabs, tables, headers, and splits pages at page breaks', async () => {
    const body = [
      para('EU Declaration of Conformity'),
      '<w:p><w:r><w:t>Manufacturer:</w:t></w:r><w:r><w:tab/><w:t>ACME &amp; Co. GmbH</w:t></w:r></w:p>',
      '<w:tbl><w:tr><w:tc>' + para('Model') + '</w:tc><w:tc>' + para('X-100') + '</w:tc></w:tr></w:tbl>',
      '<w:p><w:r><w:br w:type="page"/></w:r></w:p>',
      '<w:p><w:r><w:lastRenderedPageBreak/><w:t>Made in Germany</w:t></w:r></w:p>',
      '<w:p><w:r><w:delText>deleted words</w:delText></w:r></w:p>',
    ].join('');
    const header = `<w:hdr ${W}>${para('ACME header line')}</w:hdr>`;
    const doc = await extractText(docx(body, [{ name: 'word/header1.xml', data: Buffer.from(header) }]), DOCX);
    expect(doc.pages).toHaveLength(2);
    expect(doc.pages[0]).toContain('ACME header line');
    expect(doc.pages[0]).toContain('Manufacturer:\tACME & Co. GmbH');
    expect(doc.pages[0]).toMatch(/Model\s+X-100/);
    expect(doc.pages[1]).toContain('Made in Germany');
    expect(doc.pages.join('')).not.toContain('deleted words');
  });

  it('reads HTML as visible text: no scripts or styles, entities decoded, image alt text kept', async () => {
    const html =
      '<!doctype html><html><head><meta charset="utf-8"><style>p{color:red}</style><script>var secret = 1;</script></head>' +
      '<body><h1>D&eacute;claration UE de conformit&eacute;</h1><p>Fabricant&nbsp;: Dupont SAS</p><img src="ce.png" alt="CE"><table><tr><td>RoHS</td><td>Yes</td></tr></table></body></html>';
    const doc = await extractText(Buffer.from(html), 'text/html; charset=utf-8');
    const text = doc.pages.join('\n');
    expect(text).toContain('Déclaration UE de conformité');
    expect(text).toContain('Dupont SAS');
    expect(text).toMatch(/\bCE\b/);
    expect(text).toMatch(/RoHS\s+Yes/);
    expect(text).not.toMatch(/secret|color/);
  });

  it('decodes plain text (BOM, Windows-1252 fallback) and splits at form feeds; markdown is kept as written', async () => {
    const plain = await extractText(Buffer.from('\ufeffpage one\fpage two\f', 'utf8'), 'text/plain');
    expect(plain.pages).toEqual(['page one', 'page two']);
    const latin = await extractText(Buffer.from([0x46, 0x61, 0x62, 0x72, 0x69, 0x71, 0x75, 0xe9]), 'text/plain');
    expect(latin.pages).toEqual(['Fabriqué']);
    const md = await extractText(Buffer.from('# EU-Konformitätserklärung\n\n![CE](ce.png)\n'), 'text/markdown');
    expect(md.pages[0]).toContain('![CE](ce.png)');
  });

  it('flags a PDF without text layer as needing OCR, and reads a generated one-page PDF', async () => {
    const text = 'BT /F1 12 Tf 72 720 Td (Made in France) Tj ET';
    expect((await extractText(onePage(`<< /Length ${text.length} >>\nstream\n${text}\nendstream`), 'application/pdf')).pages).toEqual(['Made in France']);
    const blank = onePage('<< /Length 0 >>\nstream\n\nendstream');
    expect(await extractText(blank, 'application/pdf')).toEqual({ pages: [''], needsOcr: true });
  });

  it('refuses a media type it cannot read', async () => {
    expect((await failure(extractText(Buffer.from('x'), 'image/png'))).reason).toBe('unsupported_media_type');
  });
});

describe('isolated extraction of hostile and broken files', () => {
  // One pool of warm workers for the whole group, as a service owns one: a worker that fails is replaced.
  const pool = new ExtractionPool();
  afterAll(() => pool.close());

  it('rejects random bytes named as a PDF', async () => {
    const random = new Uint8Array(64 * 1024).map((_, i) => (i * 7919 + 13) % 251);
    const f = await failure(extractTextIsolated(random, 'application/pdf', { pool }));
    expect(f.reason).toBe('invalid_file');
    expect(f.message).toMatch(/PDF/);
  });

  it('rejects a truncated PDF whose stream declares a huge length', async () => {
    const text = 'BT /F1 12 Tf (Hello) Tj ET';
    const whole = onePage(`<< /Length 99999999999 >>\nstream\n${text}\nendstream`);
    const truncated = whole.subarray(0, whole.indexOf('endstream'));
    const f = await failure(extractTextIsolated(truncated, 'application/pdf', { pool }));
    expect(f.reason).toBe('invalid_file');
    expect(f.message).toMatch(/PDF/);
  });

  it('rejects a real PDF cut to a third of its size', async () => {
    const bytes = read('raspberrypi_pico_eu-doc.pdf');
    const f = await failure(extractTextIsolated(bytes.subarray(0, Math.floor(bytes.length / 3)), 'application/pdf', { pool }));
    expect(f.reason).toBe('invalid_file');
  });

  it('stops a zip-bomb DOCX at the decompression cap, whatever size its header declares', async () => {
    // The document part: 128 MiB of spaces that claims to be 1 KiB.
    const huge = Buffer.alloc(128 * 1024 * 1024, 0x20);
    const file = zip([
      { name: '_rels/.rels', data: Buffer.from('<Relationships/>') },
      { name: 'word/document.xml', data: huge, declaredSize: 1024 },
    ]);
    expect(file.length).toBeLessThan(1024 * 1024);
    const f = await failure(extractTextIsolated(file, DOCX, { limits: { maxDecompressedBytes: 16 * 1024 * 1024 }, pool }));
    expect(f.reason).toBe('too_large');
    expect(f.message).toMatch(/zip bomb/);
  });

  it('rejects a DOCX that is not a ZIP archive', async () => {
    const f = await failure(extractTextIsolated(Buffer.from('PK\u0003\u0004 but nothing else'), DOCX, { pool }));
    expect(f.reason).toBe('invalid_file');
  });

  it('stops an extraction that runs past its time limit', async () => {
    const f = await failure(extractTextIsolated(read('ti_rohs-statement_szzq088p.pdf'), 'application/pdf', { timeoutMs: 50, pool }));
    expect(f.reason).toBe('timeout');
    expect(f.message).toMatch(/50 ms/);
  });

  it('stops an extraction that exhausts its heap', async () => {
    // Without a pool: a worker of its own, with this heap limit.
    const f = await failure(extractTextIsolated(read('ti_rohs-statement_szzq088p.pdf'), 'application/pdf', { maxOldGenerationMb: 4, timeoutMs: 30_000 }));
    expect(f.reason).toBe('memory_limit');
  });

  const compiled = path.resolve(here, '../../dist/features/extraction/text/index.js');
  it.skipIf(!fs.existsSync(compiled))('starts the compiled worker.js from dist/ (npm test builds it first)', async () => {
    const dist = (await import(compiled)) as { extractTextIsolated: typeof extractTextIsolated };
    expect((await dist.extractTextIsolated(Buffer.from('Hergestellt in Deutschland'), 'text/plain')).pages).toEqual(['Hergestellt in Deutschland']);
    // dist/ has its own copy of the ExtractionFailure class: compare by name and reason.
    const error = await dist.extractTextIsolated(Buffer.from('not a pdf'), 'application/pdf').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ExtractionFailure', reason: 'invalid_file' });
  });

  it('still extracts normally after all of the above (the test process survived)', async () => {
    const doc = await extractTextIsolated(Buffer.from('Made in China'), 'text/plain', { pool });
    expect(doc.pages).toEqual(['Made in China']);
    expect(pool.stats().retired).toBeGreaterThanOrEqual(1); // the timed-out worker was replaced
  });
});
