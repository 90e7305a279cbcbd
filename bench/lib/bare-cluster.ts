/**
 * The ceiling for bench/api.ts --workers N (N > 1): N bare Fastify processes on one port, run the way
 * `dpp serve --workers N` runs the service (node:cluster, the platform's default scheduling: round-robin
 * on Linux, where the primary accepts connections and hands them to the workers). Each worker runs
 * bench/lib/bare-server.ts unchanged. The primary prints "bare-cluster: N workers listening" once all are.
 *
 *   WORKERS=2 PORT=… BODY_FILE=passport.json node --import tsx bench/lib/bare-cluster.ts
 */
import cluster from 'node:cluster';

if (cluster.isPrimary) {
  const workers = Number(process.env.WORKERS ?? '2');
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`WORKERS must be a whole number ≥ 1, got "${process.env.WORKERS}"`);
  let listening = 0;
  let stopping = false;
  cluster.on('listening', () => {
    if (++listening === workers) console.log(`bare-cluster: ${workers} workers listening`);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      console.error(`bare-cluster: worker ${worker.process.pid} exited (${signal ?? code}); stopping`);
      stop(1);
    } else if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    const alive = Object.values(cluster.workers ?? {});
    if (alive.length === 0) process.exit(code);
    for (const w of alive) w?.process.kill('SIGTERM');
    setTimeout(() => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(code);
    }, 5000).unref();
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop(0));
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  await import('./bare-server.js');
}
