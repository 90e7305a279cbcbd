/**
 * The `openai` provider: Chat Completions with Structured Outputs (`response_format: json_schema`,
 * `strict: true`). Works with OpenAI and with compatible servers (Ollama, vLLM, LM Studio …) through
 * `OPENAI_BASE_URL`. The answer is checked like any untrusted input (`answer.ts`).
 */
import { llmResponseSchema } from '../fields.js';
import type { ExtractionProvider } from '../providers.js';
import { cleanAnswer, parseAnswerJson } from './answer.js';
import { askOpenAiForJson } from './calls.js';
import { lazyOpenAiClient, OPENAI_DEFAULT_BASE_URL } from './clients.js';
import { buildPrompt } from './prompt.js';
import { hasText, type LlmProviderOptions, type LlmSettings } from './settings.js';

export { OPENAI_DEFAULT_BASE_URL };
/** `json_schema.name` of the response format. */
export const OPENAI_SCHEMA_NAME = 'extraction_result';

/** Keywords strict Structured Outputs does not accept; the answer is validated locally against the full schema. */
const NOT_IN_STRICT_MODE = new Set(['$schema', 'title', 'minLength', 'maxLength']);

function withoutKeywords(node: unknown, drop: ReadonlySet<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutKeywords(n, drop));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    // `properties` maps names to schemas: its keys are field names, never keywords.
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutKeywords(v, drop)]));
    } else if (!drop.has(key)) {
      out[key] = withoutKeywords(value, drop);
    }
  }
  return out;
}

/**
 * The result schema shaped for strict mode: every field required and nullable (`null` = the document
 * does not say), `additionalProperties: false` everywhere, no keywords strict mode refuses.
 */
export function openAiStrictSchema(): Record<string, unknown> {
  return withoutKeywords(llmResponseSchema(), NOT_IN_STRICT_MODE) as Record<string, unknown>;
}

export function createOpenAiProvider(settings: LlmSettings, options: LlmProviderOptions = {}): ExtractionProvider {
  const getClient = lazyOpenAiClient(settings, options);
  const schema = openAiStrictSchema();

  return {
    name: 'openai',
    async extract(doc) {
      if (!hasText(doc.pages)) return {};
      const prompt = buildPrompt(doc, { maxChars: settings.llmMaxInputChars, answerWith: { kind: 'json' }, ...(options.nonce ? { nonce: options.nonce } : {}) });
      const answer = await askOpenAiForJson(getClient, settings.openaiModel, prompt, { name: OPENAI_SCHEMA_NAME, schema });
      return cleanAnswer(parseAnswerJson(answer.content, 'openai'), doc, 'openai').result;
    },
  };
}
