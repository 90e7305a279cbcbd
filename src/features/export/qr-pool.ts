import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../lib/module-worker.js';
import { QR_WORKER_KIND, type QrOptions, type QrRenderReply, type QrRenderRequest } from './qr.js';

export interface QrRenderPoolOptions {
  /** Worker threads (each renders one code at a time); default `defaultQrWorkers()`. */
  size?: number;
  /** Renders waiting for a worker at most (default 64); one more is refused at once with `QrPoolBusyError`. */
  maxQueued?: number;
  /** Wall-clock limit of one render from the moment a worker takes it (default 5 s); the worker is then replaced. */
  timeoutMs?: number;
  /** The worker module, `name` next to `url`; default `qr-worker` next to this file (tests start one that can crash). */
  workerModule?: { url: string; name: string };
}

export interface QrPoolStats {
  workers: number;
  busy: number;
  queued: number;
  /** Workers started and retired since the pool was made. */
  started: number;
  retired: number;
}

/** Too many renders wait for a worker: retry later (503 with Retry-After). */
export class QrPoolBusyError extends Error {
  override name = 'QrPoolBusyError';
}

/** The render did not finish: its worker crashed or timed out (and was replaced), or the pool closed. */
export class QrRenderFailure extends Error {
  override name = 'QrRenderFailure';
  constructor(
    readonly reason: 'crashed' | 'timeout' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

/** One worker, or two where there are more than two cores (the event loop keeps a core). */
export function defaultQrWorkers(): number {
  return Math.max(1, Math.min(2, availableParallelism() - 1));
}

interface Task {
  request: QrRenderRequest;
  resolve: (png: Buffer) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Renders this worker answered. */
  renders: number;
  retired: boolean;
}

/**
 * PNG QR codes rendered in a few warm worker threads, so an uncached code (8–100 ms of synchronous
 * work in the `qrcode` library) never blocks the event loop. Workers start on first use and stay;
 * an idle worker does not keep the process alive. Renders beyond `size` wait in a FIFO queue of at
 * most `maxQueued`, more are refused (`QrPoolBusyError`). A render that exceeds `timeoutMs`, or whose
 * worker crashes, fails with `QrRenderFailure` and the worker is replaced. `close()` stops them all.
 *
 * @example
 *   const pool = new QrRenderPool({ size: 1 });
 *   const png = await pool.render('https://example.com/01/09520123456788', { format: 'png', size: 300, margin: 4, ecc: 'M' });
 *   await pool.close();
 */
export class QrRenderPool {
  readonly size: number;
  readonly maxQueued: number;
  readonly timeoutMs: number;
  private readonly workerModule: { url: string; name: string };
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private readonly terminating = new Set<Promise<unknown>>();
  private nextId = 1;
  private closed = false;
  private started = 0;
  private retiredCount = 0;

  constructor(options: QrRenderPoolOptions = {}) {
    this.size = whole('size', options.size ?? defaultQrWorkers(), 1);
    this.maxQueued = whole('maxQueued', options.maxQueued ?? 64, 0);
    this.timeoutMs = whole('timeoutMs', options.timeoutMs ?? 5000, 1);
    this.workerModule = options.workerModule ?? { url: import.meta.url, name: 'qr-worker' };
  }

  /** The PNG of `uri`, rendered by one of the pool's workers. */
  render(uri: string, options: QrOptions): Promise<Buffer> {
    if (this.closed) return Promise.reject(new QrRenderFailure('closed', 'the QR renderer is closed'));
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, uri, options: { format: 'png', size: options.size, margin: options.margin, ecc: options.ecc } }, resolve, reject });
      this.dispatch();
      // Still queued after dispatch, so it is the last one: the newest is refused.
      if (this.queue.length > this.maxQueued) this.queue.pop()!.reject(new QrPoolBusyError(`${this.maxQueued} QR codes already wait to be rendered`));
    });
  }

  stats(): QrPoolStats {
    let busy = 0;
    for (const slot of this.slots) if (slot.task) busy++;
    return { workers: this.slots.size, busy, queued: this.queue.length, started: this.started, retired: this.retiredCount };
  }

  /** Stops every worker and refuses further renders; waiting and running ones fail. Resolves when the threads are gone. */
  async close(): Promise<void> {
    this.closed = true;
    const closed = () => new QrRenderFailure('closed', 'the QR renderer was closed before the code was rendered');
    for (const task of this.queue.splice(0)) task.reject(closed());
    for (const slot of [...this.slots]) {
      const task = slot.task;
      this.retire(slot);
      task?.reject(closed());
    }
    await Promise.all([...this.terminating]);
  }

  /** Hands queued renders to idle workers, starting workers up to `size`. */
  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = [...this.slots].find((s) => !s.task);
      if (!slot) {
        if (this.slots.size >= this.size) return;
        try {
          slot = this.startWorker();
        } catch (error) {
          this.queue.shift()!.reject(new QrRenderFailure('crashed', `could not start a QR render worker: ${(error as Error).message}`));
          continue;
        }
      }
      this.assign(slot, this.queue.shift()!);
    }
  }

  private startWorker(): Slot {
    const worker = startModuleWorker(this.workerModule.url, this.workerModule.name, {
      workerData: { kind: QR_WORKER_KIND },
      resourceLimits: { maxOldGenerationSizeMb: 128 },
    });
    const slot: Slot = { worker, task: undefined, timer: undefined, renders: 0, retired: false };
    worker.unref();
    worker.on('message', (reply: QrRenderReply) => this.onReply(slot, reply));
    worker.on('error', (error) => this.onDeath(slot, `the QR render worker failed: ${error.message}`));
    worker.on('exit', (code) => this.onDeath(slot, `the QR render worker exited (code ${code}) without a result`));
    this.slots.add(slot);
    this.started++;
    return slot;
  }

  private assign(slot: Slot, task: Task): void {
    slot.task = task;
    // A busy worker keeps the process alive until it answers; an idle one does not.
    slot.worker.ref();
    slot.timer = setTimeout(() => {
      this.retire(slot);
      task.reject(new QrRenderFailure('timeout', `rendering the QR code took longer than ${this.timeoutMs} ms`));
      this.dispatch();
    }, this.timeoutMs);
    slot.worker.postMessage(task.request);
  }

  private onReply(slot: Slot, reply: QrRenderReply): void {
    const task = slot.task;
    if (slot.retired || !task || reply.id !== task.request.id) return;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.task = undefined;
    slot.renders++;
    slot.worker.unref();
    if (reply.ok) task.resolve(Buffer.from(reply.png.buffer, reply.png.byteOffset, reply.png.byteLength));
    else task.reject(new Error(reply.message));
    this.dispatch();
  }

  /** The worker died: its render fails, and a worker that had been serving is replaced at once (kept warm). */
  private onDeath(slot: Slot, message: string): void {
    if (slot.retired) return;
    const task = slot.task;
    this.retire(slot);
    task?.reject(new QrRenderFailure('crashed', message));
    if (this.closed) return;
    if (this.queue.length > 0) this.dispatch();
    else if (slot.renders > 0 && this.slots.size < this.size) {
      try {
        this.startWorker();
      } catch {
        // started again on the next render
      }
    }
  }

  private retire(slot: Slot): void {
    if (slot.retired) return;
    slot.retired = true;
    slot.task = undefined;
    clearTimeout(slot.timer);
    this.slots.delete(slot);
    this.retiredCount++;
    const done = slot.worker.terminate().catch(() => undefined);
    this.terminating.add(done);
    void done.finally(() => this.terminating.delete(done));
  }
}

function whole(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`QrRenderPool: ${name} must be a whole number ≥ ${min}, got ${value}`);
  return value;
}
