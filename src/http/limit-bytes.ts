import { Transform, type Readable } from 'node:stream';
import { errors } from '../errors.js';

/** Passes a stream through, failing it with a 413 problem once more than `limit` bytes have flowed. */
export function limitBytes(source: Readable, limit: number): Readable {
  let seen = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      seen += chunk.length;
      if (seen > limit) callback(errors.payloadTooLarge(limit));
      else callback(null, chunk);
    },
  });
  source.on('error', (e) => guard.destroy(e));
  return source.pipe(guard);
}
