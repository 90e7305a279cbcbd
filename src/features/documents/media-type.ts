import { fileTypeFromBuffer } from 'file-type';

export const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** The media types a document may have. */
export const ACCEPTED_MEDIA_TYPES = ['application/pdf', DOCX, 'text/html', 'text/plain', 'text/markdown', 'image/png', 'image/jpeg'] as const;
export type DocumentMediaType = (typeof ACCEPTED_MEDIA_TYPES)[number];

const utf8 = new TextDecoder('utf-8', { fatal: true });

function asText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return utf8.decode(bytes.subarray(0, 64 * 1024));
  } catch {
    // A multi-byte character cut at the 64 KiB boundary is still text.
    try {
      return utf8.decode(bytes.subarray(0, 64 * 1024 - 3));
    } catch {
      return undefined;
    }
  }
}

/**
 * The media type of a document, read from its bytes (the file name is never trusted): binary
 * formats by their signature, text by its content. Undefined for anything not accepted.
 */
export async function detectMediaType(bytes: Buffer): Promise<DocumentMediaType | undefined> {
  const detected = await fileTypeFromBuffer(bytes);
  if (detected) {
    return (ACCEPTED_MEDIA_TYPES as readonly string[]).includes(detected.mime) ? (detected.mime as DocumentMediaType) : undefined;
  }
  const text = asText(bytes);
  if (text === undefined || text.trim() === '') return undefined;
  const head = text.slice(0, 2048).trimStart().toLowerCase();
  if (/^(<!doctype html|<html|<head|<body)/.test(head) || /<html[\s>]/.test(head)) return 'text/html';
  if (/^#{1,6} \S/m.test(text) || /^\s*[-*] \S/m.test(text) || /\[[^\]]+\]\([^)]+\)/.test(text) || /^\|.+\|\s*$/m.test(text)) {
    return 'text/markdown';
  }
  return 'text/plain';
}
