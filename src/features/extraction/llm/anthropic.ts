/**
 * The `anthropic` provider: the Messages API with one tool whose `input_schema` is the result schema,
 * forced with `tool_choice`, so the answer is the tool call's input. The answer is checked like any
 * untrusted input (`answer.ts`).
 */
import type { Anthropic } from '@anthropic-ai/sdk';
import { EXTRACTION_RESULT_SCHEMA } from '../fields.js';
import type { ExtractionProvider } from '../providers.js';
import { cleanAnswer } from './answer.js';
import { ProviderFailure, toProviderError } from './errors.js';
import { ANTHROPIC_DEFAULT_BASE_URL, lazyAnthropicClient, loadAnthropicSdk as loadSdk } from './clients.js';
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
      const [mod, anthropic] = await Promise.all([loadSdk(), getClient()]);
      let message: Anthropic.Messages.Message;
      try {
        message = await anthropic.messages.create({
          model: settings.anthropicModel,
          max_tokens: ANTHROPIC_MAX_TOKENS,
          system: prompt.system,
          messages: [{ role: 'user', content: prompt.user }],
          tools: [tool],
          tool_choice: { type: 'tool', name: ANTHROPIC_TOOL_NAME, disable_parallel_tool_use: true },
        });
      } catch (e) {
        throw toProviderError('anthropic', e, mod);
      }
      if (message?.stop_reason === 'max_tokens') {
        throw new ProviderFailure('anthropic', 'invalid_response', 'the answer was cut off at the output token limit');
      }
      if (message?.stop_reason === 'refusal') {
        throw new ProviderFailure('anthropic', 'invalid_response', 'the model refused to answer');
      }
      const call = Array.isArray(message?.content)
        ? message.content.find((block): block is Anthropic.Messages.ToolUseBlock => block.type === 'tool_use' && block.name === ANTHROPIC_TOOL_NAME)
        : undefined;
      if (!call) {
        throw new ProviderFailure('anthropic', 'invalid_response', `the model did not call the tool "${ANTHROPIC_TOOL_NAME}"`);
      }
      return cleanAnswer(call.input, doc, 'anthropic').result;
    },
  };
}
