/** Media types text can be extracted from, and the file-name fallback the evaluation uses. */

export const PDF = 'application/pdf';
export const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const HTML = 'text/html';
export const PLAIN = 'text/plain';
export const MARKDOWN = 'text/markdown';
/** Images: read only with OCR (`extractText(…, {ocr})`), refused as `unsupported_media_type` otherwise. */
export const PNG = 'image/png';
export const JPEG = 'image/jpeg';

export type TextMediaType = typeof PDF | typeof DOCX | typeof HTML | typeof PLAIN | typeof MARKDOWN | typeof PNG | typeof JPEG;

const ALIASES: Record<string, TextMediaType> = {
  [PDF]: PDF,
  'application/x-pdf': PDF,
  [DOCX]: DOCX,
  [HTML]: HTML,
  'application/xhtml+xml': HTML,
  [PLAIN]: PLAIN,
  [MARKDOWN]: MARKDOWN,
  'text/x-markdown': MARKDOWN,
  [PNG]: PNG,
  [JPEG]: JPEG,
  'image/jpg': JPEG,
  'image/pjpeg': JPEG,
};

export interface ParsedMediaType {
  type: TextMediaType;
  charset?: string;
}

/** `text/html; charset=ISO-8859-1` → `{type: 'text/html', charset: 'iso-8859-1'}`; undefined when unsupported. */
export function parseMediaType(mediaType: string): ParsedMediaType | undefined {
  const [essence = '', ...params] = mediaType.split(';');
  const type = ALIASES[essence.trim().toLowerCase()];
  if (!type) return undefined;
  const charset = params.map((p) => /^\s*charset\s*=\s*"?([^";\s]+)"?\s*$/i.exec(p)?.[1]).find((c) => c !== undefined);
  return charset ? { type, charset: charset.toLowerCase() } : { type };
}

const BY_EXTENSION: Record<string, TextMediaType> = {
  pdf: PDF,
  docx: DOCX,
  html: HTML,
  htm: HTML,
  xhtml: HTML,
  txt: PLAIN,
  text: PLAIN,
  md: MARKDOWN,
  markdown: MARKDOWN,
  png: PNG,
  jpg: JPEG,
  jpeg: JPEG,
};

/** Media type from a file name's extension (trusted only by tools such as the evaluation). */
export function mediaTypeFromFileName(fileName: string): TextMediaType | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  return ext ? BY_EXTENSION[ext] : undefined;
}
