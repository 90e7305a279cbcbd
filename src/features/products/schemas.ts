import { Type, type Static } from 'typebox';
import { PageParams } from '../../http/schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** GTIN-8/12/13/14 as digits; the check digit is verified by the service and flagged, not rejected. */
export const EanSchema = Type.String({ pattern: '^[0-9]{8}$|^[0-9]{12,14}$', description: 'GTIN-8, -12 (UPC), -13 (EAN) or -14, digits only' });

export const ProductSchema = Type.Object({
  product_id: Type.String({ format: 'uuid' }),
  external_id: Nullable(Type.String()),
  title: Type.String(),
  ean: Nullable(Type.String()),
  gtin14: Nullable(Type.String({ description: 'The GTIN left-padded to 14 digits' })),
  gtin_valid: Nullable(Type.Boolean({ description: 'false when the GS1 check digit is wrong' })),
  brand: Nullable(Type.String()),
  category: Nullable(Type.String()),
  description: Nullable(Type.String()),
  attributes: Type.Record(Type.String(), Type.Unknown()),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type Product = Static<typeof ProductSchema>;

const fields = {
  external_id: Type.String({ minLength: 1, maxLength: 200, description: 'Your own identifier (SKU); unique per organisation' }),
  title: Type.String({ minLength: 1, maxLength: 1000 }),
  ean: EanSchema,
  brand: Type.String({ maxLength: 300 }),
  category: Type.String({ maxLength: 300 }),
  description: Type.String({ maxLength: 100_000 }),
  attributes: Type.Record(Type.String(), Type.Unknown()),
};

export const CreateProductBody = Type.Object(
  {
    title: fields.title,
    ean: Type.Optional(Nullable(fields.ean)),
    external_id: Type.Optional(Nullable(fields.external_id)),
    brand: Type.Optional(Nullable(fields.brand)),
    category: Type.Optional(Nullable(fields.category)),
    description: Type.Optional(Nullable(fields.description)),
    attributes: Type.Optional(fields.attributes),
  },
  { additionalProperties: false },
);
export type CreateProductInput = Static<typeof CreateProductBody>;

export const UpdateProductBody = Type.Object(
  {
    title: Type.Optional(fields.title),
    ean: Type.Optional(Nullable(fields.ean)),
    external_id: Type.Optional(Nullable(fields.external_id)),
    brand: Type.Optional(Nullable(fields.brand)),
    category: Type.Optional(Nullable(fields.category)),
    description: Type.Optional(Nullable(fields.description)),
    attributes: Type.Optional(fields.attributes),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateProductInput = Static<typeof UpdateProductBody>;

export const ProductIdParams = Type.Object({ product_id: Type.String({ format: 'uuid' }) });

export const PageQuery = Type.Object(
  {
    ...PageParams,
  },
  { additionalProperties: false },
);

export const ProductPage = Type.Object({
  items: Type.Array(ProductSchema),
  total: Type.Integer(),
  page: Type.Integer(),
  per_page: Type.Integer(),
});

export const ImportQuery = Type.Object(
  {
    format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('ndjson')])),
  },
  { additionalProperties: false },
);

export const ImportSummarySchema = Type.Object({
  created: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer({ description: 'rows matching a product whose catalog fields already had these values' }),
  failed: Type.Integer(),
  rows: Type.Integer({ description: 'data rows read (header excluded)' }),
  failures: Type.Array(Type.Object({ line: Type.Integer(), field: Type.Optional(Type.String()), reason: Type.String() }), {
    description: 'the first 1000 failed rows; `failures_truncated` says when there were more',
  }),
  failures_truncated: Type.Boolean(),
  duration_ms: Type.Integer(),
});
export type ImportSummary = Static<typeof ImportSummarySchema>;
