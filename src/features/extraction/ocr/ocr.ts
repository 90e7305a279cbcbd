import { ExtractionFailure, asExtractionFailure } from '../text/types.js';
import { OcrEngine, type OcrEngineOptions } from './engine.js';
import { DEFAULT_OCR_LANGUAGES, dominantLanguage, type OcrLanguage } from './languages.js';
import type { WarmOcrEngine } from './warm.js';
import { checkPageCount, openPdf, renderPdfPage, toPgm, type PageRenderOptions } from './pdf-pages.js';

export interface OcrOptions extends OcrEngineOptions {
  /** Images (PNG, JPEG) with more pixels than this are refused as `too_large` before OCR. */
  maxImagePixels?: number;
  /**
   * Take the engine from (and give it back to) this keeper of a started engine instead of starting
   * and closing one for the call (a long-lived extraction worker; see `WarmOcrEngine`).
   */
  warm?: WarmOcrEngine;
}

export interface PdfOcrOptions extends OcrOptions, PageRenderOptions {
  /** Cap on the number of pages (`too_large` above). */
  maxPages?: number;
}

const DEFAULT_MAX_IMAGE_PIXELS = 100_000_000;

/**
 * The text of each image (PNG or JPEG), one string per image, by tesseract in its own worker
 * thread with the language data of the `@tesseract.js-data/*` packages (nothing is downloaded).
 * `timeoutMs` bounds the whole call, engine start included (about 1 s), and `maxMemoryMb` the
 * engine's memory; either stops the worker and fails with an `ExtractionFailure` (`timeout`,
 * `memory_limit`); an image that is not PNG or JPEG, or that tesseract cannot read, fails with
 * `invalid_file`.
 *
 * @example
 *   const [text] = await ocrImages([await fs.readFile('label.png')], ['eng', 'deu'], { timeoutMs: 30_000 });
 */
export async function ocrImages(images: readonly Uint8Array[], langs: readonly OcrLanguage[] = DEFAULT_OCR_LANGUAGES, options: OcrOptions = {}): Promise<string[]> {
  const maxPixels = options.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  images.forEach((image, i) => checkImage(image, `image ${i + 1}`, maxPixels));
  if (images.length === 0) return [];
  const engine = await startEngine(langs, options);
  try {
    const texts: string[] = [];
    for (const image of images) texts.push(tidy(await readInItsLanguage(engine, image)));
    return texts;
  } finally {
    await releaseEngine(engine, langs, options);
  }
}

/**
 * OCR of a scanned PDF: each page's images are drawn into one greyscale page bitmap (see
 * `renderPdfPage`) and read by tesseract; one string per page, empty for a page with no image.
 * Same engine, limits and failures as `ocrImages`; the page drawing runs in the calling thread
 * (use `extractTextIsolated` with `ocr` for files from outside).
 */
export async function ocrPdf(bytes: Uint8Array, langs: readonly OcrLanguage[] = DEFAULT_OCR_LANGUAGES, options: PdfOcrOptions = {}): Promise<string[]> {
  const pdf = await openPdf(bytes, options.maxImagePixels);
  let engine: Promise<OcrEngine> | undefined;
  try {
    checkPageCount(pdf, options.maxPages ?? Number.POSITIVE_INFINITY);
    // The engine starts while the first page is drawn.
    engine = startEngine(langs, options);
    engine.catch(() => undefined);
    const texts: string[] = [];
    for (let n = 1; n <= pdf.numPages; n++) {
      const bitmap = await renderPdfPage(pdf, n, options).catch((error: unknown) => {
        throw asExtractionFailure(error, `PDF page ${n}`);
      });
      texts.push(bitmap ? tidy(await readInItsLanguage(await engine, toPgm(bitmap))) : '');
    }
    return texts;
  } finally {
    await engine?.then(
      (e) => releaseEngine(e, langs, options),
      () => undefined,
    );
    await pdf.destroy().catch(() => undefined);
  }
}

/** A new engine for this call, or the warm one when the caller keeps one. */
function startEngine(langs: readonly OcrLanguage[], options: OcrOptions): Promise<OcrEngine> {
  return options.warm ? options.warm.acquire(langs, options) : OcrEngine.start(langs, options);
}

/** Closes the call's engine, or hands it back to the caller's keeper. */
function releaseEngine(engine: OcrEngine, langs: readonly OcrLanguage[], options: OcrOptions): Promise<void> {
  return options.warm ? options.warm.release(engine, langs, options) : engine.close();
}

/**
 * Reads the image with the engine's primary language first; when the text turns out to be in
 * another of its languages, makes that one primary and reads the image again (see
 * `DEFAULT_OCR_LANGUAGES`). The engine keeps the new primary language for the next images.
 */
async function readInItsLanguage(engine: OcrEngine, image: Uint8Array): Promise<string> {
  const text = await engine.recognize(image);
  const lang = dominantLanguage(text, engine.langs);
  if (!lang || lang === engine.primary) return text;
  await engine.setPrimary(lang);
  return engine.recognize(image);
}

/** Tesseract's text: lines without trailing blanks, at most one empty line in a row, no form feed. */
function tidy(text: string): string {
  return text
    .replace(/\f/g, '')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Refuses what is not a PNG or JPEG (or a PGM from `renderPdfPage`), and images too large to read safely. */
function checkImage(image: Uint8Array, what: string, maxPixels: number): void {
  const size = imageSize(image);
  if (!size) throw new ExtractionFailure('invalid_file', `OCR: ${what} is not a PNG or JPEG image (or is truncated)`);
  if (size.width < 1 || size.height < 1) throw new ExtractionFailure('invalid_file', `OCR: ${what} has no pixels`);
  if (size.width * size.height > maxPixels) {
    throw new ExtractionFailure('too_large', `OCR: ${what} is ${size.width}×${size.height} pixels (at most ${maxPixels} pixels)`);
  }
}

/** Width and height from a PNG's IHDR, a JPEG's SOF marker or a binary PNM header. */
export function imageSize(b: Uint8Array): { width: number; height: number } | undefined {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    let p = 2;
    while (p + 9 < b.length) {
      if (b[p] !== 0xff) return undefined;
      const marker = b[p + 1]!;
      if (marker === 0xff) {
        p++;
        continue;
      }
      // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC): height then width.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: view.getUint16(p + 5), width: view.getUint16(p + 7) };
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        p += 2;
        continue;
      }
      p += 2 + view.getUint16(p + 2);
    }
    return undefined;
  }
  const pnm = /^P[456]\s+(\d+)\s+(\d+)\s/.exec(new TextDecoder('latin1').decode(b.subarray(0, 64)));
  if (pnm) return { width: Number(pnm[1]), height: Number(pnm[2]) };
  return undefined;
}
