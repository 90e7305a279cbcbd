import { sql, type RawBuilder } from 'kysely';
import { Type, type TObject, type TSchema } from 'typebox';
import { fromBool, jsonAsText, jsonBool, jsonFromText, jsonObject, toBool, type Dialect } from '../../db/dialect.js';
import { ACCESS_TIERS, DppStatusSchema, type AccessTier, type Endpoint, type FieldRow } from './model.js';

/**
 * Everything derived from a passport model (model.ts): schemas, row mapping, both renderers,
 * completeness, JSON-LD entries. Written over any model, not just PASSPORT_MODEL, so that a test can
 * add a row and see every part follow (test/features/passport-model.test.ts); passport-fields.ts
 * applies these to PASSPORT_MODEL once (record.ts, schemas.ts, views.ts), with the types the rest of the code uses.
 */
export type AnyModel = Readonly<Record<string, FieldRow>>;

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** The field names, in declaration order, that satisfy `keep`. */
export function fieldNames(model: AnyModel, keep: (row: FieldRow) => boolean = () => true): string[] {
  return Object.entries(model)
    .filter(([, row]) => keep(row))
    .map(([name]) => name);
}

/** A PATCH body: every field of `endpoint` optional, null clears, nothing else accepted, at least one field. */
export function patchBodySchema(model: AnyModel, endpoint: Endpoint): TObject {
  const properties = Object.fromEntries(fieldNames(model, (r) => r.endpoints.includes(endpoint)).map((name) => [name, Type.Optional(Nullable(model[name]!.input))]));
  return Type.Object(properties, { additionalProperties: false, minProperties: 1 });
}

/** How a field is answered: its output type, [] for an unset list, null for any other unset value. */
function answered(row: FieldRow): TSchema {
  return row.list || row.fallsBackToTitle ? row.output : Nullable(row.output);
}

function sectionProperties(model: AnyModel, section: FieldRow['section']): Record<string, TSchema> {
  return Object.fromEntries(fieldNames(model, (r) => r.section === section).map((name) => [name, answered(model[name]!)]));
}

/** The passport GET answer: identity, the passport section, lifecycle, and the environmental section. */
export function passportSchema(model: AnyModel): TObject {
  return Type.Object({
    product_id: Type.String(),
    ean: Nullable(Type.String()),
    dpp_id: Type.String(),
    ...sectionProperties(model, 'passport'),
    updated_at: Type.String(),
    dpp_status: DppStatusSchema,
    version: Type.Integer({ description: 'revision of the working copy; increases with every change' }),
    missing_fields: Type.Array(Type.String(), { description: 'what still keeps the passport from complete' }),
    has_unpublished_changes: Type.Boolean(),
    published_version: Nullable(Type.Integer({ description: 'number of the version the public sees' })),
    published_at: Nullable(Type.String()),
    withdrawn_at: Nullable(Type.String()),
    environmental: Type.Object(sectionProperties(model, 'environmental')),
  });
}

/** The environmental GET answer: the fields its PATCH sets, wherever the passport shows them. */
export function environmentalSchema(model: AnyModel): TObject {
  return Type.Object({
    product_id: Type.String(),
    ...Object.fromEntries(fieldNames(model, (r) => r.endpoints.includes('environmental')).map((name) => [name, answered(model[name]!)])),
    updated_at: Nullable(Type.String()),
    version: Type.Integer(),
  });
}

// ---- the stored row

/** Values from a `compliance_records` row (null for every field when there is no row). */
export function valuesFromRow(model: AnyModel, row: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, { storage }] of Object.entries(model)) {
    const raw = row?.[name];
    if (raw === null || raw === undefined) out[name] = null;
    else if (storage === 'json') out[name] = JSON.parse(raw as string);
    else if (storage === 'boolean') out[name] = toBool(raw as number | boolean);
    else if (storage === 'number') out[name] = Number(raw);
    else out[name] = raw;
  }
  return out;
}

/** Column values for the fields given (JSON as text, booleans as the dialect's). */
export function columnsFor(model: AnyModel, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const storage = model[name]?.storage;
    if (value === null || value === undefined) out[name] = null;
    else if (storage === 'json') out[name] = JSON.stringify(value);
    else if (storage === 'boolean') out[name] = fromBool(value as boolean);
    else out[name] = value;
  }
  return out;
}

// ---- completeness

/** A value that counts as missing for completeness: unset, blank, or an empty list. */
export function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
}

/** The fields a complete passport needs. */
export function requiredForComplete(model: AnyModel): string[] {
  return fieldNames(model, (r) => r.requiredForComplete);
}

// ---- the two renderers

export interface ProductIdentity {
  id: string;
  title: string;
  ean: string | null;
}

/** Lifecycle state of a record, as both renderers show it. */
export interface RecordState {
  dpp_id: string;
  updated_at: string;
  version: number;
  has_unpublished_changes: number | boolean | null;
  published_version: number | null;
  published_at: string | null;
  withdrawn_at: string | null;
}

/** The named fields as answered: an unset list as [], the name falling back to the title, else null when unset. */
export function answeredValues(model: AnyModel, names: readonly string[], values: Readonly<Record<string, unknown>>, title: string | null = null) {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const row = model[name]!;
    const value = values[name] ?? null;
    out[name] = value === null ? (row.list ? [] : row.fallsBackToTitle ? title : null) : value;
  }
  return out;
}

function sectionValues(model: AnyModel, section: FieldRow['section'], product: ProductIdentity, values: Readonly<Record<string, unknown>>) {
  return answeredValues(
    model,
    fieldNames(model, (r) => r.section === section),
    values,
    product.title,
  );
}

/** The passport as the API answers it, from values in the application (publish snapshots, exports). */
export function renderPassport(
  model: AnyModel,
  product: ProductIdentity,
  record: RecordState,
  values: Readonly<Record<string, unknown>>,
  status: string,
  missingFields: string[],
): Record<string, unknown> {
  return {
    product_id: product.id,
    ean: product.ean,
    dpp_id: record.dpp_id,
    ...sectionValues(model, 'passport', product, values),
    updated_at: record.updated_at,
    dpp_status: status,
    version: record.version,
    missing_fields: missingFields,
    has_unpublished_changes: toBool(record.has_unpublished_changes) ?? false,
    published_version: record.published_version,
    published_at: record.published_at,
    withdrawn_at: record.withdrawn_at,
    environmental: sectionValues(model, 'environmental', product, values),
  };
}

/**
 * The same passport rendered by the database as JSON text, from `products p` joined with
 * `compliance_records cr` (null when the product has no passport). The status comes from
 * `products.dpp_status` and the missing fields from `cr.missing_fields`, both written with every change.
 */
export function passportDocumentSql(model: AnyModel, dialect: Dialect): RawBuilder<string | null> {
  const ref = (column: string) => sql.ref(column);
  const column = (name: string): RawBuilder<unknown> => {
    const row = model[name]!;
    const c = ref(`cr.${name}`);
    if (row.list) return jsonFromText(dialect, sql`coalesce(${c}, '[]')`);
    if (row.storage === 'json') return jsonFromText(dialect, c);
    if (row.storage === 'boolean') return jsonBool(dialect, c);
    if (row.fallsBackToTitle) return sql`coalesce(${c}, ${ref('p.title')})`;
    return sql`${c}`;
  };
  const section = (s: FieldRow['section']) => fieldNames(model, (r) => r.section === s).map((name) => [name, column(name)] as const);
  const doc = jsonObject(dialect, [
    ['product_id', ref('p.id')],
    ['ean', ref('p.ean')],
    ['dpp_id', ref('cr.dpp_id')],
    ...section('passport'),
    ['updated_at', ref('cr.updated_at')],
    ['dpp_status', ref('p.dpp_status')],
    ['version', ref('cr.version')],
    ['missing_fields', jsonFromText(dialect, ref('cr.missing_fields'))],
    ['has_unpublished_changes', jsonBool(dialect, ref('cr.has_unpublished_changes'))],
    ['published_version', ref('cr.published_version')],
    ['published_at', ref('cr.published_at')],
    ['withdrawn_at', ref('cr.withdrawn_at')],
    ['environmental', jsonObject(dialect, section('environmental'))],
  ]);
  return sql<string | null>`case when ${ref('cr.passport_created_at')} is null then null else ${jsonAsText(dialect, doc)} end`;
}

// ---- JSON-LD

/** The default export's entries for the fields, by term, from a rendered passport (unset values left out by the caller). */
export function jsonLdEntries(model: AnyModel, passport: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const environmental = (passport.environmental ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, row] of Object.entries(model)) {
    const value = row.section === 'environmental' ? environmental[name] : passport[name];
    if (value === null || value === undefined) continue;
    out[row.jsonLd.term] = row.jsonLd.value ? row.jsonLd.value(value as never) : value;
  }
  return out;
}

/** The tiers a reader of `tier` sees: its own and those below it (an authority sees every field). */
export function tiersVisibleTo(tier: AccessTier): readonly AccessTier[] {
  return ACCESS_TIERS.slice(0, ACCESS_TIERS.indexOf(tier) + 1);
}

/** The fields a reader of `tier` may not see. */
export function hiddenFrom(model: AnyModel, tier: AccessTier): string[] {
  const visible = tiersVisibleTo(tier);
  return fieldNames(model, (row) => !visible.includes(row.tier));
}

/**
 * The passport as a reader of `tier` may see it: the fields of higher tiers are left out (not
 * nulled: "no value" and "not yours to see" are different answers). Every public renderer (page,
 * JSON-LD, UNTP, linkset) works on this copy, so a restricted field cannot reach one by mistake.
 */
export function redactPassport<V extends { environmental: object }>(model: AnyModel, view: V, tier: AccessTier): V {
  const hidden = hiddenFrom(model, tier);
  if (hidden.length === 0) return view;
  const top: Record<string, unknown> = { ...view };
  const environmental: Record<string, unknown> = { ...view.environmental };
  for (const name of hidden) {
    if (model[name]!.section === 'environmental') delete environmental[name];
    else delete top[name];
  }
  return { ...top, environmental } as V;
}
