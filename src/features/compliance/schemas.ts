import { Type, type Static, type TSchema } from 'typebox';
import { PageParams } from '../../http/schemas.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const MaterialSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    percentage: Type.Number({ minimum: 0, maximum: 100, description: 'share of the product by mass, 0–100' }),
  },
  { additionalProperties: false },
);

export const SubstanceSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 300 }),
    cas_number: Type.Optional(Nullable(Type.String({ maxLength: 20, description: 'CAS Registry Number, NNNNNNN-NN-N' }))),
    ec_number: Type.Optional(Nullable(Type.String({ maxLength: 20, description: 'EC number, NNN-NNN-N' }))),
    concentration_pct: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 100, description: '% w/w in the article' }))),
    location: Type.Optional(Nullable(Type.String({ maxLength: 500, description: 'where in the product' }))),
  },
  { additionalProperties: false },
);

/** Every passport field a client may set (the spec lists four; the rest are in the passport too). */
export const passportFieldSchemas = {
  product_name: Type.String({ minLength: 1, maxLength: 1000 }),
  manufacturer: Type.String({ minLength: 1, maxLength: 500 }),
  country_of_origin: Type.String({ minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2' }),
  materials: Type.Array(MaterialSchema, { maxItems: 100 }),
  carbon_footprint_kg: Type.Number({ minimum: 0, description: 'kg CO₂e over the life cycle' }),
  recyclability_score: Type.String({ pattern: '^[A-Ea-e]$', description: 'A (best) to E' }),
  certifications: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 }),
  end_of_life_instructions: Type.String({ minLength: 1, maxLength: 10_000 }),
};

export const environmentalFieldSchemas = {
  reach_compliant: Type.Boolean(),
  rohs_compliant: Type.Boolean(),
  ce_marked: Type.Boolean(),
  weee_category: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Integer({ minimum: 1, maximum: 6 })], {
    description: 'one of the six categories of Directive 2012/19/EU Annex III, by name or number 1–6',
  }),
  energy_class: Type.String({ minLength: 1, maxLength: 5, description: 'A–G, or A+++ to D on the older scale' }),
  carbon_footprint_kg: passportFieldSchemas.carbon_footprint_kg,
  recyclable: Type.Boolean(),
  hazardous_substances: Type.Array(SubstanceSchema, { maxItems: 500, description: 'SVHC declarations (REACH art. 33)' }),
};

function patchBody<T extends Record<string, TSchema>>(fields: T) {
  return Type.Object(
    Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, Type.Optional(Nullable(s))])) as {
      [K in keyof T]: ReturnType<typeof Type.Optional<ReturnType<typeof Nullable<T[K]>>>>;
    },
    { additionalProperties: false, minProperties: 1 },
  );
}

export const PassportPatchBody = patchBody(passportFieldSchemas);
export type PassportPatch = Static<typeof PassportPatchBody>;
export const EnvironmentalPatchBody = patchBody(environmentalFieldSchemas);
export type EnvironmentalPatch = Static<typeof EnvironmentalPatchBody>;

const Material = Type.Object({ name: Type.String(), percentage: Type.Number() });
const Substance = Type.Object({
  name: Type.String(),
  cas_number: Nullable(Type.String()),
  ec_number: Nullable(Type.String()),
  concentration_pct: Nullable(Type.Number()),
  location: Nullable(Type.String()),
});

export const DppStatus = Type.Union([Type.Literal('draft'), Type.Literal('complete'), Type.Literal('published')]);

export const PassportSchema = Type.Object({
  product_id: Type.String(),
  ean: Nullable(Type.String()),
  dpp_id: Type.String(),
  product_name: Nullable(Type.String()),
  manufacturer: Nullable(Type.String()),
  country_of_origin: Nullable(Type.String()),
  materials: Type.Array(Material),
  carbon_footprint_kg: Nullable(Type.Number()),
  recyclability_score: Nullable(Type.String()),
  certifications: Type.Array(Type.String()),
  end_of_life_instructions: Nullable(Type.String()),
  updated_at: Type.String(),
  dpp_status: DppStatus,
  version: Type.Integer({ description: 'revision of the working copy; increases with every change' }),
  missing_fields: Type.Array(Type.String(), { description: 'what still keeps the passport from complete' }),
  has_unpublished_changes: Type.Boolean(),
  published_version: Nullable(Type.Integer({ description: 'number of the version the public sees' })),
  published_at: Nullable(Type.String()),
  withdrawn_at: Nullable(Type.String()),
  environmental: Type.Object({
    reach_compliant: Nullable(Type.Boolean()),
    rohs_compliant: Nullable(Type.Boolean()),
    ce_marked: Nullable(Type.Boolean()),
    weee_category: Nullable(Type.String()),
    energy_class: Nullable(Type.String()),
    recyclable: Nullable(Type.Boolean()),
    hazardous_substances: Type.Array(Substance),
  }),
});

export const EnvironmentalSchema = Type.Object({
  product_id: Type.String(),
  reach_compliant: Nullable(Type.Boolean()),
  rohs_compliant: Nullable(Type.Boolean()),
  ce_marked: Nullable(Type.Boolean()),
  weee_category: Nullable(Type.String()),
  energy_class: Nullable(Type.String()),
  carbon_footprint_kg: Nullable(Type.Number()),
  recyclable: Nullable(Type.Boolean()),
  hazardous_substances: Type.Array(Substance),
  updated_at: Nullable(Type.String()),
  version: Type.Integer(),
});

/** PATCH answers: the product, the fields that were sent (normalised), and the new state. */
export const PatchResult = Type.Object(
  {
    product_id: Type.String(),
    updated_at: Type.String(),
    version: Type.Integer(),
  },
  { additionalProperties: true },
);

export const ListQuery = Type.Object(
  {
    ...PageParams,
    search: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    dpp_status: Type.Optional(DppStatus),
    has_dpp: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ListQueryInput = Static<typeof ListQuery>;

export const ListResult = Type.Object({
  items: Type.Array(
    Type.Object({
      product_id: Type.String(),
      title: Type.String(),
      ean: Nullable(Type.String()),
      dpp_status: Nullable(DppStatus),
      has_unpublished_changes: Type.Boolean(),
      updated_at: Type.String(),
    }),
  ),
  total: Type.Integer({ description: 'matching products; with a search, exact up to 10,000 (see total_is_estimate)' }),
  total_is_estimate: Type.Boolean({
    description: 'true when a search matched more than 10,000 products: total is then a lower bound (counting every match of a common word would cost more than the page)',
  }),
  page: Type.Integer(),
  per_page: Type.Integer(),
});

export const StatsResult = Type.Object({
  total_products: Type.Integer(),
  with_dpp: Type.Integer(),
  fill_rate_pct: Type.Number(),
  certifications: Type.Record(Type.String(), Type.Integer()),
  by_status: Type.Object({ draft: Type.Integer(), complete: Type.Integer(), published: Type.Integer() }),
});

export const HistoryQuery = Type.Object(
  {
    ...PageParams,
  },
  { additionalProperties: false },
);

export const HistoryResult = Type.Object({
  items: Type.Array(
    Type.Object({
      version: Type.Integer(),
      changed_at: Type.String(),
      action: Type.String({ description: 'create, update, publish, withdraw, or product_update (a catalog change the passport shows: its EAN, or its title while the passport has no name of its own)' }),
      key_id: Nullable(Type.String()),
      source: Nullable(Type.String({ description: 'who made it: "api", "import", or "extraction:<id>"' })),
      changes: Type.Array(Type.Object({ field: Type.String(), old: Type.Unknown(), new: Type.Unknown() })),
    }),
  ),
  total: Type.Integer(),
  page: Type.Integer(),
  per_page: Type.Integer(),
});

export const PublishResult = Type.Object({
  product_id: Type.String(),
  dpp_id: Type.String(),
  dpp_status: DppStatus,
  published_version: Nullable(Type.Integer()),
  published_at: Nullable(Type.String()),
  withdrawn_at: Nullable(Type.String()),
  version: Type.Integer(),
});
