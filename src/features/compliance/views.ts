import { toBool } from '../../db/dialect.js';
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
