import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { ExtractionFailure } from '../text/types.js';
import { languageDataFiles, tesseractPackageJson, type OcrLanguage } from './languages.js';

export interface OcrEngineOptions {
  /** Wall-clock limit for everything the engine does, its start (about 1 s) included. */
  timeoutMs?: number;
  /** Cap on the WebAssembly memory of the OCR engine, in MiB (tesseract needs ~100–400 MiB for a 300 dpi page). */
  maxMemoryMb?: number;
  /** Tesseract page segmentation mode; default 3 (fully automatic, as the tesseract command line). */
  pageSegMode?: number;
}

export const DEFAULT_OCR_TIMEOUT_MS = 120_000;
export const DEFAULT_OCR_MEMORY_MB = 1024;

/**
 * The OCR worker thread's script, run from a `data:` URL so that it is the same whether this
 * module runs from `src/` (tsx, vitest) or from the compiled `dist/`. It is tesseract.js's own
 * worker (`src/worker-script`, which drives the tesseract WebAssembly build from tesseract.js-core)
 * with an adapter that works offline: language data is read only from the files it is handed,
 * any download is refused, and nothing is cached or written. A cap on WebAssembly memory growth
 * turns a runaway allocation into a failure (marked `memoryLimit`) instead of a 2 GiB heap.
 */
const WORKER_SOURCE = `
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
const { tesseractPackageJson, languageFiles, maxMemoryBytes } = workerData;
let memoryRefused = false;
const grow = WebAssembly.Memory.prototype.grow;
WebAssembly.Memory.prototype.grow = function (pages) {
  if (this.buffer.byteLength + pages * 65536 > maxMemoryBytes) {
    memoryRefused = true;
    throw new RangeError('OCR memory limit reached');
  }
  return grow.call(this, pages);
};
const require = createRequire(tesseractPackageJson);
const script = require('./src/worker-script/index.js');
const getCore = require('./src/worker-script/node/getCore.js');
const offline = (what) => Promise.reject(new Error(what + ' is not available (OCR runs offline)'));
script.setAdapter({
  getCore,
  gunzip: gunzipSync,
  fetch: (url) => offline('download of ' + url),
  readCache: (path) => {
    const lang = /([\\w-]+)\\.traineddata(?:\\.gz)?$/.exec(String(path))?.[1];
    const file = lang && Object.hasOwn(languageFiles, lang) ? languageFiles[lang] : undefined;
    return file ? readFile(file) : offline('language data ' + path);
  },
  writeCache: async () => undefined,
  deleteCache: async () => undefined,
  checkCache: async () => false,
});
parentPort.on('message', (packet) =>
  script.dispatchHandlers(packet, (reply) =>
    parentPort.postMessage(memoryRefused && reply.status === 'reject' ? { ...reply, memoryLimit: true } : reply),
  ),
);
`;

const WORKER_URL = new URL(`data:text/javascript;base64,${Buffer.from(WORKER_SOURCE).toString('base64')}`);

interface PendingCall {
  resolve: (data: unknown) => void;
  reject: (error: ExtractionFailure) => void;
  /** The reason a rejection of this call is reported with. */
  reason: ExtractionFailure['reason'];
}

interface Reply {
  jobId: string;
  action: string;
  status: 'resolve' | 'reject' | 'progress';
  data: unknown;
  memoryLimit?: boolean;
}

/** The LSTM engine only (tesseract.js's default: the language data used carries no legacy model). */
const OEM_LSTM_ONLY = 1;

/**
 * One tesseract engine in its own worker thread, loaded with the given languages, reading one
 * image at a time. Every failure is an `ExtractionFailure`: `timeout` and `memory_limit` (the
 * thread is terminated), `invalid_file` (an image tesseract cannot read), `worker_crashed`,
 * `ocr_unavailable`. After a failure the engine is closed; `close()` is always safe to call.
 */
export class OcrEngine {
  private readonly worker: Worker;
  private readonly pending = new Map<string, PendingCall>();
  private timer: NodeJS.Timeout | undefined;
  private failure: ExtractionFailure | undefined;
  private jobs = 0;
  private stderrTail = '';
  private order: readonly OcrLanguage[];
  private readonly pageSegMode: string;

  private constructor(
    /** The languages loaded, in the order given. */
    readonly langs: readonly OcrLanguage[],
    readonly timeoutMs: number,
    readonly maxMemoryMb: number,
    pageSegMode: number,
  ) {
    this.order = langs;
    this.pageSegMode = String(pageSegMode);
    const workerData = {
      tesseractPackageJson: pathToFileURL(tesseractPackageJson()).href,
      languageFiles: languageDataFiles(langs),
      maxMemoryBytes: maxMemoryMb * 1024 * 1024,
    };
    // The JavaScript heap of this thread holds little (the engine lives in WebAssembly memory).
    this.worker = new Worker(WORKER_URL, {
      workerData,
      resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 },
      stdout: true,
      stderr: true,
    });
    // Tesseract's diagnostics ("Estimating resolution as …") go to stderr: keep the last lines for error messages.
    this.worker.stdout.resume();
    this.worker.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    this.limitTime(timeoutMs);
    this.worker.on('message', (reply: Reply) => this.onReply(reply));
    this.worker.on('error', (error: Error & { code?: string }) =>
      this.fail(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new ExtractionFailure('memory_limit', 'the OCR worker ran out of its JavaScript heap and was stopped')
          : new ExtractionFailure('worker_crashed', `the OCR worker failed: ${error.message}`),
      ),
    );
    this.worker.on('exit', (code) => this.fail(new ExtractionFailure('worker_crashed', `the OCR worker exited (code ${code})`)));
  }

  /**
   * Starts the engine: tesseract's WebAssembly core and the languages' data, all from local
   * packages. `timeoutMs` counts from here and covers every later `recognize` call.
   */
  static async start(langs: readonly OcrLanguage[], options: OcrEngineOptions = {}): Promise<OcrEngine> {
    const engine = new OcrEngine(langs, options.timeoutMs ?? DEFAULT_OCR_TIMEOUT_MS, options.maxMemoryMb ?? DEFAULT_OCR_MEMORY_MB, options.pageSegMode ?? 3);
    try {
      await engine.call('load', { options: { lstmOnly: true, logging: false } }, 'worker_crashed');
      const languageOptions = { langPath: 'offline', cacheMethod: 'none', gzip: true, lstmOnly: true };
      await engine.call('loadLanguage', { langs: [...langs], options: languageOptions }, 'ocr_unavailable');
      await engine.initialize(langs);
    } catch (error) {
      await engine.close();
      throw error;
    }
    return engine;
  }

  /** The primary language: tesseract reads each word with it first, and tries the others only when that reads poorly. */
  get primary(): OcrLanguage {
    return this.order[0]!;
  }

  /** Makes `lang` (one of those loaded) the primary language, the others following in their order. */
  async setPrimary(lang: OcrLanguage): Promise<void> {
    if (lang === this.primary || !this.langs.includes(lang)) return;
    await this.initialize([lang, ...this.langs.filter((l) => l !== lang)]);
  }

  /** (Re)starts tesseract's API on the loaded data with the languages in this order (about 0.1 s). */
  private async initialize(order: readonly OcrLanguage[]): Promise<void> {
    await this.call('initialize', { langs: order.join('+'), oem: OEM_LSTM_ONLY, config: {} }, 'ocr_unavailable');
    await this.call('setParameters', { params: { tessedit_pageseg_mode: this.pageSegMode } }, 'worker_crashed');
    this.order = order;
  }

  /** The text of one image (PNG, JPEG, or the PGM/PPM/PBM that the PDF path makes). */
  async recognize(image: Uint8Array): Promise<string> {
    const data = (await this.call('recognize', { image, options: {}, output: { text: true } }, 'invalid_file')) as { text?: unknown };
    return typeof data?.text === 'string' ? data.text : '';
  }

  /** False once the engine has failed or was closed: it can do nothing more. */
  get usable(): boolean {
    return this.failure === undefined;
  }

  /**
   * Readies a started engine for another use (see `WarmOcrEngine`): a fresh time limit of
   * `timeoutMs` from now, and the languages back in their loaded order (`readInItsLanguage` may
   * have made another one primary), so that a reused engine reads exactly as a new one would.
   */
  async reuse(timeoutMs: number): Promise<void> {
    if (this.failure) throw this.failure;
    this.limitTime(timeoutMs);
    await this.setPrimary(this.langs[0]!);
  }

  /** Between uses: no time limit runs (the engine waits, idle, for its next `reuse`). */
  pause(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** (Re)starts the time limit: the engine fails with `timeout` unless paused within `timeoutMs`. */
  private limitTime(timeoutMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fail(new ExtractionFailure('timeout', `OCR took longer than ${timeoutMs} ms and was stopped`)), timeoutMs);
  }

  /** Stops the worker thread (at once, even mid-recognition). */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.fail(new ExtractionFailure('worker_crashed', 'the OCR engine was closed'));
    await this.worker.terminate().catch(() => undefined);
  }

  private call(action: string, payload: unknown, reason: ExtractionFailure['reason']): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const jobId = `${action}-${++this.jobs}`;
    this.stderrTail = '';
    return new Promise((resolve, reject) => {
      this.pending.set(jobId, { resolve, reject, reason });
      this.worker.postMessage({ workerId: 'dpp-ocr', jobId, action, payload });
    });
  }

  private onReply(reply: Reply): void {
    if (reply.status === 'progress') return;
    const job = this.pending.get(reply.jobId);
    if (!job) return;
    this.pending.delete(reply.jobId);
    if (reply.status === 'resolve') {
      job.resolve(reply.data);
      return;
    }
    const message = String(reply.data);
    if (reply.memoryLimit) {
      this.fail(new ExtractionFailure('memory_limit', `OCR needed more than its ${this.maxMemoryMb} MiB of memory and was stopped (${message})`));
      job.reject(this.failure!);
      return;
    }
    const detail = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
    const failure = new ExtractionFailure(job.reason, `OCR ${reply.action}: ${message}${detail ? ` (${detail})` : ''}`);
    // After an abort the WebAssembly module is unusable: no later call may use it.
    if (/Aborted|RuntimeError/.test(message)) this.fail(failure);
    job.reject(failure);
  }

  /** The first failure wins: it is kept, every pending call rejects with it, and the thread stops. */
  private fail(failure: ExtractionFailure): void {
    if (this.failure) return;
    this.failure = failure;
    clearTimeout(this.timer);
    for (const job of this.pending.values()) job.reject(failure);
    this.pending.clear();
    void this.worker.terminate().catch(() => undefined);
  }
}
