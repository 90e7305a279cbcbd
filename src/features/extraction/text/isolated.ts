import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../../lib/module-worker.js';
import {
  ExtractionFailure,
  WORKER_KIND,
  type ExtractionFailureReason,
  type OcrSettings,
  type TextDocument,
  type TextLimits,
  type WorkerJob,
} from './types.js';

export interface IsolationOptions {
  /** Wall-clock limit for the whole extraction, worker start included. */
  timeoutMs?: number;
  /** V8 old-generation heap of the worker, in MiB (typed-array memory is capped by `limits` instead). */
  maxOldGenerationMb?: number;
  limits?: Partial<TextLimits>;
  /**
   * OCR for scanned PDFs and PNG/JPEG images (see `extractText`'s option). It runs inside the
   * extraction worker, in a worker thread of its own that stops with it; `timeoutMs` above bounds
   * it too. Its engine memory (WebAssembly, outside the heap limit above) has its own cap,
   * `maxMemoryMb` (1024 MiB by default).
   */
  ocr?: boolean | OcrSettings;
}

type WorkerReply = { ok: true; result: TextDocument } | { ok: false; reason: ExtractionFailureReason; message: string };

/**
 * `extractText` in a worker thread with a heap limit and a timeout: a hostile or broken file
 * fails that extraction with an `ExtractionFailure` (reason `timeout`, `memory_limit`,
 * `invalid_file`, `too_large`, `worker_crashed` …) and harms nothing else. One worker per call.
 *
 * @example
 *   const { pages } = await extractTextIsolated(bytes, 'application/pdf', { timeoutMs: 20_000, maxOldGenerationMb: 256 });
 */
export function extractTextIsolated(
  bytes: Uint8Array,
  mediaType: string,
  { timeoutMs = 30_000, maxOldGenerationMb = 256, limits = {}, ocr }: IsolationOptions = {},
): Promise<TextDocument> {
  return new Promise((resolve, reject) => {
    const job: WorkerJob = { kind: WORKER_KIND, bytes, mediaType, limits };
    // OCR's own time limit defaults to the whole extraction's; this timer stops it either way.
    if (ocr) job.ocr = { timeoutMs, ...(ocr === true ? {} : ocr) };
    let worker: Worker;
    try {
      worker = startWorker(job, maxOldGenerationMb);
    } catch (error) {
      reject(new ExtractionFailure('worker_crashed', `could not start the extraction worker: ${(error as Error).message}`));
      return;
    }
    let settled = false;
    const settle = (outcome: TextDocument | ExtractionFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (outcome instanceof ExtractionFailure) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(
      () => settle(new ExtractionFailure('timeout', `text extraction took longer than ${timeoutMs} ms and was stopped`)),
      timeoutMs,
    );
    worker.on('message', (reply: WorkerReply) =>
      settle(reply.ok ? reply.result : new ExtractionFailure(reply.reason, reply.message)),
    );
    worker.on('error', (error: Error & { code?: string }) =>
      settle(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new ExtractionFailure('memory_limit', `text extraction ran out of its ${maxOldGenerationMb} MiB heap and was stopped`)
          : new ExtractionFailure('worker_crashed', `the extraction worker failed: ${error.message}`),
      ),
    );
    worker.on('exit', (code) => settle(new ExtractionFailure('worker_crashed', `the extraction worker exited (code ${code}) without a result`)));
  });
}

/** Runs `worker.ts` (tsx, vitest) or `worker.js` (dist) next to this module. */
function startWorker(job: WorkerJob, maxOldGenerationMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: maxOldGenerationMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, maxOldGenerationMb / 4)) };
  return startModuleWorker(import.meta.url, 'worker', { workerData: job, resourceLimits, stdout: false, stderr: false });
}
