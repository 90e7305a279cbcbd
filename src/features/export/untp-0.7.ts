import { nowIso } from '../../lib/time.js';
import { UNTP_070_CONTEXT_URL, untp070ExtensionContextUrl, VC_V2_CONTEXT_URL } from './contexts.js';
import { compact, type Json, publicUri } from './jsonld.js';
import type { ExportInput } from './types.js';
import { commodityScheme, conformityDeclarations, credentialId, credentialIssuer, EUROPEAN_COMMISSION, fraction, glnFacility, productIdScheme, TARIC } from './untp.js';

/**
 * The passport as a UN Transparency Protocol Digital Product Passport 0.7.0 (a W3C Verifiable
 * Credential, unsigned), beside the 0.6.0 rendering of untp.ts. It passes the UNTP 0.7.0 JSON Schema
 * (`DigitalProductPassport.json`) and expands in JSON-LD safe mode under the 0.7.0 context.
 *
 * What 0.7.0 changes, read from the two schemas and contexts, and what this rendering does about it:
 * - Context: one context for every UNTP credential, `https://vocabulary.uncefact.org/untp/0.7.0/context/`
 *   (0.6.0: `https://test.uncefact.org/vocabulary/untp/dpp/0.6.0/`). It defines no
 *   `DigitalProductPassport` term, so safe mode rejects the credential type that the schema requires
 *   (the official 0.7.0 sample fails the same way): our 0.7 extension context defines it.
 * - `credentialSubject` is the Product itself. The 0.6.0 ProductPassport wrapper and its members
 *   (`product`, `granularityLevel`, `conformityClaim`, `emissionsScorecard`, `materialsProvenance`) are gone.
 * - Product: `registeredId` is gone (the `id` and `idScheme` identify it); `granularityLevel` became
 *   `idGranularity`; `countryOfProduction` is a Country object (`{countryCode, countryName}`), no longer a
 *   code; `productCategory`, `producedAtFacility` and `countryOfProduction` are required; no other property
 *   is allowed (`additionalProperties: false`), so our own fields move into `characteristics` (free-form in
 *   the schema; the context gives it no terms, so ours come from the extension context).
 * - Claims: `conformityClaim` became `performanceClaim` (Claim). A claim requires `name`,
 *   `referenceCriteria`, `claimDate`, `claimedPerformance` and `conformityTopic`; `conformance` and the
 *   `Declaration` type are gone; `referenceRegulation` is a list; topics are objects from the UNTP
 *   conformity-topic vocabulary (`https://vocabulary.uncefact.org/conformity-topics/…`), not enum strings.
 *   Conformance is stated as the claimed performance's score (`conformant` / `non-conformant`).
 * - Emissions: no scorecard; the carbon footprint is a performance claim measured by the UNTP metric
 *   `product-carbon-footprint` (kg CO2e per product unit, unit KGM).
 * - Materials: `materialProvenance` requires each material's origin country and a classified material
 *   type, neither of which the passport records: materials go in `characteristics` instead, as the
 *   other fields UNTP lacks (WEEE category, energy class, recyclability, end of life, hazardous substances).
 * - The dpp id, status and version describe the credential, not the product: top-level extension terms.
 * - Types the context does not define (Country, Classification, Measure, Performance, Characteristics)
 *   are left out; the schema does not require them.
 * - A batch or item passport states its `batchNumber`, `itemNumber` (0.6.0: `serialNumber`), `productionDate`
 *   and `idGranularity`.
 * Where 0.7.0 requires a value the passport does not hold, the least-claiming one is used: no category
 * (an empty list) without a commodity code, a facility named as not identified without a GLN, the
 * country code ZZ (unknown) without a country of origin.
 */

type JsonObject = { [key: string]: Json };

/** UNTP conformity topics (the 0.7.0 conformity-topic vocabulary), by slug. */
const TOPICS = {
  'greenhouse-gas-emissions': 'Greenhouse Gas Emissions',
  'energy-optimization': 'Energy Optimization',
  'forest-conservation': 'Forest Conservation',
  'sustainable-product-design': 'Sustainable Product Design',
  'substance-control': 'Substance Control',
  'standards-adherence': 'Standards Adherence',
  'end-of-life-management': 'End-of-Life Management',
} as const;
type Topic = keyof typeof TOPICS;
const TOPIC_BASE = 'https://vocabulary.uncefact.org/conformity-topics/';
const topic = (slug: Topic): JsonObject => ({ type: ['ConformityTopic'], id: `${TOPIC_BASE}${slug}`, name: TOPICS[slug] });

/** Topics of the EU acts (0.7.0 has finer topics than 0.6.0's governance.compliance for substances and waste). */
const REGULATION_TOPICS: Record<string, Topic> = { ce: 'standards-adherence', rohs: 'substance-control', reach: 'substance-control', weee: 'end-of-life-management' };
/** Topics of the certifications whose subject is clear; the others are standards adherence. */
const CERTIFICATION_TOPICS: Record<string, Topic> = {
  'Energy Star': 'energy-optimization',
  FSC: 'forest-conservation',
  PEFC: 'forest-conservation',
  'Cradle to Cradle': 'sustainable-product-design',
};

const CARBON_FOOTPRINT_METRIC = {
  type: ['PerformanceMetric'],
  id: 'https://vocabulary.uncefact.org/performance-metrics/product-carbon-footprint',
  name: 'Product Carbon Footprint',
};

function performance(conformance: boolean, subject: string): JsonObject {
  return {
    score: conformance ? { code: 'conformant', definition: `Conforms to ${subject}.` } : { code: 'non-conformant', definition: `Does not conform to ${subject}.` },
  };
}

function performanceClaims(input: ExportInput, productId: string, claimDate: string): JsonObject[] {
  const claims: JsonObject[] = conformityDeclarations(input, productId).map((d) => {
    const base = { type: ['Claim'], id: d.id, referenceCriteria: [] as Json[], claimDate };
    if ('regulation' in d) {
      const reg = d.regulation;
      return {
        ...base,
        name: `${reg.certification} conformity`,
        description: d.conformance ? reg.description : `Does not conform: ${reg.name}.`,
        referenceRegulation: [{ type: ['Regulation'], id: reg.id, name: reg.name, administeredBy: EUROPEAN_COMMISSION }],
        claimedPerformance: [performance(d.conformance, reg.name)],
        conformityTopic: [topic(REGULATION_TOPICS[reg.slug] ?? 'standards-adherence')],
      };
    }
    return {
      ...base,
      name: `Certification: ${d.certification}`,
      description: `Certification: ${d.certification}`,
      claimedPerformance: [performance(true, `the ${d.certification} certification`)],
      conformityTopic: [topic(CERTIFICATION_TOPICS[d.certification] ?? 'standards-adherence')],
    };
  });

  const footprint = input.passport.carbon_footprint_kg;
  if (footprint !== null) {
    claims.unshift({
      type: ['Claim'],
      id: `${productId}#claim-carbon-footprint`,
      name: 'Product carbon footprint',
      description: 'Greenhouse gas emissions of one item of the product, in kg CO2 equivalent.',
      // No criterion, standard or reporting method is recorded with the figure.
      referenceCriteria: [],
      claimDate,
      claimedPerformance: [{ metric: CARBON_FOOTPRINT_METRIC, measure: { value: footprint, unit: 'KGM' } }],
      conformityTopic: [topic('greenhouse-gas-emissions')],
    });
  }
  return claims;
}

/** The commodity code as a classification in the EU tariff (its name is not recorded, so the code names it). */
function commodityCategory(code: string): JsonObject {
  const scheme = commodityScheme(code);
  return { code, name: `${scheme} ${code}`, schemeId: TARIC, schemeName: scheme };
}

export function toUntpCredential070(input: ExportInput, now: string = nowIso()): Record<string, Json> {
  const p = input.passport;
  const env = p.environmental;
  const g = input.granularity;
  const productId = publicUri(input);
  const isDraft = input.status !== 'published';
  const validFrom = input.publishedAt ?? now;

  const characteristics = compact({
    // Extension terms (untp-0.7-extension/v1).
    weeeCategory: env.weee_category,
    energyClass: env.energy_class,
    recyclable: env.recyclable,
    recyclabilityScore: p.recyclability_score,
    endOfLifeInstructions: p.end_of_life_instructions,
    materials: p.materials.map((m) => ({ name: m.name, massFraction: fraction(m.percentage) })),
    hazardousSubstances: env.hazardous_substances.map((s) =>
      compact({ name: s.name, casNumber: s.cas_number, ecNumber: s.ec_number, concentration: s.concentration_pct, location: s.location }),
    ),
  });

  const credentialSubject = compact({
    type: ['Product'],
    id: productId,
    name: p.product_name,
    idScheme: productIdScheme(input),
    batchNumber: g?.lot,
    itemNumber: g?.serial,
    idGranularity: g?.level ?? 'model',
    productionDate: g?.production_date,
    characteristics: Object.keys(characteristics).length ? characteristics : null,
    producedAtFacility: p.facility_id
      ? glnFacility(p.facility_id)
      : { type: ['Facility'], id: `${input.baseUrl}/dpp/${p.product_id}#production-facility`, name: 'Production facility (not identified)' },
    countryOfProduction: p.country_of_origin ? { countryCode: p.country_of_origin } : { countryCode: 'ZZ', countryName: 'Unknown' },
    performanceClaim: performanceClaims(input, productId, validFrom.slice(0, 10)),
  });
  // Required, and may be empty: a passport without a commodity code states no category.
  credentialSubject.productCategory = p.commodity_code ? [commodityCategory(p.commodity_code)] : [];

  return compact({
    '@context': [VC_V2_CONTEXT_URL, UNTP_070_CONTEXT_URL, untp070ExtensionContextUrl(input.baseUrl)],
    type: ['DigitalProductPassport', 'VerifiableCredential'],
    // Not the 0.6.0 credential's id: the two renderings are different documents.
    id: `${credentialId(input)}/untp-0.7.0`,
    name: `${isDraft ? 'DRAFT — ' : ''}Digital Product Passport: ${p.product_name}`,
    issuer: credentialIssuer(input),
    validFrom,
    credentialSubject,
    // Extension terms (untp-0.7-extension/v1): the passport document this credential renders.
    dppId: p.dpp_id,
    dppStatus: input.status,
    dppVersion: input.publishedVersion,
  });
}
