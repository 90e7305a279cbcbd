import { Transform, finished, type Readable } from 'node:stream';
import { errors } from '../errors.js';

/**
 * Passes a stream through, failing it with a 413 problem once more than `limit` bytes have flowed.
 *
 * The returned stream may fail before anyone reads it (a client that closes its upload while the
 * import is still starting) or after its reader has gone (the import ended early). Such an error must
 * never reach the process as an unhandled 'error' event, so the guard always has a listener, and
 * readers learn of a failure from the stream's state (`errored`, which async iteration and
 * `stream.finished` report even when the error came first). The request is not destroyed on a 413:
 * the response still has to reach the client.
 */
export function limitBytes(source: Readable, limit: number): Readable {
  let seen = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      seen += chunk.length;
      if (seen > limit) callback(errors.payloadTooLarge(limit));
      else callback(null, chunk);
    },
  });
  guard.on('error', () => {}); // see above: the state carries the error to readers
  // `finished` also reports a request that failed or closed before this line (while the key was checked).
  finished(source, (e) => e && guard.destroy(e));
  return source.pipe(guard);
}
