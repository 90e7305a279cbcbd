/**
 * On-demand HTTP fuzzing run, larger than the one in the test suite (test/http/fuzz.test.ts), with the
 * same generator and checks (test/helpers/fuzz.ts). The app runs in-process on a fresh database and is
 * driven through `inject`; its error log is captured, so every 5xx is shown with the error behind it.
 *
 *   npx tsx bench/fuzz.ts [--requests 30000] [--dialect sqlite|postgres|both] [--seed N] [--concurrency 4]
 *                         [--timeout-ms 5000] [--only REGEX] [--max-groups 200]
 *
 * Prints per dialect: requests sent, by status class, 5xx count, problem+json failures, schema
 * mismatches, hangs, blank values accepted, time; then the distinct failures. Exit code 1 when any
 * check failed, 0 otherwise. PostgreSQL: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import { Writable } from 'node:stream';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Dialect } from '../src/db/dialect.js';
import { createAccessService } from '../src/features/access/service.js';
import type { TestApp } from '../test/helpers/app.js';
import { createTestDatabase } from '../test/helpers/db.js';
import { formatFailures, formatSummary, runFuzz, type Failure } from '../test/helpers/fuzz.js';

interface Options {
  requests: number;
  dialects: Dialect[];
  seed: number;
  concurrency: number;
  timeoutMs: number;
  only?: RegExp;
  maxGroups: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    requests: 30_000,
    dialects: ['sqlite', 'postgres'],
    seed: Math.floor(Math.random() * 2 ** 31),
    concurrency: 4,
    timeoutMs: 5000,
    maxGroups: 200,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = (name: string) => {
      const n = Number(value().replace(/[_,]/g, ''));
      if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
      return n;
    };
    switch (flag) {
      case '--requests':
        opts.requests = Math.max(1, int('--requests'));
        break;
      case '--dialect': {
        const d = value();
        if (d !== 'sqlite' && d !== 'postgres' && d !== 'both') throw new Error('--dialect must be sqlite, postgres or both');
        opts.dialects = d === 'both' ? ['sqlite', 'postgres'] : [d];
        break;
      }
      case '--seed':
        opts.seed = int('--seed');
        break;
      case '--concurrency':
        opts.concurrency = Math.max(1, int('--concurrency'));
        break;
      case '--timeout-ms':
        opts.timeoutMs = Math.max(1, int('--timeout-ms'));
        break;
      case '--only':
        opts.only = new RegExp(value());
        break;
      case '--max-groups':
        opts.maxGroups = int('--max-groups');
        break;
      case '--help':
      case '-h':
        console.log('usage: npx tsx bench/fuzz.ts [--requests N] [--dialect sqlite|postgres|both] [--seed N] [--concurrency N] [--timeout-ms N] [--only REGEX] [--max-groups N]');
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        throw new Error(`unknown argument ${arg}`);
    }
  }
  return opts;
}

/** The app as createTestApp builds it, but with its error log captured by request id. */
async function createApp(dialect: Dialect) {
  const errorsByRequest = new Map<string, string>();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const entry = JSON.parse(line) as { reqId?: string; msg?: string; err?: { type?: string; message?: string; stack?: string } };
          if (entry.reqId && entry.err) {
            const where =
              entry.err.stack
                ?.split('\n')
                .slice(1, 4)
                .map((s) => s.trim())
                .join(' < ') ?? '';
            errorsByRequest.set(entry.reqId, `${entry.err.type ?? 'Error'}: ${entry.err.message ?? entry.msg ?? ''}${where ? ` (${where})` : ''}`);
          }
        } catch {
          // not a JSON log line
        }
      }
      callback();
    },
  });
  const database = await createTestDatabase(dialect);
  // One key sends every request: limits high enough that the fuzzer reaches the handlers, not the 429.
  const config = loadConfig({ DATA_DIR: '/tmp/dpp-fuzz-unused', PUBLIC_BASE_URL: 'https://dpp.example.test', RATE_LIMIT_PER_KEY: '100000000', RATE_LIMIT_PER_IP: '100000000' });
  const app = await buildApp({ config, database, logger: { level: 'error', stream } });
  await app.ready();
  const access = createAccessService(database.db);
  const t: TestApp = {
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
  return { t, errorsByRequest };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let failed = false;
  console.log(`fuzz: ${opts.requests} requests per dialect, seed ${opts.seed}, concurrency ${opts.concurrency}, hang after ${opts.timeoutMs} ms`);
  for (const dialect of opts.dialects) {
    const { t, errorsByRequest } = await createApp(dialect);
    let lastPrint = Date.now();
    const report = await runFuzz(t, {
      seed: opts.seed,
      requests: opts.requests,
      timeoutMs: opts.timeoutMs,
      concurrency: opts.concurrency,
      ...(opts.only ? { only: opts.only } : {}),
      onProgress: (sent, total) => {
        if (process.stderr.isTTY && Date.now() - lastPrint > 1000) {
          lastPrint = Date.now();
          process.stderr.write(`\r${dialect}: ${sent}/${total}`);
        }
      },
    });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    console.log(formatSummary(report, dialect));
    if (report.failures.length) {
      failed = true;
      const explain = (f: Failure) => (f.requestId ? errorsByRequest.get(f.requestId) : undefined);
      console.log(formatFailures(report.failures, opts.seed, explain, opts.maxGroups));
    }
    // A request given up on as a hang may keep the app from closing.
    await Promise.race([t.close(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    console.log('');
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
