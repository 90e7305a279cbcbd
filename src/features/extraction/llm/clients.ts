/**
 * The official SDK clients, built one way for every caller (extraction providers, passport
 * generation): explicit base URL, timeout and retries from the settings, no SDK environment
 * variables read, and `cappedRetryFetch`. Each SDK is loaded on first use, so the server and CLI
 * start without it.
 */
import type { Anthropic } from '@anthropic-ai/sdk';
import type { OpenAI } from 'openai';
import { cappedRetryFetch } from './fetch.js';
import type { LlmProviderOptions, LlmSettings } from './settings.js';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';

let openAiSdk: Promise<typeof import('openai')> | undefined;
let anthropicSdk: Promise<typeof import('@anthropic-ai/sdk')> | undefined;
export const loadOpenAiSdk = () => (openAiSdk ??= import('openai'));
export const loadAnthropicSdk = () => (anthropicSdk ??= import('@anthropic-ai/sdk'));

/** A lazily built OpenAI client (one connection pool per returned function). */
export function lazyOpenAiClient(settings: LlmSettings, options: LlmProviderOptions = {}): () => Promise<OpenAI> {
  const apiKey = settings.openaiApiKey;
  if (!apiKey) throw new Error('OPENAI_API_KEY is not set');
  let client: Promise<OpenAI> | undefined;
  return () =>
    (client ??= loadOpenAiSdk().then(
      ({ OpenAI }) =>
        new OpenAI({
          apiKey,
          // Explicit values, so the SDK reads none of its own environment variables for these.
          baseURL: settings.openaiBaseUrl ?? OPENAI_DEFAULT_BASE_URL,
          organization: null,
          project: null,
          adminAPIKey: null,
          timeout: settings.llmTimeoutMs,
          maxRetries: settings.llmMaxRetries,
          fetch: cappedRetryFetch(options.maxRetryWaitMs, options.fetch),
        }),
    ));
}

/** A lazily built Anthropic client (one connection pool per returned function). */
export function lazyAnthropicClient(settings: LlmSettings, options: LlmProviderOptions = {}): () => Promise<Anthropic> {
  const apiKey = settings.anthropicApiKey;
  if (!apiKey) throw new Error('ANTHROPIC_API_KEY is not set');
  let client: Promise<Anthropic> | undefined;
  return () =>
    (client ??= loadAnthropicSdk().then(
      ({ Anthropic }) =>
        new Anthropic({
          apiKey,
          // Explicit values, so the SDK reads none of its own environment variables for these.
          baseURL: settings.anthropicBaseUrl ?? ANTHROPIC_DEFAULT_BASE_URL,
          webhookKey: null,
          timeout: settings.llmTimeoutMs,
          maxRetries: settings.llmMaxRetries,
          fetch: cappedRetryFetch(options.maxRetryWaitMs, options.fetch),
        }),
    ));
}
