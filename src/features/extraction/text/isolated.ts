import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
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

/**
 * Runs next to this module with the same extension: `worker.js` from the compiled `dist/`, and
 * `worker.ts` under tsx or vitest. Node 20 does not apply `--import tsx` from a worker's execArgv
 * to the worker's own entry module, so a .ts worker starts from a one-line bootstrap that
 * registers tsx's loader in the worker and then imports the entry.
 */
function startWorker(job: WorkerJob, maxOldGenerationMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: maxOldGenerationMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, maxOldGenerationMb / 4)) };
  const options = { workerData: job, resourceLimits, stdout: false, stderr: false };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), options);
  const entry = new URL('./worker.ts', import.meta.url).href;
  const tsxApi = tsxEsmApiUrl();
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** tsx's ESM loader API (`tsx/esm/api`, import condition): its CommonJS build cannot be imported from a worker. */
function tsxEsmApiUrl(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = require(manifestPath) as { exports: Record<string, { import: { default: string } }> };
  const target = manifest.exports['./esm/api']?.import.default ?? './dist/esm/api/index.mjs';
  return new URL(target, pathToFileURL(manifestPath)).href;
}
