import { finished as onStreamEnd } from 'node:stream';
import { errors } from '../../errors.js';
import { startModuleWorker } from '../../lib/module-worker.js';
import type { FromParser, ToParser } from './parse-protocol.js';
import type { ImportSource, PreparedBatch } from './prepare-rows.js';
import type { ImportFormat } from './row-sources.js';

/** A row too big for the parser's bounded memory is the client's problem (400), not a crash (500). */
function tooBig() {
  return errors.validation('The import stopped: its rows are too large to parse within the memory limit.', [
    { field: 'body', rule: 'row_size', message: 'rows must be a few hundred kilobytes at most' },
  ]);
}

/** Inputs at least this big (or of unknown size) are parsed in a worker thread; smaller ones inline. */
export const PARSE_IN_WORKER_FROM_BYTES = 256 * 1024;

export function shouldParseInWorker(sizeBytes: number | undefined): boolean {
  return sizeBytes === undefined || sizeBytes >= PARSE_IN_WORKER_FROM_BYTES;
}

/**
 * Like `prepareRows`, but CSV/NDJSON parsing and row checks run on a worker thread while the caller
 * writes the previous batch: on two cores an import then costs about max(parse, write) instead of
 * their sum. A file is read by the worker; a stream is read here and its chunks handed over on the
 * worker's demand, so back-pressure holds end to end (at most PARSE_WINDOW batches wait for the writer).
 */
export async function* prepareRowsInWorker(source: ImportSource, format: ImportFormat, batchSize: number): AsyncIterable<PreparedBatch> {
  // A file is opened by the worker itself, so reading it never waits for this (busy) thread.
  const path = 'pipe' in source ? undefined : source.path;
  const worker = startModuleWorker(import.meta.url, 'parse-worker', {
    workerData: { format, batchSize, path },
    // A small heap keeps the import's memory flat: the worker holds at most PARSE_WINDOW + 1 batches
    // of up to BATCH_MAX_BYTES of input each, and without a cap V8 lets garbage pile up to hundreds of
    // MB before collecting it.
    resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 4 },
  });
  const post = (message: ToParser, transfer?: ArrayBuffer[]) => worker.postMessage(message, transfer);
  const stream = 'pipe' in source ? source : undefined;
  const reader = stream?.[Symbol.asyncIterator]() as AsyncIterator<Buffer | string> | undefined;
  let bytesFed = 0;
  const queue: FromParser[] = [];
  let failure: Error | undefined;
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };

  // Each `need` is answered with one chunk of the stream, or `end` once it is exhausted.
  let needs = 0;
  let pumping = false;
  let ended = false;
  const pump = async () => {
    if (pumping) return;
    pumping = true;
    try {
      while (reader && needs > 0 && !ended && !finished) {
        needs--;
        const next = await reader.next();
        if (finished) break;
        if (next.done) {
          ended = true;
          post({ type: 'end' });
          break;
        }
        const bytes = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
        bytesFed += bytes.byteLength;
        // A copy in an ArrayBuffer of its own: small Buffers share a pool that must not be transferred.
        const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
        post({ type: 'chunk', data }, [data]);
      }
    } catch (e) {
      failure ??= e as Error;
      notify();
    } finally {
      pumping = false;
    }
  };

  // A client that goes away is noticed at once, not when the worker (perhaps still starting) next asks.
  if (stream) {
    onStreamEnd(stream, (e) => {
      if (!e) return;
      failure ??= e;
      notify();
    });
  }

  worker.on('message', (message: FromParser) => {
    if (message.type === 'need') {
      needs++;
      void pump();
    } else {
      queue.push(message);
      notify();
    }
  });
  worker.on('error', (e) => {
    failure ??= (e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? tooBig() : e;
    notify();
  });
  worker.on('exit', (code) => {
    if (!finished) failure ??= new Error(`the import parser stopped unexpectedly (exit code ${code})`);
    notify();
  });

  try {
    for (;;) {
      while (queue.length === 0 && !failure) await new Promise<void>((resolve) => (wake = resolve));
      if (failure) throw failure;
      const message = queue.shift()!;
      if (message.type === 'done') return;
      if (message.type === 'error') throw new Error(message.message);
      if (message.type === 'rows') {
        // Acknowledge first: the worker parses the next batch while the caller writes this one.
        post({ type: 'ack' });
        yield { rows: message.batch.rows, bytesRead: message.batch.bytesRead ?? bytesFed };
      }
    }
  } finally {
    finished = true;
    await worker.terminate();
    // Not awaited: a read may be pending on a client that sends nothing more; that read then ends
    // with the stream and nothing is posted to the stopped worker (see pump).
    void reader?.return?.();
  }
}
