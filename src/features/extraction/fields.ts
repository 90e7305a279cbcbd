/**
 * The field schema every extraction provider (rules, LLMs) answers in. One place for the names, the
 * value types and a JSON Schema of the result, so that the rules engine, the evaluation and a later
 * LLM provider (structured output) agree.
 *
 * Canonical forms of values:
 * - `weee_category`: one of the six Annex III names of `compliance/vocabulary.ts` (`WEEE_CATEGORIES`).
 * - `energy_class`: as written on the label, upper-cased (`A+++` … `G`), see `normaliseEnergyClass`.
 * - `certifications`: canonical spellings of `normaliseCertifications` (CE, FCC, Energy Star …).
 * - `directives`: every EU legal act the document cites (directives and regulations), one string each:
 *   - a directive is `YYYY/N/EU`, `YYYY/N/EC` or `YYYY/N/EEC`: `2011/65/EU`, `94/62/EC`. Directives
 *     numbered after 2015 in the `(EU) YYYY/N` scheme are written the same way: `(EU) 2015/863` →
 *     `2015/863/EU`. A known act cited with the wrong suffix is corrected (`2011/65/EC` → `2011/65/EU`).
 *   - a regulation is its number without prefix: `(EC) No 1907/2006` → `1907/2006`,
 *     `Regulation (EU) 2017/1369` → `2017/1369`.
 *   Two citations of the same act always give the same string (`rules/legal-acts.ts`).
 * - `standards`: EN designations with single spaces, e.g. `EN 62368-1:2014+A11:2017`, `EN 301 489-1 V2.2.3`.
 * - `country_of_origin`: ISO 3166-1 alpha-2 (`CN`).
 * - `carbon_footprint_kg`: kg CO2e (tonnes are converted), the product's total as stated.
 * - `materials`: `{name, percentage}` with percentage 0–100.
 */
import { WEEE_CATEGORIES, type WeeeCategory } from '../passports/vocabulary.js';

export const FIELD_NAMES = [
  'ce_marked',
  'rohs_compliant',
  'reach_compliant',
  'weee_marked',
  'weee_category',
  'energy_class',
  'certifications',
  'directives',
  'standards',
  'manufacturer',
  'product_name',
  'model',
  'country_of_origin',
  'carbon_footprint_kg',
  'materials',
] as const;
export type FieldName = (typeof FIELD_NAMES)[number];

/** Where a value was read: 1-based page number and a short snippet (at most 200 characters). */
export interface Evidence {
  page: number;
  snippet: string;
}

export interface ExtractedField<T> {
  value: T;
  /** 0..1: how sure the provider is that the document states this value. */
  confidence: number;
  evidence: Evidence[];
}

export interface Material {
  name: string;
  percentage: number;
}

export interface FieldValues {
  ce_marked: boolean;
  rohs_compliant: boolean;
  reach_compliant: boolean;
  weee_marked: boolean;
  weee_category: WeeeCategory;
  energy_class: string;
  certifications: string[];
  directives: string[];
  standards: string[];
  manufacturer: string;
  product_name: string;
  model: string;
  country_of_origin: string;
  carbon_footprint_kg: number;
  materials: Material[];
}

/** A field the document does not speak to is absent, never guessed. */
export type ExtractionResult = Partial<{ [K in FieldName]: ExtractedField<FieldValues[K]> }>;

export const MAX_SNIPPET_LENGTH = 200;

const evidenceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['page', 'snippet'],
  properties: {
    page: { type: 'integer', minimum: 1 },
    snippet: { type: 'string', maxLength: MAX_SNIPPET_LENGTH },
  },
} as const;

const valueSchemas: Record<FieldName, object> = {
  ce_marked: { type: 'boolean' },
  rohs_compliant: { type: 'boolean' },
  reach_compliant: { type: 'boolean' },
  weee_marked: { type: 'boolean', description: 'The document says WEEE / the crossed-out wheeled bin applies.' },
  weee_category: { type: 'string', enum: [...WEEE_CATEGORIES] },
  energy_class: { type: 'string', enum: ['A+++', 'A++', 'A+', 'A', 'B', 'C', 'D', 'E', 'F', 'G'] },
  certifications: { type: 'array', items: { type: 'string' } },
  directives: {
    type: 'array',
    description: 'EU acts cited: directives as YYYY/N/EU|EC|EEC (2011/65/EU, 2015/863/EU), regulations as N/YYYY or YYYY/N without prefix (1907/2006).',
    items: { type: 'string', pattern: '^\\d{2,4}/\\d{1,4}(/(EU|EC|EEC))?$' },
  },
  standards: { type: 'array', items: { type: 'string' } },
  manufacturer: { type: 'string' },
  product_name: { type: 'string' },
  model: { type: 'string' },
  country_of_origin: { type: 'string', pattern: '^[A-Z]{2}$' },
  carbon_footprint_kg: { type: 'number', minimum: 0, description: 'kg CO2e' },
  materials: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'percentage'],
      properties: { name: { type: 'string' }, percentage: { type: 'number', minimum: 0, maximum: 100 } },
    },
  },
};

function fieldSchema(name: FieldName): object {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['value', 'confidence', 'evidence'],
    properties: {
      value: valueSchemas[name],
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      evidence: { type: 'array', items: evidenceSchema },
    },
  };
}

/** JSON Schema (2020-12) of an `ExtractionResult`: every field optional, no other keys. */
export const EXTRACTION_RESULT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'ExtractionResult',
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(FIELD_NAMES.map((n) => [n, fieldSchema(n)])),
} as const;

/**
 * The same schema shaped for strict LLM structured output (OpenAI `strict: true` wants every key
 * required): each field is required and may be `null`, which means "the document does not say".
 * Turn an answer back into an `ExtractionResult` with `fromNullableFields`.
 */
export function llmResponseSchema(): object {
  return {
    type: 'object',
    additionalProperties: false,
    required: [...FIELD_NAMES],
    properties: Object.fromEntries(FIELD_NAMES.map((n) => [n, { anyOf: [fieldSchema(n), { type: 'null' }] }])),
  };
}

/** Drops `null` fields of an LLM answer shaped by `llmResponseSchema`. */
export function fromNullableFields(answer: Record<string, unknown>): ExtractionResult {
  const result: Record<string, unknown> = {};
  for (const name of FIELD_NAMES) if (answer[name] != null) result[name] = answer[name];
  return result as ExtractionResult;
}
