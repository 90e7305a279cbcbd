import { sql, type Kysely } from 'kysely';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dppContext from '../../src/features/export/contexts/dpp-v1.js';
import { toUntpCredential } from '../../src/features/export/untp.js';
import { EnvironmentalPatchBody, EnvironmentalSchema, PassportPatchBody, PassportSchema } from '../../src/features/passports/schemas.js';
import { REQUIRED_FOR_COMPLETE } from '../../src/features/passports/rules.js';
import { FIELD_NAMES } from '../../src/features/extraction/fields.js';
import {
  columnsFor,
  environmentalSchema,
  fieldNames,
  jsonLdEntries,
  passportDocumentSql,
  passportSchema,
  patchBodySchema,
  renderPassport,
  requiredForComplete,
  valuesFromRow,
  type AnyModel,
} from '../../src/features/passports/derive.js';
import { PASSPORT_MODEL, type FieldRow } from '../../src/features/passports/model.js';
import { passportView } from '../../src/features/passports/views.js';
import { createTestDatabase, dialects, type TestDatabase } from '../helpers/db.js';

const names = Object.keys(PASSPORT_MODEL);

describe('the passport model is the one declaration of the fields', () => {
  it('gives each PATCH body exactly the fields its endpoint owns, and nothing else', () => {
    const owned = (e: 'passport' | 'environmental') => names.filter((n) => (PASSPORT_MODEL as AnyModel)[n]!.endpoints.includes(e)).sort();
    expect(Object.keys(PassportPatchBody.properties).sort()).toEqual(owned('passport'));
    expect(Object.keys(EnvironmentalPatchBody.properties).sort()).toEqual(owned('environmental'));
    expect(Object.keys(EnvironmentalSchema.properties)).toEqual([
      'product_id',
      ...owned('environmental').sort((a, b) => names.indexOf(a) - names.indexOf(b)),
      'updated_at',
      'version',
    ]);
    // The spec's fields are where the spec puts them.
    for (const f of ['product_name', 'manufacturer', 'carbon_footprint_kg', 'certifications']) expect(owned('passport')).toContain(f);
    for (const f of ['reach_compliant', 'rohs_compliant', 'ce_marked', 'weee_category', 'energy_class', 'carbon_footprint_kg', 'recyclable', 'hazardous_substances']) {
      expect(owned('environmental')).toContain(f);
    }
  });

  it('puts every field in the passport answer, in its section and in declaration order', () => {
    const top = Object.keys(PassportSchema.properties);
    const env = Object.keys((PassportSchema.properties.environmental as ReturnType<typeof Type.Object>).properties);
    expect(top.filter((k) => names.includes(k))).toEqual(names.filter((n) => PASSPORT_MODEL[n as keyof typeof PASSPORT_MODEL].section === 'passport'));
    expect(env).toEqual(names.filter((n) => PASSPORT_MODEL[n as keyof typeof PASSPORT_MODEL].section === 'environmental'));
  });

  it('derives the completeness rule from requiredForComplete', () => {
    expect([...REQUIRED_FOR_COMPLETE]).toEqual(['manufacturer', 'materials', 'carbon_footprint_kg', 'certifications', 'end_of_life_instructions']);
  });

  it("defines every field's JSON-LD term in the served context, as the model declares it", () => {
    const defined = (dppContext as { '@context': Record<string, unknown> })['@context'];
    const terms = Object.values(PASSPORT_MODEL as AnyModel).map((r) => r.jsonLd.term);
    expect(new Set(terms).size).toBe(terms.length);
    for (const row of Object.values(PASSPORT_MODEL as AnyModel)) expect(defined[row.jsonLd.term]).toEqual(row.jsonLd.definition);
  });

  it('states every field with a UNTP path at that path of the UNTP credential', () => {
    const passport = fullPassport();
    const credential = toUntpCredential({
      passport,
      gtin14: '04012345000012',
      status: 'published',
      publishedVersion: 1,
      publishedAt: '2026-12-01T00:00:00.000Z',
      baseUrl: 'https://dpp.example.test',
    });
    for (const [name, row] of Object.entries(PASSPORT_MODEL as AnyModel)) {
      if (!row.untp) continue;
      expect(valueAt(credential, row.untp), `${name} at ${row.untp}`).not.toEqual([]);
    }
  });

  it('lets extraction propose only fields its result has', () => {
    const targets = fieldNames(PASSPORT_MODEL, (r) => r.extraction);
    expect(targets.filter((t) => !(FIELD_NAMES as readonly string[]).includes(t))).toEqual([]);
  });

  it('declares an access tier for every field (all public so far)', () => {
    for (const row of Object.values(PASSPORT_MODEL as AnyModel)) expect(['public', 'legitimate_interest', 'authority']).toContain(row.tier);
  });
});

/**
 * CONTRIBUTING.md, "Adding a passport field": one row in the model plus a migration adding the column.
 * Here a row is added to a copy of the model and a column to a real database; every derived part
 * (schemas, row mapping, both renderers, completeness, JSON-LD) then carries the new field.
 */
describe.each(dialects)('adding a field is one row and a migration (%s)', (dialect) => {
  let t: TestDatabase;
  const repairability: FieldRow = {
    input: Type.Number({ minimum: 0, maximum: 10, description: 'French repairability index, 0–10' }),
    output: Type.Number(),
    storage: 'number',
    endpoints: ['passport'],
    section: 'passport',
    requiredForComplete: true,
    jsonLd: { term: 'repairabilityIndex', definition: { '@id': 'dppc:repairabilityIndex', '@type': 'xsd:decimal' } },
    untp: null,
    extraction: false,
    tier: 'public',
  };
  const model: AnyModel = { ...PASSPORT_MODEL, repairability_index: repairability };

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    // The migration: one column named after the field.
    await t.db.schema
      .alterTable('compliance_records')
      .addColumn('repairability_index', dialect === 'postgres' ? 'double precision' : 'real')
      .execute();
    await t.db.insertInto('organisations').values({ id: 'o1', slug: 'one', name: 'One', created_at: '2026-12-01T00:00:00.000Z' }).execute();
    await t.db
      .insertInto('products')
      .values({
        id: 'p1',
        org_id: 'o1',
        external_id: null,
        title: 'Drill',
        ean: null,
        gtin14: null,
        gtin_valid: null,
        brand: null,
        category: null,
        description: null,
        attributes: '{}',
        created_at: '2026-12-01T00:00:00.000Z',
        updated_at: '2026-12-01T00:00:00.000Z',
      })
      .execute();
  });
  afterAll(() => t.dispose());

  it('accepts it in the PATCH body, stores it, renders it alike in both renderers and exports it', async () => {
    const body = patchBodySchema(model, 'passport');
    expect(Value.Check(body, { repairability_index: 7.5 })).toBe(true);
    expect(Value.Check(body, { repairability_index: 11 })).toBe(false);
    expect(Value.Check(patchBodySchema(model, 'environmental'), { repairability_index: 7.5 })).toBe(false);
    expect(requiredForComplete(model)).toContain('repairability_index');

    const values = { ...valuesFromRow(model, undefined), manufacturer: 'ACME GmbH', repairability_index: 7.5 };
    await t.db
      .insertInto('compliance_records')
      .values({
        product_id: 'p1',
        org_id: 'o1',
        dpp_id: 'dpp-1',
        passport_created_at: '2026-12-01T00:00:00.000Z',
        updated_at: '2026-12-01T00:00:00.000Z',
        version: 1,
        missing_fields: '[]',
        ...(columnsFor(model, values) as object),
      } as never)
      .execute();
    const row = (await t.db.selectFrom('compliance_records').selectAll().where('product_id', '=', 'p1').executeTakeFirstOrThrow()) as unknown as Record<string, unknown>;
    const stored = valuesFromRow(model, row);
    expect(stored.repairability_index).toBe(7.5);

    const fromApp = renderPassport(model, { id: 'p1', title: 'Drill', ean: null }, row as never, stored, 'draft', []);
    const fromDb = await (t.db as Kysely<any>)
      .selectFrom('products as p')
      .leftJoin('compliance_records as cr', 'cr.product_id', 'p.id')
      .select(passportDocumentSql(model, dialect).as('body'))
      .where('p.id', '=', 'p1')
      .executeTakeFirstOrThrow();
    await sql`update products set dpp_status = 'draft' where id = 'p1'`.execute(t.db);
    const document = JSON.parse((fromDb as { body: string }).body) as Record<string, unknown>;
    expect(document.repairability_index).toBe(7.5);
    expect({ ...document, dpp_status: 'draft' }).toEqual(JSON.parse(JSON.stringify(fromApp)));
    expect(Value.Check(passportSchema(model), { ...document, dpp_status: 'draft' })).toBe(true);
    expect(Object.keys(environmentalSchema(model).properties)).not.toContain('repairability_index');
    expect(jsonLdEntries(model, fromApp).repairabilityIndex).toBe(7.5);
  });
});

/** A passport with every field set, as the API renders it. */
function fullPassport() {
  const values = {
    product_name: 'Drill',
    manufacturer: 'ACME GmbH',
    country_of_origin: 'DE',
    commodity_code: '84672100',
    facility_id: '4012345000009',
    materials: [{ name: 'Steel', percentage: 100 }],
    carbon_footprint_kg: 12.5,
    recyclability_score: 'B',
    certifications: ['CE', 'Energy Star'],
    end_of_life_instructions: 'Return to a collection point.',
    dismantling_instructions: 'Remove the four T10 screws of the housing.',
    spare_parts_sources: 'Part 123-45 from parts.example.test',
    conformity_test_results: 'EN 62841-1 test report 2026-17: pass',
    reach_compliant: true,
    rohs_compliant: true,
    ce_marked: true,
    weee_category: 'Small equipment',
    energy_class: 'A',
    recyclable: true,
    hazardous_substances: [{ name: 'Lead', cas_number: '7439-92-1', ec_number: null, concentration_pct: 0.2, location: 'solder' }],
  };
  const row = {
    dpp_id: 'dpp-1',
    updated_at: '2026-12-01T00:00:00.000Z',
    version: 3,
    has_unpublished_changes: 0,
    published_version: 1,
    published_at: '2026-12-01T00:00:00.000Z',
    withdrawn_at: null,
  };
  return passportView({ id: 'p1', title: 'Drill', ean: '4012345000012' }, row as never, values, 'published');
}

/** The values at a dotted path, `[]` stepping into every element of a list. */
function valueAt(doc: unknown, path: string): unknown[] {
  let current: unknown[] = [doc];
  for (const part of path.split('.')) {
    const list = part.endsWith('[]');
    const key = list ? part.slice(0, -2) : part;
    current = current.flatMap((c) => {
      const v = c && typeof c === 'object' ? (c as Record<string, unknown>)[key] : undefined;
      if (v === undefined || v === null) return [];
      return list && Array.isArray(v) ? v : [v];
    });
  }
  return current;
}
