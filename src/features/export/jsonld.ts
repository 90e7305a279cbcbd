import { dppContextUrl } from './contexts.js';
import { passportUri } from './digital-link.js';
import { jsonLdEntries } from '../passports/derive.js';
import { PASSPORT_MODEL } from '../passports/model.js';
import type { ExportInput } from './types.js';

/**
 * The default JSON-LD export (`GET /compliance/dpp/{product_id}/export`): the spec's flat shape,
 * `{"@context", "@type": "ProductPassport", "productId", "gtin", "manufacturer",
 * "carbonFootprint", "certifications"}`, plus the rest of the passport. Every term is defined by
 * our context (`/contexts/dpp/v1.jsonld`). Null or absent values and empty lists are left out,
 * never written as null: JSON-LD drops nulls anyway, and a reader should not have to tell
 * "unknown" from "none".
 */

/** The passport's public URI: its GS1 Digital Link when the GTIN is valid, else its /dpp/ page. */
export function publicUri(input: Pick<ExportInput, 'baseUrl' | 'gtin14' | 'passport'>): string {
  return passportUri(input.baseUrl, input.passport.product_id, input.gtin14);
}

export type Json = string | number | boolean | Json[] | { [key: string]: Json };

/** Copies the entries whose value is set: drops null, undefined, '' and empty arrays. */
export function compact(entries: Record<string, Json | null | undefined>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(entries)) {
    if (value === null || value === undefined || value === '') continue;
    if (Array.isArray(value) && value.length === 0) continue;
    out[key] = value;
  }
  return out;
}

export function toDefaultJsonLd(input: ExportInput): Record<string, Json> {
  const p = input.passport;
  return compact({
    '@context': dppContextUrl(input.baseUrl),
    '@type': 'ProductPassport',
    '@id': publicUri(input),
    productId: p.product_id,
    gtin: input.gtin14,
    dppId: p.dpp_id,
    // Every passport field, by its term in the model (contexts/dpp-v1.jsonld defines them).
    ...(jsonLdEntries(PASSPORT_MODEL, p) as Record<string, Json>),
    dppStatus: input.status,
    version: input.publishedVersion,
    publishedAt: input.publishedAt,
    dateModified: p.updated_at,
  });
}
