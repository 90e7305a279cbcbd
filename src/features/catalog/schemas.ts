import { Type, type Static, type TSchema } from 'typebox';
import { PageParams } from '../../http/schemas.js';
import { DppStatusSchema as DppStatus } from '../passports/model.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

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
  total: Type.Integer({ description: 'matching products; with a search, exact up to 10,000 on SQLite and 2,000 on PostgreSQL (see total_is_estimate)' }),
  total_is_estimate: Type.Boolean({
    description:
      'true when a search matched more than the cap (10,000 on SQLite, 2,000 on PostgreSQL): total is then a lower bound (counting every match of a common word would cost more than the page)',
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
