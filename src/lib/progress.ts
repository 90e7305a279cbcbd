import { PassThrough, type Readable } from 'node:stream';
import cliProgress from 'cli-progress';

export interface Progress {
  /** The input to read from instead of the original: it counts bytes as they pass. */
  stream: Readable;
  update(rowsDone: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr for a file being read, by bytes; silent when stderr is not a terminal
 * (CI, pipes), so scripted runs print only their result.
 */
export function createProgress(source: Readable, totalBytes: number | undefined): Progress {
  if (!process.stderr.isTTY || !totalBytes) return { stream: source, update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: 'importing [{bar}] {percentage}% | {rows} rows | {eta_formatted} left', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let bytes = 0;
  const counter = new PassThrough({
    transform(chunk: Buffer, _enc, callback) {
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  source.on('error', (e) => counter.destroy(e));
  bar.start(totalBytes, 0, { rows: 0 });
  return {
    stream: source.pipe(counter),
    update: (rows) => bar.update(bytes, { rows }),
    stop: () => bar.stop(),
  };
}
