import { DOCX, HTML, MARKDOWN, PDF, PLAIN, parseMediaType } from './media-types.js';
import { extractPlainText } from './plain.js';
import { DEFAULT_TEXT_LIMITS, ExtractionFailure, asExtractionFailure, type TextDocument, type TextLimits } from './types.js';

/**
 * The text of a document, per page, in this process. Use `extractTextIsolated` for files from
 * outside: this one has no time or memory limit beyond the size caps in `limits`.
 *
 * @example
 *   const { pages } = await extractText(await fs.readFile('doc.pdf'), 'application/pdf');
 */
export async function extractText(
  bytes: Uint8Array,
  mediaType: string,
  limits: Partial<TextLimits> = {},
): Promise<TextDocument> {
  const all: TextLimits = { ...DEFAULT_TEXT_LIMITS, ...limits };
  const parsed = parseMediaType(mediaType);
  if (!parsed) throw new ExtractionFailure('unsupported_media_type', `no text extraction for ${mediaType}`);
  if (bytes.length > all.maxInputBytes) {
    throw new ExtractionFailure('too_large', `${bytes.length} bytes (at most ${all.maxInputBytes})`);
  }
  try {
    switch (parsed.type) {
      // Parsers load on first use: a worker that reads a text file does not load pdf.js.
      case PDF:
        return await (await import('./pdf.js')).extractPdfText(bytes, all);
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
