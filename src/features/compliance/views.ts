import { sql, type RawBuilder } from 'kysely';
import { jsonAsText, jsonBool, jsonFromText, jsonObject, toBool, type Dialect } from '../../db/dialect.js';
import type { ComplianceRow } from '../../db/schema.js';
import type { ComplianceValues } from './record.js';
import { missingForComplete } from './rules.js';
import type { DppStatus } from './service.js';

export interface ProductIdentity {
  id: string;
  title: string;
  ean: string | null;
}

/** The passport as the API answers it (spec fields first, then lifecycle fields). */
export function passportView(product: ProductIdentity, row: ComplianceRow, v: ComplianceValues, status: DppStatus) {
  return {
    product_id: product.id,
    ean: product.ean,
    dpp_id: row.dpp_id,
    // The product's title stands in until a passport-specific name is set.
    product_name: v.product_name ?? product.title,
    manufacturer: v.manufacturer,
    country_of_origin: v.country_of_origin,
    materials: v.materials ?? [],
    carbon_footprint_kg: v.carbon_footprint_kg,
    recyclability_score: v.recyclability_score,
    certifications: v.certifications ?? [],
    end_of_life_instructions: v.end_of_life_instructions,
    updated_at: row.updated_at,
    dpp_status: status,
    version: row.version,
    missing_fields: missingForComplete(v),
    has_unpublished_changes: toBool(row.has_unpublished_changes) ?? false,
    published_version: row.published_version,
    published_at: row.published_at,
    withdrawn_at: row.withdrawn_at,
    environmental: {
      reach_compliant: v.reach_compliant,
      rohs_compliant: v.rohs_compliant,
      ce_marked: v.ce_marked,
      weee_category: v.weee_category,
      energy_class: v.energy_class,
      recyclable: v.recyclable,
      hazardous_substances: v.hazardous_substances ?? [],
    },
  };
}
export type PassportView = ReturnType<typeof passportView>;

/**
 * The same passport as `passportView`, rendered by the database as JSON text from `products p` joined
 * with `compliance_records cr` (null when the product has no passport). The passport GET answers this
 * text as it comes: reading the row into objects, running the rules and serialising again was about a
 * sixth of its cost. The status comes from `products.dpp_status` and the missing fields from
 * `cr.missing_fields`, both written with every change by the same rules. Keep the two renderings in
 * step: test/features/passport-document.test.ts compares them over records of every kind.
 */
export function passportDocumentSql(dialect: Dialect): RawBuilder<string | null> {
  const ref = (column: string) => sql.ref(column);
  const list = (column: string) => jsonFromText(dialect, sql`coalesce(${ref(column)}, '[]')`);
  const bool = (column: string) => jsonBool(dialect, ref(column));
  const doc = jsonObject(dialect, [
    ['product_id', ref('p.id')],
    ['ean', ref('p.ean')],
    ['dpp_id', ref('cr.dpp_id')],
    ['product_name', sql`coalesce(${ref('cr.product_name')}, ${ref('p.title')})`],
    ['manufacturer', ref('cr.manufacturer')],
    ['country_of_origin', ref('cr.country_of_origin')],
    ['materials', list('cr.materials')],
    ['carbon_footprint_kg', ref('cr.carbon_footprint_kg')],
    ['recyclability_score', ref('cr.recyclability_score')],
    ['certifications', list('cr.certifications')],
    ['end_of_life_instructions', ref('cr.end_of_life_instructions')],
    ['updated_at', ref('cr.updated_at')],
    ['dpp_status', ref('p.dpp_status')],
    ['version', ref('cr.version')],
    ['missing_fields', jsonFromText(dialect, ref('cr.missing_fields'))],
    ['has_unpublished_changes', bool('cr.has_unpublished_changes')],
    ['published_version', ref('cr.published_version')],
    ['published_at', ref('cr.published_at')],
    ['withdrawn_at', ref('cr.withdrawn_at')],
    [
      'environmental',
      jsonObject(dialect, [
        ['reach_compliant', bool('cr.reach_compliant')],
        ['rohs_compliant', bool('cr.rohs_compliant')],
        ['ce_marked', bool('cr.ce_marked')],
        ['weee_category', ref('cr.weee_category')],
        ['energy_class', ref('cr.energy_class')],
        ['recyclable', bool('cr.recyclable')],
        ['hazardous_substances', list('cr.hazardous_substances')],
      ]),
    ],
  ]);
  return sql<string | null>`case when ${ref('cr.passport_created_at')} is null then null else ${jsonAsText(dialect, doc)} end`;
}
