/**
 * Worker thread entry for imports: parses and checks rows (see `prepareRowsInWorker`), so the main
 * thread only matches and writes. A file is read here; otherwise the parent sends `{chunk}` when
 * asked with `{need}`, then `{end}`. This side answers `{rows}` batches (at most PARSE_WINDOW
 * unacknowledged), then `{done}`, or `{error}`.
 */
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { prepareRows } from './prepare-rows.js';
import type { ImportFormat } from './row-sources.js';
import { PARSE_WINDOW, type FromParser, type ToParser } from './parse-protocol.js';

const port = parentPort!;
const { format, batchSize, path } = workerData as { format: ImportFormat; batchSize: number; path?: string };
const send = (message: FromParser) => port.postMessage(message);

// A file is read here; any other input is fed by the parent, chunk by chunk, on demand.
const source = path
  ? { path }
  : new Readable({
      highWaterMark: 1024 * 1024,
      read: () => send({ type: 'need' }),
    });

let inFlight = 0;
let acked: (() => void) | undefined;
port.on('message', (message: ToParser) => {
  if (message.type === 'chunk') (source as Readable).push(Buffer.from(message.data));
  else if (message.type === 'end') (source as Readable).push(null);
  else if (message.type === 'ack') {
    inFlight--;
    acked?.();
    acked = undefined;
  }
});

try {
  for await (const batch of prepareRows(source, format, batchSize)) {
    send({ type: 'rows', batch });
    if (++inFlight >= PARSE_WINDOW) await new Promise<void>((resolve) => (acked = resolve));
  }
  send({ type: 'done' });
} catch (e) {
  send({ type: 'error', message: (e as Error).message });
}
