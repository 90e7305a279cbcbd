import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type AppDeps } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Dialect } from '../../src/db/dialect.js';
import { createAccessService } from '../../src/features/access/service.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  config: Config;
  /** Creates an API key for an organisation (created when new). */
  key(org: string, scopes?: string): Promise<string>;
  /** `app.inject` with a Bearer key. */
  call(key: string, options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** The whole application on a fresh database of the given dialect, driven through `inject`. */
export async function createTestApp(dialect: Dialect, env: Record<string, string> = {}, deps: Pick<AppDeps, 'qrPool'> = {}): Promise<TestApp> {
  const database = await createTestDatabase(dialect);
  const config = loadConfig({ DATA_DIR: '/tmp/dpp-test-unused', PUBLIC_BASE_URL: 'https://dpp.example.test', ...env });
  const app = await buildApp({ config, database, logger: false, ...deps });
  await app.ready();
  const access = createAccessService(database.db);
  return {
    app,
    database,
    config,
    key: async (org, scopes = 'read,write') => (await access.createKey({ org, scopes })).key,
    call: (key, options) => app.inject({ ...options, headers: { authorization: `Bearer ${key}`, ...(options.headers ?? {}) } }),
    async close() {
      await app.close();
      await database.dispose();
    },
  };
}
