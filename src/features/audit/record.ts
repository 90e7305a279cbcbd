import type { Kysely } from 'kysely';
import type { Schema } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import { nowIso } from '../../lib/time.js';

/**
 * Who made a change and through what. The compliance `Actor` has this shape: an HTTP request passes
 * its key id and `source: 'api'` (and its request id); the CLI `{ keyId: null, source: 'cli' }`.
 */
export interface AuditActor {
  keyId: string | null;
  /** "api", "cli", "system", "import" … stored as the event's `actor`. */
  source: string;
  /** The HTTP request's id (X-Request-Id), to find the request in the logs. */
  requestId?: string | undefined;
}

/** The actor of changes made by the service itself (seeding, maintenance). */
export const SYSTEM_ACTOR: AuditActor = Object.freeze({ keyId: null, source: 'system' });

export const AUDIT_ACTIONS = [
  'passport.publish',
  'passport.withdraw',
  'passport.instance.issue',
  'passport.instance.withdraw',
  'passport.successor.set',
  'passport.successor.clear',
  'product.delete',
  'document.delete',
  'document.visibility',
  'key.create',
  'key.revoke',
  'grant.create',
  'grant.revoke',
  'grant.use',
  'signing_key.rotate',
  'organisation.update',
  'organisation.backup',
  'organisation.restore',
  'registry.acknowledge',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditTargetType = 'passport' | 'product' | 'document' | 'api_key' | 'access_grant' | 'signing_key' | 'organisation' | 'registry_entry';

export interface AuditEventInput {
  orgId: string;
  actor: AuditActor;
  action: AuditAction;
  targetType: AuditTargetType;
  targetId: string;
  details?: Record<string, unknown>;
  /** Defaults to now; the change's own timestamp when it has one, so both agree. */
  at?: string;
}

/**
 * Writes one audit event. Call it with the transaction of the change it records (`trx`), so the
 * change and its event commit, or roll back, together.
 */
export async function recordAudit(trx: Kysely<Schema>, event: AuditEventInput): Promise<void> {
  await trx
    .insertInto('audit_events')
    .values({
      id: newId(),
      org_id: event.orgId,
      at: event.at ?? nowIso(),
      actor_key_id: event.actor.keyId,
      actor: event.actor.source,
      action: event.action,
      target_type: event.targetType,
      target_id: event.targetId,
      details: JSON.stringify(event.details ?? {}),
      request_id: event.actor.requestId ?? null,
    })
    .execute();
}
