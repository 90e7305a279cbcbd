import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { formatFailures, formatSummary, fuzzSeed, runFuzz } from '../helpers/fuzz.js';

/**
 * Schema-driven fuzzing of every operation of the OpenAPI document (see test/helpers/fuzz.ts): no 5xx,
 * problem+json errors, answers matching their documented schemas, no hang, no blank value or
 * out-of-range number stored.
 * FUZZ_SEED=<n> reproduces a run (FUZZ_SEED=random tries a new one); FUZZ_REQUESTS changes the count.
 * Larger runs: `npx tsx bench/fuzz.ts`.
 */
const SEED = fuzzSeed(20261127);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2500);

describe.each(dialects)('HTTP fuzzer (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  // A request the fuzzer gave up on as a hang may keep the app from closing; the failure is reported anyway.
  afterAll(() => Promise.race([t?.close(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]));

  it(`answers ${REQUESTS} generated requests without a 5xx, a hang, a non-problem error, a schema mismatch, or a blank value or overflowing number accepted`, async () => {
    const report = await runFuzz(t, { seed: SEED, requests: REQUESTS });
    console.log(formatSummary(report, dialect, 12));
    if (report.failures.length > 0) expect.fail(formatFailures(report.failures, SEED));
    expect(report.sent + report.skipped).toBe(REQUESTS);
  }, 60_000);
});
