import type { WarmOcrEngine } from '../ocr/warm.js';
import { DOCX, HTML, JPEG, MARKDOWN, PDF, PLAIN, PNG, parseMediaType } from './media-types.js';
import { extractPlainText } from './plain.js';
import { DEFAULT_TEXT_LIMITS, ExtractionFailure, asExtractionFailure, type OcrSettings, type TextDocument, type TextLimits } from './types.js';

export interface ExtractOptions {
  /**
   * OCR (tesseract, offline) for what has no text layer: a PDF none of whose pages has text comes
   * back as `{pages, ocr: true}` instead of `{pages: ['', …], needsOcr: true}`, and PNG and JPEG
   * images are read (without this option they are `unsupported_media_type`). `true` for the
   * defaults of `OcrSettings`.
   */
  ocr?: boolean | OcrSettings;
  /** Keep tesseract started between calls, in this keeper (a long-lived worker): see `WarmOcrEngine`. */
  warmOcr?: WarmOcrEngine;
}

/**
 * The text of a document, per page, in this process. Use `extractTextIsolated` for files from
 * outside: this one has no time or memory limit beyond the size caps in `limits` (and OCR's own).
 *
 * @example
 *   const { pages } = await extractText(await fs.readFile('doc.pdf'), 'application/pdf');
 *   const scan = await extractText(await fs.readFile('scan.pdf'), 'application/pdf', {}, { ocr: true });
 */
export async function extractText(bytes: Uint8Array, mediaType: string, limits: Partial<TextLimits> = {}, options: ExtractOptions = {}): Promise<TextDocument> {
  const all: TextLimits = { ...DEFAULT_TEXT_LIMITS, ...limits };
  const parsed = parseMediaType(mediaType);
  if (!parsed) throw new ExtractionFailure('unsupported_media_type', `no text extraction for ${mediaType}`);
  if (bytes.length > all.maxInputBytes) {
    throw new ExtractionFailure('too_large', `${bytes.length} bytes (at most ${all.maxInputBytes})`);
  }
  const settings = options.ocr === true ? {} : options.ocr || undefined;
  const ocr = settings && (options.warmOcr ? { ...settings, warm: options.warmOcr } : settings);
  try {
    switch (parsed.type) {
      // Parsers load on first use: a worker that reads a text file does not load pdf.js.
      case PDF: {
        const doc = await (await import('./pdf.js')).extractPdfText(bytes, all);
        if (!doc.needsOcr || !ocr) return doc;
        const { ocrPdf } = await import('../ocr/ocr.js');
        return capText({ pages: await ocrPdf(bytes, ocr.langs, { ...ocr, maxPages: all.maxPages }), ocr: true }, all.maxTextChars);
      }
      case PNG:
      case JPEG: {
        if (!ocr) throw new ExtractionFailure('unsupported_media_type', `no text extraction for ${parsed.type} without OCR (the ocr option)`);
        const { ocrImages } = await import('../ocr/ocr.js');
        return capText({ pages: await ocrImages([bytes], ocr.langs, ocr), ocr: true }, all.maxTextChars);
      }
      case DOCX:
        return capText((await import('./docx.js')).extractDocxText(bytes, all), all.maxTextChars);
      case HTML:
        return capText((await import('./html.js')).extractHtmlText(bytes, parsed.charset), all.maxTextChars);
      case PLAIN:
      case MARKDOWN:
        return capText(extractPlainText(bytes, parsed.charset), all.maxTextChars);
    }
  } catch (error) {
    throw asExtractionFailure(error, parsed.type);
  }
}

function capText(doc: TextDocument, maxChars: number): TextDocument {
  let left = maxChars;
  const pages = doc.pages.map((p) => {
    const kept = p.slice(0, Math.max(0, left));
    left -= kept.length;
    return kept;
  });
  return { ...doc, pages };
}
