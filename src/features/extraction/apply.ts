import type { Transaction } from 'kysely';
import type { Schema } from '../../db/schema.js';
import { PASSPORT_FIELDS, type Field } from '../passports/record.js';
import type { ComplianceService } from '../passports/service.js';
import { AUTHORITY_LABEL, AUTHORITY_RANK, PRODUCT_LEVEL_FIELDS, isAuthority, type Authority } from './authority.js';
import type { ExtractionResult } from './fields.js';

/** Extracted fields that have a place in the product's compliance record, and where. */
const TARGETS: Partial<Record<keyof ExtractionResult, Field>> = {
  ce_marked: 'ce_marked',
  rohs_compliant: 'rohs_compliant',
  reach_compliant: 'reach_compliant',
  weee_category: 'weee_category',
  energy_class: 'energy_class',
  carbon_footprint_kg: 'carbon_footprint_kg',
  manufacturer: 'manufacturer',
  country_of_origin: 'country_of_origin',
  certifications: 'certifications',
  materials: 'materials',
};

/** Where the value that was kept came from, so a reviewer can look at it. */
export type KeptSource = { type: 'person' | 'import'; source: string } | { type: 'extraction'; extraction_id: string; document_name: string | null; authority: Authority };

export interface Conflict {
  field: string;
  extracted: unknown;
  current: unknown;
  reason: string;
  kept_source?: KeptSource;
}

export interface ApplyOutcome {
  applied: string[];
  conflicts: Conflict[];
}

export interface ApplyTarget {
  orgId: string;
  productId: string;
  extractionId: string;
  /** The authority of this extraction's document (default: a technical document). */
  authority?: Authority;
  documentName?: string | null;
}

/** Flags that, when true, are certifications too, under the names the spec's example uses. */
const CLAIMED_CERTIFICATIONS = [
  ['ce_marked', 'CE'],
  ['rohs_compliant', 'RoHS'],
  ['reach_compliant', 'REACH'],
] as const satisfies ReadonlyArray<readonly [Field, string]>;

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || (Array.isArray(value) && value.length === 0);
}

const quoted = (name: string | null) => (name ? `document "${name}"` : 'a document');

/** A component statement never sets product-level fields: its "manufacturer" is the part's maker. */
const mayClaim = (authority: Authority, field: Field) => authority !== 'component_statement' || !PRODUCT_LEVEL_FIELDS.has(field);

/** The patch an extraction offers: fields at or above the threshold, that its document may set. */
function patchFrom(result: ExtractionResult, threshold: number, authority: Authority) {
  const patch: Partial<Record<Field, unknown>> = {};
  for (const [name, field] of Object.entries(TARGETS) as Array<[keyof ExtractionResult, Field]>) {
    const extracted = result[name];
    if (!extracted || extracted.confidence < threshold || isEmpty(extracted.value)) continue;
    if (name === 'materials') {
      const sum = (extracted.value as Array<{ percentage: number }>).reduce((s, m) => s + m.percentage, 0);
      if (sum > 100.01) continue;
    }
    patch[field] = extracted.value;
  }
  // A CE marking, RoHS or REACH compliance applied from a document is also a certification, listed
  // as the API's own example lists them ("CE", "RoHS", "REACH").
  const claimed = CLAIMED_CERTIFICATIONS.filter(([flag]) => patch[flag] === true && mayClaim(authority, flag)).map(([, name]) => name);
  if (claimed.length) patch.certifications = union((patch.certifications as string[] | undefined) ?? [], claimed);
  return patch;
}

/** The extractions the current values came from: their authority and document, read under the product's lock. */
async function sourceExtractions(trx: Transaction<Schema>, sources: Readonly<Record<string, string>>) {
  const ids = [
    ...new Set(
      Object.values(sources)
        .filter((s) => s.startsWith('extraction:'))
        .map((s) => s.slice('extraction:'.length)),
    ),
  ];
  const found = new Map<string, { authority: Authority; documentName: string | null }>();
  if (!ids.length) return found;
  const rows = await trx
    .selectFrom('extractions')
    .leftJoin('documents', 'documents.id', 'extractions.asset_id')
    .select(['extractions.id', 'extractions.authority', 'documents.filename'])
    .where('extractions.id', 'in', ids)
    .execute();
  for (const r of rows) found.set(r.id, { authority: isAuthority(r.authority) ? r.authority : 'technical_document', documentName: r.filename ?? null });
  return found;
}

/**
 * Writes extracted values into the product's compliance record as suggestions, from the best
 * source only:
 * - at or above the confidence threshold;
 * - a value a person set (or an import wrote) is never overwritten;
 * - a value taken from a document is replaced only by one from a document of equal or higher
 *   authority (the product's DoC > its technical documents > component statements), so the
 *   outcome does not depend on which job finishes last; a generated value always gives way;
 * - a component statement never sets product-level fields (its manufacturer is the part's maker).
 * Every value not applied is reported as a conflict naming the kept value's real source.
 * Applied values record `extraction:<id>` as their source (shown in the history).
 */
export async function applyExtraction(compliance: ComplianceService, target: ApplyTarget, result: ExtractionResult, threshold: number): Promise<ApplyOutcome> {
  const authority = target.authority ?? 'technical_document';
  // Keyed by field: a retried transaction calls mayWrite again.
  const conflicts = new Map<string, Conflict>();
  const patch = patchFrom(result, threshold, authority);
  if (Object.keys(patch).length === 0) return { applied: [], conflicts: [] };

  let sources = new Map<string, { authority: Authority; documentName: string | null }>();
  const result_ = await compliance.change(target.orgId, target.productId, patch, {
    actor: { keyId: null, source: `extraction:${target.extractionId}` },
    createPassport: Object.keys(patch).some((f) => (PASSPORT_FIELDS as readonly string[]).includes(f)),
    prepare: async (trx, currentSources) => {
      sources = await sourceExtractions(trx, currentSources);
    },
    // Certifications found in several documents add up: each run adds its own to what earlier runs found.
    merge: (field, current, value) => (field === 'certifications' && Array.isArray(current) ? union(current as string[], value as string[]) : value),
    mayWrite: (field, current, source) => {
      const same = JSON.stringify(current) === JSON.stringify(patch[field]);
      if (!mayClaim(authority, field)) {
        if (!same) {
          conflicts.set(field, {
            field,
            extracted: patch[field],
            current: current ?? null,
            reason: `not applied: ${AUTHORITY_LABEL[authority]} speaks for a component, not the whole product`,
          });
        }
        return false;
      }
      if (isEmpty(current) || source === `extraction:${target.extractionId}` || source?.startsWith('generate')) return true;
      if (field === 'certifications' && source?.startsWith('extraction:')) return true; // merged, never replaced
      const from = source?.startsWith('extraction:') ? sources.get(source.slice('extraction:'.length)) : undefined;
      if (source?.startsWith('extraction:')) {
        const kept = from ?? { authority: 'technical_document' as Authority, documentName: null };
        if (AUTHORITY_RANK[authority] >= AUTHORITY_RANK[kept.authority]) return true;
        if (!same) {
          conflicts.set(field, {
            field,
            extracted: patch[field],
            current,
            reason: `the current value comes from ${quoted(kept.documentName)} (${AUTHORITY_LABEL[kept.authority]}), which ranks above this one (${AUTHORITY_LABEL[authority]}), and is kept`,
            kept_source: { type: 'extraction', extraction_id: source.slice('extraction:'.length), document_name: kept.documentName, authority: kept.authority },
          });
        }
        return false;
      }
      if (!same) {
        const imported = source === 'import';
        conflicts.set(field, {
          field,
          extracted: patch[field],
          current,
          reason: imported ? 'the current value was imported with the catalog and is kept' : 'the current value was set by a person and is kept',
          kept_source: { type: imported ? 'import' : 'person', source: source ?? 'api' },
        });
      }
      return false;
    },
  });
  return { applied: result_.changed, conflicts: [...conflicts.values()] };
}
