import { errors } from '../../errors.js';
import type { ExtractionResult } from './fields.js';
import { createAnthropicProvider } from './llm/anthropic.js';
import { createOpenAiProvider } from './llm/openai.js';
import type { LlmSettings } from './llm/settings.js';
import { extractWithRules } from './rules/index.js';
import type { TextDocument } from './text/index.js';

export type { LlmSettings } from './llm/settings.js';

/** Reads compliance fields from a document's text. Every provider answers the same field schema. */
export interface ExtractionProvider {
  readonly name: string;
  extract(doc: TextDocument): Promise<ExtractionResult>;
}

export const PROVIDER_NAMES = ['rules', 'openai', 'anthropic'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

const rules: ExtractionProvider = {
  name: 'rules',
  extract: async (doc) => extractWithRules(doc),
};

/** The variable that configures each LLM provider (its API key). */
export const PROVIDER_KEY_VARIABLES = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY' } as const;

let processSettings: LlmSettings | undefined;

/**
 * Sets the LLM settings `resolveProvider` uses when a caller passes none: call it once at start with
 * the loaded `Config` (the app and the worker). Until then only `rules` is configured.
 */
export function configureProviders(settings: LlmSettings | undefined): void {
  processSettings = settings;
}

/** True when the provider can be used with these settings: `rules` always, an LLM when its API key is set. */
export function isProviderConfigured(name: ProviderName, settings: LlmSettings | undefined = processSettings): boolean {
  if (name === 'rules') return true;
  if (!settings) return false;
  return Boolean(name === 'openai' ? settings.openaiApiKey : settings.anthropicApiKey);
}

/** One provider (and SDK client, with its connection pool) per settings object and name. */
const instances = new WeakMap<LlmSettings, Map<ProviderName, ExtractionProvider>>();

function llmProvider(name: 'openai' | 'anthropic', settings: LlmSettings): ExtractionProvider {
  let byName = instances.get(settings);
  if (!byName) instances.set(settings, (byName = new Map()));
  let provider = byName.get(name);
  if (!provider) {
    provider = name === 'openai' ? createOpenAiProvider(settings) : createAnthropicProvider(settings);
    byName.set(name, provider);
  }
  return provider;
}

/**
 * Picks the provider a request asks for, else the configured default (`EXTRACTION_PROVIDER`).
 * `rules` is built in and offline; `openai` and `anthropic` need their API key. An unknown name is a
 * 400 (rule `enum`), a known but unconfigured one a 400 (rule `configured`) naming the variable to
 * set — never a silent fallback, so a caller never mistakes rules output for a model's.
 *
 * `settings` defaults to what `configureProviders` was given; existing two-argument callers keep
 * working and see the LLM providers once the process has called `configureProviders(config)`.
 */
export function resolveProvider(requested: string | undefined, configured: string, settings: LlmSettings | undefined = processSettings): ExtractionProvider {
  const name = (requested ?? configured).trim().toLowerCase();
  const field = requested === undefined ? 'EXTRACTION_PROVIDER' : 'provider';
  if (!(PROVIDER_NAMES as readonly string[]).includes(name)) {
    throw errors.validation(`Unknown extraction provider "${name}"; known: ${PROVIDER_NAMES.join(', ')}.`, [
      { field, rule: 'enum', message: `must be one of ${PROVIDER_NAMES.join(', ')}` },
    ]);
  }
  if (name === 'rules') return rules;
  const llm = name as 'openai' | 'anthropic';
  if (!settings || !isProviderConfigured(llm, settings)) {
    const variable = PROVIDER_KEY_VARIABLES[llm];
    throw errors.validation(`The extraction provider "${llm}" is not configured on this server: set ${variable}, or use "rules".`, [
      { field, rule: 'configured', message: `"${llm}" needs ${variable}` },
    ]);
  }
  return llmProvider(llm, settings);
}
