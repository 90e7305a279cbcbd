import { sql } from 'kysely';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComplianceRow } from '../../src/db/schema.js';
import { valuesFromRow } from '../../src/features/passports/record.js';
import { PassportSchema } from '../../src/features/passports/schemas.js';
import { statusOf } from '../../src/features/passports/service.js';
import { passportView } from '../../src/features/passports/views.js';
import { gtinCheckDigit } from '../../src/lib/gtin.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, dialects } from '../helpers/db.js';

const COMPLETE = {
  manufacturer: 'Müller "Haushalt" GmbH\nWerk 2',
  country_of_origin: 'DE',
  materials: [
    { name: 'Stahl', percentage: 62.5 },
    { name: 'Polypropylen (recycelt)', percentage: 37.5 },
  ],
  carbon_footprint_kg: 0.1 + 0.2,
  recyclability_score: 'B',
  certifications: ['CE', 'RoHS', 'Blauer Engel ✓'],
  end_of_life_instructions: 'Akku entnehmen; Gerät zur Sammelstelle bringen. <script>alert(1)</script>',
};

/**
 * The passport GET answers JSON rendered by the database (`passportDocumentSql`); publications and
 * exports use `passportView`. Both must describe a passport alike, for every kind of record.
 */
describe.each(dialects)('passport GET document (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    key = await t.key('doc-org');
  });
  afterAll(() => t.close());

  const call = (method: 'GET' | 'PATCH' | 'POST', url: string, payload?: object) => t.call(key, { method, url: `/api/v1${url}`, ...(payload ? { payload } : {}) });
  const newProduct = async (title: string, ean?: string) => (await call('POST', '/products', { title, ...(ean ? { ean } : {}) })).json().product_id as string;

  /** What `passportView` makes of the stored row: the reference rendering. */
  async function expectedPassport(productId: string) {
    const product = await t.database.db.selectFrom('products').select(['id', 'title', 'ean']).where('id', '=', productId).executeTakeFirstOrThrow();
    const row = (await t.database.db.selectFrom('compliance_records').selectAll().where('product_id', '=', productId).executeTakeFirstOrThrow()) as ComplianceRow;
    const values = valuesFromRow(row);
    return JSON.parse(JSON.stringify(passportView(product, row, values, statusOf(row, values)!)));
  }

  const cases: Array<[string, (id: string) => Promise<unknown>]> = [
    ['a passport with a single field (title stands in for the name)', (id) => call('PATCH', `/compliance/dpp/${id}`, { certifications: ['ce'] })],
    [
      'a complete passport with environmental data of every type',
      async (id) => {
        await call('PATCH', `/compliance/dpp/${id}`, { ...COMPLETE, product_name: 'Küchenmaschine „Pro“' });
        return call('PATCH', `/compliance/products/${id}/environmental`, {
          reach_compliant: true,
          rohs_compliant: false,
          ce_marked: true,
          weee_category: 'IT equipment',
          energy_class: 'a++',
          recyclable: false,
          hazardous_substances: [{ name: 'Lead', cas_number: '7439-92-1', ec_number: '231-100-4', concentration_pct: 0.15, location: 'solder' }, { name: 'DEHP' }],
        });
      },
    ],
    ['materials that do not sum to 100', (id) => call('PATCH', `/compliance/dpp/${id}`, { ...COMPLETE, materials: [{ name: 'Glas', percentage: 40 }] })],
    [
      'a published passport',
      async (id) => {
        await call('PATCH', `/compliance/dpp/${id}`, COMPLETE);
        return call('POST', `/compliance/dpp/${id}/publish`);
      },
    ],
    [
      'a published passport edited since',
      async (id) => {
        await call('PATCH', `/compliance/dpp/${id}`, COMPLETE);
        await call('POST', `/compliance/dpp/${id}/publish`);
        return call('PATCH', `/compliance/dpp/${id}`, { carbon_footprint_kg: 12 });
      },
    ],
    [
      'a withdrawn passport',
      async (id) => {
        await call('PATCH', `/compliance/dpp/${id}`, COMPLETE);
        await call('POST', `/compliance/dpp/${id}/publish`);
        return call('POST', `/compliance/dpp/${id}/withdraw`);
      },
    ],
    [
      'a passport whose fields were cleared again',
      async (id) => {
        await call('PATCH', `/compliance/dpp/${id}`, COMPLETE);
        return call('PATCH', `/compliance/dpp/${id}`, { materials: null, certifications: null, manufacturer: null });
      },
    ],
  ];

  let serial = 0;
  const nextEan = () => {
    const data = `400638${String(++serial).padStart(6, '0')}`;
    return data + gtinCheckDigit(data);
  };
  for (const [name, build] of cases) {
    for (const withEan of [true, false]) {
      it(`renders ${name}${withEan ? '' : ', without an EAN'} as passportView does`, async () => {
        const id = await newProduct(`Produkt ${name}`, withEan ? nextEan() : undefined);
        const last = (await build(id)) as { statusCode: number };
        expect(last.statusCode).toBe(200);
        const res = await call('GET', `/compliance/dpp/${id}`);
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        // The GET adds the passport's EU registry status (features/registry) to the passport itself.
        const { registry_status: registryStatus, ...body } = res.json();
        expect(body).toEqual(await expectedPassport(id));
        expect(Value.Check(PassportSchema, body), JSON.stringify([...Value.Errors(PassportSchema, body)].slice(0, 3))).toBe(true);
        expect(registryStatus === null).toBe(body.published_version === null);
        expect(res.headers.etag).toEqual(registryStatus === null ? `"v${body.version}"` : expect.stringMatching(new RegExp(`^"v${body.version}\\.r`)));
      });
    }
  }

  it('still answers 404 for environmental data without a passport, and for an unknown product', async () => {
    const id = await newProduct('Nur Umweltdaten');
    expect((await call('PATCH', `/compliance/products/${id}/environmental`, { ce_marked: true })).statusCode).toBe(200);
    const res = await call('GET', `/compliance/dpp/${id}`);
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().detail).toContain('has no Digital Product Passport');
    expect((await call('GET', '/compliance/dpp/01900000-0000-7000-8000-000000000000')).statusCode).toBe(404);
  });

  it('answers 404 to another organisation, as for a product that does not exist', async () => {
    const id = await newProduct('Nur für uns');
    await call('PATCH', `/compliance/dpp/${id}`, COMPLETE);
    const other = await t.key('doc-other-org');
    const res = await t.call(other, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` });
    expect(res.statusCode).toBe(404);
    expect(res.json().detail).toBe(`Product ${id} not found.`);
    expect(res.body).not.toContain(COMPLETE.manufacturer.slice(0, 6));
  });

  it('answers 304 to If-None-Match with the current ETag, without a body', async () => {
    const id = await newProduct('Mit ETag');
    await call('PATCH', `/compliance/dpp/${id}`, COMPLETE);
    const res = await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}`, headers: { 'if-none-match': '"v1"' } });
    expect(res.statusCode).toBe(304);
    expect(res.body).toBe('');
  });
});

describe.each(dialects)('migration 0006: missing fields of existing records (%s)', (dialect) => {
  it('fills missing_fields of records written before it with the rules of today', async () => {
    const database = await createTestDatabase(dialect, '0005-lean-product-indexes');
    try {
      const db = database.db;
      const now = new Date().toISOString();
      await sql`insert into organisations (id, slug, name, created_at) values ('o1', 'o1', 'o1', ${now})`.execute(db);
      const records = [
        { id: 'p-empty', values: {} },
        {
          id: 'p-complete',
          values: { manufacturer: 'M', materials: '[{"name":"Steel","percentage":100}]', carbon_footprint_kg: 1, certifications: '["CE"]', end_of_life_instructions: 'Recycle.' },
        },
        {
          id: 'p-sum',
          values: { manufacturer: 'M', materials: '[{"name":"Steel","percentage":90}]', carbon_footprint_kg: 1, certifications: '["CE"]', end_of_life_instructions: 'Recycle.' },
        },
      ];
      for (const r of records) {
        await sql`insert into products (id, org_id, title, created_at, updated_at) values (${r.id}, 'o1', ${r.id}, ${now}, ${now})`.execute(db);
        const row: Record<string, unknown> = { product_id: r.id, org_id: 'o1', dpp_id: `d-${r.id}`, passport_created_at: now, version: 1, updated_at: now, ...r.values };
        await db
          .insertInto('compliance_records')
          .values(row as never)
          .execute();
      }
      await database.migrate();
      const rows = (await db.selectFrom('compliance_records').selectAll().orderBy('product_id').execute()) as ComplianceRow[];
      expect(rows.map((r) => [r.product_id, JSON.parse(r.missing_fields)])).toEqual([
        ['p-complete', []],
        ['p-empty', ['manufacturer', 'materials', 'carbon_footprint_kg', 'certifications', 'end_of_life_instructions']],
        ['p-sum', ['materials (percentages must sum to 100)']],
      ]);
      if (dialect === 'postgres') {
        // A process still running the code from before cannot insert a record the GET could not render.
        const old = { product_id: 'p-empty', org_id: 'o1', dpp_id: 'd-old', passport_created_at: now, version: 1, updated_at: now };
        await sql`delete from compliance_records where product_id = 'p-empty'`.execute(db);
        await expect(
          db
            .insertInto('compliance_records')
            .values(old as never)
            .execute(),
        ).rejects.toThrow('missing_fields');
      }
    } finally {
      await database.dispose();
    }
  });
});
