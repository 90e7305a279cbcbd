/**
 * A schema-driven HTTP fuzzer for the application, driven through `app.inject`.
 *
 * It reads the OpenAPI document the app serves (`GET /openapi.json`), and for every operation builds
 * requests from the documented schemas — valid ones (values from json-schema-faker, path parameters
 * filled with real ids seeded through the API half the time) and invalid ones (wrong types, huge
 * strings and numbers, deep nesting, invisible and hostile Unicode, missing and extra fields, wrong
 * content types, empty bodies, random bytes, odd headers, missing or wrong keys). Every answer is
 * checked:
 *
 * - `5xx`: the status is below 500;
 * - `problem+json`: a 4xx carries `application/problem+json` with string `type`, `title`, `detail`
 *   and a `status` equal to the HTTP status (the public passport page may answer a browser with an
 *   HTML error page instead, as designed);
 * - `response-schema`: when the operation documents an `application/json` schema for the status, the
 *   body validates against it (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 says), and holds no number
 *   beyond the double range (which JSON clients read as Infinity);
 * - `hang`: the answer comes within `timeoutMs`;
 * - `blank-accepted`: a string field documented with `minLength ≥ 1`, sent as only whitespace or
 *   invisible characters (zero-width space, BOM, …), is refused rather than stored;
 * - `overflow-accepted`: a JSON number beyond the double range (`1e400`, which JSON.parse turns into
 *   Infinity) is refused rather than stored.
 *
 * Everything random comes from one seed (printed in the report), so a run reproduces: the plan of
 * requests is derived from the seed before anything is sent, each request from its own derived seed.
 * Failures are collected, never thrown, and grouped for a readable report.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { generateSync } from 'json-schema-faker';
import { createAccessService } from '../../src/features/access/service.js';
import type { TestApp } from './app.js';
import { FULL_PASSPORT } from './fixtures.js';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

// ---------------------------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------------------------

export interface Rng {
  /** [0, 1) */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(list: readonly T[]): T;
  /** A 32-bit seed for a derived generator. */
  seed(): number;
  shuffle<T>(list: T[]): T[];
  bytes(n: number): Buffer;
}

/** Mulberry32: small, fast, good enough for test data, and the same on every platform. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (list) => {
      if (list.length === 0) throw new Error('pick from an empty list');
      return list[Math.floor(next() * list.length)]!;
    },
    seed: () => Math.floor(next() * 4294967296) >>> 0,
    shuffle: (list) => {
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [list[i], list[j]] = [list[j]!, list[i]!];
      }
      return list;
    },
    bytes: (n) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
  };
  return rng;
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI document as operations
// ---------------------------------------------------------------------------------------------

export type Schema = Record<string, any>;

export interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  /** Required and without a default (swagger marks parameters with a default as required). */
  required: boolean;
  schema: Schema;
}

export type BodyKind = 'json' | 'import' | 'multipart' | 'none';

export interface Operation {
  /** `GET /api/v1/products/{product_id}` */
  id: string;
  method: string;
  path: string;
  params: Param[];
  bodyKind: BodyKind;
  body?: Schema;
  bodyRequired: boolean;
  /** Status → its `application/json` schema (refs resolved), for documented statuses that have one. */
  responseSchemas: Map<string, Schema>;
  documentedStatuses: Set<string>;
  /** No API key needed. */
  public: boolean;
  /** The public passport page, which answers browsers with HTML error pages by design. */
  htmlPage: boolean;
  /** Not in the OpenAPI document (the Swagger UI routes). */
  extra: boolean;
}

/** Resolves local `$ref`s (`#/components/...`) in a copy of `node`. */
export function deref(node: unknown, root: Schema, seen: string[] = []): unknown {
  if (Array.isArray(node)) return node.map((n) => deref(n, root, seen));
  if (!node || typeof node !== 'object') return node;
  const obj = node as Schema;
  if (typeof obj.$ref === 'string' && obj.$ref.startsWith('#/')) {
    if (seen.includes(obj.$ref)) return {};
    const target = obj.$ref
      .slice(2)
      .split('/')
      .map((s: string) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
      .reduce<unknown>((o, k) => (o as Schema | undefined)?.[k], root);
    if (target === undefined) throw new Error(`unresolved $ref ${obj.$ref}`);
    const { $ref: _ref, ...rest } = obj;
    return { ...(deref(target, root, [...seen, obj.$ref]) as Schema), ...(deref(rest, root, seen) as Schema) };
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, deref(v, root, seen)]));
}

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];

/** Every operation of the document, with its parameters, body and response schemas. */
export function operationsOf(doc: Schema): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<Schema>(doc.paths ?? {})) {
    for (const [m, rawOp] of Object.entries<Schema>(item)) {
      if (!HTTP_METHODS.includes(m)) continue;
      const op = deref(rawOp, doc) as Schema;
      const params: Param[] = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: Schema) => ({
        name: p.name,
        in: p.in,
        required: p.in === 'path' || (Boolean(p.required) && p.schema?.default === undefined),
        schema: p.schema ?? {},
      }));
      const json = op.requestBody?.content?.['application/json']?.schema as Schema | undefined;
      const method = m.toUpperCase();
      let bodyKind: BodyKind = json ? 'json' : 'none';
      // Bodies the document does not describe (streamed import, multipart upload): known by route.
      if (!json && method === 'POST' && path.endsWith('/products/import')) bodyKind = 'import';
      if (!json && method === 'POST' && path.endsWith('/documents')) bodyKind = 'multipart';
      const responseSchemas = new Map<string, Schema>();
      for (const [status, r] of Object.entries<Schema>(op.responses ?? {})) {
        const s = r?.content?.['application/json']?.schema;
        if (s) responseSchemas.set(status, s);
      }
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      ops.push({
        id: `${method} ${path}`,
        method,
        path,
        params,
        bodyKind,
        ...(json ? { body: json } : {}),
        bodyRequired: Boolean(op.requestBody?.required),
        responseSchemas,
        documentedStatuses: new Set(Object.keys(op.responses ?? {})),
        public: isPublic || !path.startsWith('/api/'),
        htmlPage: /^\/(01|dpp)\//.test(path),
        extra: false,
      });
    }
  }
  return ops;
}

/** Routes served outside the OpenAPI document: the Swagger UI and its static files. */
export function extraOperations(): Operation[] {
  const extra = (path: string, params: Param[] = []): Operation => ({
    id: `GET ${path}`,
    method: 'GET',
    path,
    params,
    bodyKind: 'none',
    bodyRequired: false,
    responseSchemas: new Map(),
    documentedStatuses: new Set(),
    public: true,
    htmlPage: false,
    extra: true,
  });
  return [extra('/docs'), extra('/docs/static/{file}', [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }]), extra('/docs/json'), extra('/openapi.json')];
}

// ---------------------------------------------------------------------------------------------
// Seeded data: two organisations, a few products, passports, a document, a batch task
// ---------------------------------------------------------------------------------------------

export type KeyRole = 'rw' | 'admin' | 'read' | 'write' | 'other' | 'revoked';

export interface Fixtures {
  keys: Record<KeyRole, string>;
  /** Product ids of organisation A that only reads target (they stay as seeded), ones anything may change, and organisation B's. */
  products: { stable: string[]; mutable: string[]; other: string[] };
  assets: { stable: string[]; mutable: string[]; other: string[] };
  tasks: string[];
  /** GTIN-14s: published ones first, then unpublished and invalid ones. */
  gtins: string[];
}

// The suite's complete passport (with a hostile manufacturer name every output must escape).
const PASSPORT = FULL_PASSPORT;

const ENVIRONMENTAL = {
  reach_compliant: true,
  rohs_compliant: true,
  ce_marked: true,
  weee_category: 6,
  energy_class: 'A+',
  recyclable: true,
  hazardous_substances: [{ name: 'Lead', cas_number: '7439-92-1', ec_number: '231-100-4', concentration_pct: 0.05 }],
};

const DOC_TEXT =
  'EU Declaration of Conformity\nManufacturer: Ma Marque SAS, 1 rue de la Paix, Paris, France\n' +
  'Product: Bouilloire 1,7 l, model K-17\nThis product is CE marked and complies with Directive 2011/65/EU (RoHS) ' +
  'and Regulation (EC) No 1907/2006 (REACH).\nWEEE category: small equipment.\nCarbon footprint: 12.5 kg CO2e\n';

/** Creates the keys and the data the fuzzer aims at, through the API itself. Throws if seeding fails. */
export async function seedFixtures(t: TestApp): Promise<Fixtures> {
  const access = createAccessService(t.database.db);
  const keys: Record<KeyRole, string> = {
    rw: await t.key('fuzz-a', 'read,write'),
    admin: await t.key('fuzz-a', 'admin'),
    read: await t.key('fuzz-a', 'read'),
    write: await t.key('fuzz-a', 'write'),
    other: await t.key('fuzz-b', 'read,write'),
    revoked: await t.key('fuzz-a', 'read,write'),
  };
  await access.revokeKey(keys.revoked);

  const must = async (key: string, options: InjectOptions, ...ok: number[]) => {
    const res = await t.call(key, options);
    if (!ok.includes(res.statusCode)) {
      throw new Error(`fuzz seeding: ${options.method} ${options.url} answered ${res.statusCode}: ${res.body.slice(0, 500)}`);
    }
    return res.json() as Schema;
  };
  const product = async (key: string, body: object) => (await must(key, { method: 'POST', url: '/api/v1/products', payload: body }, 201)).product_id as string;
  const passport = async (key: string, id: string, publish: boolean) => {
    await must(key, { method: 'PATCH', url: `/api/v1/compliance/dpp/${id}`, payload: PASSPORT }, 200);
    if (publish) await must(key, { method: 'POST', url: `/api/v1/compliance/dpp/${id}/publish` }, 200);
  };
  const upload = async (key: string, id: string, name: string, text: string) => {
    const { payload, headers } = multipart('----fuzzseed', [
      { name: 'kind', value: 'declaration_of_conformity' },
      { name: 'file', filename: name, type: 'text/plain', bytes: Buffer.from(text) },
    ]);
    return (await must(key, { method: 'POST', url: `/api/v1/products/${id}/documents`, payload, headers }, 201)).asset_id as string;
  };

  const p1 = await product(keys.rw, {
    title: 'Bouilloire 1,7 l',
    ean: '4006381333931',
    external_id: 'FZ-1',
    brand: 'Ma Marque',
    category: 'Kettles',
    description: 'Bouilloire électrique en acier inoxydable. Material: 80% stainless steel, 20% plastic.',
    attributes: { colour: 'steel', capacity_l: 1.7 },
  });
  const p2 = await product(keys.rw, { title: 'Wasserkocher Größe M', ean: '5901234123457', brand: 'Marke' });
  const p3 = await product(keys.rw, { title: 'Lampe de chevet', ean: '3760000000001', external_id: 'FZ-3' });
  const p4 = await product(keys.rw, { title: 'Kettle', attributes: { nested: { a: [1, 2, { b: null }] } } });
  const p5 = await product(keys.rw, { title: 'Toaster 2 slots', ean: '96385074', category: 'Small appliances' });
  const p6 = await product(keys.rw, { title: 'Écran 24" 日本語 🚀', ean: '036000291452' });
  await passport(keys.rw, p1, true);
  await passport(keys.rw, p2, true);
  await passport(keys.rw, p5, false);
  await must(keys.rw, { method: 'PATCH', url: `/api/v1/compliance/products/${p1}/environmental`, payload: ENVIRONMENTAL }, 200);
  await must(keys.rw, { method: 'PATCH', url: `/api/v1/compliance/products/${p3}/environmental`, payload: { energy_class: 'B' } }, 200);
  const a1 = await upload(keys.rw, p1, 'doc-conformite.txt', DOC_TEXT);
  const a2 = await upload(keys.rw, p5, 'datasheet.txt', `${DOC_TEXT}\nToaster datasheet.`);
  const task = (await must(keys.rw, { method: 'POST', url: '/api/v1/compliance/batch/extract', payload: { product_ids: [p1, p5] } }, 202)).task_id as string;

  const q1 = await product(keys.other, { title: 'Other organisation product', ean: '4012345000009' });
  await passport(keys.other, q1, true);
  const b1 = await upload(keys.other, q1, 'other.txt', `${DOC_TEXT}\nOther organisation.`);

  return {
    keys,
    products: { stable: [p1, p6], mutable: [p2, p3, p4, p5], other: [q1] },
    assets: { stable: [a1], mutable: [a2], other: [b1] },
    tasks: [task],
    gtins: ['04006381333931', '05901234123457', '04012345000009', '00000096385074', '03760000000001', '00036000291452'],
  };
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/** Strings that have broken parsers, databases, search engines and renderers before. */
export const NASTY_STRINGS = [
  '',
  ' ',
  'Ünïcödé ✓ 日本語 🚀 🏳️‍🌈',
  '\u202eevil RTL override',
  'e\u0301\u0302\u0303\u0304 combining',
  'a\u0000b',
  '\u0000',
  '\ud800 lone surrogate',
  '\udfff\ud800',
  '"; DROP TABLE products; --',
  "' OR '1'='1",
  '%_\\',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  '"unbalanced',
  'a OR b AND NOT c',
  'NEAR(a b)',
  'title:kettle',
  '*',
  '^x',
  '(',
  '-',
  '١٢٣٤٥٦٧٨',
  '１２３４５６７８',
  'Ⅻ',
  '\r\n\r\nHTTP/1.1 200 OK',
  'x'.repeat(5000),
  '😀'.repeat(500),
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
  '\ufffd\ufffe\uffff',
  'null',
  'undefined',
  'NaN',
  'true',
  '[]',
  '{}',
  '0',
  '-1',
  '1e309',
];

/** Only whitespace or invisible characters: never a meaningful value for a `minLength ≥ 1` field. */
export const BLANK_STRINGS = ['\u200b', '\u200b\u200c\u200d\ufeff', '\u2060\u2062\u2063', '   ', '\t\n', '\u00a0\u00a0', '\u3000', '\u00ad', '\u200e\u200f'];

/** Numbers as they appear in query strings. */
export const NUMBER_TEXTS = [
  '99999999999999999999',
  '-99999999999999999999',
  '9007199254740993',
  '2147483648',
  '-1',
  '0',
  '1.5',
  '1e3',
  '1e400',
  'NaN',
  'Infinity',
  '0x10',
  ' 7 ',
  '',
  'abc',
  '١',
];

/** Numbers as they appear in JSON bodies (raw text, so ones JavaScript cannot hold survive). */
export const JSON_NUMBERS = ['99999999999999999999', '-99999999999999999999', '1e308', '-1e308', '5e-324', '-0', '9007199254740993', '-1', '0.1', '100.0000000001', '1E2'];

function gtinWithCheck(data: string): string {
  let sum = 0;
  for (let i = data.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += (data.charCodeAt(i) - 48) * w;
  return data + ((10 - (sum % 10)) % 10);
}

/** Plausible domain values by field name, mixed into generated data so happy paths are reached too. */
function hints(rng: Rng, fx: Fixtures): Record<string, () => unknown> {
  const allProducts = [...fx.products.stable, ...fx.products.mutable];
  return {
    title: () => rng.pick(['Bouilloire 1,7 l', 'Wasserkocher', 'Kettle 1.7 L steel', 'Écran 24"', 'Lampe à poser']),
    ean: () =>
      rng.pick([
        () => gtinWithCheck(String(rng.int(1e11, 1e12 - 1))),
        () => gtinWithCheck(String(rng.int(1e6, 1e7 - 1))),
        () => '4006381333931',
        () => '05901234123457',
        () => '3760000000001',
        () => String(rng.int(1e12, 1e13 - 1)),
      ])(),
    brand: () => rng.pick(['Ma Marque', 'Marke', 'ACME', null]),
    external_id: () => `FZ-${rng.int(1, 50)}`,
    product_name: () => rng.pick(['Bouilloire 1,7 l', 'Kettle', null]),
    manufacturer: () => rng.pick(['Ma Marque SAS', 'ACME GmbH', 'Ma Marque <script>alert(1)</script>']),
    country_of_origin: () => rng.pick(['FR', 'DE', 'NL', 'CN', 'fr', 'XX', 'ZZ', 'UK']),
    materials: () =>
      rng.pick([
        PASSPORT.materials,
        [{ name: 'Steel', percentage: 100 }],
        [
          { name: 'Steel', percentage: 60 },
          { name: 'steel', percentage: 50 },
        ],
        [
          { name: 'Glass', percentage: 33.3 },
          { name: 'Aluminium', percentage: 33.3 },
          { name: 'PET', percentage: 33.4 },
        ],
        [],
      ]),
    carbon_footprint_kg: () => rng.pick([0, 2.5, 12.25, 1e6, null]),
    recyclability_score: () => rng.pick(['A', 'b', 'E']),
    certifications: () => rng.pick([['CE', 'RoHS'], ['energy-star', 'Blauer Engel', 'EPEAT Gold'], ['CE', 'CE'], []]),
    end_of_life_instructions: () => rng.pick(['Recyclable via collecte sélective.', 'Bring to a WEEE collection point.']),
    reach_compliant: () => rng.pick([true, false, null]),
    weee_category: () => rng.pick([1, 2, 3, 4, 5, 6, 'Lamps', 'IT equipment', 'small equipment', 'Screens and monitors', 'bogus category']),
    energy_class: () => rng.pick(['A', 'A+++', 'G', 'D', 'H', 'a+', 'A++++']),
    hazardous_substances: () =>
      rng.pick([
        ENVIRONMENTAL.hazardous_substances,
        [{ name: 'Lead', cas_number: '7439-92-2', ec_number: '231-100-5' }],
        [{ name: 'DEHP', cas_number: '117-81-7', concentration_pct: 0.1, location: 'cable' }],
        [],
      ]),
    product_ids: () => rng.shuffle([...allProducts, ...fx.products.other]).slice(0, rng.int(1, 4)),
    provider: () => rng.pick(['rules', 'openai', 'anthropic', 'nope']),
    page: () => rng.pick([1, 2]),
    per_page: () => rng.pick([1, 10, 200]),
    search: () => rng.pick(['bouilloire', 'Bouilloire', 'ECRAN', 'kett', '4006381333931', '04006381333931', 'größe', 'lampe chevet']),
    lang: () => rng.pick(['fr', 'de', 'en', 'xx', 'fr-CA', 'de-AT']),
    linkType: () => rng.pick(['linkset', 'gs1:pip', 'all']),
    version: () => rng.pick([1, 2, 3]),
    size: () => rng.pick([64, 300, 1024]),
    margin: () => rng.pick([0, 4, 16]),
    kind: () => rng.pick(['declaration_of_conformity', 'rohs', 'datasheet', 'other']),
  };
}

/**
 * A value valid for `schema`, from json-schema-faker, seeded. json-schema-faker occasionally gives up
 * on a schema combining `minProperties` with `additionalProperties: false`; another seed then works.
 */
function fake(schema: Schema, seed: number): unknown {
  let error: unknown;
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      return generateSync(schema as never, { seed: (seed + attempt * 7919) >>> 0, maxDefaultItems: 3, maxDepth: 4 });
    } catch (e) {
      error = e;
    }
  }
  throw error;
}

/** encodeURIComponent that also takes lone surrogates (as U+FFFD, as a UTF-8 client would send them). */
function encode(value: string): string {
  return encodeURIComponent(value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
}

/** Values JSON cannot carry as JavaScript values, kept as their raw text until serialisation. */
class Raw {
  constructor(readonly text: string) {}
}

/** JSON.stringify that writes `Raw` values as their text. */
function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (v instanceof Raw) {
      raws.push(v.text);
      return `\u0001RAW${raws.length - 1}\u0001`;
    }
    return v;
  });
  return (text ?? 'null').replace(/"\\u0001RAW(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]!);
}

function deepNesting(depth: number, kind: 'object' | 'array'): Raw {
  return kind === 'object' ? new Raw('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)) : new Raw('['.repeat(depth) + ']'.repeat(depth));
}

/** The type of a schema, looking through `anyOf` with null. */
function typeOf(schema: Schema | undefined): string | undefined {
  if (!schema) return undefined;
  if (typeof schema.type === 'string') return schema.type;
  for (const key of ['anyOf', 'oneOf']) {
    const alt = (schema[key] as Schema[] | undefined)?.map(typeOf).find((t) => t && t !== 'null');
    if (alt) return alt;
  }
  if (schema.enum || schema.const !== undefined) return 'enum';
  return undefined;
}

function minLengthOf(schema: Schema | undefined): number {
  if (!schema) return 0;
  if (typeof schema.minLength === 'number') return schema.minLength;
  for (const key of ['anyOf', 'oneOf']) {
    for (const s of (schema[key] as Schema[] | undefined) ?? []) {
      const n = minLengthOf(s);
      if (n) return n;
    }
  }
  return 0;
}

/** A value of a clearly wrong JSON type for `schema`. */
function wrongType(schema: Schema, rng: Rng): unknown {
  switch (typeOf(schema)) {
    case 'string':
    case 'enum':
      return rng.pick([123, true, { x: 'y' }, ['a'], 0]);
    case 'integer':
    case 'number':
      return rng.pick(['12', 'abc', true, [1], { n: 1 }]);
    case 'boolean':
      return rng.pick(['true', 1, 0, 'yes', []]);
    case 'array':
      return rng.pick([{}, 'a,b', 1, { 0: 'a' }]);
    case 'object':
      return rng.pick([[], 'x', 1, true]);
    default:
      return rng.pick([1, 'x', [], {}]);
  }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

export interface FuzzRequest {
  op: Operation;
  /** What kind of input this is, without the concrete value: `valid`, `query page: huge-number`, … */
  kind: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  /** Set when a `minLength ≥ 1` body field was sent blank: a 2xx is then a failure. */
  blankField?: string;
  /** Set when a number beyond the double range was sent in the JSON body: a 2xx is then a failure. */
  overflowField?: string;
  /** The request's Accept asks for JSON (the public page answers others with HTML). */
  wantsJson: boolean;
}

/** One planned request: an operation, the mutation to apply, and the seed its values come from. */
export interface Planned {
  op: Operation;
  mutation: string;
  seed: number;
}

function multipart(boundary: string, parts: Array<{ name: string; value?: string; filename?: string; type?: string; bytes?: Buffer }>, close = true) {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    const type = p.filename !== undefined ? `\r\nContent-Type: ${p.type ?? 'application/octet-stream'}` : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`), p.bytes ?? Buffer.from(p.value ?? ''), Buffer.from('\r\n'));
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** Mutations that apply to every operation (auth, headers, method). */
function commonMutations(op: Operation): string[] {
  const list = ['header:if-match', 'header:if-none-match', 'header:range', 'header:conditional', 'header:accept', 'header:accept-language', 'header:x-request-id'];
  if (!op.public) list.push('auth:none', 'auth:malformed', 'auth:unknown-key', 'auth:revoked', 'auth:read-only', 'auth:write-only', 'auth:admin', 'auth:other-org');
  if (op.method === 'GET') list.push('method:HEAD', 'method:OPTIONS');
  return list;
}

/** Every mutation that makes sense for an operation; `valid` is separate. */
export function mutationsOf(op: Operation): string[] {
  const list: string[] = [];
  for (const p of op.params) {
    const t = typeOf(p.schema);
    if (p.in === 'path') {
      list.push(
        `path:${p.name}:random`,
        `path:${p.name}:other-org`,
        `path:${p.name}:nasty`,
        `path:${p.name}:long`,
        `path:${p.name}:upper`,
        `path:${p.name}:traversal`,
        `path:${p.name}:zero-width`,
      );
      continue;
    }
    if (p.in !== 'query') continue;
    list.push(`query:${p.name}:nasty`, `query:${p.name}:huge-string`, `query:${p.name}:zero-width`, `query:${p.name}:repeated`, `query:${p.name}:empty`);
    if (t === 'integer' || t === 'number') list.push(`query:${p.name}:huge-number`, `query:${p.name}:number-edge`, `query:${p.name}:negative`);
    if (t === 'integer' || t === 'number' || t === 'boolean' || t === 'enum') list.push(`query:${p.name}:wrong-type`);
    if (p.required) list.push(`query:${p.name}:missing`);
  }
  list.push('query:unknown-param', 'query:proto');
  if (op.bodyKind === 'json' && op.body) {
    for (const [name, schema] of Object.entries<Schema>(op.body.properties ?? {})) {
      const t = typeOf(schema);
      list.push(`body:${name}:wrong-type`, `body:${name}:null`, `body:${name}:nasty`);
      if (t === 'string' || t === 'enum') list.push(`body:${name}:huge-string`, `body:${name}:nul`);
      if (t === 'string' && minLengthOf(schema) >= 1) list.push(`body:${name}:blank`);
      if (t === 'integer' || t === 'number') list.push(`body:${name}:huge-number`, `body:${name}:overflow-number`);
      if (t === 'object' || t === 'array' || t === undefined) list.push(`body:${name}:deep-nesting`);
      if (t === 'array') list.push(`body:${name}:big-array`, `body:${name}:item-mutation`);
      if (t === 'object' && schema.additionalProperties !== false) list.push(`body:${name}:weird-keys`);
    }
    if ((op.body.required ?? []).length) list.push('body:missing-required');
    list.push(
      'body:extra-field',
      'body:empty-object',
      'body:proto',
      'body:array',
      'body:json-null',
      'body:json-string',
      'body:malformed',
      'body:duplicate-keys',
      'body:random-bytes',
      'body:empty',
      'body:no-content-type',
      'body:wrong-content-type',
      'body:too-large',
      'body:bom',
      'body:deep-root',
    );
  } else if (op.bodyKind === 'import') {
    list.push(
      'import:csv-valid',
      'import:ndjson-valid',
      'import:csv-broken-quote',
      'import:csv-bom-semicolon',
      'import:csv-tab',
      'import:random-bytes',
      'import:ndjson-garbage',
      'import:deep-attributes',
      'import:huge-cell',
      'import:empty',
      'import:header-only',
      'import:wrong-content-type',
      'import:format-mismatch',
      'import:nul-bytes',
      'import:many-columns',
      'import:nasty-values',
    );
  } else if (op.bodyKind === 'multipart') {
    list.push(
      'upload:text',
      'upload:html',
      'upload:markdown',
      'upload:fake-pdf',
      'upload:random-bytes',
      'upload:empty-file',
      'upload:bad-kind',
      'upload:no-file',
      'upload:no-boundary',
      'upload:truncated',
      'upload:two-files',
      'upload:nasty-filename',
      'upload:big-field',
      'upload:json-instead',
    );
  } else if (op.method !== 'GET') {
    list.push('body:unexpected-json', 'body:unexpected-bytes', 'body:unexpected-malformed-json');
  }
  list.push(...commonMutations(op));
  return list;
}

const CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'application/json; charset=latin1',
  'application/json-patch+json',
  'text/csv',
  'application/octet-stream',
  'application/problem+json',
  'APPLICATION/JSON',
  'application/json;;;',
  'garbage',
];

/** Builds the concrete request of a planned item. Pure: the same plan item gives the same request. */
export function buildRequest(item: Planned, fx: Fixtures): FuzzRequest {
  const { op, mutation } = item;
  const rng = createRng(item.seed);
  const hint = hints(rng, fx);
  const [area, target, how] = mutation.split(':') as [string, string | undefined, string | undefined];
  const headers: Record<string, string> = {};
  let method = op.method;
  let blankField: string | undefined;
  let overflowField: string | undefined;

  // Authentication: a read/write key of organisation A unless the mutation says otherwise.
  if (!op.public || rng.chance(0.2)) {
    const role = area === 'auth' ? target : rng.chance(0.1) ? 'admin' : 'rw';
    const key =
      role === 'none'
        ? undefined
        : role === 'malformed'
          ? rng.pick([
              'Bearer',
              'Bearer ',
              'Bearer a b',
              'Basic dXNlcjpwYXNz',
              'Bearer dpp_',
              'Bearer dpp_zzzzzzzzzzzz_x',
              `Bearer ${'x'.repeat(8000)}`,
              'Bearer\tdpp_0_0',
              'bearer  dpp_000000000000_',
            ])
          : role === 'unknown-key'
            ? `Bearer dpp_${rng.bytes(6).toString('hex')}_${rng.bytes(32).toString('base64url')}`
            : role === 'read-only'
              ? `Bearer ${fx.keys.read}`
              : role === 'write-only'
                ? `Bearer ${fx.keys.write}`
                : role === 'other-org'
                  ? `Bearer ${fx.keys.other}`
                  : role === 'revoked'
                    ? `Bearer ${fx.keys.revoked}`
                    : role === 'admin'
                      ? `Bearer ${fx.keys.admin}`
                      : `Bearer ${fx.keys.rw}`;
    if (key) headers.authorization = key;
  }

  // Path parameters: a real id half the time.
  const writes = op.method !== 'GET';
  const real = (name: string): string | undefined => {
    if (name === 'product_id') return rng.pick(writes ? fx.products.mutable : [...fx.products.stable, ...fx.products.mutable]);
    if (name === 'asset_id') return rng.pick(writes ? fx.assets.mutable : [...fx.assets.stable, ...fx.assets.mutable]);
    if (name === 'task_id') return rng.pick(fx.tasks);
    if (name === 'gtin') return rng.pick(fx.gtins);
    if (name === 'file') return rng.pick(['swagger-ui.css', 'swagger-ui.js', 'swagger-initializer.js', 'favicon-32x32.png', 'logo.svg', 'oauth2-redirect.html']);
    return undefined;
  };
  const otherOrg = (name: string): string | undefined => {
    if (name === 'product_id') return rng.pick(fx.products.other);
    if (name === 'asset_id') return rng.pick(fx.assets.other);
    if (name === 'gtin') return '04012345000009';
    return undefined;
  };
  let path = op.path;
  for (const p of op.params.filter((x) => x.in === 'path')) {
    let value: string;
    let raw = false;
    const m = area === 'path' && target === p.name ? how : undefined;
    const genuine = real(p.name) ?? String(fake(p.schema, rng.seed()));
    switch (m) {
      case 'random':
        value = String(fake(p.schema, rng.seed()));
        break;
      case 'other-org':
        value = otherOrg(p.name) ?? genuine;
        break;
      case 'nasty':
        // (Not the empty string: an empty segment is another route, e.g. /products/ is the list.)
        value = rng.pick(NASTY_STRINGS.filter((x) => x !== ''));
        break;
      case 'long':
        value = 'a'.repeat(rng.pick([101, 1000, 20000]));
        break;
      case 'upper':
        value = genuine.toUpperCase();
        break;
      case 'traversal':
        // (No dot segments: `.`, `%2e` and `..` are resolved by URL rules before routing, as any client would.)
        value = rng.pick(['..%2F..%2Fopenapi.json', '%00', '%', '%zz', '%E0%A4%A', `${genuine}%00`, `${genuine}%20`, `${genuine};x=1`]);
        raw = true;
        break;
      case 'zero-width':
        value = `${genuine}\u200b`;
        break;
      default:
        // (A static file of the docs is always a real one unless mutated: random names are just 404s.)
        value = rng.chance(0.5) || p.name === 'file' ? genuine : rng.chance(0.8) ? String(fake(p.schema, rng.seed())) : (otherOrg(p.name) ?? genuine);
    }
    path = path.replace(`{${p.name}}`, raw ? value : encode(value));
  }

  // Query string.
  const query: Array<[string, string]> = [];
  const asText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  for (const p of op.params.filter((x) => x.in === 'query')) {
    const m = area === 'query' && target === p.name ? how : undefined;
    if (m === 'missing') continue;
    if (!m && !p.required && !rng.chance(0.5)) continue;
    const good = () => (hint[p.name] && rng.chance(0.5) ? hint[p.name]!() : fake(p.schema, rng.seed()));
    switch (m) {
      case 'nasty':
        query.push([p.name, rng.pick(NASTY_STRINGS)]);
        break;
      case 'huge-string':
        query.push([p.name, 'q'.repeat(rng.pick([201, 5000, 100_000]))]);
        break;
      case 'zero-width':
        query.push([p.name, rng.pick(BLANK_STRINGS)]);
        break;
      case 'repeated':
        query.push([p.name, asText(good())], [p.name, asText(good())]);
        break;
      case 'empty':
        query.push([p.name, '']);
        break;
      case 'huge-number':
        query.push([p.name, rng.pick(['99999999999999999999', '1e400', '18446744073709551616', '9223372036854775808', '2147483648'])]);
        break;
      case 'number-edge':
      case 'wrong-type':
        query.push([p.name, rng.pick(NUMBER_TEXTS.concat(['maybe', 'TRUE', 'nope']))]);
        break;
      case 'negative':
        query.push([p.name, rng.pick(['-1', '0', '-0', '-2147483649'])]);
        break;
      default:
        query.push([p.name, asText(good())]);
    }
  }
  if (mutation === 'query:unknown-param') query.push([rng.pick(['foo', 'PAGE', 'page[]', 'per-page', 'q']), rng.pick(['1', 'x'])]);
  if (mutation === 'query:proto')
    query.push(
      rng.pick([
        ['__proto__', 'x'],
        ['constructor', 'x'],
        ['__proto__[admin]', 'true'],
        ['toString', '1'],
      ] as Array<[string, string]>),
    );

  // Body.
  let payload: string | Buffer | undefined;
  if (op.bodyKind === 'json' && op.body) {
    ({ payload, blankField, overflowField } = jsonBody(op.body, area === 'body' ? mutation : undefined, rng, hint, headers));
  } else if (op.bodyKind === 'import') {
    const kind = area === 'import' ? (target ?? 'csv-valid') : rng.pick(['csv-valid', 'ndjson-valid']);
    payload = importBody(kind, rng, headers, query);
    // A valid import names the format of its body when it names one at all.
    if (kind === 'csv-valid' || kind === 'ndjson-valid') {
      for (const q of query) if (q[0] === 'format') q[1] = kind === 'csv-valid' ? 'csv' : 'ndjson';
    }
  } else if (op.bodyKind === 'multipart') {
    payload = uploadBody(area === 'upload' ? (target ?? 'text') : rng.pick(['text', 'html', 'markdown']), rng, headers);
  } else if (area === 'body') {
    if (target === 'unexpected-json') {
      headers['content-type'] = 'application/json';
      payload = toJson({ x: rng.pick(NASTY_STRINGS), n: new Raw('99999999999999999999') });
    } else if (target === 'unexpected-bytes') {
      headers['content-type'] = rng.pick(['application/octet-stream', 'text/plain', 'application/xml']);
      payload = rng.bytes(rng.int(1, 2000));
    } else {
      headers['content-type'] = 'application/json';
      payload = rng.pick(['{', '{"a":', 'nul', '\u0000', '{"a":1}}']);
    }
  }

  // Headers and method.
  if (area === 'header') {
    const value = (() => {
      switch (target) {
        case 'if-match':
          return rng.pick(['*', '"v1"', '"v999999"', 'W/"v1"', 'garbage', '"v99999999999999999999"', '"v-1"', '"v1.5"', '""', '"v1", "v2"', 'x'.repeat(5000)]);
        case 'if-none-match':
          return rng.pick(['*', '"v1"', 'W/"v2"', 'garbage', '"v1", W/"v2"', '']);
        case 'range':
          return rng.pick([
            'bytes=0-10',
            'bytes=-5',
            'bytes=5-1',
            'bytes=99999999999999999999-',
            'bytes=0-0,1-1,2-2',
            'lines=1-2',
            'bytes=abc',
            'bytes=0-99999999999999999999',
            'bytes=999999-',
          ]);
        case 'conditional':
          return rng.pick(['Thu, 01 Jan 1970 00:00:00 GMT', 'garbage', 'Mon, 99 Foo 2024 99:99:99 GMT', '"x"']);
        case 'accept':
          return rng.pick([
            'application/xml',
            '*/*;q=0',
            'application/ld+json',
            'application/linkset+json',
            'text/html',
            'application/json',
            'application/ld+json; profile="https://test.uncefact.org/vocabulary/untp/dpp/0.6.0/"',
            'image/png',
            'garbage/garbage/garbage',
            ';;;',
            'x'.repeat(5000),
          ]);
        case 'accept-language':
          return rng.pick(['fr', 'zz', 'de-DE,de;q=0.9,en;q=0.8', '*', '*;q=abc', 'x'.repeat(5000), 'fr;q=2', ',,,', 'en-US-x-twain']);
        default:
          return rng.pick(['x'.repeat(5000), '../../etc', 'id with spaces', '\t']);
      }
    })();
    const name = target === 'conditional' ? rng.pick(['if-unmodified-since', 'if-modified-since', 'if-range']) : (target ?? 'x-fuzz');
    headers[name] = value;
  }
  if (mutation === 'method:HEAD') method = 'HEAD';
  if (mutation === 'method:OPTIONS') method = 'OPTIONS';

  const qs = query.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
  const accept = headers.accept ?? '';
  const url = qs ? `${path}?${qs}` : path;
  return {
    op,
    kind: kindLabel(mutation),
    method,
    url,
    headers,
    ...(payload !== undefined ? { payload } : {}),
    ...(blankField ? { blankField } : {}),
    ...(overflowField ? { overflowField } : {}),
    // `?format=html` asks the public page for HTML whatever the Accept header says.
    wantsJson: /json/i.test(accept) && !/[?&]format=html(&|$)/.test(url),
  };
}

/** `query:page:huge-number` → `query page: huge-number`. */
function kindLabel(mutation: string): string {
  const [area, target, how] = mutation.split(':');
  if (!target) return area!;
  return how ? `${area} ${target}: ${how}` : `${area}: ${target}`;
}

function jsonBody(
  schema: Schema,
  mutation: string | undefined,
  rng: Rng,
  hint: Record<string, () => unknown>,
  headers: Record<string, string>,
): { payload: string | Buffer; blankField?: string; overflowField?: string } {
  headers['content-type'] = 'application/json';
  // A valid body: generated from the schema, then (half the time each) plausible domain values.
  const body = (fake(schema, rng.seed()) ?? {}) as Record<string, unknown>;
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  for (const name of Object.keys(props)) {
    if (hint[name] && (name in body || rng.chance(0.3)) && rng.chance(0.5)) body[name] = hint[name]!();
  }
  if (!mutation) return { payload: toJson(body) };
  const [, target, how] = mutation.split(':') as [string, string, string | undefined];
  let blankField: string | undefined;
  let overflowField: string | undefined;
  if (how && target in props) {
    const fieldSchema = props[target]!;
    switch (how) {
      case 'wrong-type':
        body[target] = wrongType(fieldSchema, rng);
        break;
      case 'null':
        body[target] = null;
        break;
      case 'nasty':
        body[target] = rng.pick(NASTY_STRINGS);
        break;
      case 'huge-string':
        body[target] = 'h'.repeat(rng.pick([1001, 100_001, 500_000]));
        break;
      case 'nul':
        body[target] = rng.pick(['\u0000', 'Kettle\u0000', 'a\u0000b\u0000c']);
        break;
      case 'blank':
        body[target] = rng.pick(BLANK_STRINGS);
        blankField = target;
        break;
      case 'huge-number':
        body[target] = new Raw(rng.pick(JSON_NUMBERS));
        break;
      case 'overflow-number':
        // Beyond a double: JSON.parse makes these ±Infinity.
        body[target] = new Raw(rng.pick(['1e400', '-1e400', '1' + '0'.repeat(400)]));
        overflowField = target;
        break;
      case 'deep-nesting': {
        const depth = rng.pick([5000, 10_000, 20_000, 1000]);
        const nested = deepNesting(depth, rng.pick(['object', 'array'] as const));
        // Inside a free-form object (attributes) the nesting is a value; elsewhere it replaces the field.
        body[target] = typeOf(fieldSchema) === 'object' && fieldSchema.additionalProperties !== false ? { deep: nested } : nested;
        break;
      }
      case 'big-array': {
        const item = fake(fieldSchema.anyOf?.find((s: Schema) => s.type === 'array')?.items ?? fieldSchema.items ?? {}, rng.seed());
        body[target] = Array.from({ length: rng.pick([101, 501, 10_000]) }, () => item);
        break;
      }
      case 'item-mutation': {
        const arraySchema = fieldSchema.anyOf?.find((s: Schema) => s.type === 'array') ?? fieldSchema;
        const item = fake(arraySchema.items ?? {}, rng.seed());
        const bad =
          item && typeof item === 'object'
            ? {
                ...(item as object),
                [rng.pick(Object.keys(arraySchema.items?.properties ?? { x: 1 }))]: rng.pick([
                  new Raw('99999999999999999999'),
                  -1,
                  '\u200b',
                  null,
                  '',
                  'x'.repeat(1000),
                  new Raw('-0'),
                ]),
              }
            : rng.pick([null, 1, '\u200b', {}, '']);
        body[target] = [item, bad];
        break;
      }
      case 'weird-keys':
        body[target] = {
          [rng.pick(['', '\u200b', '__proto__', 'constructor', 'a.b', '$where', '\u0000', 'k'.repeat(10_000), '😀'])]: rng.pick([1, 'x', null, { y: [] }]),
        };
        break;
    }
    if (blankField && minLengthOf(fieldSchema) < 1) blankField = undefined;
    // The mutated field first, so that an excerpt of the body shows it.
    const { [target]: mutated, ...others } = body;
    return { payload: toJson({ [target]: mutated, ...others }), ...(blankField ? { blankField } : {}), ...(overflowField ? { overflowField } : {}) };
  }
  switch (target) {
    case 'missing-required':
      for (const r of schema.required ?? []) delete body[r];
      return { payload: toJson(body) };
    case 'extra-field':
      body[rng.pick(['extra', 'product_id', 'org_id', 'version', 'dpp_status', 'id'])] = rng.pick([1, 'x', true]);
      return { payload: toJson(body) };
    case 'empty-object':
      return { payload: '{}' };
    case 'proto':
      return { payload: rng.pick(['{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', `{"__proto__":null,${toJson(body).slice(1)}`]) };
    case 'array':
      return { payload: rng.pick(['[]', `[${toJson(body)}]`]) };
    case 'json-null':
      return { payload: 'null' };
    case 'json-string':
      return { payload: rng.pick(['"x"', '1', 'true', '99999999999999999999']) };
    case 'malformed': {
      const text = toJson(body);
      return { payload: rng.pick([text.slice(0, Math.max(1, text.length - 2)), `${text},`, text.replace(/"/g, "'"), `{${text}`, text.replace(':', '')]) };
    }
    case 'duplicate-keys': {
      const key = rng.pick(Object.keys(props).concat(['x']));
      return { payload: `{"${key}":"a","${key}":1,"${key}":null}` };
    }
    case 'random-bytes':
      return { payload: rng.bytes(rng.int(1, 4000)) };
    case 'empty':
      return { payload: rng.pick(['', ' ', '\n']) };
    case 'no-content-type':
      delete headers['content-type'];
      return { payload: toJson(body) };
    case 'wrong-content-type':
      headers['content-type'] = rng.pick(CONTENT_TYPES);
      return { payload: rng.chance(0.5) ? toJson(body) : rng.bytes(200) };
    case 'too-large':
      return { payload: toJson({ ...body, [Object.keys(props)[0] ?? 'x']: 'L'.repeat(rng.pick([1_100_000, 3_000_000])) }) };
    case 'bom':
      return { payload: `\ufeff${toJson(body)}` };
    case 'deep-root': {
      const depth = rng.pick([1000, 5000, 20_000]);
      return { payload: rng.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) };
    }
  }
  return { payload: toJson(body) };
}

function importBody(kind: string, rng: Rng, headers: Record<string, string>, query: Array<[string, string]>): string | Buffer {
  const ean = () => gtinWithCheck(String(rng.int(1e11, 1e12 - 1)));
  const row = () => [`FZ-I${rng.int(1, 30)}`, rng.pick(['Kettle', 'Bouilloire, 1,7 l', 'Größe "XL"', 'Lampe']), rng.chance(0.8) ? ean() : '', rng.pick(['ACME', ''])];
  const csv = (rows: string[][], sep = ',') => rows.map((r) => r.map((c) => (/[",;\t\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(sep)).join('\n') + '\n';
  const header = ['sku', 'title', 'ean', 'brand'];
  const rows = () => Array.from({ length: rng.int(1, 8) }, row);
  const ndjson = () =>
    rows()
      .map(([sku, title, e, brand]) => JSON.stringify({ external_id: sku, title, ean: e || null, brand, attributes: { colour: 'red' } }))
      .join('\n') + '\n';
  headers['content-type'] = 'text/csv';
  switch (kind) {
    case 'csv-valid':
      return csv([header, ...rows()]);
    case 'ndjson-valid':
      headers['content-type'] = rng.pick(['application/x-ndjson', 'application/jsonl']);
      return ndjson();
    case 'csv-broken-quote':
      return `sku,title,ean\nFZ-B1,"unterminated,${ean()}\nFZ-B2,ok,${ean()}\n`;
    case 'csv-bom-semicolon':
      return `\ufeff${csv([header, ...rows()], ';')}`;
    case 'csv-tab':
      return csv([header, ...rows()], '\t');
    case 'random-bytes':
      return rng.bytes(rng.int(1, 5000));
    case 'ndjson-garbage':
      headers['content-type'] = 'application/x-ndjson';
      return rng.pick(['{"title":"a"}\n{not json}\n[]\n"x"\nnull\n{"title":1}\n', '{"title":"a","attributes":"x"}\n{"title":"b","ean":123}\n', '\n\n\n']);
    case 'deep-attributes': {
      const depth = rng.pick([100, 1000, 5000]);
      const deep = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      if (rng.chance(0.5)) {
        headers['content-type'] = 'application/x-ndjson';
        return `{"title":"Deep","attributes":${deep}}\n`;
      }
      return `title,attributes\nDeep,"${deep.replace(/"/g, '""')}"\n`;
    }
    case 'huge-cell':
      return `sku,title\nFZ-H,${'t'.repeat(rng.pick([1001, 200_000, 1_500_000]))}\n`;
    case 'empty':
      return '';
    case 'header-only':
      return rng.pick(['sku,title,ean\n', 'title', '\ufeff']);
    case 'wrong-content-type':
      headers['content-type'] = rng.pick(CONTENT_TYPES.concat(['application/json']));
      return csv([header, ...rows()]);
    case 'format-mismatch':
      query.push(['format', rng.pick(['ndjson', 'csv'])]);
      return rng.chance(0.5) ? csv([header, ...rows()]) : ndjson();
    case 'nul-bytes':
      return `sku,title,ean\nFZ-N\u0000,Kett\u0000le,${ean()}\n`;
    case 'many-columns': {
      const n = rng.pick([300, 3000]);
      const cols = Array.from({ length: n }, (_v, i) => `c${i}`);
      return csv([
        ['title', ...cols],
        ['Wide', ...cols.map(() => 'v')],
      ]);
    }
    case 'nasty-values':
      return csv([
        ['sku', 'title', 'ean', 'brand', 'attributes', rng.pick(['colour', '__proto__', 'constructor', '', '\u200b'])],
        [
          rng.pick(NASTY_STRINGS),
          rng.pick(NASTY_STRINGS.concat(BLANK_STRINGS)),
          rng.pick(['99999999999999999999', '١٢٣٤٥٦٧٨', '0000000000000', ' 4006381333931 ', '4006-3813-3393-1']),
          rng.pick(NASTY_STRINGS),
          rng.pick(['{}', '[]', '"x"', 'null', '{"a":', '99999999999999999999']),
          rng.pick(NASTY_STRINGS),
        ],
      ]);
  }
  return csv([header, ...rows()]);
}

function uploadBody(kind: string, rng: Rng, headers: Record<string, string>): Buffer {
  const boundary = `----fuzz${rng.bytes(8).toString('hex')}`;
  const kindField = { name: 'kind', value: rng.pick(['declaration_of_conformity', 'rohs', 'datasheet', 'other']) };
  const file = (name: string, bytes: Buffer, type = 'application/octet-stream') => ({ name: 'file', filename: name, type, bytes });
  const text = `${DOC_TEXT}\n${rng.bytes(8).toString('hex')}`;
  let form;
  switch (kind) {
    case 'html':
      form = multipart(boundary, [
        kindField,
        file('page.html', Buffer.from(`<!doctype html><html><body><h1>DoC</h1><p>${text}</p><script>alert(1)</script></body></html>`), 'text/html'),
      ]);
      break;
    case 'markdown':
      form = multipart(boundary, [file('doc.md', Buffer.from(`# Declaration\n\n- ${text.replace(/\n/g, '\n- ')}`), 'text/markdown')]);
      break;
    case 'fake-pdf':
      form = multipart(boundary, [file('doc.pdf', Buffer.concat([Buffer.from('%PDF-1.7\n'), rng.bytes(2000)]), 'application/pdf')]);
      break;
    case 'random-bytes':
      form = multipart(boundary, [file('blob.bin', rng.bytes(rng.int(1, 5000)))]);
      break;
    case 'empty-file':
      form = multipart(boundary, [file('empty.txt', Buffer.alloc(0), 'text/plain')]);
      break;
    case 'bad-kind':
      form = multipart(boundary, [{ name: 'kind', value: rng.pick(['nope', '', '\u200b', 'x'.repeat(1000)]) }, file('d.txt', Buffer.from(text), 'text/plain')]);
      break;
    case 'no-file':
      form = multipart(boundary, [kindField]);
      break;
    case 'no-boundary':
      headers['content-type'] = 'multipart/form-data';
      return Buffer.from(`--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n${text}\r\n--x--\r\n`);
    case 'truncated': {
      const full = multipart(boundary, [kindField, file('d.txt', Buffer.from(text), 'text/plain')], false);
      Object.assign(headers, full.headers);
      return full.payload.subarray(0, rng.int(10, full.payload.length - 1));
    }
    case 'two-files':
      form = multipart(boundary, [file('a.txt', Buffer.from(text), 'text/plain'), file('b.txt', Buffer.from(`${text}b`), 'text/plain')]);
      break;
    case 'nasty-filename':
      form = multipart(boundary, [
        file(rng.pick(['../../etc/passwd', '日本語 🚀.txt', 'a\u200b.txt', 'x'.repeat(2000) + '.txt', '', 'CON', 'a"b.txt', '%00.txt']), Buffer.from(text), 'text/plain'),
      ]);
      break;
    case 'big-field':
      form = multipart(boundary, [{ name: 'kind', value: 'k'.repeat(rng.pick([1025, 100_000])) }, file('d.txt', Buffer.from(text), 'text/plain')]);
      break;
    case 'json-instead':
      headers['content-type'] = 'application/json';
      return Buffer.from(JSON.stringify({ file: text, kind: 'other' }));
    default:
      form = multipart(boundary, [kindField, file('doc.txt', Buffer.from(text), 'text/plain')]);
  }
  Object.assign(headers, form.headers);
  return form.payload;
}

// ---------------------------------------------------------------------------------------------
// Plan
// ---------------------------------------------------------------------------------------------

/**
 * The plan of a run, derived from the seed alone. First every mutation of every operation once (a
 * seeded sample of them when `total` is too small for all), then the rest shared equally among the
 * operations, 60 % valid requests and 40 % random mutations; all in a seeded order, except requests
 * that delete seeded data, which come last.
 */
export function planRun(ops: Operation[], total: number, seed: number): Planned[] {
  const rng = createRng(seed);
  const all = ops.flatMap((op) => mutationsOf(op).map((mutation) => ({ op, mutation })));
  const systematic = rng.shuffle(all).slice(0, Math.min(all.length, Math.floor(total * 0.55)));
  const items: Planned[] = systematic.map(({ op, mutation }) => ({ op, mutation, seed: rng.seed() }));
  const rest = total - items.length;
  const per = Math.floor(rest / ops.length);
  ops.forEach((op, index) => {
    const mutations = mutationsOf(op);
    const share = per + (index < rest - per * ops.length ? 1 : 0);
    for (let i = 0; i < share; i++) items.push({ op, mutation: rng.chance(0.6) ? 'valid' : rng.pick(mutations), seed: rng.seed() });
  });
  rng.shuffle(items);
  return [...items.filter((p) => p.op.method !== 'DELETE'), ...items.filter((p) => p.op.method === 'DELETE')];
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

export type Check = '5xx' | 'problem+json' | 'response-schema' | 'hang' | 'blank-accepted' | 'overflow-accepted' | 'client-error';

export interface Failure {
  check: Check;
  op: string;
  method: string;
  url: string;
  kind: string;
  status: number | undefined;
  /** What was wrong, e.g. the schema errors or the content type. */
  message: string;
  request: string;
  response: string;
  /** The answer's x-request-id, to find the server's log of a 5xx. */
  requestId?: string;
}

/** Characters that print as nothing (or as a space): shown escaped in reports. */
// eslint-disable-next-line no-misleading-character-class -- each code point on its own, combining marks included
const INVISIBLE = /[\u0080-\u00a0\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\u3164\ufeff\ufff0-\uffff]/g;

/** A one-line excerpt of a body: JSON-escaped, invisible characters visible, binary bodies as their size. */
function excerpt(value: string | Buffer | undefined, n: number): string {
  if (value === undefined) return '';
  let text: string;
  if (typeof value === 'string') text = value;
  else {
    // Not UTF-8 (a replacement character, ignoring a sequence cut at the end of the sample): binary.
    if (value.subarray(0, 512).toString('utf8').slice(0, -2).includes('\ufffd')) return `<${value.length} bytes>`;
    text = value.toString('utf8');
  }
  const flat = JSON.stringify(text)
    .slice(1, -1)
    .replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return flat.length > n ? `${flat.slice(0, n)}… (${text.length} chars)` : flat;
}

export function createResponseValidator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  const cache = new WeakMap<Schema, ValidateFunction>();
  return (schema: Schema, value: unknown): string | undefined => {
    let validate = cache.get(schema);
    if (!validate) {
      validate = ajv.compile(schema);
      cache.set(schema, validate);
    }
    if (validate(value)) return undefined;
    return (validate.errors ?? [])
      .slice(0, 5)
      .map(
        (e) =>
          `${e.instancePath || '/'} ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : ''}`,
      )
      .join('; ');
  };
}

/** The JSON pointer of the first non-finite number in a parsed JSON value, or undefined. */
function nonFinite(value: unknown, path = ''): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = nonFinite(v, `${path}/${k}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Runs every check on one answer. */
export function checkResponse(req: FuzzRequest, res: LightMyRequestResponse, validate: ReturnType<typeof createResponseValidator>, stats?: { validated: number }): Failure[] {
  const failures: Failure[] = [];
  const status = res.statusCode;
  const type = String(res.headers['content-type'] ?? '');
  const fail = (check: Check, message: string) =>
    failures.push({
      check,
      op: req.op.id,
      method: req.method,
      url: req.url,
      kind: req.kind,
      status,
      message,
      request: excerpt(req.payload, 300),
      response: excerpt(res.rawPayload, 400),
      ...(res.headers['x-request-id'] ? { requestId: String(res.headers['x-request-id']) } : {}),
    });
  const head = req.method === 'HEAD';
  let parsed: unknown;
  let parseError: string | undefined;
  if (!head && /json/i.test(type) && res.rawPayload.length > 0) {
    try {
      parsed = JSON.parse(res.body);
    } catch (e) {
      parseError = (e as Error).message;
    }
  }

  if (status >= 500) {
    const detail = (parsed as Schema | undefined)?.detail;
    fail('5xx', `${status}${typeof detail === 'string' ? `: ${detail}` : ''}${type.startsWith('application/problem+json') ? '' : ` (content-type ${type || 'none'})`}`);
    return failures;
  }

  if (status >= 400) {
    const htmlPageAllowed = req.op.htmlPage && !req.wantsJson && type.startsWith('text/html');
    if (!htmlPageAllowed) {
      if (!type.startsWith('application/problem+json')) {
        const code = (parsed as Schema | undefined)?.code;
        fail('problem+json', `content-type "${type || 'none'}" instead of application/problem+json${typeof code === 'string' ? ` (code ${code})` : ''}`);
      } else if (!head) {
        const p = parsed as Schema | undefined;
        const wrong: string[] = [];
        if (parseError || !p || typeof p !== 'object') wrong.push(`body is not a JSON object${parseError ? ` (${parseError})` : ''}`);
        else {
          for (const f of ['type', 'title', 'detail']) if (typeof p[f] !== 'string' || p[f] === '') wrong.push(`${f} missing or not a non-empty string`);
          if (p.status !== status) wrong.push(`status field ${JSON.stringify(p.status)} ≠ HTTP ${status}`);
          // The service's 413 names the limit that was exceeded; a limit of 0 bytes is never the real one.
          if (status === 413 && 'limit_bytes' in p && !(typeof p.limit_bytes === 'number' && p.limit_bytes > 0)) {
            wrong.push(`413 states limit_bytes ${JSON.stringify(p.limit_bytes)} (detail: ${String(p.detail)})`);
          }
        }
        if (wrong.length) fail('problem+json', wrong.join('; '));
      }
    }
  }

  // An error that is not a problem document is reported once, as such, not again as a schema mismatch.
  const schema = failures.length ? undefined : req.op.responseSchemas.get(String(status));
  if (schema && !head && status !== 204 && status !== 304 && res.rawPayload.length > 0) {
    if (!/json/i.test(type)) {
      if (status < 400) fail('response-schema', `content-type "${type}" where application/json is documented`);
    } else if (parseError) {
      fail('response-schema', `body is not JSON: ${parseError}`);
    } else {
      const errors = validate(schema, parsed);
      if (stats) stats.validated++;
      if (errors) fail('response-schema', errors);
      else {
        const where = nonFinite(parsed);
        if (where !== undefined)
          fail(
            'response-schema',
            `${where || '/'} is a number beyond the double range (${JSON.stringify(res.body.match(/:\s*(-?\d+(?:\.\d+)?e\+?\d{3,}|"-?Infinity")/i)?.[1] ?? 'Infinity')}), which JSON clients read as Infinity`,
          );
      }
    }
  }

  if (req.overflowField && status >= 200 && status < 300) {
    fail('overflow-accepted', `"${req.overflowField}" sent as a number beyond the double range (JSON.parse makes it ±Infinity) was accepted`);
  }
  if (req.blankField && status >= 200 && status < 300) {
    fail('blank-accepted', `"${req.blankField}" (minLength ≥ 1) sent as only whitespace/invisible characters was accepted`);
  }
  return failures;
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

const MAX_HANGS_PER_OPERATION = 2;

export interface FuzzOptions {
  seed: number;
  requests: number;
  /** An answer slower than this is a hang. */
  timeoutMs?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Limit to operations whose id matches. */
  only?: RegExp;
  onProgress?: (sent: number, total: number) => void;
}

export interface FuzzReport {
  seed: number;
  operations: number;
  sent: number;
  byClass: Record<string, number>;
  byStatus: Record<string, number>;
  failures: Failure[];
  counts: Record<Check, number>;
  /** Requests not sent because the same input kind had already hung twice on their operation. */
  skipped: number;
  /** Answers whose body was validated against a documented schema. */
  validated: number;
  /** Statuses seen that the operation does not document (informational, not a failure). */
  undocumented: Map<string, number>;
  slowestMs: number;
  durationMs: number;
}

/** Seeds data, reads the OpenAPI document, and sends `requests` generated requests. */
export async function runFuzz(t: TestApp, options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 5000;
  const fx = await seedFixtures(t);
  const docRes = await t.app.inject({ method: 'GET', url: '/openapi.json' });
  if (docRes.statusCode !== 200) throw new Error(`GET /openapi.json answered ${docRes.statusCode}`);
  const doc = docRes.json() as Schema;
  const ops = [...operationsOf(doc), ...extraOperations()].filter((op) => !options.only || options.only.test(op.id));
  const plan = planRun(ops, options.requests, options.seed);
  const validate = createResponseValidator();
  const report: FuzzReport = {
    seed: options.seed,
    operations: ops.length,
    sent: 0,
    byClass: {},
    byStatus: {},
    failures: [],
    counts: { '5xx': 0, 'problem+json': 0, 'response-schema': 0, hang: 0, 'blank-accepted': 0, 'overflow-accepted': 0, 'client-error': 0 },
    validated: 0,
    skipped: 0,
    undocumented: new Map(),
    slowestMs: 0,
    durationMs: 0,
  };
  const record = (f: Failure) => {
    report.failures.push(f);
    report.counts[f.check]++;
  };

  const hangs = new Map<string, number>();
  const sendOne = async (item: Planned) => {
    // An input kind that hung twice on an operation is not sent more: each hang costs `timeoutMs`, and two make the point.
    const hangKey = `${item.op.id} ${item.mutation}`;
    if ((hangs.get(hangKey) ?? 0) >= MAX_HANGS_PER_OPERATION) {
      report.skipped++;
      return;
    }
    let req: FuzzRequest;
    try {
      req = buildRequest(item, fx);
    } catch (e) {
      record({
        check: 'client-error',
        op: item.op.id,
        method: item.op.method,
        url: item.op.path,
        kind: item.mutation,
        status: undefined,
        message: `fuzzer could not build the request: ${(e as Error).stack}`,
        request: '',
        response: '',
      });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'hang'>((resolve) => {
      timer = setTimeout(() => resolve('hang'), timeoutMs);
    });
    const t0 = performance.now();
    let res: LightMyRequestResponse | 'hang';
    try {
      res = await Promise.race([
        t.app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, ...(req.payload !== undefined ? { payload: req.payload } : {}) }),
        timeout,
      ]);
    } catch (e) {
      report.sent++;
      record({
        check: 'client-error',
        op: req.op.id,
        method: req.method,
        url: req.url,
        kind: req.kind,
        status: undefined,
        message: `inject threw: ${(e as Error).message}`,
        request: excerpt(req.payload, 300),
        response: '',
      });
      return;
    } finally {
      clearTimeout(timer);
    }
    const elapsed = performance.now() - t0;
    report.sent++;
    options.onProgress?.(report.sent, plan.length);
    if (res === 'hang') {
      hangs.set(hangKey, (hangs.get(hangKey) ?? 0) + 1);
      record({
        check: 'hang',
        op: req.op.id,
        method: req.method,
        url: req.url,
        kind: req.kind,
        status: undefined,
        message: `no answer within ${timeoutMs} ms`,
        request: excerpt(req.payload, 300),
        response: '',
      });
      return;
    }
    report.slowestMs = Math.max(report.slowestMs, elapsed);
    const cls = `${Math.floor(res.statusCode / 100)}xx`;
    report.byClass[cls] = (report.byClass[cls] ?? 0) + 1;
    report.byStatus[res.statusCode] = (report.byStatus[res.statusCode] ?? 0) + 1;
    if (!req.op.extra && req.method === req.op.method && !req.op.documentedStatuses.has(String(res.statusCode))) {
      const key = `${req.op.id} → ${res.statusCode}`;
      report.undocumented.set(key, (report.undocumented.get(key) ?? 0) + 1);
    }
    for (const f of checkResponse(req, res, validate, report)) record(f);
  };

  // Lanes: imports one at a time in a lane of their own (the import route refuses more than a couple
  // of concurrent imports with a 503, by design), everything else in `concurrency - 1` lanes.
  const lane = async (queue: Planned[]) => {
    for (let item = queue.shift(); item; item = queue.shift()) await sendOne(item);
  };
  const imports = plan.filter((p) => p.op.bodyKind === 'import');
  const others = plan.filter((p) => p.op.bodyKind !== 'import');
  await Promise.all([lane(imports), ...Array.from({ length: Math.max(1, (options.concurrency ?? 4) - 1) }, () => lane(others))]);
  report.durationMs = performance.now() - started;
  return report;
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

export interface FailureGroup {
  check: Check;
  ops: Set<string>;
  status: number | undefined;
  message: string;
  kinds: Set<string>;
  count: number;
  example: Failure;
}

/** Groups failures by check, operation, status and message (ids and numbers folded), collecting the input kinds. */
export function groupFailures(failures: Failure[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const f of failures) {
    const message = f.message
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
      .replace(/"[^"]{40,}"/g, '"…"')
      .replace(/\d{4,}/g, 'N')
      .slice(0, 200);
    // A non-problem error answer usually has one cause across routes (same code); anything else is per
    // operation, and a 5xx per input kind too (its detail is the same generic text for every cause).
    const key =
      f.check === 'problem+json'
        ? [f.check, f.status, message].join('|')
        : f.check === '5xx'
          ? [f.check, f.op, f.status, f.kind, message].join('|')
          : [f.check, f.op, f.status, message].join('|');
    const g = groups.get(key);
    if (g) {
      g.count++;
      g.kinds.add(f.kind);
      g.ops.add(f.op);
    } else groups.set(key, { check: f.check, ops: new Set([f.op]), status: f.status, message, kinds: new Set([f.kind]), count: 1, example: f });
  }
  return [...groups.values()].sort((a, b) => a.check.localeCompare(b.check) || [...a.ops][0]!.localeCompare([...b.ops][0]!) || b.count - a.count);
}

/** `explain` may add what the server logged for a failure (bench/fuzz.ts passes the logged error of a 5xx). */
export function formatFailures(failures: Failure[], seed: number, explain?: (f: Failure) => string | undefined, maxGroups = Infinity): string {
  const groups = groupFailures(failures);
  const lines = [`${failures.length} failed checks in ${groups.length} distinct groups (seed ${seed}; rerun with FUZZ_SEED=${seed}):`];
  for (const g of groups.slice(0, maxGroups)) {
    const e = g.example;
    lines.push(
      '',
      `[${g.check}] ${g.ops.size === 1 ? [...g.ops][0] : `${g.ops.size} operations`} → ${g.status ?? '-'} ×${g.count}: ${g.message}`,
      ...(g.ops.size > 1 ? [`  operations: ${[...g.ops].sort().join('; ')}`] : []),
      `  input kinds: ${[...g.kinds].sort().join(', ')}`,
      `  e.g. ${e.method} ${e.url.length > 240 ? `${e.url.slice(0, 240)}… (${e.url.length} chars)` : e.url}`,
      ...(e.request ? [`  request body: ${e.request}`] : []),
      ...(e.response ? [`  response: ${e.response}`] : []),
      ...[explain?.(e)].filter((x): x is string => Boolean(x)).map((x) => `  server log: ${x}`),
    );
  }
  if (groups.length > maxGroups) lines.push('', `… and ${groups.length - maxGroups} more groups`);
  return lines.join('\n');
}

/** The figures of a run; `maxUndocumented` caps the informational list of undocumented statuses. */
export function formatSummary(report: FuzzReport, label: string, maxUndocumented = Infinity): string {
  const classes = Object.entries(report.byClass)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const all = [...report.undocumented.entries()].sort().map(([k, v]) => `${k} (×${v})`);
  const undocumented = all.length > maxUndocumented ? [...all.slice(0, maxUndocumented), `… ${all.length - maxUndocumented} more`] : all;
  return [
    `fuzz ${label}: seed ${report.seed}, ${report.operations} operations, ${report.sent} requests in ${(report.durationMs / 1000).toFixed(1)} s (slowest answer ${report.slowestMs.toFixed(0)} ms)${report.skipped ? `, ${report.skipped} not sent after ${MAX_HANGS_PER_OPERATION} hangs of the same kind` : ''}`,
    `  by status class: ${classes}; ${report.validated} bodies validated against their documented schema`,
    `  5xx ${report.counts['5xx']}, problem+json ${report.counts['problem+json']}, schema mismatches ${report.counts['response-schema']}, hangs ${report.counts.hang}, blank accepted ${report.counts['blank-accepted']}, overflow accepted ${report.counts['overflow-accepted']}, fuzzer errors ${report.counts['client-error']}`,
    ...(undocumented.length ? [`  statuses not in the OpenAPI document (not failures): ${undocumented.join('; ')}`] : []),
  ].join('\n');
}

/** Reads the seed from FUZZ_SEED (a number, or `random`), else the default. */
export function fuzzSeed(fallback: number): number {
  const env = process.env.FUZZ_SEED;
  if (env === 'random') return Math.floor(Math.random() * 2 ** 31);
  if (env && Number.isInteger(Number(env))) return Number(env);
  return fallback;
}
