import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { defaultSqliteFile, openConfiguredDatabase, type Database } from './db/database.js';
import { createPgListener } from './db/pg-listen.js';
import { CATALOG_CHANGES_CHANNEL } from './db/migrations/0011-catalog-changes.js';
import { KEY_CHANGES_CHANNEL } from './features/access/key-cache.js';
import { createSystemWorker } from './jobs/registry.js';
import { seedDemo } from './seed/demo.js';

/** Hosts that only this machine can reach. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Which database a process opened, for its first log line (never the password). */
export function describeDatabase(config: Config): string {
  if (!config.databaseUrl) return `SQLite ${defaultSqliteFile(config.dataDir)}`;
  const url = new URL(config.databaseUrl);
  return `PostgreSQL ${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
}

/** Seeds the demo organisation into an empty database (when DEMO_SEED) and prints its key; says whether it did. */
export async function seedDemoAndAnnounce(config: Config, database: Database): Promise<boolean> {
  if (!config.demoSeed) return false;
  const key = await seedDemo(database, config.dataDir);
  if (!key) return false;
  process.stdout.write(
    `\nDemo organisation created. API key (also in ${config.dataDir}/demo-api-key):\n\n  ${key}\n\n` +
      `Try: curl -H "Authorization: Bearer ${key}" ${config.publicBaseUrl}/api/v1/products\n\n`,
  );
  return true;
}

export interface ServeOptions {
  /**
   * Set in the worker processes of `dpp serve --workers N` (see cluster.ts): this one's number, 1…N.
   * The primary has migrated and seeded; cluster.ts decides which worker runs the jobs.
   */
  clusterWorker?: number | undefined;
}

export interface RunningServer {
  app: FastifyInstance;
  database: Database;
  stop(): Promise<void>;
}

/**
 * `dpp serve`: migrates, seeds the demo organisation into an empty embedded database,
 * listens, and stops gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight requests, close the DB).
 */
export async function startServer(config: Config, options: ServeOptions = {}): Promise<RunningServer> {
  const { clusterWorker } = options;
  const database = await openConfiguredDatabase(config, { sqliteMmapBytes: 16 * 1024 ** 3, sqliteReaderThread: config.sqliteReaderThread });
  // PostgreSQL: key revocations by other processes arrive on `dpp_keys` (LISTEN on a connection of its own).
  const keyChanges = config.databaseUrl ? createPgListener({ connectionString: config.databaseUrl, channel: KEY_CHANGES_CHANNEL }) : undefined;
  // …and committed catalog changes on `dpp_catalog`, which the list/search/stats result cache keys on.
  const catalogChanges = config.databaseUrl ? createPgListener({ connectionString: config.databaseUrl, channel: CATALOG_CHANGES_CHANNEL }) : undefined;
  const app = await buildApp({ config, database, keyChanges, catalogChanges, clusterWorker });
  await Promise.all([keyChanges?.start(app.log), catalogChanges?.start(app.log)]);

  if (await seedDemoAndAnnounce(config, database)) {
    app.log.info({ organisation: 'demo' }, 'seeded demo organisation, API key and sample products');
  }

  await app.listen({ port: config.port, host: config.host });
  app.log.info({ database: describeDatabase(config) }, 'storage');
  if (!config.publicBaseUrlSet && !isLoopback(config.host)) {
    app.log.warn(
      `PUBLIC_BASE_URL is not set: QR codes, JSON-LD ids and linksets will carry ${config.publicBaseUrl}, which only works on this machine. ` +
        'Set PUBLIC_BASE_URL to the address people and scanners reach (https://dpp.example.com).',
    );
  }
  if (config.metricsAllowUnauthenticated && !config.metricsToken && !isLoopback(config.host)) {
    app.log.warn(
      `METRICS_ALLOW_UNAUTHENTICATED=true and HOST=${config.host}: anyone who reaches this port can read /metrics (every organisation's traffic and queue figures). ` +
        'Make sure only the scraper can, or set METRICS_TOKEN.',
    );
  }
  // The API process runs the jobs too (on either database), unless WORKER=false splits the roles;
  // on PostgreSQL any number of `dpp serve` and `dpp worker` processes share the durable queue.
  const metrics = app.metrics;
  const worker = config.runWorker ? createSystemWorker(config, database, app.log, metrics ? { onExtractionOutcome: metrics.extractionFinished } : {}) : undefined;
  worker?.start();
  // In a cluster, workers after the first run no jobs (cluster.ts): the primary said so once.
  if (!worker && !(clusterWorker && clusterWorker > 1)) app.log.warn('WORKER=false: this process runs no jobs; extractions wait for a `dpp worker`');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      app.log.info('shutting down');
      await app.close();
      await worker?.stop();
      await keyChanges?.close();
      await catalogChanges?.close();
      await database.close();
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stop().then(
        () => process.exit(0),
        (e) => {
          app.log.error({ err: e }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
  return { app, database, stop };
}
