/**
 * Request rate limits (@fastify/rate-limit): per API key on the API, per client IP on the public
 * routes (resolver, passport page, QR), in fixed windows of `RATE_LIMIT_WINDOW_MS`. Over the limit a
 * request gets 429 problem+json with `Retry-After` and the `RateLimit-Limit` / `-Remaining` /
 * `-Reset` headers (IETF draft), before its body is read.
 *
 * Counts are shared by every process: in Redis when `REDIS_URL` is set (one round trip per request,
 * exact), else on PostgreSQL through an unlogged table synchronised every `RATE_LIMIT_SYNC_MS`
 * (no round trip per request; see rate-limit-pg-store.ts), else (SQLite, one process) in memory.
 * If the shared store fails, requests are let through and the error logged: limits protect the
 * service, an outage of the counter store must not become an outage of the service.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import { createPgRateLimitCounters } from './rate-limit-pg-store.js';

/** Monitoring probes are never limited. */
const UNLIMITED = new Set(['/healthz', '/readyz', '/metrics']);

export type RateLimitStoreKind = 'redis' | 'postgres' | 'memory';

export function rateLimitStoreKind(config: Pick<Config, 'redisUrl'>, database: Pick<Database, 'dialect'>): RateLimitStoreKind {
  if (config.redisUrl) return 'redis';
  return database.dialect === 'postgres' ? 'postgres' : 'memory';
}

/** How long start-up waits for the Redis connection before serving without it. */
const REDIS_READY_WAIT_MS = 3000;

export async function installRateLimits(app: FastifyInstance, config: Config, database: Database): Promise<void> {
  if (!config.rateLimitEnabled) return;
  const kind = rateLimitStoreKind(config, database);
  const store: Record<string, unknown> = {};
  if (kind === 'redis') {
    const redis = new Redis(config.redisUrl!, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 });
    redis.on('error', (e: Error) => app.log.warn({ err: e }, 'rate limit store (Redis) error'));
    store.redis = redis;
    store.nameSpace = 'dpp-rate-limit:';
    app.addHook('onClose', async () => {
      redis.disconnect();
    });
    // Until the connection is up every count fails and is let through (no offline queue, by design:
    // a Redis outage must not hold requests). Wait for it before serving, a bounded time, so a
    // process that starts does not open with a window of uncounted requests.
    app.addHook('onReady', async () => {
      if (redis.status === 'ready') return;
      const ready = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), REDIS_READY_WAIT_MS);
        redis.once('ready', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!ready) app.log.warn({ waitedMs: REDIS_READY_WAIT_MS }, 'rate limit store (Redis) not reachable at start: requests are let through uncounted until it is');
    });
  } else if (kind === 'postgres') {
    const counters = createPgRateLimitCounters(database.db, {
      syncMs: config.rateLimitSyncMs,
      onError: (e) => app.log.warn({ err: e }, 'rate limit store (PostgreSQL) sync failed'),
    });
    store.store = counters.Store;
    app.decorate('rateLimitSync', counters.sync);
    app.addHook('onClose', () => counters.close());
  }

  await app.register(rateLimit, {
    global: true,
    // After authentication (onRequest), before the body is read.
    hook: 'preParsing',
    timeWindow: config.rateLimitWindowMs,
    keyGenerator: (request: FastifyRequest) => (request.principal ? `key:${request.principal.keyId}` : `ip:${request.ip}`),
    max: (_request: FastifyRequest, key: string) => (key.startsWith('key:') ? config.rateLimitPerKey : config.rateLimitPerIp),
    allowList: (request: FastifyRequest) => UNLIMITED.has(request.routeOptions.url ?? ''),
    enableDraftSpec: true,
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new AppError(
        429,
        'rate_limited',
        'Too many requests',
        `Rate limit of ${context.max} requests per ${Math.round(config.rateLimitWindowMs / 1000)} s reached; retry in ${context.after}.`,
        undefined,
        { limit: context.max, retry_after_seconds: Math.ceil(context.ttl / 1000) },
      ),
    ...store,
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    /** PostgreSQL store only: adds this process's counts to the shared table now (tests). */
    rateLimitSync?: () => Promise<void>;
  }
}
