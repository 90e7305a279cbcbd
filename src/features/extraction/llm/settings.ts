import type { Config } from '../../../config.js';

/** The part of the configuration the LLM providers read. A whole `Config` will do. */
export type LlmSettings = Pick<
  Config,
  'openaiApiKey' | 'openaiBaseUrl' | 'openaiModel' | 'anthropicApiKey' | 'anthropicBaseUrl' | 'anthropicModel' | 'llmTimeoutMs' | 'llmMaxRetries' | 'llmMaxInputChars'
>;

/** Knobs for tests and callers that need them; production uses the defaults. */
export interface LlmProviderOptions {
  /** Longest `retry-after` the SDK may sleep for inside one call (see `fetch.ts`). */
  maxRetryWaitMs?: number;
  /** Fixed delimiter nonce (tests); random per request otherwise. */
  nonce?: string;
  /** A `fetch` for the SDK (tests, proxies). */
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
}

/** True when any page has text worth sending. */
export function hasText(pages: readonly string[]): boolean {
  return pages.some((p) => /\S/.test(p));
}
