/**
 * What an LLM provider throws. Two kinds, so that `extraction.job.ts` does the right thing without
 * knowing about providers:
 * - `ProviderError` (a plain `Error`): the call may succeed later — a timeout, a rate limit, an
 *   outage. The job rethrows it and the queue retries the job with backoff (after the SDK's own
 *   retries of that request).
 * - `ProviderFailure` (an `ExtractionFailure`): asking again will not help — the model's answer is
 *   unusable (not JSON, not the schema, a refusal, cut off) or the provider refuses the request (bad
 *   key, unknown model, document too long for the model). The job fails that extraction with the
 *   reason, e.g. `invalid_response: openai answered with something that is not JSON …`.
 */
import { ExtractionFailure, type ExtractionFailureReason } from '../text/types.js';

/** A provider call that may succeed if tried again later. */
export type TransientReason = 'timeout' | 'rate_limited' | 'unavailable';
/** A provider call that will not succeed by trying again. */
export type PermanentReason = 'invalid_response' | 'rejected';
export type ProviderErrorReason = TransientReason | PermanentReason;

/** Transient: the extraction job lets it propagate, so the job is retried with backoff. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  readonly transient = true;
  constructor(
    readonly provider: string,
    readonly reason: TransientReason,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}

/** Permanent: an `ExtractionFailure`, so the extraction job records it as the extraction's error, no retry. */
export class ProviderFailure extends ExtractionFailure {
  override name = 'ProviderFailure';
  readonly transient = false;
  /** The same string as `reason`, typed: `ExtractionFailureReason` (text/types.ts) does not list the provider reasons. */
  readonly providerReason: PermanentReason;
  constructor(
    readonly provider: string,
    reason: PermanentReason,
    message: string,
    readonly details: { status?: number; cause?: unknown } = {},
  ) {
    // The job stores `${reason}: ${message}`; the provider's reason is the one a person can act on.
    super(reason as unknown as ExtractionFailureReason, message);
    this.providerReason = reason;
    if (details.cause !== undefined) (this as { cause?: unknown }).cause = details.cause;
  }
}

export function isProviderError(e: unknown): e is ProviderError | ProviderFailure {
  return e instanceof ProviderError || e instanceof ProviderFailure;
}

/** The SDK error classes `toProviderError` needs: both official SDKs have the same hierarchy. */
export interface SdkErrorClasses {
  APIError: abstract new (...args: never[]) => Error & { status?: number | undefined; headers?: Headers | undefined };
  APIConnectionError: abstract new (...args: never[]) => Error;
  APIConnectionTimeoutError: abstract new (...args: never[]) => Error;
  APIUserAbortError: abstract new (...args: never[]) => Error;
}

/** Milliseconds a `retry-after-ms` / `retry-after` header asks for, when it says. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers?.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number.parseFloat(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Maps what an SDK call threw (after the SDK's own retries) to a `ProviderError` (transient) or a
 * `ProviderFailure` (permanent). Anything unexpected is returned as it is.
 */
export function toProviderError(provider: string, e: unknown, sdk: SdkErrorClasses): unknown {
  if (isProviderError(e)) return e;
  // The timeout class extends the connection error class: test it first.
  if (e instanceof sdk.APIConnectionTimeoutError) {
    return new ProviderError(provider, 'timeout', `${provider} did not answer in time`, { cause: e });
  }
  if (e instanceof sdk.APIUserAbortError) {
    return new ProviderError(provider, 'timeout', `${provider} request was aborted`, { cause: e });
  }
  if (e instanceof sdk.APIConnectionError) {
    return new ProviderError(provider, 'unavailable', `${provider} could not be reached: ${e.message}`, { cause: e });
  }
  if (e instanceof sdk.APIError) {
    const status = e.status;
    const what = `${provider} answered HTTP ${status ?? '?'}: ${e.message}`;
    if (status === 429) {
      const wait = retryAfterMs(e.headers);
      return new ProviderError(provider, 'rate_limited', what, { status, cause: e, ...(wait === undefined ? {} : { retryAfterMs: wait }) });
    }
    if (status === 408) return new ProviderError(provider, 'timeout', what, { status, cause: e });
    if (status === undefined || status === 409 || status >= 500) return new ProviderError(provider, 'unavailable', what, { status, cause: e });
    // 400 (a request the model cannot take), 401/403 (the key), 404 (the model), 413, 422 …
    return new ProviderFailure(provider, 'rejected', what, { status, cause: e });
  }
  // The SDK could not parse a 200 answer's body.
  if (e instanceof SyntaxError) {
    return new ProviderFailure(provider, 'invalid_response', `${provider} answered with a body that is not JSON: ${e.message}`, { cause: e });
  }
  return e;
}
