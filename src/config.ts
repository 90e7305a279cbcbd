import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

/** Log levels pino understands. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Whether DATA_DIR was set (else ./data of the working directory). */
  readonly dataDirSet: boolean;
  /** A postgres:// URL switches storage to PostgreSQL; undefined means the embedded SQLite file. */
  readonly databaseUrl: string | undefined;
  readonly publicBaseUrl: string;
  /** Whether PUBLIC_BASE_URL was set (else it is derived from the port, and only right on this machine). */
  readonly publicBaseUrlSet: boolean;
  /** `serve` also runs the job worker (document extraction); `WORKER=false` leaves jobs to `dpp worker`. */
  readonly runWorker: boolean;
  /** `serve`: HTTP processes on the one port (node:cluster), `--workers N` or WEB_CONCURRENCY; PostgreSQL only (SQLite stays one process). */
  readonly webConcurrency: number;
  readonly logLevel: LogLevel;
  /** Largest JSON request body, in bytes. */
  readonly bodyLimitBytes: number;
  /** Largest streamed import body (CSV / NDJSON), in bytes. */
  readonly importLimitBytes: number;
  /** Seed a demo organisation, key and products into an empty database at `serve`. */
  readonly demoSeed: boolean;
  /** Largest document upload, in bytes. */
  readonly documentLimitBytes: number;
  /** How long a worker holds a claimed job before another may take it over. */
  readonly jobLeaseMs: number;
  /** Jobs a worker runs at once. */
  readonly workerConcurrency: number;
  /** Audit events older than this many days are purged by the job worker (at start, then daily); 0 keeps them for ever. */
  readonly auditRetentionDays: number;
  /** Extraction provider used when a request names none: rules (built in), openai or anthropic. */
  readonly extractionProvider: string;
  /** Extracted values at or above this confidence fill empty fields. */
  readonly extractionApplyThreshold: number;
  /** Limits of the worker thread that reads a document's text. */
  readonly extractionTimeoutMs: number;
  readonly extractionMemoryMb: number;
  /** Worker threads kept warm to read documents' text (jobs beyond them wait for one). */
  readonly extractionWorkers: number;
  /** OpenAI (or an OpenAI-compatible server: Ollama, vLLM …): the provider is configured when the key is set. */
  readonly openaiApiKey: string | undefined;
  /** Base URL of an OpenAI-compatible API (`http://localhost:11434/v1`); undefined means api.openai.com. */
  readonly openaiBaseUrl: string | undefined;
  readonly openaiModel: string;
  /** Anthropic: the provider is configured when the key is set. */
  readonly anthropicApiKey: string | undefined;
  /** Base URL of the Anthropic API (a proxy, say); undefined means api.anthropic.com. */
  readonly anthropicBaseUrl: string | undefined;
  readonly anthropicModel: string;
  /** Time limit of one LLM request (each retry gets its own). */
  readonly llmTimeoutMs: number;
  /** Retries of a failed LLM request (timeouts, 429, 5xx) by the SDK, before the job's own retries. */
  readonly llmMaxRetries: number;
  /** Characters of document text sent to an LLM at most (long documents are shortened page by page). */
  readonly llmMaxInputChars: number;
  /** Request rate limits (see src/http/rate-limit.ts). */
  readonly rateLimitEnabled: boolean;
  readonly rateLimitWindowMs: number;
  /** Requests per window per API key on the API. */
  readonly rateLimitPerKey: number;
  /** Requests per window per client IP on routes without a key (resolver, public page, QR). */
  readonly rateLimitPerIp: number;
  /** PostgreSQL store: how often a process adds its counts to the shared ones. */
  readonly rateLimitSyncMs: number;
  /** Redis for shared rate-limit counts (`redis://host:6379`); undefined: PostgreSQL or memory. */
  readonly redisUrl: string | undefined;
  /**
   * Fastify's `trustProxy`: whom to believe for the client address in `X-Forwarded-For` (false,
   * true, a hop count, or addresses/CIDRs). Behind a reverse proxy the per-IP limits need it.
   */
  readonly trustProxy: boolean | number | string;
  /** List items (plus one per stats answer) the result cache may hold; 0 turns it off. */
  readonly resultCacheItems: number;
  /** Whole-request time limit, body included (Node's `requestTimeout`); large imports need minutes. */
  readonly requestTimeoutMs: number;
  /** Time a client has to send its request headers (Node's `headersTimeout`). */
  readonly headersTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed. */
  readonly idleTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** Open connections at most; further ones are refused (keeps file descriptors for the database and files). */
  readonly maxConnections: number;
  /** Streamed imports running at once; more are refused with 503 and Retry-After. */
  readonly importConcurrency: number;
  /** Worker threads rendering PNG QR codes off the event loop; 0 renders them inline. */
  readonly qrWorkers: number;
  /** PNG QR renders waiting for a worker at most; more are refused with 503 and Retry-After. */
  readonly qrQueue: number;
  /** Time limit of one PNG QR render in its worker (the worker is then replaced). */
  readonly qrTimeoutMs: number;
  /** SQLite: `serve` runs the prepared reads (passport GET, stats counters) on a thread of its own (see src/db/sqlite-reader.ts). */
  readonly sqliteReaderThread: boolean;
  /** Bearer token `GET /metrics` requires (Prometheus scrapes); undefined: see `metricsAllowUnauthenticated`. */
  readonly metricsToken: string | undefined;
  /** Serve `/metrics` without a token (only where the port is reachable by the scraper alone: loopback, a private network). */
  readonly metricsAllowUnauthenticated: boolean;
  /**
   * Encrypts the organisations' credential signing keys at rest (AES-256-GCM under a key derived from it);
   * undefined stores them unencrypted (see README, "Signed credentials").
   */
  readonly signingSecret: string | undefined;
  /** A passport credential's `validUntil`: this many days after its `validFrom` (publication). */
  readonly credentialValidityDays: number;
}

/**
 * Connections the server accepts by default: the process's open-file limit less a reserve for the
 * database, documents, workers and logs (a slow-client flood must not take the descriptors the service
 * needs), at most 10,000. Linux tells the limit in /proc; elsewhere 1,024 is assumed.
 */
function defaultMaxConnections(): number {
  let limit = 1024;
  try {
    const line = fs
      .readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    if (Number.isFinite(soft) && soft > 0) limit = soft;
  } catch {
    // no /proc: keep the assumption
  }
  return Math.max(16, Math.min(10_000, Math.floor(limit * 0.8) - 64));
}

/** A configuration value that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

const PROVIDERS = ['rules', 'openai', 'anthropic'];

function provider(env: Env): string {
  const value = env.EXTRACTION_PROVIDER?.trim().toLowerCase() || 'rules';
  if (!PROVIDERS.includes(value)) throw new ConfigError(`EXTRACTION_PROVIDER must be one of ${PROVIDERS.join(', ')}, got "${value}"`);
  return value;
}

function fraction(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new ConfigError(`${name} must be a number from 0 to 1, got "${raw}"`);
  return value;
}

function url(name: string, raw: string, protocols: string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
  }
  return raw;
}

/** A secret such as an API key: trimmed, unset when empty, no whitespace inside (it goes into a header). */
function secret(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  if (/\s/.test(value)) throw new ConfigError(`${name} must not contain whitespace`);
  return value;
}

/** SIGNING_SECRET: at least 32 characters (the key it derives is only as strong as it is). */
function signingSecret(env: Env): string | undefined {
  const value = secret(env, 'SIGNING_SECRET');
  if (value !== undefined && value.length < 32) throw new ConfigError('SIGNING_SECRET must be at least 32 characters (e.g. `openssl rand -base64 32`)');
  return value;
}

function optionalUrl(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? url(name, raw, ['http:', 'https:']).replace(/\/+$/, '') : undefined;
}

/** METRICS_TOKEN: a secret long enough not to be guessed (it guards every organisation's queue and traffic figures). */
function metricsToken(env: Env): string | undefined {
  const value = secret(env, 'METRICS_TOKEN');
  if (value !== undefined && value.length < 16) throw new ConfigError('METRICS_TOKEN must be at least 16 characters long');
  return value;
}

/** A model name: trimmed, the fallback when unset, no whitespace inside. */
function model(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim() || fallback;
  if (/\s/.test(value)) throw new ConfigError(`${name} must be a model name without spaces, got "${env[name]}"`);
  return value;
}

/**
 * Reads the configuration from environment variables once, typed and frozen.
 * A bad value throws a ConfigError naming the variable, so the process stops before it serves.
 *
 * @example
 * const config = loadConfig({ PORT: '3000' }); // config.publicBaseUrl === 'http://localhost:3000'
 */
/** TRUST_PROXY: unset/false, true, a hop count, or a comma-separated list of addresses/CIDRs. */
function trustProxy(raw: string | undefined): boolean | number | string {
  const value = raw?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  if (/^[\w.:/,\s-]+$/.test(value)) return value;
  throw new ConfigError(`TRUST_PROXY must be true, false, a hop count or a list of addresses/CIDRs, got "${raw}"`);
}

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  const databaseUrl = env.DATABASE_URL?.trim() ? url('DATABASE_URL', env.DATABASE_URL.trim(), ['postgres:', 'postgresql:']) : undefined;
  const publicBaseUrl = url('PUBLIC_BASE_URL', env.PUBLIC_BASE_URL?.trim() || `http://localhost:${port}`, ['http:', 'https:']).replace(/\/+$/, '');
  const requestTimeoutMs = integer(env, 'REQUEST_TIMEOUT_MS', 600_000, 1000, 86_400_000);
  const headersTimeoutMs = integer(env, 'HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  if (headersTimeoutMs > requestTimeoutMs) throw new ConfigError(`HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  return Object.freeze({
    port,
    host: env.HOST?.trim() || '0.0.0.0',
    dataDir: path.resolve(env.DATA_DIR?.trim() || './data'),
    dataDirSet: Boolean(env.DATA_DIR?.trim()),
    databaseUrl,
    publicBaseUrl,
    publicBaseUrlSet: Boolean(env.PUBLIC_BASE_URL?.trim()),
    runWorker: boolean(env, 'WORKER', true),
    webConcurrency: integer(env, 'WEB_CONCURRENCY', 1, 1, 256),
    logLevel,
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1_048_576, 1024, 104_857_600),
    importLimitBytes: integer(env, 'IMPORT_LIMIT_BYTES', 2_147_483_648, 1024, Number.MAX_SAFE_INTEGER),
    demoSeed: boolean(env, 'DEMO_SEED', databaseUrl === undefined),
    documentLimitBytes: integer(env, 'DOCUMENT_LIMIT_BYTES', 25 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    jobLeaseMs: integer(env, 'JOB_LEASE_MS', 60_000, 500, 3_600_000),
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 2, 1, 64),
    auditRetentionDays: integer(env, 'AUDIT_RETENTION_DAYS', 2555, 0, 36_500),
    extractionProvider: provider(env),
    extractionApplyThreshold: fraction(env, 'EXTRACTION_APPLY_THRESHOLD', 0.8),
    extractionTimeoutMs: integer(env, 'EXTRACTION_TIMEOUT_MS', 60_000, 100, 3_600_000),
    extractionMemoryMb: integer(env, 'EXTRACTION_MEMORY_MB', 256, 32, 8192),
    extractionWorkers: integer(env, 'EXTRACTION_WORKERS', Math.min(2, availableParallelism()), 1, 64),
    openaiApiKey: secret(env, 'OPENAI_API_KEY'),
    openaiBaseUrl: optionalUrl(env, 'OPENAI_BASE_URL'),
    openaiModel: model(env, 'OPENAI_MODEL', 'gpt-4o-mini'),
    anthropicApiKey: secret(env, 'ANTHROPIC_API_KEY'),
    anthropicBaseUrl: optionalUrl(env, 'ANTHROPIC_BASE_URL'),
    anthropicModel: model(env, 'ANTHROPIC_MODEL', 'claude-haiku-4-5'),
    llmTimeoutMs: integer(env, 'LLM_TIMEOUT_MS', 60_000, 100, 3_600_000),
    llmMaxRetries: integer(env, 'LLM_MAX_RETRIES', 2, 0, 10),
    llmMaxInputChars: integer(env, 'LLM_MAX_INPUT_CHARS', 60_000, 1000, 2_000_000),
    resultCacheItems: integer(env, 'RESULT_CACHE_ITEMS', 20_000, 0, 10_000_000),
    sqliteReaderThread: boolean(env, 'SQLITE_READER_THREAD', true),
    metricsToken: metricsToken(env),
    metricsAllowUnauthenticated: boolean(env, 'METRICS_ALLOW_UNAUTHENTICATED', false),
    requestTimeoutMs,
    headersTimeoutMs,
    idleTimeoutMs: integer(env, 'IDLE_TIMEOUT_MS', 60_000, 100, 3_600_000),
    keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 10_000, 100, 3_600_000),
    maxConnections: integer(env, 'MAX_CONNECTIONS', defaultMaxConnections(), 1, 1_000_000),
    importConcurrency: integer(env, 'IMPORT_CONCURRENCY', 2, 1, 64),
    qrWorkers: integer(env, 'QR_WORKERS', Math.max(1, Math.min(2, availableParallelism() - 1)), 0, 16),
    qrQueue: integer(env, 'QR_QUEUE', 64, 1, 100_000),
    qrTimeoutMs: integer(env, 'QR_TIMEOUT_MS', 5000, 100, 600_000),
    rateLimitEnabled: boolean(env, 'RATE_LIMIT', true),
    rateLimitWindowMs: integer(env, 'RATE_LIMIT_WINDOW_MS', 60_000, 1000, 86_400_000),
    rateLimitPerKey: integer(env, 'RATE_LIMIT_PER_KEY', 6000, 1, 100_000_000),
    rateLimitPerIp: integer(env, 'RATE_LIMIT_PER_IP', 1200, 1, 100_000_000),
    rateLimitSyncMs: integer(env, 'RATE_LIMIT_SYNC_MS', 250, 10, 60_000),
    redisUrl: env.REDIS_URL?.trim() ? url('REDIS_URL', env.REDIS_URL.trim(), ['redis:', 'rediss:']) : undefined,
    trustProxy: trustProxy(env.TRUST_PROXY),
    signingSecret: signingSecret(env),
    credentialValidityDays: integer(env, 'CREDENTIAL_VALIDITY_DAYS', 3650, 1, 36_500),
  });
}
