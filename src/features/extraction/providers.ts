import { errors } from '../../errors.js';
import type { ExtractionResult } from './fields.js';
import { createAnthropicProvider } from './llm/anthropic.js';
import { createOpenAiProvider } from './llm/openai.js';
import type { LlmProviderOptions, LlmSettings } from './llm/settings.js';
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

/** True when the provider can be used with these settings: `rules` always, an LLM when its API key is set. */
export function isProviderConfigured(name: ProviderName, settings: LlmSettings | undefined): boolean {
  if (name === 'rules') return true;
  if (!settings) return false;
  return Boolean(name === 'openai' ? settings.openaiApiKey : settings.anthropicApiKey);
}

/**
 * The provider name a request asks for, else the configured default (`EXTRACTION_PROVIDER`), checked
 * against `settings`. An unknown name is a 400 (rule `enum`), a known but unconfigured one a 400
 * (rule `configured`) naming the variable to set — never a silent fallback, so a caller never
 * mistakes rules output for a model's.
 */
export function resolveProviderName(requested: string | undefined, configured: string, settings: LlmSettings | undefined): ProviderName {
  const name = (requested ?? configured).trim().toLowerCase();
  const field = requested === undefined ? 'EXTRACTION_PROVIDER' : 'provider';
  if (!(PROVIDER_NAMES as readonly string[]).includes(name)) {
    throw errors.validation(`Unknown extraction provider "${name}"; known: ${PROVIDER_NAMES.join(', ')}.`, [
      { field, rule: 'enum', message: `must be one of ${PROVIDER_NAMES.join(', ')}` },
    ]);
  }
  if (name === 'rules') return 'rules';
  const llm = name as 'openai' | 'anthropic';
  if (!isProviderConfigured(llm, settings)) {
    const variable = PROVIDER_KEY_VARIABLES[llm];
    throw errors.validation(`The extraction provider "${llm}" is not configured on this server: set ${variable}, or use "rules".`, [
      { field, rule: 'configured', message: `"${llm}" needs ${variable}` },
    ]);
  }
  return llm;
}

/** The extraction providers of one app or worker, made from its settings (see `createExtractionProviders`). */
export interface ExtractionProviders {
  /** The LLM settings the providers were made with (undefined: only `rules`). */
  readonly settings: LlmSettings | undefined;
  /** True when the provider can be used: `rules` always, an LLM when its API key is set. */
  isConfigured(name: ProviderName): boolean;
  /** The checked provider name (see `resolveProviderName`), without making an SDK client. */
  resolveName(requested: string | undefined, configured: string): ProviderName;
  /** The provider a request asks for, else the configured default; the same instance (and SDK client) on every call. */
  resolve(requested: string | undefined, configured: string): ExtractionProvider;
}

/**
 * The providers of one process part (the app, a job worker, a command), made once where it is built
 * and handed to what needs them. `rules` is built in and offline; `openai` and `anthropic` need
 * their API key in `settings` (a whole `Config` will do). Each LLM provider, with its SDK client and
 * connection pool, is made on first use and kept by this object, not by the module.
 *
 * @example
 *   const providers = createExtractionProviders(config);
 *   const provider = providers.resolve(request.provider, config.extractionProvider);
 */
export function createExtractionProviders(settings: LlmSettings | undefined, options: LlmProviderOptions = {}): ExtractionProviders {
  const made = new Map<'openai' | 'anthropic', ExtractionProvider>();
  const resolveName = (requested: string | undefined, configured: string) => resolveProviderName(requested, configured, settings);
  return {
    settings,
    isConfigured: (name) => isProviderConfigured(name, settings),
    resolveName,
    resolve(requested, configured) {
      const name = resolveName(requested, configured);
      if (name === 'rules') return rules;
      let provider = made.get(name);
      if (!provider) {
        // resolveName checked the key, so settings is set here.
        provider = name === 'openai' ? createOpenAiProvider(settings!, options) : createAnthropicProvider(settings!, options);
        made.set(name, provider);
      }
      return provider;
    },
  };
}
