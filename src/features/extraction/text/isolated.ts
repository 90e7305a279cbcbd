import { ExtractionPool } from './pool.js';
import { ExtractionFailure, type OcrSettings, type TextDocument, type TextLimits } from './types.js';

export interface IsolationOptions {
  /** Wall-clock limit for the extraction, from the moment a worker takes it (a worker's start included). */
  timeoutMs?: number;
  /**
   * V8 old-generation heap of the worker, in MiB (typed-array memory is capped by `limits` instead).
   * Applies to the worker started without `pool`; ignored when `pool` is given (its own applies).
   */
  maxOldGenerationMb?: number;
  limits?: Partial<TextLimits>;
  /**
   * OCR for scanned PDFs and PNG/JPEG images (see `extractText`'s option). It runs inside the
   * extraction worker, in a worker thread of its own that stops with it; `timeoutMs` above bounds
   * it too. Its engine memory (WebAssembly, outside the heap limit above) has its own cap,
   * `maxMemoryMb` (1024 MiB by default).
   */
  ocr?: boolean | OcrSettings;
  /**
   * The pool of warm workers to run in, owned (and closed) by the caller: a service makes one where
   * it is built. Without it the document gets a worker of its own, stopped when it is read (a worker
   * start, module loading and tesseract's start each time: for one-off calls and tests).
   */
  pool?: ExtractionPool;
}

/**
 * `extractText` in a worker thread with a heap limit and a timeout: a hostile or broken file
 * fails that extraction with an `ExtractionFailure` (reason `timeout`, `memory_limit`,
 * `invalid_file`, `too_large`, `worker_crashed` …) and harms nothing else. The worker comes from
 * the caller's pool of warm workers (`ExtractionPool`, option `pool`): one that failed that way is
 * replaced, the others go on. Without a pool, a worker is started for this document and stopped after.
 *
 * @example
 *   const pool = new ExtractionPool({ size: 2, maxOldGenerationMb: 256 }); // once, where the service is built
 *   const { pages } = await extractTextIsolated(bytes, 'application/pdf', { timeoutMs: 20_000, pool });
 *   await pool.close(); // with the service
 */
export async function extractTextIsolated(
  bytes: Uint8Array,
  mediaType: string,
  { timeoutMs = 30_000, maxOldGenerationMb = 256, limits = {}, ocr, pool }: IsolationOptions = {},
): Promise<TextDocument> {
  const options = { timeoutMs, limits, ...(ocr ? { ocr } : {}) };
  if (pool) return pool.run(bytes, mediaType, options);
  let own: ExtractionPool;
  try {
    own = new ExtractionPool({ size: 1, maxOldGenerationMb, idleTimeoutMs: 0 });
  } catch (error) {
    throw new ExtractionFailure('worker_crashed', `no extraction worker: ${(error as Error).message}`);
  }
  try {
    return await own.run(bytes, mediaType, options);
  } finally {
    await own.close();
  }
}
