/** Worker-thread entry of `QrRenderPool`: renders PNG QR codes one at a time until the pool terminates it. */
import { parentPort, workerData } from 'node:worker_threads';
import { QR_WORKER_KIND, serveQrRenders } from './qr.js';

if (parentPort && (workerData as { kind?: string } | undefined)?.kind === QR_WORKER_KIND) serveQrRenders();
