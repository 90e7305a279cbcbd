import { ExtractionPool } from './pool.js';
import { ExtractionFailure, type OcrSettings, type TextDocument, type TextLimits } from './types.js';

export interface IsolationOptions {
  /** Wall-clock limit for the extraction, from the moment a worker takes it (a worker's start included). */
  timeoutMs?: number;
  /**
   * V8 old-generation heap of the worker, in MiB (typed-array memory is capped by `limits` instead).
   * Picks the shared pool of workers with that heap; ignored when `pool` is given (its own applies).
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
  /** The pool to run in; default a pool shared by the process, one per `maxOldGenerationMb` (see `defaultExtractionPool`). */
  pool?: ExtractionPool;
}

/**
 * `extractText` in a worker thread with a heap limit and a timeout: a hostile or broken file
 * fails that extraction with an `ExtractionFailure` (reason `timeout`, `memory_limit`,
 * `invalid_file`, `too_large`, `worker_crashed` …) and harms nothing else. The worker comes from a
 * pool of warm workers (`ExtractionPool`): one that failed that way is replaced, the others go on.
 *
 * @example
 *   const { pages } = await extractTextIsolated(bytes, 'application/pdf', { timeoutMs: 20_000, maxOldGenerationMb: 256 });
 */
export function extractTextIsolated(
  bytes: Uint8Array,
  mediaType: string,
  { timeoutMs = 30_000, maxOldGenerationMb = 256, limits = {}, ocr, pool }: IsolationOptions = {},
): Promise<TextDocument> {
  let chosen: ExtractionPool;
  try {
    chosen = pool ?? defaultExtractionPool(maxOldGenerationMb);
  } catch (error) {
    return Promise.reject(new ExtractionFailure('worker_crashed', `no extraction worker: ${(error as Error).message}`));
  }
  return chosen.run(bytes, mediaType, { timeoutMs, limits, ...(ocr ? { ocr } : {}) });
}

const defaultPools = new Map<number, ExtractionPool>();

/**
 * The process's shared pool for workers with this heap limit (default size: `defaultExtractionWorkers()`),
 * made on first use. Its idle workers do not keep the process alive; `closeDefaultExtractionPools`
 * stops them at once.
 */
export function defaultExtractionPool(maxOldGenerationMb = 256): ExtractionPool {
  let pool = defaultPools.get(maxOldGenerationMb);
  if (!pool) {
    pool = new ExtractionPool({ maxOldGenerationMb });
    defaultPools.set(maxOldGenerationMb, pool);
  }
  return pool;
}

/** Closes the shared pools (a later `extractTextIsolated` makes a new one). */
export async function closeDefaultExtractionPools(): Promise<void> {
  const pools = [...defaultPools.values()];
  defaultPools.clear();
  await Promise.all(pools.map((p) => p.close()));
}
