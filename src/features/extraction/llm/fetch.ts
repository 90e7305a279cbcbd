import { retryAfterMs } from './errors.js';

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Longest wait a provider's `retry-after` may impose inside one job run; longer waits go back to the job queue. */
export const MAX_RETRY_WAIT_MS = 30_000;

/**
 * A `fetch` for the SDKs: when a 429 / 5xx asks to retry only after more than `maxWaitMs`, the SDK
 * is told not to retry (`x-should-retry: false`) instead of sleeping in the worker for as long as the
 * server says (an hour, say). The call then fails at once as `rate_limited` / `unavailable`, and the
 * extraction job is retried later by the queue.
 */
export function cappedRetryFetch(maxWaitMs = MAX_RETRY_WAIT_MS, inner: Fetch = globalThis.fetch): Fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (response.status !== 429 && response.status < 500) return response;
    const wait = retryAfterMs(response.headers);
    if (wait === undefined || wait <= maxWaitMs) return response;
    const headers = new Headers(response.headers);
    headers.set('x-should-retry', 'false');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}
