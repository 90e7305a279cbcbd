import { dppContextUrl } from './contexts.js';
import { passportUri } from './digital-link.js';
import { gtinPath } from './resolver/dl-path.js';
import { jsonLdEntries } from '../passports/derive.js';
import { PASSPORT_MODEL } from '../passports/model.js';
import type { ExportInput } from './types.js';
import { publicDocumentPath } from '../documents/public-roles.js';

/**
 * The default JSON-LD export (`GET /compliance/dpp/{product_id}/export`): the spec's flat shape,
 * `{"@context", "@type": "ProductPassport", "productId", "gtin", "manufacturer",
 * "carbonFootprint", "certifications"}`, plus the rest of the passport. Every term is defined by
 * our context (`/contexts/dpp/v1.jsonld`). Null or absent values and empty lists are left out,
 * never written as null: JSON-LD drops nulls anyway, and a reader should not have to tell
 * "unknown" from "none".
 */

/** The passport's public URI: its GS1 Digital Link when the GTIN is valid (with /10/{lot} or /21/{serial} for a batch or item), else its /dpp/ page. */
export function publicUri(input: Pick<ExportInput, 'baseUrl' | 'gtin14' | 'passport' | 'granularity'>): string {
  const g = input.granularity;
  if (g && input.gtin14) return `${input.baseUrl}${gtinPath(input.gtin14, { lot: g.lot ?? undefined, serial: g.serial ?? undefined })}`;
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

/** Each public document as a schema:DigitalDocument: its download URL, file, role and GS1 link type, media type, size and SHA-256. */
function documentsJsonLd(input: ExportInput): Json[] {
  return (input.passport.documents ?? []).map((d) => ({
    '@id': `${input.baseUrl}${publicDocumentPath(input.passport.product_id, d.document_id)}`,
    '@type': 'DigitalDocument',
    name: d.filename,
    documentRole: d.role,
    linkType: d.link_type,
    encodingFormat: d.media_type,
    contentSize: d.size,
    sha256: d.sha256,
  }));
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
    // The public documents the version lists (a published version only; the context defines the terms).
    documents: documentsJsonLd(input),
    // A batch or item passport says which batch or item it is (the model passport has none of these).
    granularityLevel: input.granularity?.level,
    batchNumber: input.granularity?.lot,
    serialNumber: input.granularity?.serial,
    productionDate: input.granularity?.production_date,
    basedOnVersion: input.granularity?.based_on_version,
    dppStatus: input.status,
    version: input.publishedVersion,
    publishedAt: input.publishedAt,
    dateModified: p.updated_at,
  });
}
