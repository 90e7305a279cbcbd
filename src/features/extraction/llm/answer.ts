/**
 * Turns a model's answer into an `ExtractionResult` without trusting it: values are normalised with
 * the compliance vocabulary, each field is validated with Ajv against the field schema (`fields.ts`)
 * and dropped when invalid, confidence is clamped to [0, 1], and evidence must quote the document.
 *
 * - `null` / absent fields mean "the document does not say" and are left out.
 * - Unknown keys are dropped.
 * - Evidence: the snippet must occur in the document (compared without case, spacing or
 *   punctuation; `…` splits it into parts that must each occur). A snippet found on another page
 *   gets that page; one found nowhere is dropped. A field left without evidence keeps its value but
 *   at most `UNGROUNDED_MAX_CONFIDENCE`, below the default apply threshold, so it is a suggestion
 *   rather than a fact.
 * - An answer that is not an object, or whose every field is invalid, is an `invalid_response`.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { isObject, looseNumber } from '../../../lib/loose-json.js';
import { foldToKey } from '../../../lib/text.js';
import { normaliseCertifications, normaliseCountry, normaliseEnergyClass, normaliseWeeeCategory } from '../../passports/vocabulary.js';
import { EXTRACTION_RESULT_SCHEMA, FIELD_NAMES, MAX_SNIPPET_LENGTH, type Evidence, type ExtractionResult, type FieldName, type Material } from '../fields.js';
import { canonicalAct, parseAct } from '../rules/legal-acts.js';
import { countryCode } from '../rules/fields/country.js';
import { normaliseStandard } from '../rules/fields/standards.js';
import type { TextDocument } from '../text/index.js';
import { ProviderFailure } from './errors.js';

/** Highest confidence of a value none of whose evidence could be found in the document. */
export const UNGROUNDED_MAX_CONFIDENCE = 0.5;
/** Evidence items kept per field. */
const MAX_EVIDENCE = 5;
/** Longest free-text value (manufacturer, product name, model, a material name) kept. */
const MAX_TEXT_VALUE = 300;

const ajv = new Ajv({ allErrors: false, strict: false });
const validators = new Map<FieldName, ValidateFunction>(FIELD_NAMES.map((name) => [name, ajv.compile((EXTRACTION_RESULT_SCHEMA.properties as Record<string, object>)[name]!)]));

export interface CleanedAnswer {
  result: ExtractionResult;
  /** Fields (or keys) left out, and why. */
  dropped: Array<{ field: string; reason: string }>;
}

function toBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true' || s === 'yes') return true;
    if (s === 'false' || s === 'no') return false;
  }
  return undefined;
}

function toText(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.replace(/\s+/g, ' ').trim();
  return s && s.length <= MAX_TEXT_VALUE ? s : undefined;
}

function strings(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v
    .filter((x): x is string => typeof x === 'string')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s !== '');
}

const nonEmpty = <T>(list: T[] | undefined): T[] | undefined => (list && list.length ? list : undefined);
const unique = (list: string[]) => [...new Set(list)];

/** The canonical value of each field, or undefined when the model's value cannot be one. */
const normalisers: Record<FieldName, (v: unknown) => unknown> = {
  ce_marked: toBoolean,
  rohs_compliant: toBoolean,
  reach_compliant: toBoolean,
  weee_marked: toBoolean,
  weee_category: (v) => (typeof v === 'string' || typeof v === 'number' ? normaliseWeeeCategory(v) : undefined),
  energy_class: (v) => (typeof v === 'string' ? normaliseEnergyClass(v) : undefined),
  certifications: (v) => nonEmpty(normaliseCertifications(strings(v) ?? [])),
  directives: (v) =>
    nonEmpty(
      unique(
        (strings(v) ?? []).flatMap((s) => {
          const act = parseAct(s);
          return act ? [canonicalAct(act)] : [];
        }),
      ),
    ),
  standards: (v) => nonEmpty(unique((strings(v) ?? []).map(normaliseStandard).filter((s) => s.length <= MAX_TEXT_VALUE))),
  manufacturer: toText,
  product_name: toText,
  model: toText,
  country_of_origin: (v) => (typeof v === 'string' ? (normaliseCountry(v) ?? countryCode(v.trim())) : undefined),
  carbon_footprint_kg: (v) => {
    const n = looseNumber(v);
    return n !== undefined && n >= 0 ? n : undefined;
  },
  materials: (v) => {
    if (!Array.isArray(v)) return undefined;
    const out: Material[] = [];
    for (const m of v) {
      if (!isObject(m)) continue;
      const name = toText(m.name);
      const percentage = looseNumber(m.percentage);
      if (name && percentage !== undefined && percentage >= 0 && percentage <= 100) out.push({ name, percentage });
    }
    return nonEmpty(out);
  },
};

/** Cuts a snippet to the schema's limit without splitting a surrogate pair. */
function cutSnippet(text: string): string {
  const s = text.replace(/\s+/g, ' ').trim();
  if (s.length <= MAX_SNIPPET_LENGTH) return s;
  const chars = Array.from(s);
  let out = '';
  for (const c of chars) {
    if (out.length + c.length > MAX_SNIPPET_LENGTH) break;
    out += c;
  }
  return out;
}

/** Evidence the document bears out: items on a real page whose snippet occurs in the document. */
function groundEvidence(raw: unknown, folded: string[]): Evidence[] {
  if (!Array.isArray(raw)) return [];
  const out: Evidence[] = [];
  for (const item of raw) {
    if (out.length >= MAX_EVIDENCE) break;
    if (!isObject(item) || typeof item.snippet !== 'string') continue;
    const snippet = cutSnippet(item.snippet);
    const parts = snippet
      .split(/\.{3,}|…/)
      .map(foldToKey)
      .filter((p) => p.length > 0);
    if (parts.length === 0) continue;
    const onPage = (i: number) => parts.every((p) => folded[i]!.includes(p));
    const stated = looseNumber(item.page);
    const statedIndex = stated !== undefined && Number.isInteger(stated) ? stated - 1 : -1;
    const index = statedIndex >= 0 && statedIndex < folded.length && onPage(statedIndex) ? statedIndex : folded.findIndex((_, i) => onPage(i));
    if (index < 0) continue;
    const evidence = { page: index + 1, snippet };
    if (!out.some((e) => e.page === evidence.page && e.snippet === evidence.snippet)) out.push(evidence);
  }
  return out;
}

/**
 * Cleans a parsed model answer (`answer`) against the document it was read from. Throws a
 * `ProviderFailure('invalid_response')` when nothing usable is left of a non-empty answer.
 */
export function cleanAnswer(answer: unknown, doc: TextDocument, provider: string): CleanedAnswer {
  if (!isObject(answer)) {
    throw new ProviderFailure(provider, 'invalid_response', `${provider} answered with ${Array.isArray(answer) ? 'an array' : typeof answer} instead of an object of fields`);
  }
  const folded = doc.pages.map(foldToKey);
  const result: Record<string, unknown> = {};
  const dropped: CleanedAnswer['dropped'] = [];
  let stated = 0;
  for (const [key, raw] of Object.entries(answer)) {
    if (raw === null || raw === undefined) continue;
    stated++;
    if (!(FIELD_NAMES as readonly string[]).includes(key)) {
      dropped.push({ field: key, reason: 'unknown field' });
      continue;
    }
    const name = key as FieldName;
    if (!isObject(raw)) {
      dropped.push({ field: name, reason: 'not an object {value, confidence, evidence}' });
      continue;
    }
    const value = normalisers[name](raw.value);
    if (value === undefined) {
      dropped.push({ field: name, reason: `value ${JSON.stringify(raw.value)?.slice(0, 80)} is not a valid ${name}` });
      continue;
    }
    const stated01 = looseNumber(raw.confidence);
    if (stated01 === undefined) {
      dropped.push({ field: name, reason: 'confidence is not a number' });
      continue;
    }
    const evidence = groundEvidence(raw.evidence, folded);
    let confidence = Math.min(1, Math.max(0, stated01));
    if (evidence.length === 0) confidence = Math.min(confidence, UNGROUNDED_MAX_CONFIDENCE);
    const field = { value, confidence, evidence };
    const validate = validators.get(name)!;
    if (!validate(field)) {
      const error = validate.errors?.[0];
      dropped.push({ field: name, reason: `schema: ${error?.instancePath || '/'} ${error?.message ?? 'invalid'}` });
      continue;
    }
    result[name] = field;
  }
  if (stated > 0 && Object.keys(result).length === 0) {
    const reasons = dropped
      .slice(0, 3)
      .map((d) => `${d.field}: ${d.reason}`)
      .join('; ');
    throw new ProviderFailure(provider, 'invalid_response', `${provider} answered with no usable field (${reasons})`);
  }
  return { result: result as ExtractionResult, dropped };
}

/** Parses the JSON text of an answer; anything else is an `invalid_response`. */
export function parseAnswerJson(text: string | null | undefined, provider: string): unknown {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new ProviderFailure(provider, 'invalid_response', `${provider} answered with no content`);
  }
  // Some compatible servers wrap JSON in a Markdown fence despite the response format.
  const body = text.trim().replace(/^```(?:json)?\s*\n([\s\S]*)\n```$/, '$1');
  try {
    return JSON.parse(body) as unknown;
  } catch (e) {
    throw new ProviderFailure(provider, 'invalid_response', `${provider} answered with something that is not JSON: ${(e as Error).message}`, { cause: e });
  }
}
