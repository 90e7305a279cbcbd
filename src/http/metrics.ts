/**
 * Prometheus metrics at `GET /metrics` (prom-client, text exposition format), off unless
 * `METRICS_TOKEN` is set (then required as a Bearer token) or `METRICS_ALLOW_UNAUTHENTICATED=true`.
 *
 * Every app has its own Registry (never prom-client's global one), so several apps in one process
 * (the test suite) keep their own counts; all state lives in the object `createMetrics` returns.
 *
 * - HTTP: requests and latency per route *pattern* (`/api/v1/compliance/dpp/:product_id`, never the
 *   raw URL: ids in labels would make the series unbounded), method and status; unmatched paths are
 *   one label value, `unmatched`.
 * - Jobs: depth per queue and state, and how long the oldest due job has waited, read from the `jobs`
 *   table on each scrape (index seeks only, see `queueDepths`), so they cover every worker process.
 * - Extractions: outcomes per provider, counted where this process's worker finishes them.
 * - PostgreSQL pool: connections open, idle, and clients waiting for one.
 * - Node process: prom-client's default metrics (CPU, memory, event loop lag, GC, handles).
 *
 * In a `dpp serve --workers N` cluster (`clusterWorker` given), a scrape answers for every worker
 * (see cluster-metrics.ts): prom-client sums each metric over the workers unless its `aggregator`
 * says otherwise. Per-process figures (default metrics, pool) carry a `worker` label, so they stay
 * apart; the job gauges, read from the one shared database, take the first worker's reading.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { poolOf } from '../db/pg-direct.js';
import { errors } from '../errors.js';
import { DEPTH_STATES, queueDepths } from '../jobs/queue.js';
import { answerPrimary, clusterScraper } from './cluster-metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's metrics (null when /metrics is off): `dpp serve` gives its worker `extractionFinished`. */
    metrics: AppMetrics | null;
  }
}

export type ExtractionOutcome = 'completed' | 'failed';

export interface AppMetrics {
  readonly registry: Registry;
  /** Counts an extraction that finished (in this process's worker). */
  readonly extractionFinished: (provider: string, outcome: ExtractionOutcome) => void;
  /** Counts one answer: `route` is the route's pattern (or UNMATCHED_ROUTE), never the URL. */
  recordRequest(method: string, route: string, statusCode: number, seconds: number): void;
  /**
   * Renders every metric in the exposition format (the database figures are read as they are
   * collected); in a cluster worker, the whole cluster's, from the primary (503 problem when it fails).
   */
  scrape(): Promise<string>;
}

/** The label of requests no route matched (404s): one value, whatever the path. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Methods as labels; anything else (Node parses a few dozen) is `OTHER`, keeping the label bounded. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Seconds: most answers take milliseconds; streamed imports and exports can take minutes. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

/** Whether /metrics is served at all. */
export function metricsEnabled(config: Pick<Config, 'metricsToken' | 'metricsAllowUnauthenticated'>): boolean {
  return config.metricsToken !== undefined || config.metricsAllowUnauthenticated;
}

/**
 * The registry and its metrics for one app; undefined when /metrics is off (no collector runs then).
 * `clusterWorker`: this process is worker N of `dpp serve --workers` (its scrapes answer for the cluster).
 */
export function createMetrics(
  config: Pick<Config, 'metricsToken' | 'metricsAllowUnauthenticated'>,
  database: Pick<Database, 'db'>,
  log?: Pick<FastifyBaseLogger, 'warn'>,
  clusterWorker?: number,
): AppMetrics | undefined {
  if (!metricsEnabled(config)) return undefined;
  const registry = new Registry();
  const registers = [registry];
  // Per-process figures are labelled with the worker in a cluster: summed over workers, event loop
  // lag or heap would mean little. (prom-client still leaves process_start_time_seconds out there.)
  const perWorker = clusterWorker === undefined ? undefined : { worker: String(clusterWorker) };
  collectDefaultMetrics({ register: registry, ...(perWorker && { labels: perWorker }) });

  const httpRequests = new Counter({
    name: 'dpp_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'dpp_http_request_duration_seconds',
    help: 'Time from receiving a request to the end of its answer, by method, route pattern and status class.',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const pool = poolOf(database.db as never);
  if (pool) {
    // Each process has its own pool: per worker in a cluster (sum() them in PromQL for the cluster's).
    // Registered before the job gauges: prom-client collects in registration order, so the pool is
    // read before the scrape's own queue query asks it for a connection.
    const poolGauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        labelNames: perWorker ? ['worker'] : [],
        collect() {
          if (perWorker) this.set(perWorker, read());
          else this.set(read());
        },
      });
    poolGauge('dpp_db_pool_connections', 'PostgreSQL connections the pool holds open.', () => pool.totalCount);
    poolGauge('dpp_db_pool_idle_connections', 'PostgreSQL connections of the pool idle.', () => pool.idleCount);
    poolGauge('dpp_db_pool_waiting_clients', 'Queries waiting for a free PostgreSQL connection.', () => pool.waitingCount);
    poolGauge('dpp_db_pool_max_connections', 'Connections the PostgreSQL pool may open at most.', () => pool.options.max ?? 10);
  }

  // The job gauges are read from the database as they are collected, so that a worker's answer to
  // the primary (prom-client collects the registry itself there) is as fresh as a scrape's. Every
  // worker reads the same table, so in a cluster the first reading is the cluster's ('sum' would
  // count the jobs N times; 'max' could mix state counts of different readings).
  let reading: Promise<void> | undefined;
  const readQueuesOnce = () => (reading ??= readQueues().finally(() => (reading = undefined)));
  const queueDepth = new Gauge({
    name: 'dpp_job_queue_depth',
    help: 'Jobs in the durable queue, by queue and state (queued includes jobs waiting for a retry).',
    labelNames: ['queue', 'state'] as const,
    registers,
    aggregator: 'first',
    collect: readQueuesOnce,
  });
  const oldestDue = new Gauge({
    name: 'dpp_job_queue_oldest_due_age_seconds',
    help: 'How long the longest-waiting due job of the queue has waited to be claimed (0: none waits).',
    labelNames: ['queue'] as const,
    registers,
    aggregator: 'first',
    // Both gauges are collected at once (prom-client starts every collector before awaiting any): one read.
    collect: readQueuesOnce,
  });
  const extractions = new Counter({
    name: 'dpp_extractions_total',
    help: "Document extractions finished by this process's worker, by provider and outcome.",
    labelNames: ['provider', 'outcome'] as const,
    registers,
  });
  const collectErrors = new Counter({
    name: 'dpp_metrics_collect_errors_total',
    help: 'Scrapes whose database figures could not be read (those metrics are then left out).',
    labelNames: ['collector'] as const,
    registers,
  });

  for (const provider of ['rules', 'openai', 'anthropic']) {
    // Known series start at 0, so rate() and absence alerts work before the first extraction.
    for (const outcome of ['completed', 'failed'] as const) extractions.inc({ provider, outcome }, 0);
  }

  async function readQueues(): Promise<void> {
    const nowMs = Date.now();
    try {
      const depths = await queueDepths(database.db, nowMs);
      queueDepth.reset();
      oldestDue.reset();
      for (const { queue, counts, oldestDueAt } of depths) {
        for (const state of DEPTH_STATES) queueDepth.set({ queue, state }, counts[state]);
        oldestDue.set({ queue }, oldestDueAt ? Math.max(0, (nowMs - Date.parse(oldestDueAt)) / 1000) : 0);
      }
    } catch (e) {
      // A database that does not answer must not take the process metrics with it.
      queueDepth.reset();
      oldestDue.reset();
      collectErrors.inc({ collector: 'jobs' });
      log?.warn({ err: e }, 'metrics: could not read the job queue');
    }
  }

  if (clusterWorker !== undefined) answerPrimary([registry]);
  const scrapeCluster = clusterWorker === undefined ? undefined : clusterScraper();

  return {
    registry,
    extractionFinished: (provider, outcome) => extractions.inc({ provider, outcome }),
    recordRequest(method, route, statusCode, seconds) {
      const m = METHODS.has(method) ? method : 'OTHER';
      httpRequests.inc({ method: m, route, status_code: String(statusCode) });
      httpDuration.observe({ method: m, route, status_class: `${Math.floor(statusCode / 100)}xx` }, seconds);
    },
    scrape: scrapeCluster ?? (() => registry.metrics()),
  };
}

/** Constant-time check of a Bearer token (both sides hashed first, so lengths tell nothing either). */
function tokenCheck(token: string) {
  const expected = createHash('sha256').update(token).digest();
  return (header: string | undefined): boolean => {
    const given = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (given === undefined) return false;
    return timingSafeEqual(createHash('sha256').update(given).digest(), expected);
  };
}

/**
 * Counts every answer (hook on the root context, so it must be installed before the routes) and
 * registers `GET /metrics`, left out of the OpenAPI document like /openapi.json: it is an operator's
 * endpoint, guarded by its own token, not by the API keys.
 */
export function installMetrics(app: FastifyInstance, config: Pick<Config, 'metricsToken' | 'metricsAllowUnauthenticated'>, metrics: AppMetrics | undefined): void {
  app.decorate('metrics', metrics ?? null);
  if (!metrics) return;
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    metrics.recordRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  const authorized = config.metricsToken ? tokenCheck(config.metricsToken) : () => true;
  app.get(
    '/metrics',
    {
      schema: { hide: true },
      // Before anything else is done for the request: an unauthenticated scrape costs nothing.
      onRequest: (request, _reply, done) => {
        if (authorized(request.headers.authorization)) return done();
        const sent = request.headers.authorization !== undefined;
        done(errors.unauthenticated(sent ? 'The metrics token is not valid.' : 'The metrics need a Bearer token (METRICS_TOKEN).', sent));
      },
    },
    async (_request, reply) => {
      const body = await metrics.scrape();
      return reply.header('cache-control', 'no-store').type(metrics.registry.contentType).send(body);
    },
  );
}
