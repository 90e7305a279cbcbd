/** What text extraction gives back, the limits it runs under, and the one error it throws. */
import type { OcrLanguage } from '../ocr/languages.js';

export interface TextDocument {
  /** One string per page (PDF) or a single page (HTML, plain text, markdown; DOCX splits at page breaks). */
  pages: string[];
  /** PDF only: no page has a text layer (a scan); the pages are empty and OCR is needed. */
  needsOcr?: boolean;
  /** PDF only: 1-based numbers of the pages without a text layer, when some pages have one. */
  pagesWithoutText?: number[];
  /** The text was read by OCR (a scanned PDF, every page; or an image): expect recognition errors. */
  ocr?: boolean;
}

/**
 * OCR for scanned PDFs and images, off unless asked for (`extractText`'s `ocr` option). The
 * defaults: English, French and German (`DEFAULT_OCR_LANGUAGES`); the time limit of the call
 * (`extractTextIsolated`'s `timeoutMs`, else 120 s); 1024 MiB of engine memory.
 */
export interface OcrSettings {
  /** Tesseract languages, the one to try first first (OCR switches when a page reads as another). */
  langs?: OcrLanguage[];
  timeoutMs?: number;
  maxMemoryMb?: number;
}

export interface TextLimits {
  /** Input size cap in bytes. */
  maxInputBytes: number;
  /** Cap on bytes decompressed from a DOCX (zip) archive, all entries read counted together. */
  maxDecompressedBytes: number;
  /** Cap on the number of pages of a PDF. */
  maxPages: number;
  /** Cap on the characters of extracted text kept (the rest is dropped, never an error). */
  maxTextChars: number;
}

export const DEFAULT_TEXT_LIMITS: Readonly<TextLimits> = Object.freeze({
  maxInputBytes: 64 * 1024 * 1024,
  maxDecompressedBytes: 64 * 1024 * 1024,
  maxPages: 2000,
  maxTextChars: 5_000_000,
});

export type ExtractionFailureReason =
  | 'unsupported_media_type'
  | 'invalid_file'
  | 'too_large'
  | 'timeout'
  | 'memory_limit'
  | 'worker_crashed'
  /** OCR was asked for but its engine or language data is not installed. */
  | 'ocr_unavailable';

/** A document whose text could not be extracted, with a reason a person can act on. */
export class ExtractionFailure extends Error {
  override name = 'ExtractionFailure';
  constructor(
    readonly reason: ExtractionFailureReason,
    message: string,
  ) {
    super(message);
  }
}

/** Wraps anything thrown by a parser into an `ExtractionFailure` (reason `invalid_file` unless known). */
export function asExtractionFailure(error: unknown, what: string): ExtractionFailure {
  if (error instanceof ExtractionFailure) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RangeError && /allocation|too large|Invalid array length/i.test(message)) {
    return new ExtractionFailure('too_large', `${what}: ${message}`);
  }
  return new ExtractionFailure('invalid_file', `${what}: ${message}`);
}

/** `workerData` of an extraction worker thread (see `ExtractionPool`). */
export const WORKER_KIND = 'dpp-extract-text';
export interface WorkerData {
  kind: typeof WORKER_KIND;
}

/** One document for an extraction worker. */
export interface WorkerJob {
  bytes: Uint8Array;
  mediaType: string;
  limits: Partial<TextLimits>;
  ocr?: OcrSettings;
}

/** What the pool posts to a worker, and what the worker answers (`jobs`: documents it has handled, this one included). */
export interface WorkerRequest {
  id: number;
  job: WorkerJob;
}
export type WorkerReply = { id: number; jobs: number } & ({ ok: true; result: TextDocument } | { ok: false; reason: ExtractionFailureReason; message: string });
