import { convert, type HtmlToTextOptions } from 'html-to-text';
import { decodeText, sniffHtmlCharset } from './decode.js';
import type { TextDocument } from './types.js';

const OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  // Images are kept as their alt text only: a CE logo often survives only as alt="CE".
  formatters: {
    altOnly: (elem, _walk, builder) => {
      const alt = typeof elem.attribs?.alt === 'string' ? elem.attribs.alt.trim() : '';
      if (alt) builder.addInline(` ${alt} `);
    },
  },
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'altOnly' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'noscript', format: 'skip' },
    { selector: 'template', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
  limits: { maxInputLength: 16_000_000, maxDepth: 256, maxChildNodes: 100_000, ellipsis: '' },
};

/** text/html: visible text, one page. */
export function extractHtmlText(bytes: Uint8Array, charset?: string): TextDocument {
  const html = decodeText(bytes, charset ?? sniffHtmlCharset(bytes));
  return { pages: [convert(html, OPTIONS)] };
}
