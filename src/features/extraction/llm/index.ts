/** LLM extraction providers (OpenAI-compatible, Anthropic): prompt, answer checking, errors. */
export { ANTHROPIC_TOOL_NAME, anthropicInputSchema, createAnthropicProvider } from './anthropic.js';
export { cleanAnswer, parseAnswerJson, UNGROUNDED_MAX_CONFIDENCE, type CleanedAnswer } from './answer.js';
export { isProviderError, ProviderError, ProviderFailure, type PermanentReason, type ProviderErrorReason, type TransientReason } from './errors.js';
export { cappedRetryFetch, MAX_RETRY_WAIT_MS } from './fetch.js';
export { createOpenAiProvider, OPENAI_SCHEMA_NAME, openAiStrictSchema } from './openai.js';
export { buildPrompt, DEFAULT_MAX_INPUT_CHARS, renderDocument, type Prompt } from './prompt.js';
export type { LlmProviderOptions, LlmSettings } from './settings.js';
