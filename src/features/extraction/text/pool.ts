import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../../lib/module-worker.js';
import {
  ExtractionFailure,
  WORKER_KIND,
  type OcrSettings,
  type TextDocument,
  type TextLimits,
  type WorkerData,
  type WorkerJob,
  type WorkerReply,
  type WorkerRequest,
} from './types.js';

export interface ExtractionPoolOptions {
  /** Worker threads at most (each reads one document at a time); default `defaultExtractionWorkers()`. */
  size?: number;
  /** V8 old-generation heap of each worker, in MiB (typed-array memory is capped by the job's `limits`). Default 256. */
  maxOldGenerationMb?: number;
  /**
   * A worker is replaced after this many documents (default 50), to bound what it may keep: leaks in
   * a parser, and the warm OCR engine's WebAssembly memory, which never shrinks. `1` gives the old
   * behaviour, a fresh worker per document.
   */
  maxJobsPerWorker?: number;
  /**
   * Documents waiting for a worker at most (default 100); one more is refused at once with
   * `ExtractionPoolBusyError` (not an `ExtractionFailure`: the document is fine, try again later).
   * Callers bound their own concurrency (the job worker runs `WORKER_CONCURRENCY` jobs), so this is
   * a safety net, not a throttle.
   */
  maxQueued?: number;
  /** An idle worker stops after this long (default 60 s; 0 keeps it until `close`), giving its memory back. */
  idleTimeoutMs?: number;
  /** The worker module to start, `name` next to `url`; default this folder's `worker` (tests start one with extra behaviour). */
  workerModule?: { url: string; name: string };
}

export interface PoolJobOptions {
  /** Wall-clock limit from the moment a worker takes the document (the worker's start included when one is started for it; time spent queued is not counted). Default 30 s. */
  timeoutMs?: number;
  limits?: Partial<TextLimits>;
  /** OCR for scans and images, as `extractText`'s option; its own time limit defaults to `timeoutMs`. */
  ocr?: boolean | OcrSettings;
}

/** A document's text and which worker read it (tests and diagnostics). */
export interface PoolRun {
  document: TextDocument;
  /** `threadId` of the worker thread. */
  threadId: number;
  /** Documents that worker has handled, this one included. */
  jobs: number;
}

export interface PoolStats {
  /** Live workers, busy or idle. */
  workers: number;
  busy: number;
  queued: number;
  /** Workers started and retired since the pool was made. */
  started: number;
  retired: number;
}

/** The pool was closed (before or while the document waited or ran): the document itself may be fine. */
export class ExtractionPoolClosedError extends Error {
  override name = 'ExtractionPoolClosedError';
}

/** Too many documents wait for a worker: retry later. */
export class ExtractionPoolBusyError extends Error {
  override name = 'ExtractionPoolBusyError';
}

/** Default pool size: two workers, or one on a single-core machine. */
export function defaultExtractionWorkers(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

interface Task {
  id: number;
  job: WorkerJob;
  timeoutMs: number;
  resolve: (run: PoolRun) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  threadId: number;
  task: Task | undefined;
  /** Time limit of the running task. */
  timer: NodeJS.Timeout | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  /** Documents handed to this worker. */
  jobs: number;
  /** Retired: terminated or terminating; its events are ignored. */
  retired: boolean;
}

/**
 * Worker threads kept warm for `extractText`, each with a heap limit, each job with a time limit:
 * a hostile or broken file fails its own extraction with an `ExtractionFailure` (`timeout`,
 * `memory_limit`, `worker_crashed`, `invalid_file`, `too_large` …) and harms nothing else. A worker
 * whose job timed out, exhausted the heap or crashed is terminated and replaced (by a new worker
 * started for the next document); a worker is reused only after it answered (a result, or a failure
 * the extraction handled itself), and retired after `maxJobsPerWorker` documents or `idleTimeoutMs`
 * idle. Inside, each worker keeps its OCR engine started between documents (see `WarmOcrEngine`).
 *
 * Documents beyond `size` wait in a FIFO queue of at most `maxQueued`. Idle workers do not keep the
 * process alive (a busy one does, as a pending timer would). `close()` stops every worker.
 *
 * @example
 *   const pool = new ExtractionPool({ size: 2, maxOldGenerationMb: 256 });
 *   const { pages } = await pool.run(bytes, 'application/pdf', { timeoutMs: 20_000, ocr: true });
 *   await pool.close();
 */
export class ExtractionPool {
  readonly size: number;
  readonly maxOldGenerationMb: number;
  readonly maxJobsPerWorker: number;
  readonly maxQueued: number;
  readonly idleTimeoutMs: number;
  private readonly workerModule: { url: string; name: string };
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private readonly terminating = new Set<Promise<unknown>>();
  private nextId = 1;
  private closed = false;
  private started = 0;
  private retiredCount = 0;

  constructor(options: ExtractionPoolOptions = {}) {
    this.size = positive('size', options.size ?? defaultExtractionWorkers());
    this.maxOldGenerationMb = positive('maxOldGenerationMb', options.maxOldGenerationMb ?? 256);
    this.maxJobsPerWorker = positive('maxJobsPerWorker', options.maxJobsPerWorker ?? 50);
    this.maxQueued = nonNegative('maxQueued', options.maxQueued ?? 100);
    this.idleTimeoutMs = nonNegative('idleTimeoutMs', options.idleTimeoutMs ?? 60_000);
    this.workerModule = options.workerModule ?? { url: import.meta.url, name: 'worker' };
  }

  /** The text of one document, read by one of the pool's workers. */
  async run(bytes: Uint8Array, mediaType: string, options: PoolJobOptions = {}): Promise<TextDocument> {
    return (await this.runDetailed(bytes, mediaType, options)).document;
  }

  /** As `run`, with the worker that read it. */
  runDetailed(bytes: Uint8Array, mediaType: string, { timeoutMs = 30_000, limits = {}, ocr }: PoolJobOptions = {}): Promise<PoolRun> {
    if (this.closed) return Promise.reject(new ExtractionPoolClosedError('the extraction pool is closed'));
    const job: WorkerJob = { bytes, mediaType, limits };
    // OCR's own time limit defaults to the whole extraction's; the pool's timer stops it either way.
    if (ocr) job.ocr = { timeoutMs, ...(ocr === true ? {} : ocr) };
    return new Promise<PoolRun>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, timeoutMs, resolve, reject });
      this.dispatch();
      if (this.queue.length > this.maxQueued) {
        // Still queued after dispatch, so it is the last one: the newest is refused.
        this.queue.pop()!.reject(new ExtractionPoolBusyError(`${this.maxQueued} documents already wait for an extraction worker`));
      }
    });
  }

  stats(): PoolStats {
    let busy = 0;
    for (const slot of this.slots) if (slot.task) busy++;
    return { workers: this.slots.size, busy, queued: this.queue.length, started: this.started, retired: this.retiredCount };
  }

  /**
   * Stops every worker (at once, even mid-document) and refuses further documents; documents
   * waiting or running reject with `ExtractionPoolClosedError`. Resolves when the threads are gone.
   */
  async close(): Promise<void> {
    this.closed = true;
    const closedError = () => new ExtractionPoolClosedError('the extraction pool was closed before the document was read');
    for (const task of this.queue.splice(0)) task.reject(closedError());
    for (const slot of [...this.slots]) {
      const task = slot.task;
      slot.task = undefined;
      this.retire(slot);
      task?.reject(closedError());
    }
    await Promise.all([...this.terminating]);
  }

  /** Hands queued documents to idle workers, starting workers up to `size`. */
  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot: Slot | undefined;
      for (const s of this.slots) {
        if (!s.task) {
          slot = s;
          break;
        }
      }
      if (!slot) {
        if (this.slots.size >= this.size) return;
        try {
          slot = this.startWorker();
        } catch (error) {
          this.queue.shift()!.reject(new ExtractionFailure('worker_crashed', `could not start the extraction worker: ${(error as Error).message}`));
          continue;
        }
      }
      this.assign(slot, this.queue.shift()!);
    }
  }

  /** Runs `worker.ts` (tsx, vitest) or `worker.js` (dist) next to this module. */
  private startWorker(): Slot {
    const mb = this.maxOldGenerationMb;
    const resourceLimits = { maxOldGenerationSizeMb: mb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, mb / 4)) };
    const workerData: WorkerData = { kind: WORKER_KIND };
    const worker = startModuleWorker(this.workerModule.url, this.workerModule.name, { workerData, resourceLimits, stdout: false, stderr: false });
    const slot: Slot = { worker, threadId: worker.threadId, task: undefined, timer: undefined, idleTimer: undefined, jobs: 0, retired: false };
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on('error', (error: Error & { code?: string }) =>
      this.onDeath(
        slot,
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new ExtractionFailure('memory_limit', `text extraction ran out of its ${mb} MiB heap and was stopped`)
          : new ExtractionFailure('worker_crashed', `the extraction worker failed: ${error.message}`),
      ),
    );
    worker.on('exit', (code) => this.onDeath(slot, new ExtractionFailure('worker_crashed', `the extraction worker exited (code ${code}) without a result`)));
    this.slots.add(slot);
    this.started++;
    return slot;
  }

  private assign(slot: Slot, task: Task): void {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    slot.task = task;
    slot.jobs++;
    // A busy worker keeps the process alive, as the old worker per document did.
    slot.worker.ref();
    slot.timer = setTimeout(
      () => this.finish(slot, new ExtractionFailure('timeout', `text extraction took longer than ${task.timeoutMs} ms and was stopped`), false),
      task.timeoutMs,
    );
    try {
      slot.worker.postMessage({ id: task.id, job: task.job } satisfies WorkerRequest);
    } catch (error) {
      // Nothing reached the worker (the job could not be copied): it stays as it was.
      this.finish(slot, new ExtractionFailure('invalid_file', `the document could not be handed to the extraction worker: ${(error as Error).message}`), true);
    }
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    if (slot.retired || !slot.task || reply.id !== slot.task.id) return;
    this.finish(slot, reply.ok ? { document: reply.result, threadId: slot.threadId, jobs: reply.jobs } : new ExtractionFailure(reply.reason, reply.message), true);
  }

  /** The worker died (heap exhausted, crash, exit): its document fails with the reason, the worker is gone. */
  private onDeath(slot: Slot, failure: ExtractionFailure): void {
    if (slot.retired) return;
    if (slot.task) this.finish(slot, failure, false);
    else {
      this.retire(slot);
      this.dispatch();
    }
  }

  /** Settles the worker's document; the worker goes back to idle only when `reusable` and under its job count. */
  private finish(slot: Slot, outcome: PoolRun | ExtractionFailure, reusable: boolean): void {
    const task = slot.task;
    if (!task) return;
    slot.task = undefined;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    if (!reusable || slot.jobs >= this.maxJobsPerWorker || this.closed) this.retire(slot);
    else this.idle(slot);
    if (outcome instanceof ExtractionFailure) task.reject(outcome);
    else task.resolve(outcome);
    this.dispatch();
  }

  private idle(slot: Slot): void {
    slot.worker.unref();
    if (this.idleTimeoutMs > 0) {
      slot.idleTimer = setTimeout(() => {
        if (!slot.task) this.retire(slot);
      }, this.idleTimeoutMs);
      slot.idleTimer.unref();
    }
  }

  /** Terminates the worker (its nested OCR thread goes with it) and forgets it. */
  private retire(slot: Slot): void {
    if (slot.retired) return;
    slot.retired = true;
    this.slots.delete(slot);
    this.retiredCount++;
    clearTimeout(slot.timer);
    clearTimeout(slot.idleTimer);
    const done = slot.worker.terminate().catch(() => undefined);
    this.terminating.add(done);
    void done.finally(() => this.terminating.delete(done));
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`ExtractionPool: ${name} must be a whole number ≥ 1, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`ExtractionPool: ${name} must be a whole number ≥ 0, got ${value}`);
  return value;
}
