/**
 * The two structured calls every LLM caller makes (extraction, passport generation), with the
 * SDK's errors mapped to `ProviderError`s and an answer the model did not finish refused.
 */
import type { Anthropic } from '@anthropic-ai/sdk';
import type { OpenAI } from 'openai';
import { loadAnthropicSdk, loadOpenAiSdk } from './clients.js';
import { ProviderFailure, toProviderError } from './errors.js';

interface Prompt {
  system: string;
  user: string;
}

/** OpenAI chat completion with a strict JSON schema: the answer's text and the model that wrote it. */
export async function askOpenAiForJson(
  getClient: () => Promise<OpenAI>,
  model: string,
  prompt: Prompt,
  schema: { name: string; schema: Record<string, unknown> },
): Promise<{ content: string | null; model: unknown }> {
  const [mod, openai] = await Promise.all([loadOpenAiSdk(), getClient()]);
  let completion: OpenAI.Chat.Completions.ChatCompletion;
  try {
    completion = await openai.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: prompt.system },
        { role: 'user', content: prompt.user },
      ],
      response_format: { type: 'json_schema', json_schema: { ...schema, strict: true } },
    });
  } catch (e) {
    throw toProviderError('openai', e, mod);
  }
  const choice = completion?.choices?.[0];
  if (!choice?.message) throw new ProviderFailure('openai', 'invalid_response', 'openai answered without a message');
  if (choice.message.refusal) throw new ProviderFailure('openai', 'invalid_response', `the model refused: ${choice.message.refusal.slice(0, 300)}`);
  if (choice.finish_reason === 'length') throw new ProviderFailure('openai', 'invalid_response', 'the answer was cut off at the output token limit');
  if (choice.finish_reason === 'content_filter') throw new ProviderFailure('openai', 'invalid_response', 'the answer was withheld by the content filter');
  return { content: choice.message.content, model: completion?.model };
}

/** Anthropic message with one forced tool call: the tool's input and the model that wrote it. */
export async function askAnthropicForTool(
  getClient: () => Promise<Anthropic>,
  model: string,
  maxTokens: number,
  prompt: Prompt,
  tool: Anthropic.Messages.Tool,
): Promise<{ input: unknown; model: unknown }> {
  const [mod, anthropic] = await Promise.all([loadAnthropicSdk(), getClient()]);
  let message: Anthropic.Messages.Message;
  try {
    message = await anthropic.messages.create({
      model,
      max_tokens: maxTokens,
      system: prompt.system,
      messages: [{ role: 'user', content: prompt.user }],
      tools: [tool],
      tool_choice: { type: 'tool', name: tool.name, disable_parallel_tool_use: true },
    });
  } catch (e) {
    throw toProviderError('anthropic', e, mod);
  }
  if (message?.stop_reason === 'max_tokens') throw new ProviderFailure('anthropic', 'invalid_response', 'the answer was cut off at the output token limit');
  if (message?.stop_reason === 'refusal') throw new ProviderFailure('anthropic', 'invalid_response', 'the model refused to answer');
  const call = Array.isArray(message?.content)
    ? message.content.find((block): block is Anthropic.Messages.ToolUseBlock => block.type === 'tool_use' && block.name === tool.name)
    : undefined;
  if (!call) throw new ProviderFailure('anthropic', 'invalid_response', `the model did not call the tool "${tool.name}"`);
  return { input: call.input, model: message?.model };
}
