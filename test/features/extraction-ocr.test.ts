import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocrImages, ocrPdf } from '../../src/features/extraction/ocr/index.js';
import { ExtractionFailure, extractText, extractTextIsolated } from '../../src/features/extraction/text/index.js';

/**
 * OCR (tesseract.js, offline language data). Test images are drawn with ImageMagick, which needs
 * the Debian packages `imagemagick` and `fonts-dejavu-core` (`/usr/bin/convert`: the machine's
 * `convert` on the PATH may be a stand-in). Each OCR engine start costs about 1 s; the file runs
 * in about 25 s on 2 cores.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, '../../../shared/corpus/dev');
const SCAN = 'sullins_rohs3-statement_scanned.pdf';
const label = (
  JSON.parse(fs.readFileSync(path.join(corpus, 'labels.json'), 'utf8')) as {
    file: string;
    text_layer: boolean;
    fields: { manufacturer: string; directives: string[]; manufacturer_address: string };
  }[]
).find((l) => l.file === SCAN)!;
const scan = () => new Uint8Array(fs.readFileSync(path.join(corpus, 'docs', SCAN)));

const CONVERT = '/usr/bin/convert';
let tmp: string;

/** Black text on white, one `-annotate` line per entry, written as `file` (format from its extension). */
function drawText(file: string, lines: string[], extra: string[] = []): Buffer {
  const out = path.join(tmp, file);
  const args = ['-size', '1400x' + (60 + lines.length * 70), 'xc:white', '-font', 'DejaVu-Sans', '-pointsize', '40', '-fill', 'black'];
  lines.forEach((line, i) => args.push('-annotate', `+30+${80 + i * 70}`, line));
  execFileSync(CONVERT, [...args, ...extra, out]);
  return fs.readFileSync(out);
}

/** A PBM (P4) file's packed rows, inverted into PDF's 1-bit sense (0 = black, or 0 = painted for a mask). */
function pbmToPdfBits(pbm: Buffer): { width: number; height: number; bits: Buffer } {
  const m = /^P4\s+(\d+)\s+(\d+)\s/.exec(pbm.subarray(0, 40).toString('latin1'))!;
  const bits = Buffer.from(pbm.subarray(m[0].length)).map((b) => ~b & 0xff);
  return { width: Number(m[1]), height: Number(m[2]), bits: Buffer.from(bits) };
}

interface PdfPage {
  mediaBox: [number, number];
  rotate?: number;
  content: string;
  image: { dict: string; data: Buffer };
}

/** A PDF whose pages each draw one image XObject (/Im0), as a scanner writes them. */
function scannedPdf(pages: PdfPage[]): Buffer {
  const objects: Buffer[] = [];
  const add = (head: string, stream?: Buffer) => {
    objects.push(
      stream
        ? Buffer.concat([Buffer.from(`${head.replace(/>>$/, ` /Length ${stream.length} >>`)}\nstream\n`, 'latin1'), stream, Buffer.from('\nendstream')])
        : Buffer.from(head, 'latin1'),
    );
    return objects.length;
  };
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add('PAGES');
  const kids: number[] = [];
  for (const p of pages) {
    const image = add(`<< /Type /XObject /Subtype /Image ${p.image.dict} >>`, p.image.data);
    const content = add('<< >>', Buffer.from(p.content, 'latin1'));
    kids.push(
      add(
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${p.mediaBox.join(' ')}]${p.rotate ? ` /Rotate ${p.rotate}` : ''} /Contents ${content} 0 R /Resources << /XObject << /Im0 ${image} 0 R >> >> >>`,
      ),
    );
  }
  objects[1] = Buffer.from(`<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`, 'latin1');
  const chunks: Buffer[] = [Buffer.from('%PDF-1.7\n', 'latin1')];
  let offset = chunks[0]!.length;
  const offsets = objects.map((o, i) => {
    const at = offset;
    const chunk = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`, 'latin1'), o, Buffer.from('\nendobj\n', 'latin1')]);
    chunks.push(chunk);
    offset += chunk.length;
    return at;
  });
  const xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  chunks.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${offset}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(chunks);
}

async function failure(promise: Promise<unknown>): Promise<ExtractionFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExtractionFailure);
  return error as ExtractionFailure;
}

/** OCR output compared with spaces collapsed. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

beforeAll(() => {
  const version = fs.existsSync(CONVERT) ? execFileSync(CONVERT, ['-version']).toString() : '';
  if (!version.includes('ImageMagick')) {
    throw new Error(`these tests draw their images with ImageMagick: apt-get install -y imagemagick fonts-dejavu-core (${CONVERT})`);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-ocr-'));
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('OCR of the scanned corpus document', { timeout: 60_000 }, () => {
  it('reads the labelled words of the scan, in the isolated worker', async () => {
    expect(label.text_layer).toBe(false);
    // Without OCR the scan stays an empty document that needs OCR.
    expect(await extractText(scan(), 'application/pdf')).toEqual({ pages: [''], needsOcr: true });

    const doc = await extractTextIsolated(scan(), 'application/pdf', { ocr: true, timeoutMs: 60_000 });
    expect(doc.ocr).toBe(true);
    expect(doc.needsOcr).toBeUndefined();
    expect(doc.pages).toHaveLength(1);
    const text = flat(doc.pages[0]!);
    expect(text).toContain('RoHS3 Compliance Statement');
    expect(text).toContain(label.fields.manufacturer);
    for (const directive of label.fields.directives) expect(text).toContain(directive);
    expect(text).toContain(label.fields.manufacturer_address.split(',')[0]);
    // The substance table (10 rows, Cd at 100 ppm, the others at 1000 ppm).
    expect(text).toMatch(/Cadmium and Cadmium Compounds 100 PPM/);
    expect(text.match(/1000 PPM/g)?.length).toBeGreaterThanOrEqual(8);
  });

  it('stops an OCR that runs past the extraction time limit', async () => {
    const started = Date.now();
    const f = await failure(extractTextIsolated(scan(), 'application/pdf', { ocr: true, timeoutMs: 1500 }));
    expect(f.reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('OCR of images', { timeout: 60_000 }, () => {
  it('reads English text from a PNG and a JPEG', async () => {
    const png = drawText('en.png', ['RoHS compliant 2011/65/EU', 'Made in Germany, model X-100']);
    const jpeg = drawText('en.jpg', ['REACH SVHC below 0.1% w/w'], ['-quality', '85']);
    const [fromPng, fromJpeg] = await ocrImages([png, jpeg], undefined, { timeoutMs: 30_000 });
    expect(fromPng).toContain('RoHS compliant 2011/65/EU');
    expect(fromPng).toContain('Made in Germany, model X-100');
    expect(fromJpeg).toContain('REACH SVHC below 0.1% w/w');
  });

  it('reads French and German, accents included (image/png and image/jpeg through extractText)', async () => {
    const fr = drawText('fr.png', ['Déclaration UE de conformité', 'Fabricant : Société Générale des Lampes']);
    const de = drawText('de.jpg', ['EU-Konformitätserklärung', 'Hersteller: Müller & Söhne GmbH, Hauptstraße 5']);
    const french = await extractText(fr, 'image/png', {}, { ocr: true });
    expect(french.ocr).toBe(true);
    expect(flat(french.pages[0]!)).toContain('Déclaration UE de conformité');
    expect(flat(french.pages[0]!)).toContain('Société Générale des Lampes');
    const german = await extractTextIsolated(de, 'image/jpeg', { ocr: true, timeoutMs: 30_000 });
    expect(german).toMatchObject({ ocr: true, pages: [expect.stringContaining('EU-Konformitätserklärung')] });
    expect(german.pages[0]).toContain('Müller & Söhne GmbH, Hauptstraße 5');
  });

  it('refuses images without the OCR option, and what is not an image', async () => {
    const png = drawText('small.png', ['x']);
    expect((await failure(extractText(png, 'image/png'))).reason).toBe('unsupported_media_type');
    const notImage = await failure(ocrImages([Buffer.from('GIF89a, or anything else')]));
    expect(notImage.reason).toBe('invalid_file');
    const truncated = await failure(ocrImages([png.subarray(0, 100)], ['eng']));
    expect(truncated.reason).toBe('invalid_file');
    expect(truncated.message).toMatch(/read image/);
    const language = await failure(ocrImages([png], ['klingon' as 'eng']));
    expect(language.reason).toBe('ocr_unavailable');
  });

  it('stops the OCR engine at its time and memory limits', async () => {
    const png = drawText('limits.png', ['Time and memory limits']);
    const started = Date.now();
    const slow = await failure(ocrImages([png], ['eng'], { timeoutMs: 200 }));
    expect(slow.reason).toBe('timeout');
    expect(slow.message).toMatch(/200 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
    const small = await failure(ocrImages([png], ['eng'], { maxMemoryMb: 16 }));
    expect(small.reason).toBe('memory_limit');
    // And the next call works.
    expect(await ocrImages([png], ['eng'])).toEqual(['Time and memory limits']);
  });
});

describe('OCR of scanned PDFs made here', { timeout: 60_000 }, () => {
  it('draws each page from its image (JPEG, 1-bit, image mask; rotated page) and reads it', async () => {
    // Page 1: a greyscale JPEG (DCTDecode) filling the page, at 200 dpi.
    const jpeg = drawText('p1.jpg', ['EU-Konformitätserklärung', 'Hersteller: Müller GmbH'], ['-colorspace', 'Gray', '-quality', '90']);
    // Page 2: a 1-bit Flate image stored sideways, on a page displayed with /Rotate 90.
    const sideways = pbmToPdfBits(drawText('p2.pbm', ['Déclaration UE de conformité', 'Fabricant : Dupont SAS'], ['-rotate', '-90', '-monochrome']));
    // Page 3: an image mask painted in black, placed in the lower half of a larger page.
    const mask = pbmToPdfBits(drawText('p3.pbm', ['Restriction of Hazardous Substances'], ['-monochrome']));
    const pt = (px: number) => (px * 72) / 200;
    const p1 = { w: 1400, h: 200 };
    const bytes = scannedPdf([
      {
        mediaBox: [pt(p1.w), pt(p1.h)],
        content: `q ${pt(p1.w)} 0 0 ${pt(p1.h)} 0 0 cm /Im0 Do Q`,
        image: { dict: `/Width ${p1.w} /Height ${p1.h} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode`, data: jpeg },
      },
      {
        mediaBox: [pt(sideways.width), pt(sideways.height)],
        rotate: 90,
        content: `q ${pt(sideways.width)} 0 0 ${pt(sideways.height)} 0 0 cm /Im0 Do Q`,
        image: {
          dict: `/Width ${sideways.width} /Height ${sideways.height} /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode`,
          data: deflateSync(sideways.bits),
        },
      },
      {
        mediaBox: [612, 792],
        content: `0 g q ${pt(mask.width)} 0 0 ${pt(mask.height)} 36 200 cm /Im0 Do Q`,
        image: { dict: `/Width ${mask.width} /Height ${mask.height} /ImageMask true /BitsPerComponent 1 /Filter /FlateDecode`, data: deflateSync(mask.bits) },
      },
    ]);
    expect(await extractText(bytes, 'application/pdf')).toMatchObject({ needsOcr: true });
    const pages = (await ocrPdf(bytes, undefined, { timeoutMs: 30_000 })).map(flat);
    expect(pages).toHaveLength(3);
    expect(pages[0]).toContain('EU-Konformitätserklärung Hersteller: Müller GmbH');
    expect(pages[1]).toContain('Déclaration UE de conformité Fabricant : Dupont SAS');
    expect(pages[2]).toBe('Restriction of Hazardous Substances');
  });
});
