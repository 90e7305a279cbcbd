import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { openConfiguredDatabase, type Database } from './db/database.js';
import { createSystemWorker } from './jobs/registry.js';
import { seedDemo } from './seed/demo.js';

export interface RunningServer {
  app: FastifyInstance;
  database: Database;
  stop(): Promise<void>;
}

/**
 * `dpp serve`: migrates, seeds the demo organisation into an empty embedded database,
 * listens, and stops gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight requests, close the DB).
 */
export async function startServer(config: Config): Promise<RunningServer> {
  const database = await openConfiguredDatabase(config, { sqliteMmapBytes: 16 * 1024 ** 3, sqliteReaderThread: config.sqliteReaderThread });
  const app = await buildApp({ config, database });

  if (config.demoSeed) {
    const key = await seedDemo(database, config.dataDir);
    if (key) {
      app.log.info({ organisation: 'demo' }, 'seeded demo organisation, API key and sample products');
      process.stdout.write(
        `\nDemo organisation created. API key (also in ${config.dataDir}/demo-api-key):\n\n  ${key}\n\n` +
          `Try: curl -H "Authorization: Bearer ${key}" ${config.publicBaseUrl}/api/v1/products\n\n`,
      );
    }
  }

  await app.listen({ port: config.port, host: config.host });
  // On the embedded database the API process also runs the jobs; on PostgreSQL run `dpp worker`s.
  const worker = database.dialect === 'sqlite' ? createSystemWorker(config, database, app.log) : undefined;
  worker?.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      app.log.info('shutting down');
      await app.close();
      await worker?.stop();
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
