import { readFileSync } from 'node:fs';
import addFormatsModule from 'ajv-formats';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import jsonld from 'jsonld';
import { describe, expect, it } from 'vitest';
import type { PassportView } from '../../src/features/passports/views.js';
import { CONTEXT_PATHS, UNTP_CORE_CONTEXT_URL, UNTP_DPP_CONTEXT_URL, UPSTREAM_CONTEXTS, VC_V2_CONTEXT_URL } from '../../src/features/export/contexts.js';
import { testDocumentLoader } from '../helpers/untp.js';
import { toDefaultJsonLd } from '../../src/features/export/jsonld.js';
import type { ExportInput } from '../../src/features/export/types.js';
import { toUntpCredential } from '../../src/features/export/untp.js';

const BASE = 'https://dpp.example.com';
const STANDARDS = new URL('../../../shared/standards/', import.meta.url);
const CONTEXTS_DIR = new URL('../../src/features/export/contexts/', import.meta.url);
const readJson = (url: URL): unknown => JSON.parse(readFileSync(url, 'utf8'));

type Doc = Record<string, unknown>;
type Loader = (url: string) => Promise<unknown>;

/** jsonld.expand in safe mode (jsonld.js 9 option; @types/jsonld does not know it yet). */
function expandSafe(doc: object, loader: Loader = testDocumentLoader(BASE)): Promise<Doc[]> {
  const options = { safe: true, documentLoader: loader } as unknown as jsonld.Options.Expand;
  return jsonld.expand(doc as jsonld.JsonLdDocument, options) as unknown as Promise<Doc[]>;
}

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

function schemaValidator(version: '0.6.0' | '0.6.1') {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(readJson(new URL(`untp-dpp-${version}/schema.json`, STANDARDS)) as object);
}
const validate060 = schemaValidator('0.6.0');
const validate061 = schemaValidator('0.6.1');
const errorsOf = (validate: ReturnType<typeof schemaValidator>, doc: unknown): ErrorObject[] => (validate(doc) ? [] : (validate.errors ?? []));

// --- fixtures -------------------------------------------------------------------------------

const EMPTY_ENVIRONMENTAL: PassportView['environmental'] = {
  reach_compliant: null,
  rohs_compliant: null,
  ce_marked: null,
  weee_category: null,
  energy_class: null,
  recyclable: null,
  hazardous_substances: [],
};

function passport(overrides: Partial<PassportView>): PassportView {
  return {
    product_id: '01900000-0000-7000-8000-000000000001',
    ean: null,
    dpp_id: '01900000-0000-7000-8000-0000000000d1',
    product_name: 'Unnamed product',
    manufacturer: null,
    country_of_origin: null,
    commodity_code: null,
    facility_id: null,
    materials: [],
    carbon_footprint_kg: null,
    recyclability_score: null,
    certifications: [],
    end_of_life_instructions: null,
    dismantling_instructions: null,
    spare_parts_sources: null,
    conformity_test_results: null,
    updated_at: '2025-01-10T09:30:00.000Z',
    dpp_status: 'draft',
    version: 1,
    missing_fields: [],
    has_unpublished_changes: false,
    published_version: null,
    published_at: null,
    withdrawn_at: null,
    environmental: EMPTY_ENVIRONMENTAL,
    ...overrides,
  };
}

const full: ExportInput = {
  passport: passport({
    product_id: '01900000-0000-7000-8000-0000000000aa',
    ean: '09520123456788',
    product_name: 'Kettle K-200',
    manufacturer: 'Ma Marque',
    country_of_origin: 'FR',
    materials: [
      { name: 'Stainless steel', percentage: 66.7 },
      { name: 'Polypropylene', percentage: 33.3 },
    ],
    carbon_footprint_kg: 2.1,
    recyclability_score: 'B',
    certifications: ['CE', 'RoHS', 'Energy Star', 'TÜV'],
    end_of_life_instructions: 'Take to a WEEE collection point; do not put in household waste.',
    dpp_status: 'published',
    version: 7,
    published_version: 3,
    published_at: '2025-02-01T12:00:00.000Z',
    environmental: {
      reach_compliant: true,
      rohs_compliant: true,
      ce_marked: true,
      weee_category: 'Small equipment',
      energy_class: 'A++',
      recyclable: true,
      hazardous_substances: [
        { name: 'Lead', cas_number: '7439-92-1', ec_number: '231-100-4', concentration_pct: 0.05, location: 'Solder joints' },
        { name: 'Unnamed flame retardant', cas_number: null, ec_number: null, concentration_pct: null, location: null },
      ],
    },
  }),
  gtin14: '09520123456788',
  status: 'published',
  publishedVersion: 3,
  publishedAt: '2025-02-01T12:00:00.000Z',
  baseUrl: BASE,
};

const partial: ExportInput = {
  // The catalog's EAN has a wrong check digit, so no GTIN-14 reaches the export.
  passport: passport({
    ean: '3760000000001',
    product_name: 'Desk lamp',
    manufacturer: 'Lumen SARL',
    certifications: ['CE', 'EU Ecolabel'],
  }),
  gtin14: null,
  status: 'draft',
  publishedVersion: null,
  publishedAt: null,
  baseUrl: BASE,
};

const empty: ExportInput = {
  passport: passport({ product_id: '01900000-0000-7000-8000-0000000000ee', product_name: 'Bare product' }),
  gtin14: null,
  status: 'draft',
  publishedVersion: null,
  publishedAt: null,
  baseUrl: BASE,
};

const FIXTURES = { full, partial, empty } as const;

// --- default export ---------------------------------------------------------------------------

describe('default JSON-LD export', () => {
  it.each(Object.entries(FIXTURES))('%s: expands in safe mode and keeps every key', async (_name, input) => {
    const doc = toDefaultJsonLd(input);
    const expanded = await expandSafe(doc);
    expect(expanded).toHaveLength(1);
    const node = expanded[0]!;
    const keys = Object.keys(doc).filter((k) => k !== '@context');
    expect(Object.keys(node)).toHaveLength(keys.length);
    expect(node['@type']).toEqual(['https://test.uncefact.org/vocabulary/untp/dpp/0/ProductPassport']);
    expect(JSON.stringify(doc)).not.toContain('null');
  });

  it('uses the spec field names and values', () => {
    const doc = toDefaultJsonLd(full);
    expect(doc).toMatchObject({
      '@context': `${BASE}/contexts/dpp/v1.jsonld`,
      '@type': 'ProductPassport',
      '@id': `${BASE}/01/09520123456788`,
      productId: full.passport.product_id,
      gtin: '09520123456788',
      manufacturer: 'Ma Marque',
      carbonFootprint: 2.1,
      certifications: ['CE', 'RoHS', 'Energy Star', 'TÜV'],
      dppId: full.passport.dpp_id,
      productName: 'Kettle K-200',
      countryOfOrigin: 'FR',
      materials: [
        { name: 'Stainless steel', percentage: 66.7 },
        { name: 'Polypropylene', percentage: 33.3 },
      ],
      recyclabilityScore: 'B',
      reachCompliant: true,
      rohsCompliant: true,
      ceMarked: true,
      weeeCategory: 'Small equipment',
      energyClass: 'A++',
      recyclable: true,
      hazardousSubstances: [{ name: 'Lead', casNumber: '7439-92-1', ecNumber: '231-100-4', concentration: 0.05, location: 'Solder joints' }, { name: 'Unnamed flame retardant' }],
      dppStatus: 'published',
      version: 3,
      publishedAt: '2025-02-01T12:00:00.000Z',
      dateModified: '2025-01-10T09:30:00.000Z',
    });
    expect(doc.gtin).toMatch(/^\d{14}$/);
    expect(typeof doc.carbonFootprint).toBe('number');
  });

  it('expands to the intended vocabularies, with typed values', async () => {
    const [node] = await expandSafe(toDefaultJsonLd(full));
    expect(node!['https://ref.gs1.org/voc/gtin']).toEqual([{ '@value': '09520123456788', '@type': 'http://www.w3.org/2001/XMLSchema#string' }]);
    expect(node!['https://test.uncefact.org/vocabulary/untp/core/0/carbonFootprint']).toEqual([{ '@value': 2.1, '@type': 'http://www.w3.org/2001/XMLSchema#decimal' }]);
    expect(node!['https://schema.org/countryOfOrigin']).toEqual([{ '@id': 'https://vocabulary.uncefact.org/CountryId#FR' }]);
    expect(node!['https://schema.org/datePublished']).toEqual([{ '@value': '2025-02-01T12:00:00.000Z', '@type': 'http://www.w3.org/2001/XMLSchema#dateTime' }]);
    expect(node!['https://schema.org/hasCertification']).toHaveLength(4);
    const material = (node!['https://schema.org/material'] as Doc[])[0]!;
    expect(material['https://dpp-compliance.dev/vocab#massPercentage']).toEqual([{ '@value': 66.7, '@type': 'http://www.w3.org/2001/XMLSchema#decimal' }]);
  });

  it('leaves out what the passport does not hold', () => {
    expect(toDefaultJsonLd(empty)).toEqual({
      '@context': `${BASE}/contexts/dpp/v1.jsonld`,
      '@type': 'ProductPassport',
      '@id': `${BASE}/dpp/${empty.passport.product_id}`,
      productId: empty.passport.product_id,
      dppId: empty.passport.dpp_id,
      productName: 'Bare product',
      dppStatus: 'draft',
      dateModified: '2025-01-10T09:30:00.000Z',
    });
  });

  it('never carries a GTIN whose check digit is wrong', () => {
    const doc = toDefaultJsonLd(partial);
    expect(doc).not.toHaveProperty('gtin');
    expect(doc['@id']).toBe(`${BASE}/dpp/${partial.passport.product_id}`);
    expect(JSON.stringify(doc)).not.toContain('376000000000');
    expect(JSON.stringify(toUntpCredential(partial))).not.toContain('376000000000');
  });
});

// --- UNTP credential --------------------------------------------------------------------------

describe('UNTP DPP 0.6.0 credential', () => {
  it.each(Object.entries(FIXTURES))('%s: passes the 0.6.0 JSON Schema and expands in safe mode', async (_name, input) => {
    const vc = toUntpCredential(input);
    expect(errorsOf(validate060, vc)).toEqual([]);
    const expanded = await expandSafe(vc);
    expect(expanded).toHaveLength(1);
    expect(JSON.stringify(vc)).not.toContain('characteristics');
  });

  it.each(Object.entries(FIXTURES))('%s: fits 0.6.1 too, once it cites the 0.6.1 context', async (_name, input) => {
    const vc = toUntpCredential(input);
    // As is, 0.6.1 only objects to the cited context version (its schema pins the 0.6.1 URL).
    const asIs = errorsOf(validate061, vc);
    expect(asIs.length).toBeGreaterThan(0);
    expect(new Set(asIs.map((e) => e.instancePath))).toEqual(new Set(['/@context/1']));

    const url061 = 'https://test.uncefact.org/vocabulary/untp/dpp/0.6.1/';
    const vc061 = { ...vc, '@context': (vc['@context'] as string[]).map((c) => (c === UNTP_DPP_CONTEXT_URL ? url061 : c)) };
    expect(errorsOf(validate061, vc061)).toEqual([]);
    const context061 = readJson(new URL('untp-dpp-0.6.1/context.jsonld', STANDARDS));
    const base = testDocumentLoader(BASE);
    const loader: Loader = async (url) => (url === url061 ? { contextUrl: null, document: context061, documentUrl: url } : base(url));
    await expect(expandSafe(vc061, loader)).resolves.toHaveLength(1);
  });

  it('maps the passport onto UNTP terms', () => {
    const vc = toUntpCredential(full) as Doc & { credentialSubject: Doc & { product: Doc; conformityClaim: Doc[] } };
    expect(vc['@context']).toEqual([VC_V2_CONTEXT_URL, UNTP_DPP_CONTEXT_URL, `${BASE}/contexts/untp-extension/v1.jsonld`]);
    expect(vc.type).toEqual(['DigitalProductPassport', 'VerifiableCredential']);
    expect(vc.id).toBe(`${BASE}/dpp/${full.passport.product_id}/credentials/v3`);
    expect(vc.issuer).toEqual({ type: ['CredentialIssuer'], id: BASE, name: 'Ma Marque' });
    expect(vc.validFrom).toBe('2025-02-01T12:00:00.000Z');
    expect(vc.name).toBe('Digital Product Passport: Kettle K-200');

    const subject = vc.credentialSubject;
    expect(subject.product).toMatchObject({
      type: ['Product'],
      id: `${BASE}/01/09520123456788`,
      name: 'Kettle K-200',
      registeredId: '09520123456788',
      idScheme: { id: 'https://id.gs1.org/01/' },
      countryOfProduction: 'FR',
      weeeCategory: 'Small equipment',
      energyClass: 'A++',
      recyclable: true,
      recyclabilityScore: 'B',
    });
    expect(subject.materialsProvenance).toEqual([
      { name: 'Stainless steel', massFraction: 0.667 },
      { name: 'Polypropylene', massFraction: 0.333 },
    ]);
    expect(subject.emissionsScorecard).toEqual({ carbonFootprint: 2.1, declaredUnit: 'EA', operationalScope: 'None', primarySourcedRatio: 0 });
    expect(subject).toMatchObject({ granularityLevel: 'model', dppStatus: 'published', dppVersion: 3 });

    const claims = subject.conformityClaim;
    const regulations = claims.map((c) => (c.referenceRegulation as Doc | undefined)?.id).filter(Boolean);
    expect(regulations).toEqual(['http://data.europa.eu/eli/reg/2008/765/oj', 'http://data.europa.eu/eli/dir/2011/65/oj', 'http://data.europa.eu/eli/reg/2006/1907/oj']);
    // CE and RoHS are listed once, as regulations; the other certifications follow.
    expect(claims.map((c) => c.description)).toEqual([
      'Bears the CE marking.',
      'Conforms to the RoHS substance restrictions (Directive 2011/65/EU).',
      'Complies with REACH (Regulation (EC) No 1907/2006).',
      'Certification: Energy Star',
      'Certification: TÜV',
    ]);
    expect(claims.find((c) => c.description === 'Certification: Energy Star')?.conformityTopic).toBe('environment.energy');
    expect(new Set(claims.map((c) => c.id)).size).toBe(claims.length);
  });

  it('marks a working copy as a draft and dates it now', () => {
    const vc = toUntpCredential(empty, '2025-03-01T08:00:00.000Z') as Doc & { credentialSubject: Doc & { product: Doc } };
    expect(vc.name).toBe('DRAFT — Digital Product Passport: Bare product');
    expect(vc.validFrom).toBe('2025-03-01T08:00:00.000Z');
    expect(vc.id).toBe(`${BASE}/dpp/${empty.passport.product_id}/credentials/draft`);
    expect(vc.credentialSubject).toMatchObject({ dppStatus: 'draft' });
    expect(vc.credentialSubject).not.toHaveProperty('dppVersion');
    expect(vc.credentialSubject).not.toHaveProperty('emissionsScorecard');
    expect(vc.credentialSubject).not.toHaveProperty('conformityClaim');
    // Without a manufacturer or a GTIN: the service names the issuer, and ids the product itself.
    expect(vc.issuer).toEqual({ type: ['CredentialIssuer'], id: BASE, name: 'dpp.example.com' });
    expect(vc.credentialSubject.product).toMatchObject({
      id: `${BASE}/dpp/${empty.passport.product_id}`,
      registeredId: empty.passport.product_id,
      idScheme: { type: ['IdentifierScheme'], id: `${BASE}/dpp/`, name: 'Product id at dpp.example.com' },
    });
  });

  it('turns a false environmental flag into a non-conformance claim', async () => {
    const input: ExportInput = {
      ...partial,
      passport: passport({ certifications: ['CE'], environmental: { ...EMPTY_ENVIRONMENTAL, ce_marked: false, rohs_compliant: false } }),
    };
    const vc = toUntpCredential(input) as Doc & { credentialSubject: { conformityClaim: Doc[] } };
    expect(vc.credentialSubject.conformityClaim.map((c) => c.conformance)).toEqual([false, false]);
    expect(errorsOf(validate060, vc)).toEqual([]);
    await expect(expandSafe(vc)).resolves.toHaveLength(1);
  });
});

// --- safe mode and the contexts ---------------------------------------------------------------

describe('JSON-LD safe mode and contexts', () => {
  it('rejects a property no context defines', async () => {
    const withFoo = { ...toDefaultJsonLd(full), foo: 1 };
    await expect(expandSafe(withFoo)).rejects.toThrow(/Safe mode validation error/);
    // Without safe mode the same document expands, silently losing `foo`.
    const lax = await jsonld.expand(
      withFoo as jsonld.JsonLdDocument,
      {
        documentLoader: testDocumentLoader(BASE),
      } as unknown as jsonld.Options.Expand,
    );
    expect(Object.keys(lax[0]!)).toHaveLength(Object.keys(withFoo).length - 2);
    await expect(expandSafe({ ...toUntpCredential(full), foo: 1 })).rejects.toThrow(/Safe mode validation error/);
    const vc = toUntpCredential(full) as Doc & { credentialSubject: Doc & { product: Doc } };
    const withCharacteristics = {
      ...vc,
      credentialSubject: { ...vc.credentialSubject, product: { ...vc.credentialSubject.product, characteristics: {} } },
    };
    // The 0.6.x quirk: the schema accepts product.characteristics, the context does not define it.
    expect(errorsOf(validate060, withCharacteristics)).toEqual([]);
    await expect(expandSafe(withCharacteristics)).rejects.toThrow();
  });

  it('never goes to the network', async () => {
    await expect(testDocumentLoader(BASE)('https://schema.org/')).rejects.toThrow(/no local copy/);
    await expect(testDocumentLoader(BASE)('https://other.example/contexts/dpp/v1.jsonld')).rejects.toThrow(/no local copy/);
  });

  it('serves our contexts at their paths and the given upstream ones at their URLs', async () => {
    expect(Object.keys(CONTEXT_PATHS).sort()).toEqual(['/contexts/dpp/v1.jsonld', '/contexts/untp-0.7-extension/v1.jsonld', '/contexts/untp-extension/v1.jsonld']);
    const loader = testDocumentLoader(BASE);
    for (const url of [VC_V2_CONTEXT_URL, UNTP_DPP_CONTEXT_URL, UNTP_CORE_CONTEXT_URL, `${BASE}/contexts/dpp/v1.jsonld`]) {
      await expect(loader(url)).resolves.toMatchObject({ contextUrl: null, documentUrl: url });
    }
  });

  it('keeps the in-memory contexts identical to their sources', () => {
    expect(CONTEXT_PATHS['/contexts/dpp/v1.jsonld']).toEqual(readJson(new URL('dpp-v1.jsonld', CONTEXTS_DIR)));
    expect(CONTEXT_PATHS['/contexts/untp-extension/v1.jsonld']).toEqual(readJson(new URL('untp-extension-v1.jsonld', CONTEXTS_DIR)));
    const vcV2 = readJson(new URL('../../node_modules/@digitalbazaar/credentials-context/contexts/v2.jsonld', import.meta.url));
    expect(UPSTREAM_CONTEXTS[VC_V2_CONTEXT_URL]).toEqual(vcV2);
  });

  it('accepts the UNTP sample credential (sanity check of the loader)', async () => {
    const sample = readJson(new URL('untp-dpp-0.6.0/sample-instance.json', STANDARDS)) as Doc;
    expect(errorsOf(validate060, sample)).toEqual([]);
    await expect(expandSafe(sample)).resolves.toHaveLength(1);
  });
});
