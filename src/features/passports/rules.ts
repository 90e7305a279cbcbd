import { errors, type FieldError } from '../../errors.js';
import { parseCommodityCode, parseGln } from '../../lib/registry-ids.js';
import { isEmpty, requiredForComplete } from './derive.js';
import { PASSPORT_MODEL } from './model.js';
import type { ComplianceValues, Field, Material, Substance } from './record.js';
import { isValidCas, isValidEcNumber, normaliseCertifications, normaliseCountry, normaliseEnergyClass, normaliseWeeeCategory } from './vocabulary.js';

/**
 * The fields a passport needs before it is `complete` (and can be published), from the model
 * (`requiredForComplete`). The status computation, the publish check and the README read this list.
 * Its results are stored with every change (`products.dpp_status`, `compliance_records.missing_fields`,
 * the per-organisation counters): changing the rules needs a migration that recomputes all three.
 * (product_name is not required: it falls back to the product's title, so a passport always has one.)
 */
export const REQUIRED_FOR_COMPLETE = requiredForComplete(PASSPORT_MODEL) as readonly Field[];

const SUM_TOLERANCE = 0.01;

function materialsSum(materials: readonly Material[]): number {
  return materials.reduce((s, m) => s + m.percentage, 0);
}

/** What keeps these values from a complete passport, as `field: reason`; empty when complete. */
export function missingForComplete(values: ComplianceValues): string[] {
  const missing: string[] = [];
  for (const f of REQUIRED_FOR_COMPLETE) if (isEmpty(values[f])) missing.push(f);
  if (values.materials?.length && Math.abs(materialsSum(values.materials) - 100) > SUM_TOLERANCE) {
    missing.push('materials (percentages must sum to 100)');
  }
  return missing;
}

/** A certification claimed in `certifications` and the environmental flag that must not deny it. */
const CLAIMS_AND_FLAGS = [
  ['CE', 'ce_marked', 'CE marking'],
  ['RoHS', 'rohs_compliant', 'RoHS compliance'],
  ['REACH', 'reach_compliant', 'REACH compliance'],
] as const satisfies ReadonlyArray<readonly [string, Field, string]>;

/**
 * Where the passport contradicts itself, as field errors naming both sides; empty when consistent.
 * Publish refuses a contradiction (409): a published passport is what an authority reads, and
 * "certifications: CE" beside "ce_marked: false" cannot both be true. An unknown flag (null) is no
 * contradiction. Certifications are compared in canonical spelling (see vocabulary.ts).
 */
export function contradictions(values: ComplianceValues): FieldError[] {
  const claimed = new Set(values.certifications ?? []);
  return CLAIMS_AND_FLAGS.flatMap(([cert, flag, what]) =>
    claimed.has(cert) && values[flag] === false
      ? [
          { field: '/certifications', rule: 'consistent_with_' + flag, message: `lists ${cert} while ${flag} is false` },
          { field: `/${flag}`, rule: 'consistent_with_certifications', message: `is false while certifications claim ${what}` },
        ]
      : [],
  );
}

/**
 * Checks the rules the schema cannot express and returns the values in canonical form
 * (certifications spelled canonically, WEEE category named, country and classes upper-cased).
 * Every broken rule is reported at once in a single 400; nothing is written.
 */
export function normalisePatch(patch: Partial<Record<Field, unknown>>): Partial<ComplianceValues> {
  const out: Partial<Record<Field, unknown>> = {};
  const problems: FieldError[] = [];
  const bad = (field: string, rule: string, message: string) => problems.push({ field, rule, message });

  for (const [field, value] of Object.entries(patch) as Array<[Field, unknown]>) {
    if (value === null) {
      out[field] = null;
      continue;
    }
    switch (field) {
      case 'materials': {
        const materials = (value as Material[]).map((m) => ({ name: m.name.trim(), percentage: m.percentage }));
        const sum = materialsSum(materials);
        if (sum > 100 + SUM_TOLERANCE) bad('/materials', 'sum_at_most_100', `percentages sum to ${round(sum)}, more than 100`);
        const names = new Set<string>();
        materials.forEach((m, i) => {
          if (!m.name) bad(`/materials/${i}/name`, 'minLength', 'must not be blank');
          if (names.has(m.name.toLowerCase())) bad(`/materials/${i}/name`, 'unique', `"${m.name}" is listed twice`);
          names.add(m.name.toLowerCase());
        });
        out.materials = materials;
        break;
      }
      case 'country_of_origin': {
        const code = normaliseCountry(value as string);
        if (!code) bad('/country_of_origin', 'iso3166_alpha2', `"${value}" is not an ISO 3166-1 alpha-2 country code`);
        out.country_of_origin = code;
        break;
      }
      case 'recyclability_score':
        out.recyclability_score = (value as string).toUpperCase();
        break;
      case 'certifications':
        out.certifications = normaliseCertifications(value as string[]);
        break;
      case 'weee_category': {
        const category = normaliseWeeeCategory(value as string | number);
        if (!category) {
          bad('/weee_category', 'weee_annex_iii', `"${value}" is not a WEEE category of Directive 2012/19/EU Annex III (1–6)`);
        }
        out.weee_category = category;
        break;
      }
      case 'energy_class': {
        const cls = normaliseEnergyClass(value as string);
        if (!cls) bad('/energy_class', 'energy_class', `"${value}" is not an energy class (A–G, or A+++ to D)`);
        out.energy_class = cls;
        break;
      }
      case 'hazardous_substances':
        out.hazardous_substances = (value as Array<Partial<Substance>>).map((s, i) => {
          if (s.cas_number && !isValidCas(s.cas_number)) {
            bad(`/hazardous_substances/${i}/cas_number`, 'cas_check_digit', `"${s.cas_number}" is not a valid CAS number`);
          }
          if (s.ec_number && !isValidEcNumber(s.ec_number)) {
            bad(`/hazardous_substances/${i}/ec_number`, 'ec_check_digit', `"${s.ec_number}" is not a valid EC number`);
          }
          return {
            name: s.name!.trim(),
            cas_number: s.cas_number?.trim() || null,
            ec_number: s.ec_number?.trim() || null,
            concentration_pct: s.concentration_pct ?? null,
            location: s.location?.trim() || null,
          };
        });
        break;
      case 'commodity_code':
      case 'facility_id': {
        const parsed = field === 'commodity_code' ? parseCommodityCode(value as string) : parseGln(value as string);
        if (parsed.ok) out[field] = parsed.value;
        else bad(`/${field}`, parsed.rule, parsed.message);
        break;
      }
      default:
        // Free text (the model's text fields without a rule above) is trimmed and must not be blank.
        if (PASSPORT_MODEL[field].storage === 'text' && typeof value === 'string') {
          const text = value.trim();
          if (!text) bad(`/${field}`, 'minLength', 'must not be blank');
          out[field] = text;
        } else out[field] = value;
    }
  }
  if (problems.length) {
    throw errors.validation(`Invalid value${problems.length > 1 ? 's' : ''}: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}.`, problems);
  }
  return out as Partial<ComplianceValues>;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
