/**
 * The `anthropic` provider: the Messages API with one tool whose `input_schema` is the result schema,
 * forced with `tool_choice`, so the answer is the tool call's input. The answer is checked like any
 * untrusted input (`answer.ts`).
 */
import type { Anthropic } from '@anthropic-ai/sdk';
import { EXTRACTION_RESULT_SCHEMA } from '../fields.js';
import type { ExtractionProvider } from '../providers.js';
import { cleanAnswer } from './answer.js';
import { askAnthropicForTool } from './calls.js';
import { ANTHROPIC_DEFAULT_BASE_URL, lazyAnthropicClient } from './clients.js';
import { buildPrompt } from './prompt.js';
import { hasText, type LlmProviderOptions, type LlmSettings } from './settings.js';

export { ANTHROPIC_DEFAULT_BASE_URL };
export const ANTHROPIC_TOOL_NAME = 'record_compliance_fields';
/** Room for all fields with evidence; an answer cut off here is an `invalid_response`. */
export const ANTHROPIC_MAX_TOKENS = 4096;

/** The tool's input schema: the result schema (every field optional, no other keys). */
export function anthropicInputSchema(): Anthropic.Messages.Tool.InputSchema {
  const { $schema: _schema, title: _title, ...schema } = EXTRACTION_RESULT_SCHEMA;
  return structuredClone(schema) as unknown as Anthropic.Messages.Tool.InputSchema;
}

export function createAnthropicProvider(settings: LlmSettings, options: LlmProviderOptions = {}): ExtractionProvider {
  const getClient = lazyAnthropicClient(settings, options);
  const tool: Anthropic.Messages.Tool = {
    name: ANTHROPIC_TOOL_NAME,
    description: 'Records the EU compliance fields the document states, each with confidence and evidence quoted from the document.',
    input_schema: anthropicInputSchema(),
  };

  return {
    name: 'anthropic',
    async extract(doc) {
      if (!hasText(doc.pages)) return {};
      const prompt = buildPrompt(doc, {
        maxChars: settings.llmMaxInputChars,
        answerWith: { kind: 'tool', name: ANTHROPIC_TOOL_NAME },
        ...(options.nonce ? { nonce: options.nonce } : {}),
      });
      const answer = await askAnthropicForTool(getClient, settings.anthropicModel, ANTHROPIC_MAX_TOKENS, prompt, tool);
      return cleanAnswer(answer.input, doc, 'anthropic').result;
    },
  };
}
