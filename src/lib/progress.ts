import cliProgress from 'cli-progress';

export interface Progress {
  update(rowsDone: number, bytesRead: number | undefined): void;
  stop(): void;
}

/**
 * A progress bar on stderr for a file being imported, by bytes read; silent when stderr is not a
 * terminal (CI, pipes) or the size is unknown (stdin), so scripted runs print only their result.
 */
export function createProgress(totalBytes: number | undefined): Progress {
  if (!process.stderr.isTTY || !totalBytes) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: 'importing [{bar}] {percentage}% | {rows} rows | {eta_formatted} left', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalBytes, 0, { rows: 0 });
  let lastBytes = 0;
  return {
    update: (rows, bytes) => {
      lastBytes = Math.min(totalBytes, bytes ?? lastBytes);
      bar.update(lastBytes, { rows });
    },
    stop: () => bar.stop(),
  };
}
