import { decodeText, splitFormFeeds } from './decode.js';
import type { TextDocument } from './types.js';

/** text/plain and text/markdown: decoded as is (the rules engine reads markdown syntax itself). */
export function extractPlainText(bytes: Uint8Array, charset?: string): TextDocument {
  return { pages: splitFormFeeds(decodeText(bytes, charset).replace(/\r\n?/g, '\n')) };
}
