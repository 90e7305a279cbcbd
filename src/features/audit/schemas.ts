import { Type } from 'typebox';
import { PageParams } from '../../http/schemas.js';
import { AUDIT_ACTIONS } from './record.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const AuditQuery = Type.Object(
  {
    ...PageParams,
    action: Type.Optional(
      Type.Union(
        AUDIT_ACTIONS.map((a) => Type.Literal(a)),
        { description: 'only events of this action' },
      ),
    ),
    target_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'only events about this product, passport (its product id), document or key id' })),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'events at or after this time' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'events before this time' })),
  },
  { additionalProperties: false },
);

export const AuditEventSchema = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  actor_key_id: Nullable(Type.String({ description: 'the API key that made the change; null for the CLI and the system' })),
  actor: Type.String({ description: 'through what: "api", "cli" or "system"' }),
  action: Type.String({ description: AUDIT_ACTIONS.join(', ') }),
  target_type: Type.String({ description: 'passport (target_id is the product id), product, document, api_key, access_grant, signing_key, organisation or registry_entry' }),
  target_id: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown(), { description: 'what changed, e.g. the published version and GTIN' }),
  request_id: Nullable(Type.String({ description: 'X-Request-Id of the HTTP request that made the change' })),
});

export const AuditPage = Type.Object({
  items: Type.Array(AuditEventSchema),
  total: Type.Integer(),
  page: Type.Integer(),
  per_page: Type.Integer(),
});
