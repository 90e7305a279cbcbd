import { PASSPORT_FIELDS, type Field } from '../compliance/record.js';
import type { ComplianceService } from '../compliance/service.js';
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

export interface Conflict {
  field: string;
  extracted: unknown;
  current: unknown;
  reason: string;
}

export interface ApplyOutcome {
  applied: string[];
  conflicts: Conflict[];
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

/**
 * Writes extracted values into the product's compliance record as suggestions: a field is filled
 * only when it is empty or its value came from an earlier extraction, and only at or above the
 * confidence threshold. A value a person set is never overwritten; a differing one is reported as a
 * conflict. Applied values record `extraction:<id>` as their source (shown in the history).
 */
export async function applyExtraction(
  compliance: ComplianceService,
  target: { orgId: string; productId: string; extractionId: string },
  result: ExtractionResult,
  threshold: number,
): Promise<ApplyOutcome> {
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
  const claimed = CLAIMED_CERTIFICATIONS.filter(([flag]) => patch[flag] === true).map(([, name]) => name);
  if (claimed.length) patch.certifications = union((patch.certifications as string[] | undefined) ?? [], claimed);
  if (Object.keys(patch).length === 0) return { applied: [], conflicts: [] };

  // Keyed by field: a retried transaction calls mayWrite again.
  const conflicts = new Map<string, Conflict>();
  const result_ = await compliance.change(target.orgId, target.productId, patch, {
    actor: { keyId: null, source: `extraction:${target.extractionId}` },
    createPassport: Object.keys(patch).some((f) => (PASSPORT_FIELDS as readonly string[]).includes(f)),
    // Certifications found in several documents add up: each run adds its own to what earlier runs found.
    merge: (field, current, value) => (field === 'certifications' && Array.isArray(current) ? union(current as string[], value as string[]) : value),
    mayWrite: (field, current, source) => {
      if (isEmpty(current) || source?.startsWith('extraction:')) return true;
      if (JSON.stringify(current) !== JSON.stringify(patch[field])) {
        conflicts.set(field, { field, extracted: patch[field], current, reason: 'the current value was set by a person and is kept' });
      }
      return false;
    },
  });
  return { applied: result_.changed, conflicts: [...conflicts.values()] };
}
