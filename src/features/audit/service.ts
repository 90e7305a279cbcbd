import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { AuditEventRow, Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';

export interface AuditFilters {
  action?: string | undefined;
  target_id?: string | undefined;
  /** ISO-8601 date-time: events at or after. */
  since?: string | undefined;
  /** ISO-8601 date-time: events strictly before. */
  until?: string | undefined;
}

export interface AuditEvent {
  id: string;
  at: string;
  actor_key_id: string | null;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  details: Record<string, unknown>;
  request_id: string | null;
}

const MIN_MS = Date.parse('0000-01-01T00:00:00.000Z');
const MAX_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** A date-time as stored (`toISOString`, UTC with milliseconds), so text comparison orders it; 400 when unreadable. */
function storedForm(field: string, value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw errors.validation(`${field} "${value}" is not a date-time.`, [{ field, rule: 'format', message: 'must be an ISO-8601 date-time' }]);
  }
  return new Date(Math.min(MAX_MS, Math.max(MIN_MS, ms))).toISOString();
}

export function toAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    at: row.at,
    actor_key_id: row.actor_key_id,
    actor: row.actor,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    details: JSON.parse(row.details) as Record<string, unknown>,
    request_id: row.request_id,
  };
}

/** Batch size of the retention purge: bounded statements, whatever the backlog. */
const PURGE_BATCH = 5000;

/** Reading an organisation's audit log, and the retention purge across organisations. */
export function createAuditService(db: Kysely<Schema>) {
  function filtered<O>(query: SelectQueryBuilder<Schema, 'audit_events', O>, orgId: string, filters: AuditFilters) {
    let q = query.where('org_id', '=', orgId);
    if (filters.action !== undefined) q = q.where('action', '=', filters.action);
    if (filters.target_id !== undefined) q = q.where('target_id', '=', filters.target_id);
    if (filters.since !== undefined) q = q.where('at', '>=', storedForm('since', filters.since));
    if (filters.until !== undefined) q = q.where('at', '<', storedForm('until', filters.until));
    return q;
  }

  return {
    /** The organisation's events matching the filters, newest first. */
    async list(orgId: string, filters: AuditFilters, page: number, perPage: number) {
      const [rows, count] = await Promise.all([
        filtered(db.selectFrom('audit_events').selectAll(), orgId, filters)
          .orderBy('at', 'desc')
          .orderBy('id', 'desc')
          .limit(perPage)
          .offset((page - 1) * perPage)
          .execute(),
        filtered(
          db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string | number>().as('n')),
          orgId,
          filters,
        ).executeTakeFirstOrThrow(),
      ]);
      return { items: rows.map(toAuditEvent), total: Number(count.n), page, per_page: perPage };
    },

    /**
     * Deletes the events older than `retentionDays` before `now` (every organisation's); 0 keeps
     * everything. Returns how many went. Safe to run from several workers at once.
     */
    async purge(retentionDays: number, now: Date = new Date()): Promise<number> {
      if (retentionDays <= 0) return 0;
      const cutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
      let deleted = 0;
      for (;;) {
        const r = await db
          .deleteFrom('audit_events')
          .where('id', 'in', (eb) => eb.selectFrom('audit_events').select('id').where('at', '<', cutoff).limit(PURGE_BATCH))
          .executeTakeFirst();
        const n = Number(r.numDeletedRows);
        deleted += n;
        if (n < PURGE_BATCH) return deleted;
      }
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
