import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { FULL_PASSPORT } from '../helpers/fixtures.js';

const ICECAT_LAPTOP = JSON.parse(
  fs.readFileSync(new URL('../../../shared/catalog/icecat-harvester-sample/Laptops.ndjson', import.meta.url), 'utf8').split('\n')[0]!,
);

describe.each(dialects)('passport generation (%s)', (dialect) => {
  let t: TestApp;
  let key: string;

  const create = async (payload: object) => (await t.call(key, { method: 'POST', url: '/api/v1/products', payload })).json().product_id as string;
  const generate = (id: string, query = '') => t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/generate${query}` });
  const passport = async (id: string) => (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` })).json();

  beforeAll(async () => {
    t = await createTestApp(dialect);
    key = await t.key('generate-org');
  });
  afterAll(() => t.close());

  it('drafts the passport from the product data, in the product language', async () => {
    const id = await create({
      title: 'Bouilloire électrique en acier avec filtre',
      brand: 'Ma Marque',
      description: 'Bouilloire 1,7 l pour la cuisine.\nMatériaux : 80% acier inoxydable, 20% plastique recyclé',
      attributes: { certifications: 'CE, rohs', country_of_origin: 'fr' },
    });
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/products/${id}/environmental`, payload: { weee_category: 5 } });
    const res = await generate(id);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ product_id: id, status: 'draft' });
    expect(body.generated_at).toMatch(/^\d{4}-/);
    expect(body.fields_filled).toEqual(
      expect.arrayContaining(['manufacturer', 'materials', 'certifications', 'country_of_origin', 'end_of_life_instructions', 'product_name']),
    );
    const p = await passport(id);
    expect(p).toMatchObject({
      manufacturer: 'Ma Marque',
      country_of_origin: 'FR',
      certifications: ['CE', 'RoHS'],
      materials: [
        { name: 'acier inoxydable', percentage: 80 },
        { name: 'plastique recyclé', percentage: 20 },
      ],
    });
    expect(p.end_of_life_instructions).toContain('DEEE 2012/19/UE');
    expect(p.end_of_life_instructions).toContain('acier inoxydable (80 %)');
  });

  it('reads the certifications of a real Open Icecat product, and writes English end-of-life text', async () => {
    const id = await create({ title: ICECAT_LAPTOP.title, brand: ICECAT_LAPTOP.brand, description: ICECAT_LAPTOP.description });
    await generate(id);
    const p = await passport(id);
    expect(p.certifications).toEqual(expect.arrayContaining(['Energy Star', 'TCO Certified', 'EPEAT Gold', 'RoHS']));
    expect(p.manufacturer).toBe('Lenovo');
    expect(p.end_of_life_instructions).toMatch(/local waste regulations|WEEE/);
  });

  it('never overwrites what a person set, and fills nothing it has no source for', async () => {
    const id = await create({ title: 'Lampe de bureau', brand: 'Lumen', description: 'Lampe LED avec variateur.' });
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: { manufacturer: 'Lumen Europe SAS', end_of_life_instructions: 'Rapporter en magasin.' } });
    const body = (await generate(id)).json();
    expect(body.fields_filled).not.toContain('manufacturer');
    expect(body.fields_filled).not.toContain('end_of_life_instructions');
    const p = await passport(id);
    expect(p).toMatchObject({ manufacturer: 'Lumen Europe SAS', end_of_life_instructions: 'Rapporter en magasin.', carbon_footprint_kg: null, materials: [] });
    const history = (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/history` })).json();
    expect(history.items[0].source).toBe('generate');
  });

  it('keeps the last material of a sentence ending in a full stop', async () => {
    const id = await create({ title: 'Kettle', description: 'Materials: 70% stainless steel, 30% recycled plastic. Made in France.' });
    await generate(id);
    expect((await passport(id)).materials).toEqual([
      { name: 'stainless steel', percentage: 70 },
      { name: 'recycled plastic', percentage: 30 },
    ]);
  });

  it('answers the passport\'s real status: a published passport stays published', async () => {
    const id = await create({ title: 'Published kettle', brand: 'Ma Marque' });
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: FULL_PASSPORT });
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` });
    const body = (await generate(id)).json();
    expect(body).toMatchObject({ status: 'published', dpp_status: 'published' });
  });

  it('refuses an unconfigured provider and an unknown product', async () => {
    const id = await create({ title: 'Anything' });
    expect((await generate(id, '?provider=anthropic')).statusCode).toBe(400);
    expect((await generate('00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });
});
