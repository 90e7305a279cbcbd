/**
 * The built-in `rules` provider: deterministic, offline extraction of the compliance fields from a
 * document's text (English, French, German, Dutch; some Italian and Spanish). Document text is only
 * ever matched against fixed patterns, so text that reads like an instruction is just text.
 *
 * @example
 *   const result = extractWithRules({ pages: ['EU Declaration of Conformity …'] });
 *   result.ce_marked // { value: true, confidence: 0.7, evidence: [{ page: 1, snippet: '…' }] }
 */
import type { ExtractionResult } from '../fields.js';
import { analyseDocument } from './context.js';
import { prepareDocument } from './document.js';
import { extractCarbonFootprint } from './fields/carbon.js';
import { ceSignals } from './fields/ce.js';
import { extractCertifications } from './fields/certifications.js';
import { extractCountryOfOrigin } from './fields/country.js';
import { extractDirectives } from './fields/directives.js';
import { extractEnergyClass } from './fields/energy.js';
import { extractManufacturer } from './fields/manufacturer.js';
import { extractMaterials } from './fields/materials.js';
import { extractModel, extractProductName } from './fields/product.js';
import { extractReach } from './fields/reach.js';
import { extractRohs } from './fields/rohs.js';
import { extractStandards } from './fields/standards.js';
import { extractWeeeCategory, extractWeeeMarked } from './fields/weee.js';
import { resolveBoolean } from './claims.js';

export function extractWithRules(input: { pages: readonly string[] }): ExtractionResult {
  const ctx = analyseDocument(prepareDocument(input));
  const ce = ceSignals(ctx);
  const ceMarked = resolveBoolean(ce);
  const ceExplicit = ceMarked?.value ? ce.filter((s) => s.value && s.rule !== 'ce-implied-by-eu-doc').map((s) => s.evidence) : undefined;
  const weee = extractWeeeMarked(ctx);
  const result: ExtractionResult = {
    ce_marked: ceMarked,
    rohs_compliant: extractRohs(ctx),
    reach_compliant: extractReach(ctx),
    weee_marked: weee,
    weee_category: extractWeeeCategory(ctx, weee),
    energy_class: extractEnergyClass(ctx),
    certifications: extractCertifications(ctx, ceExplicit),
    directives: extractDirectives(ctx),
    standards: extractStandards(ctx),
    manufacturer: extractManufacturer(ctx),
    product_name: extractProductName(ctx),
    model: extractModel(ctx),
    country_of_origin: extractCountryOfOrigin(ctx),
    carbon_footprint_kg: extractCarbonFootprint(ctx),
    materials: extractMaterials(ctx),
  };
  for (const key of Object.keys(result) as (keyof ExtractionResult)[]) if (result[key] === undefined) delete result[key];
  return result;
}
