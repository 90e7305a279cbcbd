import type { Kysely, Transaction } from 'kysely';
import type { RegistryEntryRow, Schema } from '../../db/schema.js';
import { AppError, errors } from '../../errors.js';
import { newId } from '../../lib/ids.js';
import { operatorScheme, parseOperatorId } from '../../lib/registry-ids.js';
import { nowIso } from '../../lib/time.js';
import { recordAudit, type AuditActor } from '../audit/record.js';
import { passportUri } from '../export/digital-link.js';
import { createRegistryRepository, type EntryFilter } from './repository.js';

/**
 * Readiness for the EU Digital Product Passport registry (Reg. 2026/1778). The registry has no public
 * API yet, so the service keeps a queue a registry client can consume: one entry per published version
 * (`registration`) and per withdrawal (`withdrawal`), each holding the registry's fields as they were
 * at that moment. See README, "EU registry".
 *
 *   incomplete                      (a registry field was missing; never exported)
 *   pending → submitted → registered | rejected
 *   pending ─────────────→ registered | rejected
 */
export const REGISTRY_STATUSES = ['incomplete', 'pending', 'submitted', 'registered', 'rejected'] as const;
export type RegistryStatus = (typeof REGISTRY_STATUSES)[number];
export const ACK_STATUSES = ['submitted', 'registered', 'rejected'] as const;
export type AckStatus = (typeof ACK_STATUSES)[number];
export type EntryKind = 'registration' | 'withdrawal';

/** The registry fields an entry needs before it can be exported (the product identifier, URI and hash always exist). */
export const REGISTRY_REQUIRED = ['operator_id', 'facility_id', 'commodity_code'] as const;

/** How the content hash is made: SHA-256 (hex) of the RFC 8785 (JCS) form of the published passport. */
export const CONTENT_HASH_ALGORITHM = 'sha-256+jcs';

/** The states an acknowledgement may move an entry from. */
const ACK_FROM: Record<AckStatus, readonly RegistryStatus[]> = {
  submitted: ['pending'],
  registered: ['pending', 'submitted'],
  rejected: ['pending', 'submitted'],
};

export interface QueueInput {
  orgId: string;
  productId: string;
  dppId: string;
  publishedVersion: number;
  kind: EntryKind;
  /** The GTIN-14 the passport is published under (valid check digit), else null. */
  gtin14: string | null;
  commodityCode: string | null;
  facilityId: string | null;
  publicBaseUrl: string;
  at: string;
}

function missingOf(entry: Pick<RegistryEntryRow, (typeof REGISTRY_REQUIRED)[number]>): string[] {
  return REGISTRY_REQUIRED.filter((f) => !entry[f]);
}

/**
 * Queues the registry entry of a publish or a withdrawal. Called by the passport service inside the
 * transaction of the publish/withdraw, so the entry exists exactly when the change does. A withdrawal
 * repeats the identifiers of the version it withdraws (from its registration entry).
 */
export async function queueRegistryEntry(trx: Transaction<Schema>, input: QueueInput): Promise<void> {
  const repo = createRegistryRepository(trx);
  const registration = input.kind === 'withdrawal' ? await repo.findRegistration(input.orgId, input.productId, input.publishedVersion) : undefined;
  const fields = registration ?? {
    product_identifier: input.gtin14 ?? input.dppId,
    product_identifier_scheme: input.gtin14 ? 'gtin' : 'dpp_id',
    facility_id: input.facilityId,
    commodity_code: input.commodityCode,
    passport_uri: passportUri(input.publicBaseUrl, input.productId, input.gtin14),
  };
  const entry = {
    product_identifier: fields.product_identifier,
    product_identifier_scheme: fields.product_identifier_scheme,
    operator_id: await repo.operatorId(input.orgId),
    facility_id: fields.facility_id,
    commodity_code: fields.commodity_code,
    passport_uri: fields.passport_uri,
  };
  const missing = missingOf(entry);
  await repo.insertEntry({
    id: newId(),
    org_id: input.orgId,
    product_id: input.productId,
    dpp_id: input.dppId,
    published_version: input.publishedVersion,
    kind: input.kind,
    status: missing.length ? 'incomplete' : 'pending',
    missing_fields: JSON.stringify(missing),
    ...entry,
    queued_at: input.at,
    updated_at: input.at,
    submitted_at: null,
    acknowledged_at: null,
    registry_id: null,
    reason: null,
  });
}

const notFound = (id: string) => errors.notFound('Registry entry', `Registry entry ${id} not found.`);

export interface AckInput {
  status: AckStatus;
  reason?: string | undefined;
  registry_id?: string | undefined;
}

export function createRegistryService(db: Kysely<Schema>) {
  const read = createRegistryRepository(db);

  /** Entries as the API answers them, each with the content hash of its publication (one query for all). */
  async function withHashes(rows: RegistryEntryRow[]) {
    const publications = await read.contentHashes(rows.map((r) => ({ product_id: r.product_id, published_version: Number(r.published_version) })));
    const hashes = new Map(publications.map((p) => [`${p.product_id} ${Number(p.published_version)}`, p.content_hash]));
    return rows.map((r) => entryView(r, hashes.get(`${r.product_id} ${Number(r.published_version)}`) ?? null));
  }

  async function requireEntry(orgId: string, id: string) {
    const row = await read.findEntry(orgId, id);
    if (!row) throw notFound(id);
    return row;
  }

  return {
    async list(orgId: string, filter: EntryFilter, page: number, perPage: number) {
      const [rows, total] = await Promise.all([read.page(orgId, filter, perPage, (page - 1) * perPage), read.count(orgId, filter)]);
      return { items: await withHashes(rows), total, page, per_page: perPage };
    },

    async get(orgId: string, id: string) {
      const [view] = await withHashes([await requireEntry(orgId, id)]);
      return view!;
    },

    /** Pending entries in queue order after the cursor, as the export's lines. Reading changes nothing. */
    async pending(orgId: string, after: string | undefined, limit: number) {
      const rows = await read.pendingAfter(orgId, after, limit);
      return (await withHashes(rows)).map(exportLine);
    },

    /**
     * Records what the registry (through its client) answered. Repeating an acknowledgement already
     * recorded answers the entry unchanged; one that contradicts it (another status, another registry id)
     * answers 409, as does acknowledging an incomplete entry.
     */
    async acknowledge(orgId: string, id: string, ack: AckInput, actor: AuditActor) {
      if (ack.status === 'rejected' && !ack.reason?.trim()) {
        throw errors.validation('A rejection needs the reason the registry gave.', [
          { field: '/reason', rule: 'required_when_rejected', message: 'is required when status is rejected' },
        ]);
      }
      const reason = ack.reason?.trim() || null;
      const registryId = ack.registry_id?.trim() || null;
      const result = await retryingRaces(() =>
        db.transaction().execute(async (trx) => {
          const repo = createRegistryRepository(trx);
          const row = await repo.findEntry(orgId, id);
          if (!row) throw notFound(id);
          if (row.status === ack.status) {
            const same = (ack.status !== 'registered' || !registryId || registryId === row.registry_id) && (ack.status !== 'rejected' || reason === row.reason);
            if (same) return { row, unchanged: true };
            throw conflict(row, `Registry entry ${id} is already ${row.status}${row.registry_id ? ` as ${row.registry_id}` : ''}, with other details.`);
          }
          if (!ACK_FROM[ack.status].includes(row.status as RegistryStatus)) {
            throw conflict(
              row,
              row.status === 'incomplete'
                ? `Registry entry ${id} is incomplete (missing: ${(JSON.parse(row.missing_fields) as string[]).join(', ')}) and was never exported.`
                : `Registry entry ${id} is ${row.status}; it cannot become ${ack.status}.`,
            );
          }
          const now = nowIso();
          const changes = {
            status: ack.status,
            updated_at: now,
            ...(ack.status === 'submitted' ? { submitted_at: now } : { acknowledged_at: now, reason: ack.status === 'rejected' ? reason : null }),
            ...(registryId ? { registry_id: registryId } : {}),
          };
          // Guarded by the state read: a concurrent acknowledgement makes this one retry from the top.
          if (!(await repo.transition(orgId, id, [row.status], changes))) throw new AckRace();
          await recordAudit(trx, {
            orgId,
            actor,
            action: 'registry.acknowledge',
            targetType: 'registry_entry',
            targetId: id,
            at: now,
            details: { product_id: row.product_id, published_version: row.published_version, kind: row.kind, from: row.status, to: ack.status, registry_id: registryId, reason },
          });
          return { row: { ...row, ...changes } as RegistryEntryRow, unchanged: false };
        }),
      );
      const [view] = await withHashes([result.row]);
      return { ...view!, unchanged: result.unchanged };
    },

    async organisation(orgId: string) {
      return organisationView(await read.findOrganisation(orgId));
    },

    /**
     * Sets (or clears, with null) the organisation's operator identifier. Entries queued as incomplete
     * for want of it alone get it and become pending: it is the organisation's, not the passport's.
     */
    async setOperatorId(orgId: string, input: string | null, actor: AuditActor) {
      let operatorId: string | null = null;
      if (input !== null) {
        const parsed = parseOperatorId(input);
        if (!parsed.ok) throw errors.validation(`Invalid value: /operator_id ${parsed.message}.`, [{ field: '/operator_id', rule: parsed.rule, message: parsed.message }]);
        operatorId = parsed.value;
      }
      return db.transaction().execute(async (trx) => {
        const repo = createRegistryRepository(trx);
        const before = await repo.findOrganisation(orgId);
        let completed = 0;
        if (before.operator_id !== operatorId) {
          const now = nowIso();
          await repo.setOperatorId(orgId, operatorId);
          if (operatorId) {
            for (const entry of await repo.incompleteWithoutOperator(orgId)) {
              const missing = missingOf({ ...entry, operator_id: operatorId });
              await repo.transition(orgId, entry.id, ['incomplete'], {
                operator_id: operatorId,
                missing_fields: JSON.stringify(missing),
                status: missing.length ? 'incomplete' : 'pending',
                updated_at: now,
              });
              if (!missing.length) completed++;
            }
          }
          await recordAudit(trx, {
            orgId,
            actor,
            action: 'organisation.update',
            targetType: 'organisation',
            targetId: orgId,
            at: now,
            details: { field: 'operator_id', old: before.operator_id, new: operatorId, registry_entries_completed: completed },
          });
        }
        return { ...organisationView({ ...before, operator_id: operatorId }), registry_entries_completed: completed };
      });
    },
  };
}

class AckRace extends Error {}

/** Runs `work` again when a concurrent acknowledgement moved the entry between its read and its write. */
async function retryingRaces<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (e) {
      if (e instanceof AckRace && attempt < 5) continue;
      throw e;
    }
  }
}

function conflict(row: RegistryEntryRow, detail: string) {
  return new AppError(409, 'registry_state', 'Registry entry in another state', detail, undefined, { entry_id: row.id, current_status: row.status });
}

function organisationView(org: { id: string; slug: string; name: string; operator_id: string | null; created_at: string }) {
  return { ...org, operator_id_scheme: org.operator_id ? operatorScheme(org.operator_id) : null };
}

export function entryView(r: RegistryEntryRow, contentHash: string | null) {
  return {
    id: r.id,
    product_id: r.product_id,
    dpp_id: r.dpp_id,
    published_version: Number(r.published_version),
    kind: r.kind as EntryKind,
    status: r.status as RegistryStatus,
    missing_fields: JSON.parse(r.missing_fields) as string[],
    product_identifier: r.product_identifier,
    product_identifier_scheme: r.product_identifier_scheme as 'gtin' | 'dpp_id',
    operator_id: r.operator_id,
    operator_id_scheme: r.operator_id ? operatorScheme(r.operator_id) : null,
    facility_id: r.facility_id,
    commodity_code: r.commodity_code,
    passport_uri: r.passport_uri,
    content_hash: contentHash,
    content_hash_algorithm: CONTENT_HASH_ALGORITHM,
    queued_at: r.queued_at,
    updated_at: r.updated_at,
    submitted_at: r.submitted_at,
    acknowledged_at: r.acknowledged_at,
    registry_id: r.registry_id,
    reason: r.reason,
  };
}

export type RegistryEntryView = ReturnType<typeof entryView>;

/** One line of the export: what a registry client sends on, and the id it acknowledges. */
function exportLine(e: RegistryEntryView) {
  return {
    entry_id: e.id,
    kind: e.kind,
    product_identifier: e.product_identifier,
    product_identifier_scheme: e.product_identifier_scheme,
    operator_id: e.operator_id,
    operator_id_scheme: e.operator_id_scheme,
    facility_id: e.facility_id,
    facility_id_scheme: 'gln',
    commodity_code: e.commodity_code,
    passport_uri: e.passport_uri,
    content_hash: e.content_hash,
    content_hash_algorithm: e.content_hash_algorithm,
    dpp_id: e.dpp_id,
    published_version: e.published_version,
    queued_at: e.queued_at,
  };
}

export type RegistryService = ReturnType<typeof createRegistryService>;
