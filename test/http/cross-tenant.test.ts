import { randomUUID } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSystemWorker } from '../../src/jobs/registry.js';
import type { Worker } from '../../src/jobs/worker.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { FULL_PASSPORT, multipartBody } from '../helpers/fixtures.js';

/**
 * Cross-tenant probe (issue "Hardening", point 6). Organisation A owns a product, a published passport,
 * a document, an extraction task and its extraction results; organisation B (a key with every scope)
 * calls every operation of the OpenAPI document that takes path parameters with A's ids, and must get
 * the same 404 problem+json as for an id that does not exist. The list of operations is read from
 * /openapi.json, so a new route is probed without touching this file; a path parameter the probe does
 * not know fails the test, so a new kind of id must be added to `idFor` below.
 *
 * Routes without bearer security (the GS1 resolver /01/{gtin}, the public passport page /dpp/{id},
 * the JSON-LD contexts) are left out on purpose: a published passport is public, readable by anyone.
 */

type Json = Record<string, any>;
type Operation = { method: string; path: string; op: Json };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const API = '/api/v1/';

/** Whether an operation needs the bearer key (its own `security`, else the document's). */
function needsBearer(doc: Json, op: Json): boolean {
  const security: Json[] = op.security ?? doc.security ?? [];
  return security.some((requirement) => 'bearer' in requirement);
}

function operationsOf(doc: Json): Operation[] {
  const list: Operation[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (op && path.startsWith(API) && needsBearer(doc, op)) list.push({ method: method.toUpperCase(), path, op });
    }
  }
  return list;
}

const pathParams = (op: Json): string[] => (op.parameters ?? []).filter((p: Json) => p.in === 'path').map((p: Json) => p.name);
const isMultipart = (op: Json) => Boolean(op.requestBody?.content?.['multipart/form-data']) || /multipart/i.test(`${op.summary ?? ''} ${op.description ?? ''}`);

/**
 * A small valid value of a JSON schema (the first branch of a union, required properties only, or
 * the first property when at least one is needed). `named` gives values for properties with a known
 * name (A's ids), so bodies that reference resources probe them too.
 */
function sample(schema: Json | undefined, named: (name: string) => unknown, name = ''): unknown {
  if (!schema) return undefined;
  if (name && named(name) !== undefined) return named(name);
  if (schema.const !== undefined) return schema.const;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return sample(union.find((s: Json) => s.type !== 'null') ?? union[0], named, name);
  switch (schema.type) {
    case 'object': {
      const props = Object.entries<Json>(schema.properties ?? {});
      const required: string[] = schema.required ?? [];
      const chosen = required.length ? props.filter(([k]) => required.includes(k)) : (schema.minProperties ?? 0) > 0 ? props.slice(0, 1) : [];
      return Object.fromEntries(chosen.map(([k, s]) => [k, sample(s, named, k)]));
    }
    case 'array': {
      const itemName = name.endsWith('s') ? name.slice(0, -1) : '';
      return Array.from({ length: Math.max(1, schema.minItems ?? 0) }, () => sample(schema.items, named, itemName));
    }
    case 'integer':
    case 'number':
      return Math.min(schema.maximum ?? Infinity, Math.max(schema.minimum ?? 1, 1));
    case 'boolean':
      return true;
    case 'string': {
      if (schema.format === 'uuid') return randomUUID();
      if (schema.format === 'date-time') return new Date().toISOString();
      const length = Math.min(schema.maxLength ?? Infinity, Math.max(schema.minLength ?? 1, 1));
      if (schema.pattern) {
        const re = new RegExp(schema.pattern);
        const fit = ['A', 'AB', 'DE', '4006381333931', '12345678', 'x'.repeat(length)].find((c) => re.test(c));
        if (fit) return fit;
      }
      return 'x'.repeat(length);
    }
    default:
      return 'x';
  }
}

/** Required query parameters without a default. */
function queryOf(op: Json, named: (name: string) => unknown): Record<string, string> {
  const query: Record<string, string> = {};
  for (const p of op.parameters ?? []) {
    if (p.in === 'query' && p.required && p.schema?.default === undefined) query[p.name] = String(sample(p.schema, named, p.name));
  }
  return query;
}

/** A request for an operation, with the path parameters filled from `idFor` and a small valid body. */
function requestFor(operation: Operation, idFor: (name: string) => string | undefined, named: (name: string) => unknown): InjectOptions {
  const url = operation.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const id = idFor(name);
    if (id === undefined) throw new Error(`${operation.method} ${operation.path}: the cross-tenant probe has no id for path parameter "${name}"; add it to idFor`);
    return encodeURIComponent(id);
  });
  const request: InjectOptions = { method: operation.method as InjectOptions['method'], url, query: queryOf(operation.op, named) };
  if (isMultipart(operation.op)) {
    const form = multipartBody({ name: 'probe.txt', bytes: Buffer.from('Cross-tenant probe document.\n'), type: 'text/plain' });
    return { ...request, payload: form.payload, headers: form.headers };
  }
  const json = operation.op.requestBody?.content?.['application/json']?.schema;
  if (json) return { ...request, payload: sample(json, named) as object };
  return request;
}

/** A 404 problem+json; soft, so one run lists every operation that answers otherwise. */
function expectNotFoundProblem(res: LightMyRequestResponse, what: string): boolean {
  const ok = res.statusCode === 404 && String(res.headers['content-type']).includes('application/problem+json');
  expect.soft(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBe(404);
  expect.soft(String(res.headers['content-type']), what).toContain('application/problem+json');
  if (ok) expect.soft(res.json(), what).toMatchObject({ status: 404, type: expect.any(String), title: expect.any(String) });
  return ok;
}

describe.each(dialects)('cross-tenant probe (%s)', (dialect) => {
  let t: TestApp;
  let worker: Worker;
  let doc: Json;
  let keyA: string;
  let keyB: string;
  const a = {} as {
    productId: string;
    gtin: string;
    title: string;
    assetId: string;
    taskId: string;
    extractionIds: string[];
    dppId: string;
    registryEntryId: string;
    instanceId: string;
    grantId: string;
  };

  /**
   * Path parameter name -> A's id. Extend this when a route takes a new kind of id: the probe fails on
   * any path parameter it cannot fill.
   */
  const idFor = (name: string): string | undefined =>
    ({
      product_id: a.productId,
      asset_id: a.assetId,
      document_id: a.assetId,
      task_id: a.taskId,
      extraction_id: a.extractionIds[0],
      dpp_id: a.dppId,
      passport_id: a.dppId,
      gtin: a.gtin,
      instance_id: a.instanceId,
      grant_id: a.grantId,
      entry_id: a.registryEntryId,
    })[name];
  /** Body properties that name a resource get A's ids too (`product_ids: [A's product]`). */
  const named = (name: string): unknown => idFor(name);

  /** Every id and marker of A that must never appear in an answer to B. */
  const secrets = () => [a.productId, a.assetId, a.taskId, a.dppId, a.gtin, a.title, a.registryEntryId, ...a.extractionIds];

  const waitForTask = async (taskId: string) => {
    for (let i = 0; i < 300; i++) {
      const task = (await t.call(keyA, { method: 'GET', url: `/api/v1/compliance/batch/${taskId}` })).json();
      if (task.status === 'completed') return task;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`task ${taskId} did not finish`);
  };

  /** What B's attempts must not change: product, passport, environmental data, documents, extraction results. */
  const snapshotOfA = async () => {
    const get = async (url: string) => {
      const res = await t.call(keyA, { method: 'GET', url });
      expect(res.statusCode, `${url}: ${res.body.slice(0, 200)}`).toBe(200);
      return res.json();
    };
    const product = await get(`/api/v1/products/${a.productId}`);
    const passport = await get(`/api/v1/compliance/dpp/${a.productId}`);
    const environmental = await get(`/api/v1/compliance/products/${a.productId}/environmental`);
    const documents = await get(`/api/v1/products/${a.productId}/documents`);
    const extractions = await get(`/api/v1/compliance/products/${a.productId}/extraction-results?history=true`);
    const history = await get(`/api/v1/compliance/dpp/${a.productId}/history`);
    const content = await t.call(keyA, { method: 'GET', url: `/api/v1/assets/${a.assetId}/content` });
    expect(content.statusCode).toBe(200);
    return {
      product,
      passport: { version: passport.version, dpp_status: passport.dpp_status, published_version: passport.published_version, manufacturer: passport.manufacturer },
      environmental,
      documents: documents.items.map((d: Json) => d.asset_id),
      extractions: extractions.extractions.map((e: Json) => e.extraction_id).sort(),
      history: history.total,
      content: content.body,
    };
  };

  let before: Awaited<ReturnType<typeof snapshotOfA>>;

  beforeAll(async () => {
    t = await createTestApp(dialect, { EXTRACTION_TIMEOUT_MS: '20000' });
    worker = createSystemWorker(t.config, t.database);
    worker.start();
    keyA = await t.key('tenant-a', 'read,write,admin');
    keyB = await t.key('tenant-b', 'read,write,admin');
    doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();

    // Organisation A: a product with a GTIN, a published passport, a document and an extraction batch.
    a.title = `Tenant A kettle ${randomUUID().slice(0, 8)}`;
    const product = await t.call(keyA, { method: 'POST', url: '/api/v1/products', payload: { title: a.title, ean: '4006381333931', external_id: 'a-sku-1' } });
    expect(product.statusCode, product.body).toBe(201);
    a.productId = product.json().product_id;
    a.gtin = product.json().gtin14;
    const patched = await t.call(keyA, { method: 'PATCH', url: `/api/v1/compliance/dpp/${a.productId}`, payload: FULL_PASSPORT });
    expect(patched.statusCode, patched.body).toBe(200);
    const environmental = await t.call(keyA, {
      method: 'PATCH',
      url: `/api/v1/compliance/products/${a.productId}/environmental`,
      payload: { ce_marked: true, rohs_compliant: true },
    });
    expect(environmental.statusCode, environmental.body).toBe(200);
    const published = await t.call(keyA, { method: 'POST', url: `/api/v1/compliance/dpp/${a.productId}/publish` });
    expect(published.statusCode, published.body).toBe(200);
    a.dppId = published.json().dpp_id;
    // A batch passport, and a successor product (replaced), so every batch, item and successor route has something of A's.
    const batchPassport = await t.call(keyA, { method: 'POST', url: `/api/v1/compliance/dpp/${a.productId}/instances`, payload: { level: 'batch', lot: 'A-LOT-1' } });
    expect(batchPassport.statusCode, batchPassport.body).toBe(201);
    a.instanceId = batchPassport.json().instance_id;
    const grant = await t.call(keyA, {
      method: 'POST',
      url: '/api/v1/compliance/access-grants',
      payload: { grantee: 'A repairer', tier: 'legitimate_interest', expires_at: new Date(Date.now() + 86_400_000).toISOString() },
    });
    expect(grant.statusCode, grant.body).toBe(201);
    a.grantId = grant.json().id;
    const successor = await t.call(keyA, { method: 'POST', url: '/api/v1/products', payload: { title: `${a.title} (2027)` } });
    await t.call(keyA, { method: 'PATCH', url: `/api/v1/compliance/dpp/${successor.json().product_id}`, payload: FULL_PASSPORT });
    await t.call(keyA, { method: 'POST', url: `/api/v1/compliance/dpp/${successor.json().product_id}/publish` });
    const linked = await t.call(keyA, {
      method: 'PUT',
      url: `/api/v1/compliance/dpp/${a.productId}/successor`,
      payload: { successor_product_id: successor.json().product_id, reason: 'replaced' },
    });
    expect(linked.statusCode, linked.body).toBe(200);
    // The publish queued A's EU registry entry.
    a.registryEntryId = (await t.call(keyA, { method: 'GET', url: `/api/v1/compliance/registry/entries?product_id=${a.productId}` })).json().items[0].id;

    const declaration = [
      'EU DECLARATION OF CONFORMITY',
      'Manufacturer: Tenant A Appliances GmbH, Hauptstraße 1, 10115 Berlin, Germany',
      `Product: ${a.title}`,
      'The object of the declaration described above is in conformity with Directive 2014/35/EU and Directive 2011/65/EU (RoHS).',
    ].join('\n');
    const upload = await t.call(keyA, {
      method: 'POST',
      url: `/api/v1/products/${a.productId}/documents`,
      ...multipartBody({ name: 'a-doc.txt', bytes: Buffer.from(declaration), type: 'text/plain' }, { kind: 'declaration_of_conformity' }),
    });
    expect(upload.statusCode, upload.body).toBe(201);
    a.assetId = upload.json().asset_id;
    const batch = await t.call(keyA, { method: 'POST', url: '/api/v1/compliance/batch/extract', payload: { product_ids: [a.productId] } });
    expect(batch.statusCode, batch.body).toBe(202);
    a.taskId = batch.json().task_id;
    await waitForTask(a.taskId);
    const results = (await t.call(keyA, { method: 'GET', url: `/api/v1/compliance/products/${a.productId}/extraction-results` })).json();
    a.extractionIds = results.extractions.map((e: Json) => e.extraction_id);
    expect(a.extractionIds.length).toBeGreaterThan(0);

    // Organisation B has data of its own, so its lists and stats are not trivially empty; it may reuse A's
    // SKU (external ids are unique per organisation, so a 409 here would reveal A's catalogue).
    const own = await t.call(keyB, { method: 'POST', url: '/api/v1/products', payload: { title: 'Tenant B toaster', ean: '96385074', external_id: 'a-sku-1' } });
    expect(own.statusCode, own.body).toBe(201);
    await t.call(keyB, { method: 'PATCH', url: `/api/v1/compliance/dpp/${own.json().product_id}`, payload: { manufacturer: 'Tenant B Ltd' } });

    before = await snapshotOfA();
  }, 120_000);
  afterAll(async () => {
    await worker?.stop();
    await t?.close();
  });

  const withParams = () => operationsOf(doc).filter((o) => pathParams(o.op).length > 0);
  const withoutParams = () => operationsOf(doc).filter((o) => pathParams(o.op).length === 0);

  it('reads the operations from the OpenAPI document and knows every path parameter', () => {
    const probed = withParams();
    expect(probed.length).toBeGreaterThanOrEqual(20);
    for (const { method, path, op } of probed) {
      for (const name of pathParams(op)) expect(idFor(name), `${method} ${path}: unknown path parameter "${name}"; extend idFor`).toBeDefined();
    }
    // The public routes are not probed: they are cross-tenant by design (published passports only).
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith(API))).toEqual(expect.arrayContaining(['/01/{gtin}', '/dpp/{product_id}']));
  });

  it("A's own ids answer 200 to A on every GET with path parameters, so B's 404s mean isolation", async () => {
    for (const operation of withParams().filter((o) => o.method === 'GET')) {
      const res = await t.call(keyA, requestFor(operation, idFor, named));
      expect(res.statusCode, `${operation.method} ${operation.path} as A: ${res.body.slice(0, 300)}`).toBe(200);
    }
  });

  it("answers 404 problem+json to B for every operation on A's ids, as for an id that does not exist, and changes nothing", async () => {
    // Deletions last, so that a leaking DELETE cannot hide what the other operations would have done.
    const probed = withParams().sort((x, y) => Number(x.method === 'DELETE') - Number(y.method === 'DELETE'));
    for (const operation of probed) {
      const what = `${operation.method} ${operation.path} as B`;
      const names = pathParams(operation.op);
      const res = await t.call(keyB, requestFor(operation, idFor, named));
      if (!expectNotFoundProblem(res, what)) continue;
      // The ids B sent may be echoed (detail, instance); nothing else of A's may appear.
      const sent = names.map((n) => idFor(n)!);
      for (const secret of secrets().filter((s) => !sent.includes(s))) expect.soft(res.body, `${what} names A's ${secret}`).not.toContain(secret);
      // No existence oracle: ids that do not exist at all get the same answer, word for word.
      const unknown = Object.fromEntries(names.map((n) => [n, n === 'gtin' ? '09506000134352' : randomUUID()]));
      const other = await t.call(
        keyB,
        requestFor(
          operation,
          (n) => unknown[n],
          () => undefined,
        ),
      );
      if (!expectNotFoundProblem(other, `${operation.method} ${operation.path} with an unknown id`)) continue;
      const normalise = (body: string, ids: Record<string, string>) => JSON.parse(names.reduce((text, n) => text.replaceAll(ids[n]!, `{${n}}`), body));
      expect.soft(normalise(res.body, Object.fromEntries(names.map((n) => [n, idFor(n)!]))), what).toEqual(normalise(other.body, unknown));
    }
    expect(await snapshotOfA()).toEqual(before);
  });

  it("lists, searches, stats and exports answer B without any of A's ids", async () => {
    const gets = withoutParams().filter((o) => o.method === 'GET');
    expect(gets.length).toBeGreaterThanOrEqual(4);
    for (const operation of gets) {
      const request = requestFor(operation, idFor, () => undefined);
      // Searching for A's title or GTIN finds nothing either.
      const searchable = (operation.op.parameters ?? []).some((p: Json) => p.in === 'query' && p.name === 'search');
      const queries: Array<Record<string, string>> = searchable ? [{}, { search: a.title }, { search: a.gtin }] : [{}];
      for (const query of queries) {
        const what = `${operation.method} ${operation.path} ${JSON.stringify(query)} as B`;
        const res = await t.call(keyB, { ...request, query: { ...(request.query as Record<string, string>), ...query } });
        expect.soft(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBe(200);
        for (const secret of secrets()) expect.soft(res.body, `${what} names A's ${secret}`).not.toContain(secret);
      }
    }
    // A batch naming A's product is refused for B word for word as one naming an unknown product.
    const missing = randomUUID();
    const batch = await t.call(keyB, { method: 'POST', url: '/api/v1/compliance/batch/extract', payload: { product_ids: [a.productId] } });
    const unknown = await t.call(keyB, { method: 'POST', url: '/api/v1/compliance/batch/extract', payload: { product_ids: [missing] } });
    expect(batch.statusCode, batch.body).toBe(422);
    expect(JSON.parse(batch.body.replaceAll(a.productId, '{id}'))).toEqual(JSON.parse(unknown.body.replaceAll(missing, '{id}')));
    expect(await snapshotOfA()).toEqual(before);
  });
});
