import type { ComplianceRecordsTable, ComplianceRow } from '../../db/schema.js';
import { columnsFor as columnsOf, fieldNames, valuesFromRow as valuesOf } from './derive.js';
import { PASSPORT_MODEL, type ComplianceValues, type Field } from './model.js';

export type { ComplianceValues, Field, Material, Substance } from './model.js';

/** The fields the passport PATCH sets (the spec's four and the rest of the passport). */
export const PASSPORT_FIELDS = fieldNames(PASSPORT_MODEL, (r) => r.endpoints.includes('passport')) as readonly Field[];
/** The fields the environmental PATCH sets. */
export const ENVIRONMENTAL_FIELDS = fieldNames(PASSPORT_MODEL, (r) => r.endpoints.includes('environmental')) as readonly Field[];
export const ALL_FIELDS = fieldNames(PASSPORT_MODEL) as readonly Field[];

export const EMPTY_VALUES: ComplianceValues = Object.fromEntries(ALL_FIELDS.map((f) => [f, null])) as unknown as ComplianceValues;

/** The values of a product's compliance record, as the domain sees them (every field null without a record). */
export function valuesFromRow(row: ComplianceRow | undefined): ComplianceValues {
  return valuesOf(PASSPORT_MODEL, row as Record<string, unknown> | undefined) as ComplianceValues;
}

/** Column values for the given fields. */
export function columnsFor(values: Partial<ComplianceValues>): Partial<ComplianceRecordsTable> {
  return columnsOf(PASSPORT_MODEL, values) as Partial<ComplianceRecordsTable>;
}

/** Deep equality for field values (JSON-shaped). */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
