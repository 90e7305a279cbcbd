/**
 * Which document may set which of a product's fields. A product's data comes from documents of
 * unequal weight: its own EU declaration of conformity speaks for the product; its datasheets,
 * manuals and footprint reports describe it; a component supplier's RoHS/REACH statement speaks for
 * a part and names the part's maker. Extraction results are applied from the best source only: a
 * value taken from a higher-ranked document is never replaced by one from a lower-ranked document
 * (whatever order their jobs finish in), and the lower one is listed as a conflict.
 */
import type { DocumentClass } from './rules/index.js';

export const AUTHORITIES = ['product_declaration', 'technical_document', 'component_statement'] as const;
export type Authority = (typeof AUTHORITIES)[number];

export const AUTHORITY_RANK: Record<Authority, number> = { product_declaration: 3, technical_document: 2, component_statement: 1 };

export const AUTHORITY_LABEL: Record<Authority, string> = {
  product_declaration: "the product's declaration of conformity",
  technical_document: 'a technical document of the product',
  component_statement: "a component supplier's statement",
};

/**
 * Fields that describe the product as a whole. A component statement never sets them: its
 * "manufacturer" is the component's maker, its footprint or origin the component's.
 */
export const PRODUCT_LEVEL_FIELDS: ReadonlySet<string> = new Set([
  'manufacturer',
  'country_of_origin',
  'energy_class',
  'carbon_footprint_kg',
  'weee_category',
  'materials',
  'ce_marked',
]);

/**
 * The authority of a document: from the kind the uploader gave it when it says (a declaration of
 * conformity, or a `rohs` / `reach` statement), else from what its text turns out to be.
 */
export function documentAuthority(kind: string, textClass: DocumentClass): Authority {
  if (kind === 'declaration_of_conformity') return 'product_declaration';
  if (kind === 'rohs' || kind === 'reach') return 'component_statement';
  if (kind === 'other' && textClass === 'eu_declaration') return 'product_declaration';
  if (kind === 'other' && textClass === 'substance_statement') return 'component_statement';
  return 'technical_document';
}

export function isAuthority(value: unknown): value is Authority {
  return typeof value === 'string' && (AUTHORITIES as readonly string[]).includes(value);
}
