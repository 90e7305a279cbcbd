import { nowIso } from '../../lib/time.js';
import { UNTP_DPP_CONTEXT_URL, untpExtensionContextUrl, VC_V2_CONTEXT_URL } from './contexts.js';
import { compact, type Json, publicUri } from './jsonld.js';
import type { ExportInput } from './types.js';

/**
 * The passport as a UN Transparency Protocol Digital Product Passport 0.6.0 (a W3C Verifiable
 * Credential, unsigned). It passes the UNTP 0.6.0 JSON Schema and expands in JSON-LD safe mode.
 * Only what the passport actually holds is stated: where the schema requires a value we do not
 * know (the emissions scorecard's scope and primary data ratio), the least-claiming one is used.
 * Fields UNTP lacks are carried by our extension context (third `@context` entry).
 *
 * 0.6.x quirk: `product.characteristics` is in the schema but not in the context, so it is never
 * emitted (safe mode would reject it); product-level extension fields sit on `product` instead.
 */

type JsonObject = { [key: string]: Json };

const GTIN_SCHEME = { type: ['IdentifierScheme'], id: 'https://id.gs1.org/01/', name: 'Global Trade Item Number (GTIN)' };
const GLN_SCHEME = { type: ['IdentifierScheme'], id: 'https://id.gs1.org/414/', name: 'Global Location Number (GLN)' };
/** The EU's customs tariff (TARIC), where every HS, CN and TARIC code can be looked up. */
export const TARIC = 'https://ec.europa.eu/taxation_customs/dds2/taric/';

/** The tariff scheme of a commodity code, by its length: 6 digits HS, 8 CN, 10 TARIC. */
export function commodityScheme(code: string): string {
  return code.length === 6 ? 'Harmonized System (HS)' : code.length === 8 ? 'Combined Nomenclature (CN)' : 'Integrated Tariff of the EU (TARIC)';
}

/** The facility the product is made at, known by its GLN only: the GS1 Digital Link of the location names it. */
export function glnFacility(gln: string): JsonObject {
  return { id: `https://id.gs1.org/414/${gln}`, name: `GLN ${gln}`, registeredId: gln, idScheme: GLN_SCHEME };
}

/** The commodity code as a UNTP classification (its name is not recorded, so the code names it). */
function commodityClassification(code: string): JsonObject {
  const scheme = commodityScheme(code);
  return { type: ['Classification'], id: `${TARIC}measures.jsp?Lang=en&Taric=${code}`, code, name: `${scheme} ${code}`, schemeID: TARIC, schemeName: scheme };
}

/** The European Commission, as named by the EU Publications Office authority table. */
export const EUROPEAN_COMMISSION = { id: 'http://publications.europa.eu/resource/authority/corporate-body/COM', name: 'European Commission' };

export interface RegulationRef {
  slug: string;
  /** Canonical certification code (see compliance/vocabulary.ts) that stands for this regulation. */
  certification: string;
  id: string;
  name: string;
  description: string;
  topic: ConformityTopic;
}

type ConformityTopic = 'environment.energy' | 'environment.emissions' | 'environment.waste' | 'environment.deforestation' | 'circularity.design' | 'governance.compliance';

/** EU acts behind the environmental flags, with their ELI identifiers. */
const REGULATIONS = {
  rohs: {
    slug: 'rohs',
    certification: 'RoHS',
    id: 'http://data.europa.eu/eli/dir/2011/65/oj',
    name: 'Directive 2011/65/EU on the restriction of the use of certain hazardous substances in electrical and electronic equipment (RoHS)',
    description: 'Conforms to the RoHS substance restrictions (Directive 2011/65/EU).',
    topic: 'governance.compliance',
  },
  reach: {
    slug: 'reach',
    certification: 'REACH',
    id: 'http://data.europa.eu/eli/reg/2006/1907/oj',
    name: 'Regulation (EC) No 1907/2006 concerning the Registration, Evaluation, Authorisation and Restriction of Chemicals (REACH)',
    description: 'Complies with REACH (Regulation (EC) No 1907/2006).',
    topic: 'governance.compliance',
  },
  ce: {
    slug: 'ce',
    certification: 'CE',
    id: 'http://data.europa.eu/eli/reg/2008/765/oj',
    name: 'Regulation (EC) No 765/2008 (general principles of the CE marking, Article 30)',
    description: 'Bears the CE marking.',
    topic: 'governance.compliance',
  },
  weee: {
    slug: 'weee',
    certification: 'WEEE',
    id: 'http://data.europa.eu/eli/dir/2012/19/oj',
    name: 'Directive 2012/19/EU on waste electrical and electronic equipment (WEEE)',
    description: 'Complies with the WEEE Directive (Directive 2012/19/EU).',
    topic: 'environment.waste',
  },
} as const satisfies Record<string, RegulationRef>;

/** Conformity topics of the certifications whose subject is clear; the rest are `governance.compliance`. */
const CERTIFICATION_TOPICS: Record<string, ConformityTopic> = {
  'Energy Star': 'environment.energy',
  FSC: 'environment.deforestation',
  PEFC: 'environment.deforestation',
  'Cradle to Cradle': 'circularity.design',
};

function slugify(text: string): string {
  const slug = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return slug || 'claim';
}

/** A fraction from a percentage, without binary noise (33.3 → 0.333, not 0.33299999999999996). */
export function fraction(percentage: number): number {
  return Number((percentage / 100).toPrecision(12));
}

/** The issuer: the service, named after the manufacturer when the passport names one. */
export function credentialIssuer(input: ExportInput): Json {
  return { type: ['CredentialIssuer'], id: input.baseUrl, name: input.passport.manufacturer ?? new URL(input.baseUrl).host };
}

/** How the product is identified: by its GTIN when it is valid, else by the product id this service registers ("self issued"). */
export function productIdScheme(input: ExportInput): Json {
  if (input.gtin14) return GTIN_SCHEME;
  return { type: ['IdentifierScheme'], id: `${input.baseUrl}/dpp/`, name: `Product id at ${new URL(input.baseUrl).host}` };
}

/** The credential's id: one per published version, one for the working copy, one per batch or item passport. */
export function credentialId(input: ExportInput): string {
  if (input.granularity) return `${input.baseUrl}/dpp/${input.passport.product_id}/instances/${input.granularity.instance_id}`;
  const version = input.publishedVersion === null ? 'draft' : `v${input.publishedVersion}`;
  return `${input.baseUrl}/dpp/${input.passport.product_id}/credentials/${version}`;
}

/**
 * One conformity the passport declares: an EU act behind an environmental flag or a listed
 * certification, or another listed certification. Shared by the UNTP 0.6.0 and 0.7.0 renderings,
 * which state the same declarations in their own shapes.
 */
export type ConformityDeclaration = { id: string; conformance: boolean; regulation: RegulationRef } | { id: string; conformance: true; certification: string };

/** What the passport declares, in order: CE, RoHS, REACH, WEEE, then the other certifications. Ids are unique. */
export function conformityDeclarations(input: ExportInput, productId: string): ConformityDeclaration[] {
  const env = input.passport.environmental;
  const certifications = input.passport.certifications;
  const declarations: ConformityDeclaration[] = [];
  const usedIds = new Set<string>();
  const claimId = (slug: string) => {
    let id = `${productId}#claim-${slug}`;
    for (let n = 2; usedIds.has(id); n++) id = `${productId}#claim-${slug}-${n}`;
    usedIds.add(id);
    return id;
  };

  // The explicit environmental flag wins; a listed certification counts as a positive claim.
  const flags: Array<[RegulationRef, boolean | null]> = [
    [REGULATIONS.ce, env.ce_marked],
    [REGULATIONS.rohs, env.rohs_compliant],
    [REGULATIONS.reach, env.reach_compliant],
    [REGULATIONS.weee, null],
  ];
  const covered = new Set<string>();
  for (const [regulation, flag] of flags) {
    const conformance = flag ?? (certifications.includes(regulation.certification) ? true : null);
    if (conformance === null) continue;
    covered.add(regulation.certification);
    declarations.push({ id: claimId(regulation.slug), conformance, regulation });
  }
  for (const certification of certifications) {
    if (covered.has(certification)) continue;
    declarations.push({ id: claimId(slugify(certification)), conformance: true, certification });
  }
  return declarations;
}

function conformityClaims(input: ExportInput, productId: string): JsonObject[] {
  return conformityDeclarations(input, productId).map((d): JsonObject =>
    'regulation' in d
      ? {
          type: ['Claim', 'Declaration'],
          id: d.id,
          description: d.conformance ? d.regulation.description : `Does not conform: ${d.regulation.name}.`,
          referenceRegulation: { type: ['Regulation'], id: d.regulation.id, name: d.regulation.name, administeredBy: EUROPEAN_COMMISSION },
          conformance: d.conformance,
          conformityTopic: d.regulation.topic,
        }
      : {
          type: ['Claim', 'Declaration'],
          id: d.id,
          description: `Certification: ${d.certification}`,
          conformance: true,
          conformityTopic: CERTIFICATION_TOPICS[d.certification] ?? 'governance.compliance',
        },
  );
}

export function toUntpCredential(input: ExportInput, now: string = nowIso()): Record<string, Json> {
  const p = input.passport;
  const env = p.environmental;
  const productId = publicUri(input);
  const isDraft = input.status !== 'published';

  const product = compact({
    type: ['Product'],
    id: productId,
    name: p.product_name,
    // A GTIN when it is valid; otherwise the product id this service registers ("self issued").
    registeredId: input.gtin14 ?? p.product_id,
    idScheme: productIdScheme(input),
    countryOfProduction: p.country_of_origin,
    // A batch or item passport names its batch, its serialised item and when it was made.
    batchNumber: input.granularity?.lot,
    serialNumber: input.granularity?.serial,
    productionDate: input.granularity?.production_date,
    productCategory: p.commodity_code ? [commodityClassification(p.commodity_code)] : null,
    producedAtFacility: p.facility_id ? glnFacility(p.facility_id) : null,
    // Extension terms (untp-extension/v1).
    weeeCategory: env.weee_category,
    energyClass: env.energy_class,
    recyclable: env.recyclable,
    recyclabilityScore: p.recyclability_score,
    endOfLifeInstructions: p.end_of_life_instructions,
    hazardousSubstances: env.hazardous_substances.map((s) =>
      compact({
        name: s.name,
        casNumber: s.cas_number,
        ecNumber: s.ec_number,
        concentration: s.concentration_pct,
        location: s.location,
      }),
    ),
  });

  const emissionsScorecard =
    p.carbon_footprint_kg === null
      ? null
      : {
          carbonFootprint: p.carbon_footprint_kg,
          // Per one item of the product (UN/ECE Rec 20 "EA", each).
          declaredUnit: 'EA',
          // Required by the schema but not recorded by us: the narrowest scope and no primary data
          // are the values that claim the least. No reportingStandard: none is recorded.
          operationalScope: 'None',
          primarySourcedRatio: 0,
        };

  const credentialSubject = compact({
    type: ['ProductPassport'],
    product,
    // The model passport (GTIN), or a batch (AI 10) or serialised item (AI 21) passport.
    granularityLevel: input.granularity?.level ?? 'model',
    conformityClaim: conformityClaims(input, productId),
    emissionsScorecard,
    // Material origin is not recorded per material, so no originCountry.
    materialsProvenance: p.materials.map((m) => ({ name: m.name, massFraction: fraction(m.percentage) })),
    // Extension terms (untp-extension/v1).
    dppId: p.dpp_id,
    dppStatus: input.status,
    dppVersion: input.publishedVersion,
  });

  return compact({
    '@context': [VC_V2_CONTEXT_URL, UNTP_DPP_CONTEXT_URL, untpExtensionContextUrl(input.baseUrl)],
    type: ['DigitalProductPassport', 'VerifiableCredential'],
    id: credentialId(input),
    name: `${isDraft ? 'DRAFT — ' : ''}Digital Product Passport: ${p.product_name}`,
    issuer: credentialIssuer(input),
    validFrom: input.publishedAt ?? now,
    credentialSubject,
  });
}
