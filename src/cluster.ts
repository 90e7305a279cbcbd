import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.js';
import { openConfiguredDatabase } from './db/database.js';
import { answerPrimary, serveClusterMetrics } from './http/cluster-metrics.js';
import { metricsEnabled } from './http/metrics.js';
import { describeDatabase, seedDemoAndAnnounce, startServer } from './server.js';

/** The environment variable that tells a forked process which worker it is (1…N). */
const WORKER_ENV = 'DPP_CLUSTER_WORKER';

/** How a primary reports (stderr lines: its workers log JSON to stdout as any `dpp serve`). */
export interface ClusterLog {
  info(message: string): void;
  error(message: string): void;
}

export interface ClusterOptions {
  /** HTTP processes to run (node:cluster workers). */
  workers: number;
  log: ClusterLog;
  /** After SIGTERM, how long workers get to finish in-flight requests and running jobs before SIGKILL. */
  stopGraceMs?: number;
  /** A worker that dies this many times within `crashWindowMs` stops the cluster (exit 1) instead of a crash loop. */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** First restart delay; doubles with each death within the window, up to `maxRestartDelayMs`. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
}

/**
 * `dpp serve [--workers N]`. With N > 1 on PostgreSQL, the process becomes a node:cluster primary that
 * serves nothing itself: it migrates (and seeds, when DEMO_SEED) once, forks N workers that each build
 * their own app and connection pool and share the port, restarts a worker that dies (with backoff, and
 * gives up on a crash loop), and on SIGTERM/SIGINT stops them (each finishes its in-flight requests)
 * and exits. Worker 1 runs the job worker (WORKER=true); the others only serve HTTP; a restarted worker
 * keeps its number, so jobs always have exactly one runner in the cluster. `/metrics`, on any worker,
 * answers for the whole cluster: the primary collects every worker's metrics (cluster-metrics.ts).
 *
 * SQLite allows one writer, so there `--workers` is refused with a notice and one process serves.
 * A forked worker calls this too (it runs the same command): it then starts its server.
 */
export async function serve(config: Config, options: ClusterOptions): Promise<void> {
  if (cluster.isWorker) {
    const number = Number(process.env[WORKER_ENV]);
    if (!Number.isInteger(number) || number < 1) throw new Error(`${WORKER_ENV} must name the worker's number, got "${process.env[WORKER_ENV]}"`);
    // Answer the primary's metrics collection (empty until the app exists) from the start, so a scrape
    // during this worker's start-up does not wait for it.
    if (metricsEnabled(config)) answerPrimary([]);
    await startServer({ ...config, runWorker: config.runWorker && number === 1, demoSeed: false }, { clusterWorker: number });
    return;
  }
  if (options.workers > 1 && !config.databaseUrl) {
    options.log.info(`--workers ${options.workers} ignored: SQLite allows one writer, so dpp serve runs as one process (use PostgreSQL for several)`);
  }
  if (options.workers <= 1 || !config.databaseUrl) {
    await startServer(config);
    return;
  }
  await runPrimary(config, options);
}

async function runPrimary(config: Config, options: ClusterOptions): Promise<void> {
  const { log, workers } = options;
  const stopGraceMs = options.stopGraceMs ?? 60_000;
  const maxCrashes = options.maxCrashes ?? 5;
  const crashWindowMs = options.crashWindowMs ?? 60_000;
  const restartDelayMs = options.restartDelayMs ?? 500;
  const maxRestartDelayMs = options.maxRestartDelayMs ?? 30_000;

  // Once, before any worker opens the database (each would otherwise migrate at start, under a lock).
  log.info(`database: ${describeDatabase(config)}`);
  const database = await openConfiguredDatabase(config);
  try {
    await seedDemoAndAnnounce(config, database);
  } finally {
    await database.close();
  }

  // A scrape of /metrics lands on a worker, which asks the primary for every worker's (cluster-metrics.ts).
  if (metricsEnabled(config)) serveClusterMetrics();

  const running = new Map<number, Worker>();
  const deaths = new Map<number, number[]>();
  const restarts = new Set<NodeJS.Timeout>();
  let stopping: { exitCode: number; done: () => void } | undefined;

  const fork = (number: number) => {
    const worker = cluster.fork({ [WORKER_ENV]: String(number) });
    running.set(number, worker);
    worker.on('exit', (code, signal) => {
      if (running.get(number) === worker) running.delete(number);
      if (stopping) {
        // A worker still starting has no handler yet and dies of the SIGTERM itself: that is clean too.
        if (code !== 0 && signal !== 'SIGTERM') stopping.exitCode = 1;
        if (running.size === 0) stopping.done();
        return;
      }
      const now = Date.now();
      const recent = (deaths.get(number) ?? []).filter((at) => now - at < crashWindowMs);
      recent.push(now);
      deaths.set(number, recent);
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (recent.length >= maxCrashes) {
        log.error(`worker ${number} (pid ${worker.process.pid}) exited (${how}), ${recent.length} times within ${crashWindowMs / 1000} s: stopping the cluster`);
        stop(1);
        return;
      }
      const delay = Math.min(maxRestartDelayMs, restartDelayMs * 2 ** (recent.length - 1));
      log.error(`worker ${number} (pid ${worker.process.pid}) exited unexpectedly (${how}); restarting it in ${delay} ms`);
      const timer = setTimeout(() => {
        restarts.delete(timer);
        if (!stopping) fork(number);
      }, delay);
      restarts.add(timer);
    });
  };

  const stop = (exitCode: number): void => {
    if (stopping) return;
    for (const timer of restarts) clearTimeout(timer);
    restarts.clear();
    // done() may run before the timer is set (no workers left), so `kill` cannot be a const in its dead zone.
    // eslint-disable-next-line prefer-const
    let kill: NodeJS.Timeout | undefined;
    const state = {
      exitCode,
      done: () => {
        if (kill) clearTimeout(kill);
        log.info('all workers stopped');
        process.exit(state.exitCode);
      },
    };
    stopping = state;
    if (running.size === 0) return state.done();
    log.info(`stopping ${running.size} workers (they finish in-flight requests)`);
    for (const worker of running.values()) worker.process.kill('SIGTERM');
    kill = setTimeout(() => {
      log.error(`workers still running after ${stopGraceMs / 1000} s: killing them`);
      for (const worker of running.values()) worker.process.kill('SIGKILL');
    }, stopGraceMs);
  };

  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop(0));

  const jobs = config.runWorker ? 'worker 1 runs the jobs' : 'WORKER=false: none runs jobs';
  log.info(`cluster primary ${process.pid}: ${workers} HTTP workers on port ${config.port}; ${jobs}`);
  for (let number = 1; number <= workers; number++) fork(number);
}
