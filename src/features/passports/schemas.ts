import { Type, type Static, type TNull, type TObject, type TOptional, type TSchema, type TUnion } from 'typebox';
import { PageParams } from '../../http/schemas.js';
import { environmentalSchema, passportSchema, patchBodySchema } from './derive.js';
import { DppStatusSchema, PASSPORT_MODEL, type Endpoint, type Field, type PassportModel } from './model.js';

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

/** The authenticated passport GET: the passport and the status of its newest EU registry entry (features/registry). */
export const PassportGetSchema = Type.Object({
  ...PassportSchema.properties,
  registry_status: Nullable(
    Type.Object(
      {
        entry_id: Type.String(),
        kind: Type.String({ description: 'registration (a published version) or withdrawal' }),
        published_version: Type.Integer(),
        status: Type.String({ description: 'incomplete, pending, submitted, registered or rejected' }),
        missing_fields: Type.Array(Type.String()),
        registry_id: Nullable(Type.String()),
        reason: Nullable(Type.String()),
        updated_at: Type.String(),
      },
      { description: 'null until the passport is first published' },
    ),
  ),
});
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
      action: Type.String({
        description:
          'create, update, publish, withdraw, product_update (a catalog change the passport shows: its EAN, or its title while the passport has no name of its own), or document_update (a document made public or private)',
      }),
      key_id: Nullable(Type.String()),
      source: Nullable(Type.String({ description: 'who made it: "api", "import", or "extraction:<id>"' })),
      changes: Type.Array(Type.Object({ field: Type.String(), old: Type.Unknown(), new: Type.Unknown() })),
      // Publish entries only.
      content_hash: Type.Optional(Nullable(Type.String({ description: 'SHA-256 hex of the RFC 8785 (JCS) form of the published snapshot' }))),
      credential_url: Type.Optional(
        Nullable(Type.String({ description: 'public address of the signed credential (application/vc+jwt); null for a version published before signing' })),
      ),
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
  content_hash: Type.Optional(Nullable(Type.String({ description: 'SHA-256 hex of the RFC 8785 (JCS) form of the published snapshot' }))),
  credential_url: Type.Optional(
    Nullable(Type.String({ description: 'public address of the signed credential (application/vc+jwt); null for a version published before signing' })),
  ),
});
