import { fromBool, toBool } from '../../db/dialect.js';
import type { ComplianceRecordsTable, ComplianceRow } from '../../db/schema.js';

export interface Material {
  name: string;
  percentage: number;
}

export interface Substance {
  name: string;
  cas_number: string | null;
  ec_number: string | null;
  concentration_pct: number | null;
  location: string | null;
}

/** The values of a product's compliance record, as the domain sees them. */
export interface ComplianceValues {
  product_name: string | null;
  manufacturer: string | null;
  country_of_origin: string | null;
  materials: Material[] | null;
  carbon_footprint_kg: number | null;
  recyclability_score: string | null;
  certifications: string[] | null;
  end_of_life_instructions: string | null;
  reach_compliant: boolean | null;
  rohs_compliant: boolean | null;
  ce_marked: boolean | null;
  weee_category: string | null;
  energy_class: string | null;
  recyclable: boolean | null;
  hazardous_substances: Substance[] | null;
}
export type Field = keyof ComplianceValues;

export const PASSPORT_FIELDS = [
  'product_name',
  'manufacturer',
  'country_of_origin',
  'materials',
  'carbon_footprint_kg',
  'recyclability_score',
  'certifications',
  'end_of_life_instructions',
] as const satisfies readonly Field[];

export const ENVIRONMENTAL_FIELDS = [
  'reach_compliant',
  'rohs_compliant',
  'ce_marked',
  'weee_category',
  'energy_class',
  'carbon_footprint_kg',
  'recyclable',
  'hazardous_substances',
] as const satisfies readonly Field[];

export const ALL_FIELDS: readonly Field[] = [...new Set<Field>([...PASSPORT_FIELDS, ...ENVIRONMENTAL_FIELDS])];

const JSON_FIELDS = new Set<Field>(['materials', 'certifications', 'hazardous_substances']);
const BOOL_FIELDS = new Set<Field>(['reach_compliant', 'rohs_compliant', 'ce_marked', 'recyclable']);

export const EMPTY_VALUES: ComplianceValues = Object.fromEntries(ALL_FIELDS.map((f) => [f, null])) as unknown as ComplianceValues;

export function valuesFromRow(row: ComplianceRow | undefined): ComplianceValues {
  if (!row) return { ...EMPTY_VALUES };
  const out: Record<string, unknown> = {};
  for (const f of ALL_FIELDS) {
    const raw = row[f];
    if (raw === null || raw === undefined) out[f] = null;
    else if (JSON_FIELDS.has(f)) out[f] = JSON.parse(raw as string);
    else if (BOOL_FIELDS.has(f)) out[f] = toBool(raw as number | boolean);
    else if (f === 'carbon_footprint_kg') out[f] = Number(raw);
    else out[f] = raw;
  }
  return out as unknown as ComplianceValues;
}

/** Column values for the given fields. */
export function columnsFor(values: Partial<ComplianceValues>): Partial<ComplianceRecordsTable> {
  const out: Record<string, unknown> = {};
  for (const [f, v] of Object.entries(values) as Array<[Field, unknown]>) {
    if (v === null || v === undefined) out[f] = null;
    else if (JSON_FIELDS.has(f)) out[f] = JSON.stringify(v);
    else if (BOOL_FIELDS.has(f)) out[f] = fromBool(v as boolean);
    else out[f] = v;
  }
  return out as Partial<ComplianceRecordsTable>;
}

/** Deep equality for field values (JSON-shaped). */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
