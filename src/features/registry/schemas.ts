import { Type } from 'typebox';
import { PageParams } from '../../http/schemas.js';
import { ACK_STATUSES, REGISTRY_STATUSES } from './service.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const literals = <T extends string>(values: readonly T[], options: { description?: string } = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );

export const EntryIdParams = Type.Object({ entry_id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

export const EntriesQuery = Type.Object(
  {
    ...PageParams,
    status: Type.Optional(literals(REGISTRY_STATUSES, { description: 'only entries in this status' })),
    product_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "only this product's entries" })),
  },
  { additionalProperties: false },
);

export const ExportQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the entry_id of the last line already read: the export continues after it' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 1000, description: 'lines at most (a shorter answer means the queue is read to its end)' })),
  },
  { additionalProperties: false },
);

export const AckBody = Type.Object(
  {
    status: literals(ACK_STATUSES, { description: 'submitted (handed to the registry), registered or rejected (its answer)' }),
    reason: Type.Optional(Type.String({ maxLength: 2000, description: "the registry's reason; required when rejected" })),
    registry_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "the registry's own id for the entry" })),
  },
  { additionalProperties: false },
);

export const RegistryEntrySchema = Type.Object({
  id: Type.String(),
  product_id: Type.String(),
  dpp_id: Type.String(),
  published_version: Type.Integer(),
  kind: literals(['registration', 'withdrawal'] as const),
  status: literals(REGISTRY_STATUSES),
  missing_fields: Type.Array(Type.String(), { description: 'the registry fields that were missing (incomplete entries)' }),
  product_identifier: Type.String({ description: 'the GTIN-14 the passport is published under, else its dpp_id' }),
  product_identifier_scheme: literals(['gtin', 'dpp_id'] as const),
  operator_id: Nullable(Type.String()),
  operator_id_scheme: Type.Union([literals(['eori', 'gln'] as const), Type.Null()]),
  facility_id: Nullable(Type.String({ description: 'GLN' })),
  commodity_code: Nullable(Type.String()),
  passport_uri: Type.String({ description: 'the GS1 Digital Link /01/{gtin}, or /dpp/{id}' }),
  content_hash: Nullable(Type.String({ description: 'SHA-256 (hex) of the JCS form of the published version' })),
  content_hash_algorithm: Type.String(),
  queued_at: Type.String(),
  updated_at: Type.String(),
  submitted_at: Nullable(Type.String()),
  acknowledged_at: Nullable(Type.String()),
  registry_id: Nullable(Type.String()),
  reason: Nullable(Type.String()),
});

export const RegistryEntriesPage = Type.Object({
  items: Type.Array(RegistryEntrySchema),
  total: Type.Integer(),
  page: Type.Integer(),
  per_page: Type.Integer(),
});

export const AckResult = Type.Object({
  ...RegistryEntrySchema.properties,
  unchanged: Type.Boolean({ description: 'true when this acknowledgement was already recorded' }),
});

export const OrganisationSchema = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  operator_id: Nullable(Type.String({ description: 'the unique operator identifier for the EU DPP registry: an EORI number or a GLN' })),
  operator_id_scheme: Type.Union([literals(['eori', 'gln'] as const), Type.Null()]),
  created_at: Type.String(),
});

export const OrganisationPatchBody = Type.Object(
  {
    operator_id: Type.Union([Type.String({ minLength: 1, maxLength: 40 }), Type.Null()], {
      description: 'EORI number (two-letter country code and up to 15 letters or digits) or GLN (13 digits); null clears',
    }),
  },
  { additionalProperties: false },
);

export const OrganisationPatchResult = Type.Object({
  ...OrganisationSchema.properties,
  registry_entries_completed: Type.Integer({ description: 'incomplete entries that only lacked the operator identifier and are now pending' }),
});
