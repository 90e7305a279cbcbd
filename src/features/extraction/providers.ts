import { errors } from '../../errors.js';
import type { ExtractionResult } from './fields.js';
import { extractWithRules } from './rules/index.js';
import type { TextDocument } from './text/index.js';

/** Reads compliance fields from a document's text. Every provider answers the same field schema. */
export interface ExtractionProvider {
  readonly name: string;
  extract(doc: TextDocument): Promise<ExtractionResult>;
}

export const PROVIDER_NAMES = ['rules', 'openai', 'anthropic'] as const;

const rules: ExtractionProvider = {
  name: 'rules',
  extract: async (doc) => extractWithRules(doc),
};

/**
 * Picks the provider a request asks for, else the configured default. `rules` is built in and
 * offline. The LLM providers are not part of this release: naming one is a clear 400 rather than a
 * silent fallback, so a caller never mistakes rules output for a model's.
 */
export function resolveProvider(requested: string | undefined, configured: string): ExtractionProvider {
  const name = (requested ?? configured).trim().toLowerCase();
  if (name === 'rules') return rules;
  const field = requested === undefined ? 'EXTRACTION_PROVIDER' : 'provider';
  if ((PROVIDER_NAMES as readonly string[]).includes(name)) {
    throw errors.validation(`The extraction provider "${name}" is not configured on this server; use "rules".`, [
      { field, rule: 'configured', message: `"${name}" is not configured` },
    ]);
  }
  throw errors.validation(`Unknown extraction provider "${name}"; known: ${PROVIDER_NAMES.join(', ')}.`, [
    { field, rule: 'enum', message: `must be one of ${PROVIDER_NAMES.join(', ')}` },
  ]);
}
