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

/** What a document is, as far as its authority over a product's data goes (see `../authority.ts`). */
export type DocumentClass = 'eu_declaration' | 'substance_statement' | 'other';

/** A RoHS / REACH / SVHC / TSCA statement, declaration or certificate, named near the top of the document. */
const SUBSTANCE_STATEMENT_TITLE =
  /\b(?:RoHS\d?|REACH|SVHC|TSCA|Prop(?:osition)?\s*65|conflict\s+minerals?|halogen[\s-]free|material|substances?)\b[^\n]{0,40}?\b(?:statement|declaration|certificate|compliance|conformity|information|erklärung|bescheinigung|déclaration|certificat|attestation|dichiarazione|certificato|verklaring)\b|\bcertificate\s+of\s+compliance\b|\b(?:Konformitäts|Compliance)bescheinigung\b|\bcertificat\s+de\s+conformité\s+(?:RoHS|REACH)\b/i;

/**
 * Classifies a document from its text: an EU declaration of conformity (for the product), a
 * supplier's substance statement or certificate of compliance (usually for a component), or other.
 */
export function classifyDocument(input: { pages: readonly string[] }): DocumentClass {
  const ctx = analyseDocument(prepareDocument(input));
  if (ctx.euDeclaration) return 'eu_declaration';
  const head = ctx.doc.pages[0]?.text.slice(0, 600) ?? '';
  return SUBSTANCE_STATEMENT_TITLE.test(head) ? 'substance_statement' : 'other';
}
