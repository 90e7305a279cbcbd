import { parentPort } from 'node:worker_threads';
import QRCode from 'qrcode';

export type QrFormat = 'png' | 'svg';
export type QrEcc = 'L' | 'M' | 'Q' | 'H';

export interface QrOptions {
  format: QrFormat;
  /** Width of the image in pixels (PNG) or user units (SVG). */
  size: number;
  /** Quiet zone in modules; ISO/IEC 18004 asks for 4. */
  margin: number;
  ecc: QrEcc;
}

/**
 * Encodes a URI as a QR code image: PNG bytes or SVG text. Synchronous work on the calling thread
 * (a PNG takes ~8 ms at 300 px, ~90 ms at 1024 px; an SVG ~0.3 ms): the service renders PNGs in
 * `QrRenderPool`'s worker threads and SVGs inline.
 */
export async function renderQr(uri: string, options: QrOptions): Promise<Buffer | string> {
  const common = { errorCorrectionLevel: options.ecc, margin: options.margin, width: options.size };
  return options.format === 'svg' ? QRCode.toString(uri, { ...common, type: 'svg' }) : QRCode.toBuffer(uri, { ...common, type: 'png' });
}

/** Marks a QR render worker's `workerData`. */
export const QR_WORKER_KIND = 'dpp-qr-render';

export interface QrRenderRequest {
  id: number;
  uri: string;
  options: QrOptions;
}

export type QrRenderReply = { id: number; ok: true; png: Uint8Array } | { id: number; ok: false; message: string };

export type QrPngRenderer = (uri: string, options: QrOptions) => Promise<Buffer | string>;

/**
 * The loop of a QR render worker thread (see `QrRenderPool`): one request at a time from the parent
 * port, answered with the PNG bytes or the library's error message. A crash ends the thread, which
 * the pool sees. `render` is replaceable for tests only.
 */
export function serveQrRenders(render: QrPngRenderer = renderQr): void {
  const port = parentPort;
  if (!port) throw new Error('serveQrRenders runs in a worker thread');
  port.on('message', async ({ id, uri, options }: QrRenderRequest) => {
    let reply: QrRenderReply;
    try {
      const out = await render(uri, { ...options, format: 'png' });
      reply = { id, ok: true, png: typeof out === 'string' ? Buffer.from(out) : out };
    } catch (error) {
      reply = { id, ok: false, message: (error as Error).message };
    }
    port.postMessage(reply);
  });
}
