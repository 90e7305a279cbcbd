/**
 * A QR render worker for tests (see `QrRenderPool`'s `workerModule`): the real renderer, except that
 * `margin=12` ends the thread (process.exit), `margin=13` throws out of the event loop (uncaught) and
 * `margin=14` never answers (a busy loop), so a test can crash or hang the worker on demand.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { QR_WORKER_KIND, renderQr, serveQrRenders } from '../../src/features/export/qr.js';

if (parentPort && (workerData as { kind?: string } | undefined)?.kind === QR_WORKER_KIND) {
  serveQrRenders(async (uri, options) => {
    if (options.margin === 12) process.exit(7);
    if (options.margin === 13) {
      setImmediate(() => {
        throw new Error('test worker crash');
      });
      return new Promise<never>(() => undefined);
    }
    if (options.margin === 14) for (;;);
    return renderQr(uri, options);
  });
}
