import addFormatsModule from 'ajv-formats';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTEXT_PATHS, UNTP_070_CONTEXT_URL, UNTP_DPP_CONTEXT_URL, VC_V2_CONTEXT_URL } from '../../src/features/export/contexts.js';
import { passportLinks } from '../../src/features/export/linkset.js';
import { profileOf } from '../../src/features/export/routes.js';
import type { ExportInput } from '../../src/features/export/types.js';
import { toUntpCredential070 } from '../../src/features/export/untp-0.7.js';
import type { PassportView } from '../../src/features/passports/views.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { FULL_PASSPORT } from '../helpers/fixtures.js';
import { testDocumentLoader } from '../helpers/untp.js';
import { UNTP_070_DIR, expandSafe070, untp070, untp070DocumentLoader, untp070SchemaErrors } from '../helpers/untp-070.js';
import jsonld from 'jsonld';

type Doc = Record<string, unknown>;
const BASE = 'https://dpp.example.test';
const PROFILE_070 = `application/ld+json; profile="${UNTP_070_CONTEXT_URL}"`;
const PROFILE_060 = `application/ld+json; profile="${UNTP_DPP_CONTEXT_URL}"`;
const UNTP = 'https://vocabulary.uncefact.org/untp/';
const DPPC = 'https://dpp-compliance.dev/vocab#';

/**
 * UN/CEFACT's 0.7.0 schema and context are not redistributed with the service (their licence is not
 * ours; README, "Dependencies"): where they are present (test/fixtures/untp-dpp-0.7.0/ or
 * shared/standards/untp-dpp-0.7.0/), every credential below is also validated against them; where they
 * are not, the tests that only check against them are reported as skipped, and the others keep their
 * own assertions.
 */
const ARTEFACTS = UNTP_070_DIR !== undefined;
const withArtefacts = it.skipIf(!ARTEFACTS);
/** Schema and safe-mode expansion of a 0.7.0 credential, where the artefacts are present. */
async function expectConformant070(vc: object) {
  if (!ARTEFACTS) return;
  expect(schemaErrors070(vc)).toEqual([]);
  await expect(expandSafe070(vc, BASE)).resolves.toHaveLength(1);
}

// Compiled on first use.
let compiled: ReturnType<typeof untp070SchemaErrors> | undefined;
const schemaErrors070 = (doc: unknown) => (compiled ??= untp070SchemaErrors())(doc);
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const validate060 = addFormats(new Ajv2020({ strict: false, allErrors: true })).compile(
  JSON.parse(readFileSync(new URL('../../../shared/standards/untp-dpp-0.6.0/schema.json', import.meta.url), 'utf8')) as object,
);
const expandSafe060 = (doc: object) => jsonld.expand(doc as never, { safe: true, documentLoader: testDocumentLoader(BASE) as never } as never);

/** Every value the document states (leaves of its JSON tree, `@context` aside). */
function leaves(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + leaves(v), 0);
  if (value && typeof value === 'object') return Object.entries(value).reduce((n, [k, v]) => n + (k === '@context' ? 0 : leaves(v)), 0);
  return 1;
}

// --- the serializer, on passports held in memory -------------------------------------------------

const ENV: PassportView['environmental'] = {
  reach_compliant: null,
  rohs_compliant: null,
  ce_marked: null,
  weee_category: null,
  energy_class: null,
  recyclable: null,
  hazardous_substances: [],
};

function view(overrides: Partial<PassportView>): PassportView {
  return {
    product_id: '01900000-0000-7000-8000-000000000001',
    ean: null,
    dpp_id: '01900000-0000-7000-8000-0000000000d1',
    product_name: 'Unnamed product',
    manufacturer: null,
    country_of_origin: null,
    materials: [],
    carbon_footprint_kg: null,
    recyclability_score: null,
    certifications: [],
    end_of_life_instructions: null,
    updated_at: '2025-01-10T09:30:00.000Z',
    dpp_status: 'draft',
    version: 1,
    missing_fields: [],
    has_unpublished_changes: false,
    published_version: null,
    published_at: null,
    withdrawn_at: null,
    environmental: ENV,
    ...overrides,
  } as PassportView;
}

const full: ExportInput = {
  passport: view({
    product_id: '01900000-0000-7000-8000-0000000000aa',
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
    end_of_life_instructions: 'Take to a WEEE collection point.',
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
const empty: ExportInput = {
  passport: view({ product_id: '01900000-0000-7000-8000-0000000000ee', product_name: 'Bare product' }),
  gtin14: null,
  status: 'draft',
  publishedVersion: null,
  publishedAt: null,
  baseUrl: BASE,
};
const nonConforming: ExportInput = {
  ...empty,
  passport: view({ certifications: ['CE', 'FSC'], environmental: { ...ENV, ce_marked: false, rohs_compliant: false } }),
};

describe('UNTP DPP 0.7.0 credential', () => {
  withArtefacts('has the upstream artefacts to check against (the official sample passes the schema)', () => {
    expect(schemaErrors070(untp070.sample())).toEqual([]);
  });

  withArtefacts('the official 0.7.0 sample fails safe mode only on its credential type, which the 0.7.0 context does not define', async () => {
    await expect(expandSafe070(untp070.sample(), BASE)).rejects.toThrow(/Safe mode validation error/);
    // With our extension context (which defines the type) the same sample expands whole.
    const sample = { ...untp070.sample(), '@context': [...(untp070.sample()['@context'] as string[]), `${BASE}/contexts/untp-0.7-extension/v1.jsonld`] };
    await expect(expandSafe070(sample, BASE)).resolves.toHaveLength(1);
  });

  withArtefacts.each([
    ['full', full],
    ['empty', empty],
    ['non-conforming', nonConforming],
  ])('%s: passes the 0.7.0 JSON Schema and expands in safe mode, every value kept', async (_name, input) => {
    const vc = toUntpCredential070(input);
    expect(schemaErrors070(vc)).toEqual([]);
    const expanded = await expandSafe070(vc, BASE);
    expect(expanded).toHaveLength(1);
    // No term dropped: compacted back under the same contexts, the document states every value it stated.
    const round = await jsonld.compact(expanded as never, { '@context': vc['@context'] } as never, { documentLoader: untp070DocumentLoader(BASE) } as never);
    expect(leaves(round)).toBe(leaves(vc));
    expect(JSON.stringify(vc)).not.toContain('null');
  });

  it('maps the passport onto 0.7.0 terms', async () => {
    const vc = toUntpCredential070(full) as Doc & { credentialSubject: Doc & { performanceClaim: Doc[]; characteristics: Doc } };
    expect(vc['@context']).toEqual([VC_V2_CONTEXT_URL, UNTP_070_CONTEXT_URL, `${BASE}/contexts/untp-0.7-extension/v1.jsonld`]);
    expect(vc.type).toEqual(['DigitalProductPassport', 'VerifiableCredential']);
    expect(vc.id).toBe(`${BASE}/dpp/${full.passport.product_id}/credentials/v3/untp-0.7.0`);
    expect(vc).toMatchObject({ issuer: { type: ['CredentialIssuer'], id: BASE, name: 'Ma Marque' }, validFrom: '2025-02-01T12:00:00.000Z' });
    expect(vc).toMatchObject({ dppId: full.passport.dpp_id, dppStatus: 'published', dppVersion: 3 });

    const subject = vc.credentialSubject;
    expect(subject).toMatchObject({
      type: ['Product'],
      id: `${BASE}/01/09520123456788`,
      name: 'Kettle K-200',
      idScheme: { id: 'https://id.gs1.org/01/' },
      idGranularity: 'model',
      countryOfProduction: { countryCode: 'FR' },
      productCategory: [],
    });
    expect(subject).not.toHaveProperty('registeredId');
    expect(subject.characteristics).toEqual({
      weeeCategory: 'Small equipment',
      energyClass: 'A++',
      recyclable: true,
      recyclabilityScore: 'B',
      endOfLifeInstructions: 'Take to a WEEE collection point.',
      materials: [
        { name: 'Stainless steel', massFraction: 0.667 },
        { name: 'Polypropylene', massFraction: 0.333 },
      ],
      hazardousSubstances: [{ name: 'Lead', casNumber: '7439-92-1', ecNumber: '231-100-4', concentration: 0.05, location: 'Solder joints' }, { name: 'Unnamed flame retardant' }],
    });

    const claims = subject.performanceClaim;
    expect(claims.map((c) => c.name)).toEqual([
      'Product carbon footprint',
      'CE conformity',
      'RoHS conformity',
      'REACH conformity',
      'Certification: Energy Star',
      'Certification: TÜV',
    ]);
    expect(claims[0]).toMatchObject({
      claimDate: '2025-02-01',
      claimedPerformance: [{ metric: { id: 'https://vocabulary.uncefact.org/performance-metrics/product-carbon-footprint' }, measure: { value: 2.1, unit: 'KGM' } }],
      conformityTopic: [{ id: 'https://vocabulary.uncefact.org/conformity-topics/greenhouse-gas-emissions' }],
    });
    expect(claims[2]).toMatchObject({
      referenceRegulation: [{ id: 'http://data.europa.eu/eli/dir/2011/65/oj' }],
      claimedPerformance: [{ score: { code: 'conformant' } }],
      conformityTopic: [{ id: 'https://vocabulary.uncefact.org/conformity-topics/substance-control', name: 'Substance Control' }],
    });
    expect(claims[4]!.conformityTopic).toEqual([
      { type: ['ConformityTopic'], id: 'https://vocabulary.uncefact.org/conformity-topics/energy-optimization', name: 'Energy Optimization' },
    ]);
    expect(new Set(claims.map((c) => c.id)).size).toBe(claims.length);

    // The terms reach the intended vocabularies.
    if (!ARTEFACTS) return;
    const [node] = await expandSafe070(vc, BASE);
    const product = (node![`https://www.w3.org/2018/credentials#credentialSubject`] as Doc[])[0]!;
    expect(product['@type']).toEqual([`${UNTP}Product`]);
    expect(product[`${UNTP}performanceClaim`]).toHaveLength(6);
    const characteristics = (product[`${UNTP}characteristics`] as Doc[])[0]!;
    expect(characteristics[`${DPPC}weeeCategory`]).toEqual([{ '@value': 'Small equipment', '@type': 'http://www.w3.org/2001/XMLSchema#string' }]);
    expect(characteristics[`${DPPC}material`]).toHaveLength(2);
    expect(node!['@type']).toEqual([`${UNTP}DigitalProductPassport`, 'https://www.w3.org/2018/credentials#VerifiableCredential']);
    expect(node![`${DPPC}dppVersion`]).toEqual([{ '@value': 3, '@type': 'http://www.w3.org/2001/XMLSchema#integer' }]);
  });

  it('states what the passport lacks with the least-claiming values, and marks a draft', () => {
    const vc = toUntpCredential070(empty, '2025-03-01T08:00:00.000Z') as Doc & { credentialSubject: Doc };
    expect(vc.name).toBe('DRAFT — Digital Product Passport: Bare product');
    expect(vc.id).toBe(`${BASE}/dpp/${empty.passport.product_id}/credentials/draft/untp-0.7.0`);
    expect(vc).not.toHaveProperty('dppVersion');
    expect(vc.issuer).toEqual({ type: ['CredentialIssuer'], id: BASE, name: 'dpp.example.test' });
    expect(vc.credentialSubject).toMatchObject({
      productCategory: [],
      producedAtFacility: { type: ['Facility'], id: `${BASE}/dpp/${empty.passport.product_id}#production-facility`, name: 'Production facility (not identified)' },
      countryOfProduction: { countryCode: 'ZZ', countryName: 'Unknown' },
      idScheme: { id: `${BASE}/dpp/` },
    });
    expect(vc.credentialSubject).not.toHaveProperty('performanceClaim');
    expect(vc.credentialSubject).not.toHaveProperty('characteristics');
  });

  it('states the commodity code, the facility GLN and a batch or item with 0.7.0 terms', async () => {
    const input: ExportInput = {
      ...full,
      passport: { ...full.passport, commodity_code: '85166080', facility_id: '9520123456788' },
      granularity: {
        level: 'item',
        instance_id: '01900000-0000-7000-8000-0000000000c1',
        lot: 'L7',
        serial: 'SN-1',
        production_date: '2026-07-01',
        version: 1,
        based_on_version: 3,
        issued_at: '2026-07-02T00:00:00.000Z',
      },
    };
    const vc = toUntpCredential070(input) as Doc & { credentialSubject: Doc };
    expect(vc.credentialSubject).toMatchObject({
      id: `${BASE}/01/09520123456788/10/L7/21/SN-1`,
      idGranularity: 'item',
      batchNumber: 'L7',
      itemNumber: 'SN-1',
      productionDate: '2026-07-01',
      productCategory: [
        { code: '85166080', name: 'Combined Nomenclature (CN) 85166080', schemeId: 'https://ec.europa.eu/taxation_customs/dds2/taric/', schemeName: 'Combined Nomenclature (CN)' },
      ],
      producedAtFacility: { id: 'https://id.gs1.org/414/9520123456788', registeredId: '9520123456788', idScheme: { id: 'https://id.gs1.org/414/' } },
    });
    expect(vc.id).toBe(`${BASE}/dpp/${full.passport.product_id}/instances/01900000-0000-7000-8000-0000000000c1/untp-0.7.0`);
    await expectConformant070(vc);
  });

  it('turns a false environmental flag into a non-conformant claim', () => {
    const vc = toUntpCredential070(nonConforming) as Doc & { credentialSubject: { performanceClaim: Doc[] } };
    const claims = vc.credentialSubject.performanceClaim;
    expect(claims.map((c) => (c.claimedPerformance as Doc[])[0]!.score)).toMatchObject([{ code: 'non-conformant' }, { code: 'non-conformant' }, { code: 'conformant' }]);
    expect(claims.map((c) => c.name)).toEqual(['CE conformity', 'RoHS conformity', 'Certification: FSC']);
    expect(claims[2]!.conformityTopic).toMatchObject([{ id: 'https://vocabulary.uncefact.org/conformity-topics/forest-conservation' }]);
  });

  withArtefacts('is rejected by safe mode with a term no context defines, so the checks above can fail', async () => {
    const vc = toUntpCredential070(full) as Doc & { credentialSubject: Doc };
    await expect(expandSafe070({ ...vc, foo: 1 }, BASE)).rejects.toThrow(/Safe mode validation error/);
    await expect(expandSafe070({ ...vc, credentialSubject: { ...vc.credentialSubject, characteristics: { colour: 'red' } } }, BASE)).rejects.toThrow(/Safe mode/);
    // And by the schema with a property Product does not allow.
    expect(schemaErrors070({ ...vc, credentialSubject: { ...vc.credentialSubject, registeredId: 'x' } }).map((e) => e.keyword)).toContain('additionalProperties');
  });

  it('serves its extension context, identical to the published .jsonld', () => {
    const source = JSON.parse(readFileSync(new URL('../../src/features/export/contexts/untp-0.7-extension-v1.jsonld', import.meta.url), 'utf8'));
    expect(CONTEXT_PATHS['/contexts/untp-0.7-extension/v1.jsonld']).toEqual(source);
  });
});

describe('profile negotiation', () => {
  it.each([
    [undefined, undefined, 'default'],
    ['untp', undefined, 'untp-0.6.0'],
    ['untp-0.6.0', PROFILE_070, 'untp-0.6.0'],
    ['untp-0.7.0', undefined, 'untp-0.7.0'],
    ['default', PROFILE_070, 'default'],
    [undefined, PROFILE_070, 'untp-0.7.0'],
    [undefined, PROFILE_060, 'untp-0.6.0'],
    [undefined, 'application/ld+json; profile="untp-0.7.0"', 'untp-0.7.0'],
    [undefined, 'application/ld+json; profile="https://test.uncefact.org/vocabulary/untp/dpp/0.7.0/"', 'untp-0.7.0'],
    [undefined, 'application/ld+json; profile="untp"', 'untp-0.6.0'],
    [undefined, `${PROFILE_060}; q=0.5, ${PROFILE_070}`, 'untp-0.7.0'],
    [undefined, `${PROFILE_060}, ${PROFILE_070}; q=0.9`, 'untp-0.6.0'],
    [undefined, `${PROFILE_070}; q=0`, 'default'],
    [undefined, 'application/ld+json', 'default'],
  ])('?profile=%s with Accept %s renders %s', (query, accept, expected) => {
    expect(profileOf(query, accept)).toBe(expected);
  });

  it('offers the 0.7.0 credential in the linkset, after the 0.6.0 one', () => {
    const links = passportLinks({ uri: `${BASE}/01/09520123456788`, productName: 'Kettle', publishedVersion: 1, versions: [] });
    const untp = links.filter((l) => l.rel === 'https://test.uncefact.org/vocabulary/linkTypes/dpp' && l.type === 'application/ld+json');
    expect(untp.map((l) => l.href)).toEqual([`${BASE}/01/09520123456788?format=jsonld&profile=untp`, `${BASE}/01/09520123456788?format=jsonld&profile=untp-0.7.0`]);
  });
});

// --- through the HTTP API, on both databases -----------------------------------------------------

describe.each(dialects)('UNTP 0.7.0 export over HTTP (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  let otherKey: string;
  let id: string;
  const GTIN = '09520123456788';

  const exportOf = (query = '', headers: Record<string, string> = {}, k = key) => t.call(k, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/export${query}`, headers });
  const resolve = (query = '', headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url: `/01/${GTIN}${query}`, headers });

  beforeAll(async () => {
    t = await createTestApp(dialect, { PUBLIC_BASE_URL: BASE });
    key = await t.key('untp070-org');
    otherKey = await t.key('untp070-other-org');
    id = (await t.call(key, { method: 'POST', url: '/api/v1/products', payload: { title: 'Kettle K-200', ean: '9520123456788' } })).json().product_id;
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: FULL_PASSPORT });
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/products/${id}/environmental`, payload: { weee_category: 6, energy_class: 'A+', rohs_compliant: true } });
    expect((await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` })).statusCode).toBe(200);
  });
  afterAll(() => t.close());

  const assert070 = async (res: Awaited<ReturnType<typeof exportOf>>) => {
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(`${PROFILE_070}; charset=utf-8`);
    const vc = res.json();
    expect(vc['@context'][1]).toBe(UNTP_070_CONTEXT_URL);
    await expectConformant070(vc);
    return vc;
  };
  const assert060 = async (res: Awaited<ReturnType<typeof exportOf>>) => {
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain(`profile="${UNTP_DPP_CONTEXT_URL}"`);
    const vc = res.json();
    expect(vc['@context'][1]).toBe(UNTP_DPP_CONTEXT_URL);
    expect(validate060(vc), JSON.stringify(validate060.errors)).toBe(true);
    await expect(expandSafe060(vc)).resolves.toHaveLength(1);
  };

  it('exports a published passport with ?profile=untp-0.7.0 or the 0.7.0 profile in Accept', async () => {
    const vc = await assert070(await exportOf('?profile=untp-0.7.0'));
    expect(vc.credentialSubject).toMatchObject({ id: `${BASE}/01/${GTIN}`, name: 'Kettle K-200', countryOfProduction: { countryCode: 'FR' } });
    expect(vc.credentialSubject.characteristics).toMatchObject({ weeeCategory: 'IT equipment', energyClass: 'A+' });
    expect(vc.dppStatus).toBe('published');
    await assert070(await exportOf('', { accept: PROFILE_070 }));
    await assert070(await exportOf('', { accept: 'application/ld+json; profile="untp-0.7.0"' }));
  });

  it('still gives UNTP 0.6.0 for profile=untp, untp-0.6.0 and the 0.6.0 profile in Accept', async () => {
    await assert060(await exportOf('?profile=untp'));
    await assert060(await exportOf('?profile=untp-0.6.0'));
    await assert060(await exportOf('', { accept: PROFILE_060 }));
    await assert060(await exportOf('', { accept: 'application/ld+json; profile="untp"' }));
  });

  it('answers a bad profile with a 400 problem naming querystring/profile', async () => {
    for (const res of [
      await exportOf('?profile=untp-0.8.0'),
      await resolve('?format=jsonld&profile=untp-0.7'),
      await t.call(key, { method: 'GET', url: '/api/v1/compliance/dpp/export?profile=nope' }),
    ]) {
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(JSON.stringify(res.json())).toContain('querystring/profile');
    }
  });

  it('answers another organisation exactly as an unknown passport', async () => {
    const other = await exportOf('?profile=untp-0.7.0', {}, otherKey);
    const unknown = await t.call(otherKey, { method: 'GET', url: '/api/v1/compliance/dpp/01900000-0000-7000-8000-000000000999/export?profile=untp-0.7.0' });
    expect(other.statusCode).toBe(404);
    expect(unknown.statusCode).toBe(404);
    expect(other.json().title).toBe(unknown.json().title);
  });

  it('serves 0.7.0 from the public resolver, by query and by Accept, and the linkset offers it', async () => {
    await assert070(await resolve('?format=jsonld&profile=untp-0.7.0'));
    await assert070(await resolve('', { accept: PROFILE_070 }));
    await assert060(await resolve('?format=jsonld&profile=untp'));
    await assert060(await resolve('', { accept: PROFILE_060 }));

    const linkset = (await resolve('?linkType=linkset')).json();
    const untpLinks = linkset.linkset[0]['https://test.uncefact.org/vocabulary/linkTypes/dpp'] as Array<{ href: string }>;
    const link070 = untpLinks.find((l) => l.href.endsWith('profile=untp-0.7.0'))!;
    expect(link070).toBeDefined();
    await assert070(await t.app.inject({ method: 'GET', url: new URL(link070.href).pathname + new URL(link070.href).search }));
    // untp:dpp still redirects to the 0.6.0 credential first, as before.
    const redirect = await resolve('?linkType=untp:dpp', { accept: 'application/ld+json' });
    expect(redirect.statusCode).toBe(307);
    expect(redirect.headers.location).toContain('profile=untp');
    expect(redirect.headers.location).not.toContain('0.7.0');
  });

  it('serves a batch passport in 0.7.0 at its Digital Link', async () => {
    const issued = await t.call(key, {
      method: 'POST',
      url: `/api/v1/compliance/dpp/${id}/instances`,
      payload: { level: 'batch', lot: 'L2026-07', production_date: '2026-07-01' },
    });
    expect(issued.statusCode).toBe(201);
    const vc = await assert070(await resolve('/10/L2026-07?format=jsonld&profile=untp-0.7.0'));
    expect(vc.credentialSubject).toMatchObject({ id: `${BASE}/01/${GTIN}/10/L2026-07`, idGranularity: 'batch', batchNumber: 'L2026-07', productionDate: '2026-07-01' });
  });

  it('exports every passport as 0.7.0 NDJSON, each line valid', async () => {
    const res = await t.call(key, { method: 'GET', url: '/api/v1/compliance/dpp/export?profile=untp-0.7.0' });
    expect(res.statusCode).toBe(200);
    const lines = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Doc);
    expect(lines.length).toBeGreaterThan(0);
    for (const vc of lines) await expectConformant070(vc);
  });

  it('lists the profile values in the OpenAPI document, for the export and the resolver', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json();
    for (const path of ['/api/v1/compliance/dpp/{product_id}/export', '/api/v1/compliance/dpp/export', '/01/{gtin}', '/dpp/{product_id}']) {
      const profile = (doc.paths[path].get.parameters as Array<{ name: string; schema: unknown }>).find((p) => p.name === 'profile');
      expect(JSON.stringify(profile?.schema), path).toContain('"untp-0.7.0"');
      expect(JSON.stringify(profile?.schema), path).toContain('"untp-0.6.0"');
    }
  });

  it('serves the 0.7 extension context it cites', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/contexts/untp-0.7-extension/v1.jsonld' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(CONTEXT_PATHS['/contexts/untp-0.7-extension/v1.jsonld']);
  });
});
