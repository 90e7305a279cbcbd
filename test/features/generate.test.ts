import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { FULL_PASSPORT, multipartBody } from '../helpers/fixtures.js';
import { anthropicText, anthropicToolUse, apiError, openAiCompletion, startLlmStub, type LlmStub } from '../helpers/llm-stub.js';

const ICECAT_LAPTOP = JSON.parse(fs.readFileSync(new URL('../../../shared/catalog/icecat-harvester-sample/Laptops.ndjson', import.meta.url), 'utf8').split('\n')[0]!);

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
    expect(body.fields_filled).toEqual(expect.arrayContaining(['manufacturer', 'materials', 'certifications', 'country_of_origin', 'end_of_life_instructions', 'product_name']));
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

  it("answers the passport's real status: a published passport stays published", async () => {
    const id = await create({ title: 'Published kettle', brand: 'Ma Marque' });
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: FULL_PASSPORT });
    await t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` });
    const body = (await generate(id)).json();
    expect(body).toMatchObject({ status: 'published', dpp_status: 'published' });
  });

  it('writes the end-of-life text in ?lang= (German, Italian), overwriting what an earlier generation wrote', async () => {
    const id = await create({ title: 'Electric kettle with filter', brand: 'Kettleco', description: 'Material: 70% stainless steel, 30% polypropylene' });
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/products/${id}/environmental`, payload: { weee_category: 5 } });
    const en = (await generate(id)).json();
    expect(en).toMatchObject({ provider: 'rules', model: null, lang: 'en', rejected: [] });
    expect(en.sources).toMatchObject({
      product_name: 'rules:product-title',
      manufacturer: 'rules:product-brand',
      materials: 'rules:product-description',
      end_of_life_instructions: 'rules:template-en',
    });
    expect((await passport(id)).end_of_life_instructions).toContain('WEEE Directive 2012/19/EU');

    const de = await generate(id, '?lang=de');
    expect(de.statusCode).toBe(200);
    expect(de.json()).toMatchObject({ lang: 'de', fields_filled: ['end_of_life_instructions'], sources: { end_of_life_instructions: 'rules:template-de' } });
    expect((await passport(id)).end_of_life_instructions).toMatch(
      /^Nicht mit dem Hausmüll entsorgen: .*WEEE-Richtlinie.*Hauptmaterialien für das Recycling: stainless steel \(70 %\)/,
    );

    const it_ = (await generate(id, '?lang=it')).json();
    expect(it_).toMatchObject({ lang: 'it', sources: { end_of_life_instructions: 'rules:template-it' } });
    const eol = (await passport(id)).end_of_life_instructions as string;
    expect(eol).toContain('Non smaltire con i rifiuti domestici');
    expect(eol).toContain('direttiva RAEE 2012/19/UE');
    expect(eol).toContain('Materiali principali da riciclare: stainless steel (70 %), polypropylene (30 %).');

    // The per-field sources say which generation wrote what.
    const row = await t.database.db.selectFrom('compliance_records').select('field_sources').where('product_id', '=', id).executeTakeFirstOrThrow();
    expect(JSON.parse(row.field_sources)).toMatchObject({
      end_of_life_instructions: 'generate:rules:template-it',
      materials: 'generate:rules:product-description',
      weee_category: 'api',
    });
  });

  it('detects an Italian product and writes Italian end-of-life text', async () => {
    const id = await create({ title: 'Bollitore elettrico con filtro', description: 'Bollitore per la cucina, colore nero.' });
    const body = (await generate(id)).json();
    expect(body.lang).toBe('it');
    expect((await passport(id)).end_of_life_instructions).toContain('Smaltire il prodotto secondo le norme locali sui rifiuti');
  });

  it('refuses an unsupported ?lang= with a 400 naming the parameter, writing nothing', async () => {
    const id = await create({ title: 'Lamp' });
    for (const lang of ['es', 'EN', 'english', '']) {
      const res = await generate(id, `?lang=${lang}`);
      expect(res.statusCode, lang).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problem = res.json();
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors).toEqual([expect.objectContaining({ field: expect.stringMatching(/(^|\/)lang$/), rule: 'enum' })]);
    }
    expect((await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` })).statusCode).toBe(404);
  });

  it('refuses an unconfigured provider and an unknown product', async () => {
    const id = await create({ title: 'Anything' });
    expect((await generate(id, '?provider=anthropic')).statusCode).toBe(400);
    expect((await generate('00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });
});

describe.each(dialects)('passport generation with a model (%s)', (dialect) => {
  let t: TestApp;
  let key: string;
  let stub: LlmStub;

  beforeAll(async () => {
    stub = await startLlmStub();
    t = await createTestApp(dialect, {
      OPENAI_API_KEY: 'sk-gen-openai',
      OPENAI_BASE_URL: stub.openaiBaseUrl,
      OPENAI_MODEL: 'gpt-test',
      ANTHROPIC_API_KEY: 'sk-gen-anthropic',
      ANTHROPIC_BASE_URL: stub.anthropicBaseUrl,
      ANTHROPIC_MODEL: 'claude-test',
      LLM_TIMEOUT_MS: '500',
      LLM_MAX_RETRIES: '0',
    });
    key = await t.key('generate-llm-org');
  });
  afterAll(async () => {
    await t.close();
    await stub.close();
  });
  afterEach(() => stub.reset());

  const generate = (id: string, query = '') => t.call(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/generate${query}` });
  const passportRes = (id: string) => t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}` });

  /**
   * A kettle whose description states materials and a carbon footprint in prose (the rules read
   * neither), with one uploaded declaration and a completed extraction of it: certifications above
   * the apply threshold, a country of origin below it.
   */
  async function kettle(): Promise<{ id: string; extractionId: string; documentId: string }> {
    const id = (
      await t.call(key, {
        method: 'POST',
        url: '/api/v1/products',
        payload: {
          title: 'Electric kettle KX-1',
          brand: 'Kettleco',
          description: 'A 1.7 l kettle. The housing is stainless steel (70 %) and the base polypropylene (30 %).\nCarbon footprint: 12.5 kg CO2e per unit.',
          attributes: { capacity_l: 1.7, colour: 'steel' },
        },
      })
    ).json().product_id as string;
    const up = await t.call(key, {
      method: 'POST',
      url: `/api/v1/products/${id}/documents`,
      ...multipartBody(
        { name: 'kx1-declaration.txt', bytes: Buffer.from(`EU declaration of conformity KX-1 ${id}: CE, RoHS. Made in China.`), type: 'text/plain' },
        { kind: 'declaration_of_conformity' },
      ),
    });
    expect(up.statusCode, up.body).toBeLessThan(300);
    const documentId = up.json().asset_id as string;
    const { org_id } = await t.database.db.selectFrom('products').select('org_id').where('id', '=', id).executeTakeFirstOrThrow();
    const extractionId = newId();
    const now = new Date().toISOString();
    await t.database.db
      .insertInto('extractions')
      .values({
        id: extractionId,
        org_id,
        product_id: id,
        asset_id: documentId,
        task_id: newId(),
        job_id: newId(),
        provider: 'rules',
        status: 'completed',
        fields: JSON.stringify({
          certifications: { value: ['CE', 'RoHS'], confidence: 0.9, evidence: [{ page: 1, snippet: 'CE, RoHS' }] },
          country_of_origin: { value: 'CN', confidence: 0.6, evidence: [{ page: 1, snippet: 'Made in China.' }] },
        }),
        confidence: 0.75,
        applied: '[]',
        conflicts: '[]',
        error: null,
        created_at: now,
        extracted_at: now,
      })
      .execute();
    return { id, extractionId, documentId };
  }

  /** The model's answer: a strict object with every field. */
  const answer = (fields: Record<string, unknown>) => ({
    manufacturer: null,
    country_of_origin: null,
    materials: null,
    carbon_footprint_kg: null,
    certifications: null,
    recyclability_score: null,
    end_of_life_instructions: null,
    ...fields,
  });
  const GOOD = answer({
    manufacturer: 'Kettleco',
    country_of_origin: 'CN',
    materials: [
      { name: 'stainless steel', percentage: 70 },
      { name: 'polypropylene', percentage: 30 },
    ],
    carbon_footprint_kg: 12.5,
    certifications: ['CE', 'RoHS'],
    end_of_life_instructions:
      'Do not throw the kettle away with household waste: take it to a collection point for electrical equipment. Recycle the stainless steel and the polypropylene.',
  });

  async function nothingWritten(id: string) {
    expect((await passportRes(id)).statusCode).toBe(404);
    expect(await t.database.db.selectFrom('compliance_records').select('product_id').where('product_id', '=', id).executeTakeFirst()).toBeUndefined();
    expect((await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/history` })).json().total).toBe(0);
  }

  it('openai: sends the product data, documents and extraction results, and stores the values with their source', async () => {
    const { id, extractionId } = await kettle();
    stub.script('openai', { body: openAiCompletion(JSON.stringify(GOOD), { model: 'gpt-test-2025' }) });
    const res = await generate(id, '?provider=openai');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();

    // What the model was asked.
    const [request, ...more] = stub.requestsTo('openai');
    expect(more).toHaveLength(0);
    expect(request!.headers.authorization).toBe('Bearer sk-gen-openai');
    expect(request!.body).toMatchObject({
      model: 'gpt-test',
      response_format: { type: 'json_schema', json_schema: { name: 'passport_draft', strict: true } },
    });
    const schema = request!.body.response_format.json_schema.schema;
    expect(schema.required).toEqual(expect.arrayContaining(['materials', 'carbon_footprint_kg', 'certifications', 'end_of_life_instructions', 'recyclability_score']));
    const [system, user] = request!.body.messages;
    expect(system.role).toBe('system');
    expect(system.content).toContain('English (en)');
    expect(user.content).toContain('Electric kettle KX-1');
    expect(user.content).toContain('Kettleco');
    expect(user.content).toContain('stainless steel (70 %)');
    expect(user.content).toContain('"capacity_l": 1.7');
    expect(user.content).toContain('kx1-declaration.txt');
    expect(user.content).toContain('declaration_of_conformity');
    expect(user.content).toContain(extractionId);
    expect(user.content).toMatch(/"country_of_origin": \{\s*"value": "CN",\s*"confidence": 0.6/);
    expect(user.content).toContain('Made in China.');

    // What was stored, and from where.
    const model = 'llm:openai:gpt-test-2025';
    expect(body).toMatchObject({ product_id: id, status: 'complete', provider: 'openai', model: 'gpt-test-2025', lang: 'en', rejected: [] });
    expect(body.sources).toEqual({
      product_name: 'rules:product-title',
      manufacturer: 'rules:product-brand',
      certifications: `extraction:${extractionId}`,
      country_of_origin: model,
      materials: model,
      carbon_footprint_kg: model,
      end_of_life_instructions: model,
    });
    expect([...body.fields_filled].sort()).toEqual(Object.keys(body.sources).sort());
    const p = (await passportRes(id)).json();
    expect(p).toMatchObject({
      manufacturer: 'Kettleco',
      country_of_origin: 'CN',
      materials: GOOD.materials,
      carbon_footprint_kg: 12.5,
      certifications: ['CE', 'RoHS'],
      end_of_life_instructions: GOOD.end_of_life_instructions,
    });
    const row = await t.database.db.selectFrom('compliance_records').select('field_sources').where('product_id', '=', id).executeTakeFirstOrThrow();
    expect(JSON.parse(row.field_sources)).toEqual(Object.fromEntries(Object.entries(body.sources).map(([f, s]) => [f, `generate:${s}`])));
    const history = (await t.call(key, { method: 'GET', url: `/api/v1/compliance/dpp/${id}/history` })).json();
    expect(history.items[0]).toMatchObject({ action: 'create', source: 'generate:openai' });
  });

  it('anthropic: forces the tool, passes ?lang=de to the model, and stores its German text', async () => {
    const { id } = await kettle();
    const german = 'Nicht mit dem Hausmüll entsorgen: Bringen Sie den Wasserkocher zu einer Sammelstelle für Elektrogeräte. Edelstahl und Polypropylen werden recycelt.';
    stub.script('anthropic', { body: anthropicToolUse(answer({ ...GOOD, end_of_life_instructions: german }), 'record_passport_draft', { model: 'claude-test-1' }) });
    const res = await generate(id, '?provider=anthropic&lang=de');
    expect(res.statusCode, res.body).toBe(200);
    const [request] = stub.requestsTo('anthropic');
    expect([request!.headers['x-api-key'], request!.headers.authorization]).toContainEqual(expect.stringMatching(/^(Bearer )?sk-gen-anthropic$/));
    expect(request!.body).toMatchObject({
      model: 'claude-test',
      tools: [{ name: 'record_passport_draft' }],
      tool_choice: { type: 'tool', name: 'record_passport_draft' },
    });
    expect(request!.body.system).toContain('German (de)');
    expect(request!.body.messages[0].content).toContain('language code "de"');
    expect(request!.body.messages[0].content).toContain('Electric kettle KX-1');
    expect(request!.body.messages[0].content).toContain('RoHS');

    const body = res.json();
    expect(body).toMatchObject({ provider: 'anthropic', model: 'claude-test-1', lang: 'de' });
    expect(body.sources).toMatchObject({ end_of_life_instructions: 'llm:anthropic:claude-test-1', materials: 'llm:anthropic:claude-test-1' });
    expect((await passportRes(id)).json().end_of_life_instructions).toBe(german);
  });

  it('refuses invalid model values (not stored, listed under rejected) and keeps the valid ones', async () => {
    const { id } = await kettle();
    stub.script('openai', {
      body: openAiCompletion(
        JSON.stringify(
          answer({
            carbon_footprint_kg: 99, // not in the sources
            certifications: ['CE', 'Blue Angel'], // Blue Angel is not in the sources
            country_of_origin: 'Atlantis',
            materials: [
              { name: 'stainless steel', percentage: 70 },
              { name: 'polypropylene', percentage: 30 },
            ],
            end_of_life_instructions: 'Do not throw it away with household waste; take it to a collection point.', // English, asked Italian
          }),
        ),
      ),
    });
    const res = await generate(id, '?provider=openai&lang=it');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.rejected.map((r: { field: string }) => r.field).sort()).toEqual(['carbon_footprint_kg', 'certifications', 'country_of_origin', 'end_of_life_instructions']);
    expect(body.rejected.find((r: { field: string }) => r.field === 'carbon_footprint_kg').reason).toMatch(/not in the sources/);
    expect(body.rejected.find((r: { field: string }) => r.field === 'end_of_life_instructions').reason).toMatch(/English, not Italian/);
    expect(body.sources).toMatchObject({ materials: 'llm:openai:gpt-stub', end_of_life_instructions: 'rules:template-it' });
    const p = (await passportRes(id)).json();
    expect(p).toMatchObject({ carbon_footprint_kg: null, country_of_origin: null, certifications: ['CE', 'RoHS'] });
    expect(p.end_of_life_instructions).toContain('Smaltire il prodotto');
  });

  it.each([
    ['not JSON', () => ({ body: openAiCompletion('Sure! Here is the passport: …') })],
    ['an array', () => ({ body: openAiCompletion('[1, 2]') })],
    [
      'only invalid values',
      () => ({
        body: openAiCompletion(
          JSON.stringify(answer({ carbon_footprint_kg: -3, materials: [{ name: 'steel', percentage: 150 }], end_of_life_instructions: 'ok', recyclability_score: 'Z' })),
        ),
      }),
    ],
    ['a cut-off answer', () => ({ body: openAiCompletion('{"manufacturer": "Ke', { finish_reason: 'length' }) })],
  ])('refuses an answer that is %s with a 502, writing nothing', async (_what, reply) => {
    const { id } = await kettle();
    stub.script('openai', reply());
    const res = await generate(id, '?provider=openai');
    expect(res.statusCode, res.body).toBe(502);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 502, code: 'provider_invalid_response', provider: 'openai', reason: 'invalid_response' });
    await nothingWritten(id);
  });

  it('refuses an anthropic answer without the tool call with a 502', async () => {
    const { id } = await kettle();
    stub.script('anthropic', { body: anthropicText('I cannot help with that.') });
    const res = await generate(id, '?provider=anthropic');
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'provider_invalid_response', provider: 'anthropic' });
    await nothingWritten(id);
  });

  it.each([
    ['openai', 'an outage (500)', 502, 'provider_unavailable', 'unavailable', () => apiError('openai', 500, 'boom')],
    ['openai', 'a bad key (401)', 502, 'provider_rejected', 'rejected', () => apiError('openai', 401, 'Incorrect API key')],
    ['anthropic', 'a rate limit (429)', 503, 'provider_rate_limited', 'rate_limited', () => apiError('anthropic', 429, 'slow down', { 'retry-after': '7' })],
    ['anthropic', 'overload (529)', 502, 'provider_unavailable', 'unavailable', () => apiError('anthropic', 529, 'Overloaded')],
    ['openai', 'a timeout', 504, 'provider_timeout', 'timeout', () => ({ delayMs: 3000, body: openAiCompletion(JSON.stringify(GOOD)) })],
  ] as const)('maps %s %s to a problem+json %d, writing nothing', async (provider, _what, status, code, reason, reply) => {
    const { id } = await kettle();
    stub.script(provider, reply());
    const res = await generate(id, `?provider=${provider}`);
    expect(res.statusCode, res.body).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = res.json();
    expect(problem).toMatchObject({ status, code, provider, reason });
    expect(problem.detail).toMatch(/Nothing was written/);
    expect(problem.detail).not.toContain('sk-gen');
    if (status === 503) {
      expect(res.headers['retry-after']).toBe('7');
      expect(problem.retry_after_seconds).toBe(7);
    }
    await nothingWritten(id);
  });

  it('with provider=rules (and by default) asks no model', async () => {
    const { id } = await kettle();
    const rules = (await generate(id, '?provider=rules')).json();
    expect(rules).toMatchObject({ provider: 'rules', model: null, rejected: [] });
    expect(rules.sources.end_of_life_instructions).toBe('rules:template-en');
    expect(rules.sources.certifications).toMatch(/^extraction:/);
    const byDefault = await generate(id);
    expect(byDefault.statusCode).toBe(200);
    expect(byDefault.json().provider).toBe('rules');
    expect(stub.requests).toHaveLength(0);
  });

  it("a model generation after a rules one rewrites the generated fields but never a person's value", async () => {
    const { id } = await kettle();
    await generate(id, '?provider=rules');
    await t.call(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: { carbon_footprint_kg: 11 } });
    stub.script('openai', { body: openAiCompletion(JSON.stringify(GOOD)) });
    const body = (await generate(id, '?provider=openai')).json();
    expect(body.fields_filled).not.toContain('carbon_footprint_kg');
    expect(body.sources.end_of_life_instructions).toBe('llm:openai:gpt-stub');
    const p = (await passportRes(id)).json();
    expect(p.carbon_footprint_kg).toBe(11);
    expect(p.end_of_life_instructions).toBe(GOOD.end_of_life_instructions);
  });
});
