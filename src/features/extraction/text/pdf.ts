import { getDocumentProxy } from 'unpdf';
import { ExtractionFailure, asExtractionFailure, type TextDocument, type TextLimits } from './types.js';

/** A page with fewer letters or digits than this has no usable text layer (a scanned page). */
const MIN_TEXT_CHARS = 8;

interface TextItemLike {
  str?: string;
  hasEOL?: boolean;
}

/**
 * application/pdf: the text layer through pdf.js (unpdf's serverless build), one string per page,
 * text items in content order with pdf.js's end-of-line marks. A PDF with no text on any page is a
 * scan: its pages come back empty with `needsOcr: true`.
 */
export async function extractPdfText(bytes: Uint8Array, limits: TextLimits): Promise<TextDocument> {
  if (!hasPdfHeader(bytes)) throw new ExtractionFailure('invalid_file', 'PDF: no %PDF- header in the first 1024 bytes');
  // pdf.js takes ownership of the buffer it is given: hand it a copy.
  const pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0, isEvalSupported: false, stopAtErrors: false }).catch((error: unknown) => {
    if ((error as { name?: string }).name === 'PasswordException') {
      throw new ExtractionFailure('invalid_file', 'PDF: encrypted, it needs a password to open');
    }
    throw asExtractionFailure(error, 'PDF');
  });
  try {
    if (pdf.numPages < 1) throw new ExtractionFailure('invalid_file', 'PDF: the document has no pages');
    if (pdf.numPages > limits.maxPages) {
      throw new ExtractionFailure('too_large', `PDF: ${pdf.numPages} pages (at most ${limits.maxPages})`);
    }
    const pages: string[] = [];
    let chars = 0;
    for (let n = 1; n <= pdf.numPages; n++) {
      const text = await pageText(pdf, n).catch((error: unknown) => {
        throw asExtractionFailure(error, `PDF page ${n}`);
      });
      const kept = chars < limits.maxTextChars ? text.slice(0, limits.maxTextChars - chars) : '';
      chars += kept.length;
      pages.push(kept);
    }
    return withOcrFlags(pages);
  } finally {
    await pdf.destroy().catch(() => undefined);
  }
}

async function pageText(pdf: Awaited<ReturnType<typeof getDocumentProxy>>, n: number): Promise<string> {
  const page = await pdf.getPage(n);
  const content = await page.getTextContent();
  let text = '';
  for (const item of content.items as TextItemLike[]) {
    if (typeof item.str !== 'string') continue;
    text += item.str + (item.hasEOL ? '\n' : '');
  }
  page.cleanup();
  return text.replace(/[ \t]+\n/g, '\n').replace(/\u0000/g, '');
}

function hasPdfHeader(bytes: Uint8Array): boolean {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 1024));
  return head.includes('%PDF-');
}

function withOcrFlags(pages: string[]): TextDocument {
  const empty = pages.flatMap((p, i) => ((p.match(/[\p{L}\p{N}]/gu)?.length ?? 0) < MIN_TEXT_CHARS ? [i + 1] : []));
  if (empty.length === pages.length) return { pages: pages.map(() => ''), needsOcr: true };
  return empty.length ? { pages, pagesWithoutText: empty } : { pages };
}
