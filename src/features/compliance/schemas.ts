import { Type, type Static, type TNull, type TObject, type TOptional, type TSchema, type TUnion } from 'typebox';
import { PageParams } from '../../http/schemas.js';
import { environmentalSchema, passportSchema, patchBodySchema } from '../passports/derive.js';
import { DppStatusSchema, PASSPORT_MODEL, type Endpoint, type Field, type PassportModel } from '../passports/model.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** A PATCH body's type: the endpoint's fields, each optional and nullable (the schema is derived from the model). */
type PatchProperties<E extends Endpoint> = {
  [K in Field as E extends PassportModel[K]['endpoints'][number] ? K : never]: TOptional<TUnion<[PassportModel[K]['input'], TNull]>>;
};

export const PassportPatchBody = patchBodySchema(PASSPORT_MODEL, 'passport') as TObject<PatchProperties<'passport'>>;
export type PassportPatch = Static<typeof PassportPatchBody>;
export const EnvironmentalPatchBody = patchBodySchema(PASSPORT_MODEL, 'environmental') as TObject<PatchProperties<'environmental'>>;
export type EnvironmentalPatch = Static<typeof EnvironmentalPatchBody>;

export const DppStatus = DppStatusSchema;

export const PassportSchema = passportSchema(PASSPORT_MODEL);
export const EnvironmentalSchema = environmentalSchema(PASSPORT_MODEL);

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
