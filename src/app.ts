import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { ChangeFeed, SyncedChangeFeed } from './db/pg-listen.js';
import { createResultCache } from './db/result-cache.js';
import { createAccessService } from './features/access/service.js';
import { auditRoutes } from './features/audit/routes.js';
import { createAuditService } from './features/audit/service.js';
import { grantRoutes } from './features/access/grant-routes.js';
import { backupRoutes } from './features/backup/routes.js';
import { createGrantService } from './features/access/grants.js';
import { createCatalogView } from './features/catalog/catalog-view.js';
import { catalogRoutes } from './features/catalog/routes.js';
import { passportRoutes } from './features/passports/routes.js';
import { instanceRoutes } from './features/passports/instance-routes.js';
import { createInstanceService } from './features/passports/instances.js';
import { successorRoutes } from './features/passports/successor-routes.js';
import { createSuccessorService } from './features/passports/successors.js';
import { registryRoutes } from './features/registry/routes.js';
import { createRegistryService } from './features/registry/service.js';
import { createComplianceService } from './features/passports/service.js';
import { createGenerateService } from './features/passports/generate-service.js';
import { productRoutes } from './features/products/routes.js';
import { createProductService } from './features/products/service.js';
import { publicRoutes } from './features/export/public-routes.js';
import { publicDocumentRoutes } from './features/export/public-document-routes.js';
import { exportRoutes } from './features/export/routes.js';
import { QrRenderPool } from './features/export/qr-pool.js';
import { createExportService } from './features/export/service.js';
import { documentRoutes } from './features/documents/routes.js';
import { createDocumentService } from './features/documents/service.js';
import { extractionRoutes } from './features/extraction/routes.js';
import { createExtractionService } from './features/extraction/service.js';
import { createExtractionProviders } from './features/extraction/providers.js';
import { systemRoutes } from './features/system/routes.js';
import { credentialPublicRoutes } from './features/credentials/public-routes.js';
import { credentialRoutes } from './features/credentials/routes.js';
import { createCredentialService } from './features/credentials/service.js';
import { installAuth } from './http/auth.js';
import { createMetrics, installMetrics } from './http/metrics.js';
import { clientErrorProblem, frameworkErrorProblem, installProblemHandlers } from './http/problem.js';
import { installRateLimits } from './http/rate-limit.js';
import { installSecurityHeaders } from './http/security-headers.js';
import { ProblemSchema } from './http/schemas.js';
import { tidyOpenApi } from './http/openapi.js';
import { validatorCompiler } from './http/validation.js';

/** A request id taken from the caller: a short token, safe to log. */
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** TRUST_PROXY as a hop count: the nearest `hops` proxies are believed. */
const hopsOf = (hops: number) => (_address: string, index: number) => index < hops;

export interface AppDeps {
  config: Config;
  database: Database;
  logger?: FastifyServerOptions['logger'];
  /** PostgreSQL: API key changes other processes announce (`dpp serve` LISTENs); without it cached keys live 5 s. */
  keyChanges?: ChangeFeed | undefined;
  /** PostgreSQL: committed catalog changes (`dpp serve` LISTENs); without it the list/stats cache keys on the MVCC snapshot. */
  catalogChanges?: SyncedChangeFeed | undefined;
  /** `dpp serve --workers N`: this process's worker number (1…N); /healthz then names the process that answered. */
  clusterWorker?: number | undefined;
  /** Renders PNG QR codes (default: `QR_WORKERS` threads, none when 0); tests pass one with a worker that can crash. Closed with the app. */
  qrPool?: QrRenderPool;
}

/**
 * Builds the application without listening: the map of the system. `server.ts` listens;
 * tests drive it with `app.inject`.
 */
export async function buildApp({ config, database, logger, qrPool, keyChanges, catalogChanges, clusterWorker }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger ?? { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    // Honour a caller's request id (from a proxy) so logs can be correlated end to end, when it is a
    // sane token; anything else (too long, odd characters) is replaced rather than logged.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // The client address per-IP limits and logs use: believe X-Forwarded-For only from the proxies named.
    trustProxy: typeof config.trustProxy === 'number' ? hopsOf(config.trustProxy) : config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true },
    // Slow or idle clients must not hold connections for ever (see README, "Limits and timeouts").
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.idleTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: { headersTimeout: config.headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs) },
    clientErrorHandler: clientErrorProblem,
    frameworkErrors: frameworkErrorProblem,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.server.maxConnections = config.maxConnections;

  app.setValidatorCompiler(validatorCompiler);
  app.addSchema(ProblemSchema);
  installProblemHandlers(app, { bodyLimitBytes: config.bodyLimitBytes });
  // Before every route: each answer is counted by its route's pattern (off unless METRICS_TOKEN / METRICS_ALLOW_UNAUTHENTICATED).
  installMetrics(app, config, createMetrics(config, database, app.log, clusterWorker));
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  await installSecurityHeaders(app, config);
  await installRateLimits(app, config, database);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'dpp-compliance',
        version: '0.1.0',
        description: 'Digital Product Passports and EU environmental compliance data for a product catalog.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key: dpp_<id>_<secret>' } } },
      security: [{ bearer: [] }],
    },
    transformObject: (documents) =>
      tidyOpenApi(('openapiObject' in documents ? documents.openapiObject : documents.swaggerObject) as Record<string, unknown>, { rateLimited: config.rateLimitEnabled }),
  });
  // Its own CSP (scripts and styles it serves itself) replaces the API's allow-nothing policy.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const access = createAccessService(database.db, { keyChanges });
  const products = createProductService(database.db);
  // Signed credentials of published versions (did:web, Ed25519 keys, revocation status lists).
  const credentials = createCredentialService(database.db, {
    baseUrl: config.publicBaseUrl,
    signingSecret: config.signingSecret,
    validityDays: config.credentialValidityDays,
  });
  const compliance = createComplianceService(database.db, { publicBaseUrl: config.publicBaseUrl, credentials });
  const catalog = createCatalogView(database.db, database.dialect, createResultCache(database.db, database.dialect, config.resultCacheItems, catalogChanges));
  const generator = createGenerateService(database.db, compliance, {
    threshold: config.extractionApplyThreshold,
    defaultProvider: config.extractionProvider,
    llm: config,
  });
  const exports = createExportService(database.db, config.publicBaseUrl);
  const documents = createDocumentService(database.db);
  const grants = createGrantService(database.db);
  const qr = qrPool ?? (config.qrWorkers > 0 ? new QrRenderPool({ size: config.qrWorkers, maxQueued: config.qrQueue, timeoutMs: config.qrTimeoutMs }) : undefined);
  if (qr) app.addHook('onClose', () => qr.close());
  const extraction = createExtractionService(database.db, { defaultProvider: config.extractionProvider, providers: createExtractionProviders(config) });

  await app.register(credentialPublicRoutes, { credentials });
  await app.register(systemRoutes, { database, ...(clusterWorker ? { servedBy: { worker: clusterWorker, pid: process.pid } } : {}) });
  await app.register(publicRoutes, { exports, grants, baseUrl: config.publicBaseUrl });
  await app.register(publicDocumentRoutes, { db: database.db });
  await app.register(
    async (api) => {
      installAuth(api, access);
      await api.register(productRoutes, { products, db: database.db, importLimitBytes: config.importLimitBytes, importConcurrency: config.importConcurrency });
      await api.register(catalogRoutes, { catalog });
      await api.register(passportRoutes, { compliance, generator });
      await api.register(instanceRoutes, { instances: createInstanceService(database.db, config.publicBaseUrl) });
      await api.register(successorRoutes, { successors: createSuccessorService(database.db) });
      await api.register(exportRoutes, { exports, qrPool: qr });
      await api.register(documentRoutes, { documents, documentLimitBytes: config.documentLimitBytes });
      await api.register(extractionRoutes, { extraction });
      await api.register(auditRoutes, { audit: createAuditService(database.db) });
      await api.register(credentialRoutes, { credentials });
      await api.register(registryRoutes, { registry: createRegistryService(database.db) });
      await api.register(grantRoutes, { grants });
      await api.register(backupRoutes, { db: database.db, settings: { baseUrl: config.publicBaseUrl, signingSecret: config.signingSecret } });
    },
    { prefix: '/api/v1' },
  );
  return app;
}
