import { Type, type Static, type TSchema } from 'typebox';

/**
 * The passport model, declared once: one row per field. Everything else that knows the passport's
 * fields is derived from this table (see model-derive.ts and the modules that import it):
 * - the PATCH bodies of both endpoints and the GET answers (TypeBox: validation, serialisation, OpenAPI);
 * - the row mapping of `compliance_records` (JSON, boolean and number columns);
 * - both renderers of the passport, the object view and the SQL document the passport GET answers;
 * - the status: which fields a complete passport needs (`missing_fields`);
 * - the JSON-LD export's terms and the UNTP paths (tested against the contexts and the credential);
 * - the fields extraction may fill;
 * - the access tier of each field.
 * Adding a field is one row here plus a migration adding its column (CONTRIBUTING.md walks through it,
 * test/features/passport-model.test.ts does it).
 *
 * Pure: no I/O, no state. Validation that a JSON Schema cannot express (check digits, vocabularies)
 * lives in `normalise` functions, in rules.ts, keyed by field name.
 */

/** The lifecycle of a passport (products.dpp_status; null while a product has none). */
export const DPP_STATUSES = ['draft', 'complete', 'published'] as const;
export type DppStatus = (typeof DPP_STATUSES)[number];
export const DppStatusSchema = Type.Union(DPP_STATUSES.map((s) => Type.Literal(s)) as [ReturnType<typeof Type.Literal<DppStatus>>]);

/**
 * Who may read a field (ESPR Art. 9(2)(d)/10: the public, persons with a legitimate interest such as
 * repairers and recyclers, and authorities). The public routes show public fields; an access grant
 * of a tier (features/access/grants.ts) shows that tier's fields too, and those of the tiers below it.
 */
export const ACCESS_TIERS = ['public', 'legitimate_interest', 'authority'] as const;
export type AccessTier = (typeof ACCESS_TIERS)[number];

/** The two PATCH endpoints: the passport (/compliance/dpp/{id}) and the environmental data (/compliance/products/{id}/environmental). */
export type Endpoint = 'passport' | 'environmental';

/** How a value is held in its `compliance_records` column of the same name. */
export type Storage = 'text' | 'number' | 'boolean' | 'json';

export interface FieldRow {
  /** What a client may send, before normalisation (PATCH bodies; null always clears). */
  input: TSchema;
  /** How the stored value is answered (never null here: the view adds null, or [] for lists). */
  output: TSchema;
  storage: Storage;
  /** A JSON list: answered as [] when unset, and empty counts as missing. */
  list?: true;
  /** The endpoints whose PATCH sets it (and whose GET shows it). */
  endpoints: readonly Endpoint[];
  /** Where the passport view shows it: at the top level, or under `environmental`. */
  section: 'passport' | 'environmental';
  /** A complete (publishable) passport needs a value. */
  requiredForComplete: boolean;
  /** The product's title answers while the field is unset (the passport name). */
  fallsBackToTitle?: true;
  /**
   * A batch or item passport may state its own value (where it was made, its footprint, its
   * materials); the other fields are the model's (features/passports/instances.ts).
   */
  perInstance?: true;
  /**
   * The field in the default JSON-LD export: its term, the term's definition in our context (the
   * served /contexts/dpp/v1.jsonld is built from these, see export/contexts/dpp-v1.ts), and how a
   * value is written when not as it is.
   */
  jsonLd: { term: string; definition: string | Readonly<Record<string, unknown>>; value?: (value: never) => unknown };
  /** Where the UNTP 0.6 credential states it (dotted path; `[]` marks a list), or null when it does not. */
  untp: string | null;
  /** Extraction may propose a value for it (the extraction result has a field of the same name). */
  extraction: boolean;
  tier: AccessTier;
}

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const MaterialInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    percentage: Type.Number({ minimum: 0, maximum: 100, description: 'share of the product by mass, 0–100' }),
  },
  { additionalProperties: false },
);

export const SubstanceInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 300 }),
    cas_number: Type.Optional(Nullable(Type.String({ maxLength: 20, description: 'CAS Registry Number, NNNNNNN-NN-N' }))),
    ec_number: Type.Optional(Nullable(Type.String({ maxLength: 20, description: 'EC number, NNN-NNN-N' }))),
    concentration_pct: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 100, description: '% w/w in the article' }))),
    location: Type.Optional(Nullable(Type.String({ maxLength: 500, description: 'where in the product' }))),
  },
  { additionalProperties: false },
);

const MaterialOutput = Type.Object({ name: Type.String(), percentage: Type.Number() });
const SubstanceOutput = Type.Object({
  name: Type.String(),
  cas_number: Nullable(Type.String()),
  ec_number: Nullable(Type.String()),
  concentration_pct: Nullable(Type.Number()),
  location: Nullable(Type.String()),
});

const CARBON_FOOTPRINT = Type.Number({ minimum: 0, description: 'kg CO₂e over the life cycle' });

/** A field's row, with its schemas' types kept for the derived TypeScript types. */
function field<const R extends FieldRow>(row: R): R {
  return row;
}

/**
 * The passport's fields, in the order the API answers them (passport section, then environmental).
 * The spec names product_name, manufacturer, carbon_footprint_kg and certifications in the passport and
 * the eight environmental fields; the others complete what ESPR asks a passport to tell.
 */
export const PASSPORT_MODEL = {
  product_name: field({
    input: Type.String({ minLength: 1, maxLength: 1000 }),
    output: Type.String(),
    storage: 'text',
    endpoints: ['passport'],
    section: 'passport',
    requiredForComplete: false,
    fallsBackToTitle: true,
    jsonLd: { term: 'productName', definition: 'gs1:productName' },
    untp: 'credentialSubject.product.name',
    extraction: true,
    tier: 'public',
  }),
  manufacturer: field({
    input: Type.String({ minLength: 1, maxLength: 500 }),
    output: Type.String(),
    storage: 'text',
    endpoints: ['passport'],
    section: 'passport',
    requiredForComplete: true,
    jsonLd: { term: 'manufacturer', definition: 'schema:manufacturer' },
    untp: 'issuer.name',
    extraction: true,
    tier: 'public',
  }),
  country_of_origin: field({
    input: Type.String({ minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2' }),
    output: Type.String(),
    perInstance: true,
    storage: 'text',
    endpoints: ['passport'],
    section: 'passport',
    requiredForComplete: false,
    jsonLd: {
      term: 'countryOfOrigin',
      definition: { '@id': 'schema:countryOfOrigin', '@type': '@vocab', '@context': { '@protected': true, '@vocab': 'https://vocabulary.uncefact.org/CountryId#' } },
    },
    untp: 'credentialSubject.product.countryOfProduction',
    extraction: true,
    tier: 'public',
  }),
  // The EU DPP registry's fields (Reg. 2026/1778, see features/registry): optional, so no passport
  // changes status; a registry entry without them is queued as incomplete.
  commodity_code: field({
    input: Type.String({ minLength: 6, maxLength: 20, description: 'Combined Nomenclature / HS commodity code: 6, 8 or 10 digits (spaces and dots are dropped)' }),
    output: Type.String(),
    storage: 'text',
    endpoints: ['passport'],
    section: 'passport',
    requiredForComplete: false,
    jsonLd: { term: 'commodityCode', definition: { '@id': 'dppc:commodityCode', '@type': 'xsd:string' } },
    untp: 'credentialSubject.product.productCategory[].code',
    extraction: false,
    tier: 'public',
  }),
  facility_id: field({
    input: Type.String({ minLength: 13, maxLength: 20, description: 'GLN (13 digits, GS1 check digit) of the facility the product is made at' }),
    output: Type.String(),
    storage: 'text',
    endpoints: ['passport'],
    section: 'passport',
    requiredForComplete: false,
    jsonLd: { term: 'facilityId', definition: { '@id': 'dppc:facilityGln', '@type': 'xsd:string' } },
    untp: 'credentialSubject.product.producedAtFacility.registeredId',
    extraction: false,
    tier: 'public',
  }),
  materials: field({
    input: Type.Array(MaterialInput, { maxItems: 100 }),
    output: Type.Array(MaterialOutput),
    perInstance: true,
    storage: 'json',
    list: true,
    endpoints: ['passport'],
    section: 'passport',
    requiredForComplete: true,
    jsonLd: {
      term: 'materials',
      definition: { '@id': 'schema:material', '@container': '@set', '@context': { '@protected': true, percentage: { '@id': 'dppc:massPercentage', '@type': 'xsd:decimal' } } },
      value: (ms: Array<Static<typeof MaterialOutput>>) => ms.map((m) => ({ name: m.name, percentage: m.percentage })),
    },
    untp: 'credentialSubject.materialsProvenance[].name',
    extraction: true,
    tier: 'public',
  }),
  carbon_footprint_kg: field({
    input: CARBON_FOOTPRINT,
    output: Type.Number(),
    perInstance: true,
    storage: 'number',
    endpoints: ['passport', 'environmental'],
    section: 'passport',
    requiredForComplete: true,
    jsonLd: { term: 'carbonFootprint', definition: { '@id': 'untp-core:carbonFootprint', '@type': 'xsd:decimal' } },
    untp: 'credentialSubject.emissionsScorecard.carbonFootprint',
    extraction: true,
    tier: 'public',
  }),
  recyclability_score: field({
    input: Type.String({ pattern: '^[A-Ea-e]$', description: 'A (best) to E' }),
    output: Type.String(),
    storage: 'text',
    endpoints: ['passport'],
    section: 'passport',
    requiredForComplete: false,
    jsonLd: { term: 'recyclabilityScore', definition: { '@id': 'dppc:recyclabilityScore', '@type': 'xsd:string' } },
    untp: 'credentialSubject.product.recyclabilityScore',
    extraction: false,
    tier: 'public',
  }),
  certifications: field({
    input: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 }),
    output: Type.Array(Type.String()),
    storage: 'json',
    list: true,
    endpoints: ['passport'],
    section: 'passport',
    requiredForComplete: true,
    jsonLd: { term: 'certifications', definition: { '@id': 'schema:hasCertification', '@container': '@set' } },
    untp: 'credentialSubject.conformityClaim[].description',
    extraction: true,
    tier: 'public',
  }),
  end_of_life_instructions: field({
    input: Type.String({ minLength: 1, maxLength: 10_000 }),
    output: Type.String(),
    storage: 'text',
    endpoints: ['passport'],
    section: 'passport',
    requiredForComplete: true,
    jsonLd: { term: 'endOfLifeInstructions', definition: 'dppc:endOfLifeInstructions' },
    untp: 'credentialSubject.product.endOfLifeInstructions',
    extraction: false,
    tier: 'public',
  }),
  // Restricted fields, after Battery Regulation Art. 77(2) and Annex XIII: parts 2 and 3 of the annex
  // (dismantling and spare parts for persons with a legitimate interest; test results for notified
  // bodies and market surveillance) are not shown to the public. The public routes leave these out
  // unless the request carries an access grant of the field's tier (features/access/grants.ts).
  dismantling_instructions: field({
    input: Type.String({ minLength: 1, maxLength: 20_000, description: 'disassembly sequence, fastenings, tools and safety warnings (repairers, recyclers)' }),
    output: Type.String(),
    storage: 'text',
    endpoints: ['passport'],
    section: 'passport',
    requiredForComplete: false,
    jsonLd: { term: 'dismantlingInstructions', definition: 'dppc:dismantlingInstructions' },
    untp: null,
    extraction: false,
    tier: 'legitimate_interest',
  }),
  spare_parts_sources: field({
    input: Type.String({ minLength: 1, maxLength: 10_000, description: 'part numbers of components and where to obtain replacement parts' }),
    output: Type.String(),
    storage: 'text',
    endpoints: ['passport'],
    section: 'passport',
    requiredForComplete: false,
    jsonLd: { term: 'sparePartsSources', definition: 'dppc:sparePartsSources' },
    untp: null,
    extraction: false,
    tier: 'legitimate_interest',
  }),
  conformity_test_results: field({
    input: Type.String({ minLength: 1, maxLength: 20_000, description: 'results of the test reports proving compliance (notified bodies, market surveillance)' }),
    output: Type.String(),
    storage: 'text',
    endpoints: ['passport'],
    section: 'passport',
    requiredForComplete: false,
    jsonLd: { term: 'conformityTestResults', definition: 'dppc:conformityTestResults' },
    untp: null,
    extraction: false,
    tier: 'authority',
  }),
  reach_compliant: field({
    input: Type.Boolean(),
    output: Type.Boolean(),
    storage: 'boolean',
    endpoints: ['environmental'],
    section: 'environmental',
    requiredForComplete: false,
    jsonLd: { term: 'reachCompliant', definition: { '@id': 'dppc:reachCompliant', '@type': 'xsd:boolean' } },
    untp: 'credentialSubject.conformityClaim[].conformance',
    extraction: true,
    tier: 'public',
  }),
  rohs_compliant: field({
    input: Type.Boolean(),
    output: Type.Boolean(),
    storage: 'boolean',
    endpoints: ['environmental'],
    section: 'environmental',
    requiredForComplete: false,
    jsonLd: { term: 'rohsCompliant', definition: { '@id': 'dppc:rohsCompliant', '@type': 'xsd:boolean' } },
    untp: 'credentialSubject.conformityClaim[].conformance',
    extraction: true,
    tier: 'public',
  }),
  ce_marked: field({
    input: Type.Boolean(),
    output: Type.Boolean(),
    storage: 'boolean',
    endpoints: ['environmental'],
    section: 'environmental',
    requiredForComplete: false,
    jsonLd: { term: 'ceMarked', definition: { '@id': 'dppc:ceMarked', '@type': 'xsd:boolean' } },
    untp: 'credentialSubject.conformityClaim[].conformance',
    extraction: true,
    tier: 'public',
  }),
  weee_category: field({
    input: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Integer({ minimum: 1, maximum: 6 })], {
      description: 'one of the six categories of Directive 2012/19/EU Annex III, by name or number 1–6',
    }),
    output: Type.String(),
    storage: 'text',
    endpoints: ['environmental'],
    section: 'environmental',
    requiredForComplete: false,
    jsonLd: { term: 'weeeCategory', definition: { '@id': 'dppc:weeeCategory', '@type': 'xsd:string' } },
    untp: 'credentialSubject.product.weeeCategory',
    extraction: true,
    tier: 'public',
  }),
  energy_class: field({
    input: Type.String({ minLength: 1, maxLength: 5, description: 'A–G, or A+++ to D on the older scale' }),
    output: Type.String(),
    storage: 'text',
    endpoints: ['environmental'],
    section: 'environmental',
    requiredForComplete: false,
    jsonLd: { term: 'energyClass', definition: { '@id': 'dppc:energyClass', '@type': 'xsd:string' } },
    untp: 'credentialSubject.product.energyClass',
    extraction: true,
    tier: 'public',
  }),
  recyclable: field({
    input: Type.Boolean(),
    output: Type.Boolean(),
    storage: 'boolean',
    endpoints: ['environmental'],
    section: 'environmental',
    requiredForComplete: false,
    jsonLd: { term: 'recyclable', definition: { '@id': 'dppc:recyclable', '@type': 'xsd:boolean' } },
    untp: 'credentialSubject.product.recyclable',
    extraction: false,
    tier: 'public',
  }),
  hazardous_substances: field({
    input: Type.Array(SubstanceInput, { maxItems: 500, description: 'SVHC declarations (REACH art. 33)' }),
    output: Type.Array(SubstanceOutput),
    storage: 'json',
    list: true,
    endpoints: ['environmental'],
    section: 'environmental',
    requiredForComplete: false,
    jsonLd: {
      term: 'hazardousSubstances',
      definition: {
        '@id': 'dppc:hazardousSubstance',
        '@container': '@set',
        '@context': {
          '@protected': true,
          casNumber: { '@id': 'dppc:casNumber', '@type': 'xsd:string' },
          ecNumber: { '@id': 'dppc:ecNumber', '@type': 'xsd:string' },
          concentration: { '@id': 'dppc:concentrationPercent', '@type': 'xsd:decimal' },
          location: { '@id': 'dppc:locationInProduct', '@type': 'xsd:string' },
        },
      },
      // Absent parts are left out, never written as null (see jsonld.ts).
      value: (ss: Array<Static<typeof SubstanceOutput>>) =>
        ss.map((s) => withoutNulls({ name: s.name, casNumber: s.cas_number, ecNumber: s.ec_number, concentration: s.concentration_pct, location: s.location })),
    },
    untp: 'credentialSubject.product.hazardousSubstances[].name',
    extraction: false,
    tier: 'public',
  }),
} as const satisfies Record<string, FieldRow>;

export type PassportModel = typeof PASSPORT_MODEL;
export type Field = keyof PassportModel;

/** A field's value as the domain holds it: its output type, or null when unset. */
export type ComplianceValues = { -readonly [K in Field]: Static<PassportModel[K]['output']> | null };
export type Material = Static<typeof MaterialOutput>;
export type Substance = Static<typeof SubstanceOutput>;

function withoutNulls(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== null && v !== undefined && v !== ''));
}
