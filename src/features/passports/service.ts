import type { Kysely, Transaction } from 'kysely';
import { isUniqueViolation, toBool } from '../../db/dialect.js';
import type { ComplianceRow, Schema } from '../../db/schema.js';
import { AppError, errors } from '../../errors.js';
import { newId } from '../../lib/ids.js';
import { nowIso } from '../../lib/time.js';
import { recordAudit } from '../audit/record.js';
import { publicationSeals, revokePublication, sealPublishedVersion, type CredentialService } from '../credentials/service.js';
import { publishableGtin } from '../export/digital-link.js';
import { queueRegistryEntry } from '../registry/service.js';
import { requireOwnedProduct } from '../products/ownership.js';
import { createStatsRepository, type StatDeltas } from '../stats/repository.js';
import { ifMatchHolds } from './etag.js';
import { ENVIRONMENTAL_FIELDS, columnsFor, sameValue, valuesFromRow, type ComplianceValues, type Field } from './record.js';
import { answeredValues } from './derive.js';
import { PASSPORT_MODEL, type DppStatus } from './model.js';
import { createComplianceRepository } from './repository.js';
import { contradictions, missingForComplete, normalisePatch } from './rules.js';
import { passportView, type PassportView, type ProductIdentity } from './views.js';
import { publicDocumentsOf } from '../documents/public-documents.js';

/** Who made a change and through what: shown in the history. */
export interface Actor {
  keyId: string | null;
  /** "api", or "extraction:<id>" for values applied from a document. */
  source: string;
  /** The HTTP request's id, kept in the audit log. */
  requestId?: string | undefined;
}

export interface ChangeOptions {
  actor: Actor;
  ifMatch?: string | undefined;
  /** PATCH of the passport creates it; environmental data alone does not. */
  createPassport: boolean;
  /**
   * Decides, inside the transaction, whether a field may be written given its current value and
   * the source of that value (extraction results use it to never overwrite a person's value).
   */
  mayWrite?: (field: Field, current: unknown, currentSource: string | undefined) => boolean;
  /**
   * Runs inside the transaction, under the product's lock, before `mayWrite`: reads what deciding
   * needs (extraction results look up the documents the current values came from).
   */
  prepare?: (trx: Transaction<Schema>, currentSources: Readonly<Record<string, string>>) => Promise<void>;
  /** Combines, inside the transaction, a field's current value with the patch's (e.g. adds certifications). */
  merge?: (field: Field, current: unknown, value: unknown) => unknown;
  /** The source recorded for a changed field (`field_sources`); `actor.source` unless given. */
  fieldSource?: (field: Field) => string;
}

export type { DppStatus } from './model.js';

const MAX_ATTEMPTS = 5;
/** What a passport change reads of its product (identity for the view, status for the counters). */
const PASSPORT_PRODUCT_COLUMNS = ['id', 'title', 'ean', 'gtin14', 'gtin_valid', 'has_dpp', 'dpp_status', 'updated_at'] as const;
const preconditionFailed = (current: number) =>
  new AppError(412, 'precondition_failed', 'Precondition failed', `The passport changed since you read it; it is now at version ${current}. Read it again and retry.`, undefined, {
    current_version: current,
  });

/** The status of a passport; null when the product has none. */
export function statusOf(row: Pick<ComplianceRow, 'passport_created_at' | 'published_version' | 'withdrawn_at'>, values: ComplianceValues): DppStatus | null {
  if (!row.passport_created_at) return null;
  if (row.published_version !== null && !row.withdrawn_at) return 'published';
  return missingForComplete(values).length === 0 ? 'complete' : 'draft';
}

/** +1/-1 on the status counters when a product's status moves. */
function statusDeltas(from: string | null, to: string | null): StatDeltas {
  const d: Record<string, number> = {};
  if (from === to) return d;
  if (from) d[from] = (d[from] ?? 0) - 1;
  if (to) d[to] = (d[to] ?? 0) + 1;
  if (!from && to) d.with_dpp = 1;
  if (from && !to) d.with_dpp = -1;
  return d;
}

function certificationDeltas(before: string[], after: string[]): Map<string, number> {
  const d = new Map<string, number>();
  for (const c of new Set(before)) d.set(c, (d.get(c) ?? 0) - 1);
  for (const c of new Set(after)) d.set(c, (d.get(c) ?? 0) + 1);
  return d;
}

/**
 * Passports and environmental data: every change goes through one transaction that checks the
 * If-Match version, records the history entry, keeps the list/stats columns in step, and never
 * loses a concurrent change (row lock on PostgreSQL, single writer on SQLite, version guard on both).
 */
export function createComplianceService(db: Kysely<Schema>, options: { publicBaseUrl?: string; credentials?: CredentialService } = {}) {
  const read = createComplianceRepository(db);

  /** Runs `work` in a transaction, retrying when a concurrent writer won a race on a unique key. */
  async function inTransaction<T>(work: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction().execute(work);
      } catch (e) {
        if ((isUniqueViolation(e) || e instanceof VersionRace) && attempt < MAX_ATTEMPTS) continue;
        throw e;
      }
    }
  }

  function noPassport(productId: string) {
    return errors.notFound(
      'Passport',
      `Product ${productId} has no Digital Product Passport yet. Create one with PATCH /api/v1/compliance/dpp/${productId} ` +
        `(or POST /api/v1/compliance/dpp/${productId}/generate to draft it from the product's data).`,
    );
  }

  /**
   * Applies a patch of compliance fields. Returns the record after the change and the fields as stored.
   * A patch that changes nothing writes nothing and keeps the version.
   */
  async function change(orgId: string, productId: string, patch: Partial<Record<Field, unknown>>, options: ChangeOptions) {
    const normalised = normalisePatch(patch);
    return inTransaction(async (trx) => {
      const repo = createComplianceRepository(trx);
      const stats = createStatsRepository(trx);
      const product = await requireOwnedProduct(trx, orgId, productId, PASSPORT_PRODUCT_COLUMNS, { lock: true });
      const row = await repo.findRecord(orgId, productId);
      const version = row?.version ?? 0;
      if (options.ifMatch !== undefined && !ifMatchHolds(options.ifMatch, version, row !== undefined)) throw preconditionFailed(version);

      const before = valuesFromRow(row);
      const currentSources = JSON.parse(row?.field_sources ?? '{}') as Record<string, string>;
      await options.prepare?.(trx, currentSources);
      const skipped: Field[] = [];
      const allowed: Partial<ComplianceValues> = {};
      for (const [f, patched] of Object.entries(normalised) as Array<[Field, never]>) {
        const v = (options.merge ? options.merge(f, before[f], patched) : patched) as never;
        if (options.mayWrite && !options.mayWrite(f, before[f], currentSources[f])) skipped.push(f);
        else allowed[f] = v;
      }
      const after: ComplianceValues = { ...before, ...allowed };
      const changed = (Object.keys(allowed) as Field[]).filter((f) => !sameValue(before[f], after[f]));
      // An extraction (mayWrite) that ends up changing nothing writes nothing, not even a passport.
      const createsPassport = options.createPassport && !row?.passport_created_at && (!options.mayWrite || changed.length > 0);
      if (changed.length === 0 && !createsPassport && (row || options.mayWrite)) return { row, values: after, product, changed, skipped };

      const now = nowIso();
      const next: ComplianceRow = {
        ...(row ?? {
          product_id: productId,
          org_id: orgId,
          dpp_id: newId(),
          passport_created_at: null,
          version: 0,
          field_sources: '{}',
          published_version: null,
          published_at: null,
          withdrawn_at: null,
          has_unpublished_changes: 0,
        }),
        ...(columnsFor(after) as ComplianceRow),
        version: version + 1,
        passport_created_at: row?.passport_created_at ?? (createsPassport ? now : null),
        updated_at: now,
        missing_fields: JSON.stringify(missingForComplete(after)),
      } as ComplianceRow;
      const sources = JSON.parse(next.field_sources) as Record<string, string>;
      for (const f of changed) sources[f] = options.fieldSource?.(f) ?? options.actor.source;
      next.field_sources = JSON.stringify(sources);
      const published = next.published_version !== null && !next.withdrawn_at;
      next.has_unpublished_changes = published ? 1 : 0;

      if (row) {
        if (!(await repo.updateRecord(productId, version, next))) throw new VersionRace();
      } else {
        await repo.insertRecord(next);
      }
      const status = statusOf(next, after);
      await repo.setProductStatus(productId, { has_dpp: next.passport_created_at ? 1 : 0, dpp_status: status, updated_at: now });
      await repo.insertHistory({
        id: newId(),
        org_id: orgId,
        product_id: productId,
        version: next.version,
        action: createsPassport ? 'create' : 'update',
        changed_at: now,
        key_id: options.actor.keyId,
        source: options.actor.source,
        changes: JSON.stringify(changed.map((f) => ({ field: f, old: before[f], new: after[f] }))),
      });
      await stats.adjust(orgId, statusDeltas(product.dpp_status, status));
      const certsBefore = row?.passport_created_at ? (before.certifications ?? []) : [];
      const certsAfter = next.passport_created_at ? (after.certifications ?? []) : [];
      await stats.adjustCertifications(orgId, certificationDeltas(certsBefore, certsAfter));
      return { row: next, values: after, product: { ...product, dpp_status: status }, changed, skipped };
    });
  }

  return {
    change,

    /**
     * The full passport (working copy) of a product as JSON text, shaped as `passportView`, and its
     * version (for the ETag); 404 when the product has none.
     */
    async getPassportDocument(orgId: string, productId: string): Promise<{ version: number; body: string; registry: string | null }> {
      const found = await read.findPassportDocument(orgId, productId);
      if (!found) throw errors.productNotFound(productId);
      if (found.body === null || found.version === null) throw noPassport(productId);
      return { version: Number(found.version), body: found.body, registry: found.registry };
    },

    async getEnvironmental(orgId: string, productId: string) {
      await requireOwnedProduct(db, orgId, productId);
      const row = await read.findRecord(orgId, productId);
      const v = valuesFromRow(row);
      return {
        product_id: productId,
        // As the passport answers them: unset lists as [], other unset fields null.
        ...answeredValues(PASSPORT_MODEL, ENVIRONMENTAL_FIELDS, v),
        updated_at: row?.updated_at ?? null,
        version: row?.version ?? 0,
      };
    },

    /** Publishes a complete passport as the next immutable numbered version. */
    async publish(orgId: string, productId: string, actor: Actor, ifMatch?: string) {
      return inTransaction(async (trx) => {
        const repo = createComplianceRepository(trx);
        const product = await requireOwnedProduct(trx, orgId, productId, PASSPORT_PRODUCT_COLUMNS, { lock: true });
        const row = await repo.findRecord(orgId, productId);
        if (!row?.passport_created_at) throw noPassport(productId);
        if (ifMatch !== undefined && !ifMatchHolds(ifMatch, row.version, true)) throw preconditionFailed(row.version);
        const values = valuesFromRow(row);
        const missing = missingForComplete(values);
        if (missing.length) {
          throw errors.conflict(`The passport is not complete; missing: ${missing.join(', ')}.`, { missing_fields: missing });
        }
        const contradicting = contradictions(values);
        if (contradicting.length) throw errors.inconsistent(contradicting);
        const live = row.published_version !== null && !row.withdrawn_at;
        if (live && !toBool(row.has_unpublished_changes)) return { row, status: 'published' as DppStatus, unchanged: true };
        // The public resolver answers /01/{GTIN} with one passport: the first organisation to publish
        // a GTIN keeps it, so another tenant cannot take over the QR codes printed on its products.
        if (product.gtin14 && toBool(product.gtin_valid) && (await repo.gtinPublishedElsewhere(orgId, product.gtin14))) {
          throw errors.conflict(`GTIN ${product.gtin14} already has a published passport in another organisation; the GS1 Digital Link can resolve to only one.`, { field: 'ean' });
        }

        const now = nowIso();
        const publishedVersion = (row.published_version ?? 0) + 1;
        const next: ComplianceRow = {
          ...row,
          version: row.version + 1,
          published_version: publishedVersion,
          published_at: now,
          withdrawn_at: null,
          has_unpublished_changes: 0,
          updated_at: now,
        };
        await repo.insertPublication({
          product_id: productId,
          published_version: publishedVersion,
          org_id: orgId,
          revision: row.version,
          published_at: now,
          key_id: actor.keyId,
          snapshot: JSON.stringify(await publishedView(trx, product, next, values)),
          withdrawn_at: null,
        });
        // The version's content hash and signed credential; a signing failure aborts the publish.
        await sealPublishedVersion(trx, options.credentials, {
          orgId,
          productId,
          publishedVersion,
          publishedAt: now,
          gtin14: product.gtin14,
          gtinValid: toBool(product.gtin_valid),
        });
        if (!(await repo.updateRecord(productId, row.version, next))) throw new VersionRace();
        await finishTransition(trx, orgId, product, next, 'publish', actor, now, [{ field: 'published_version', old: row.published_version, new: publishedVersion }]);
        await queueForRegistry(trx, orgId, product, next, 'registration', now);
        await recordAudit(trx, {
          orgId,
          actor,
          action: 'passport.publish',
          targetType: 'passport',
          targetId: productId,
          at: now,
          details: { dpp_id: row.dpp_id, published_version: publishedVersion, revision: row.version, gtin14: product.gtin14 },
        });
        return { row: next, status: 'published' as DppStatus, unchanged: false };
      });
    },

    /** Withdraws the published passport from the public; the published versions are kept. */
    async withdraw(orgId: string, productId: string, actor: Actor) {
      return inTransaction(async (trx) => {
        const repo = createComplianceRepository(trx);
        const product = await requireOwnedProduct(trx, orgId, productId, PASSPORT_PRODUCT_COLUMNS, { lock: true });
        const row = await repo.findRecord(orgId, productId);
        if (!row?.passport_created_at) throw noPassport(productId);
        if (row.published_version === null || row.withdrawn_at) {
          throw errors.conflict('The passport is not published, so there is nothing to withdraw.');
        }
        const now = nowIso();
        const next: ComplianceRow = { ...row, version: row.version + 1, withdrawn_at: now, has_unpublished_changes: 0, updated_at: now };
        if (!(await repo.updateRecord(productId, row.version, next))) throw new VersionRace();
        await repo.markPublicationWithdrawn(productId, row.published_version, now);
        // Its credential's bit in the organisation's revocation status list.
        await revokePublication(trx, productId, row.published_version);
        await finishTransition(trx, orgId, product, next, 'withdraw', actor, now, [{ field: 'withdrawn_at', old: null, new: now }]);
        await queueForRegistry(trx, orgId, product, next, 'withdrawal', now);
        await recordAudit(trx, {
          orgId,
          actor,
          action: 'passport.withdraw',
          targetType: 'passport',
          targetId: productId,
          at: now,
          details: { dpp_id: row.dpp_id, published_version: row.published_version, gtin14: product.gtin14 },
        });
        return { row: next, status: statusOf(next, valuesFromRow(next))!, unchanged: false };
      });
    },

    /** Published versions' content hashes and (when signed) public credential URLs, by version. */
    async seals(orgId: string, productId: string, versions: Array<number | null>) {
      const found = await publicationSeals(db, orgId, productId, versions.filter(isNumber));
      const out = new Map<number | null, { content_hash: string | null; credential_url: string | null }>();
      for (const [v, seal] of found) {
        out.set(v, { content_hash: seal.content_hash, credential_url: seal.signed && options.credentials ? options.credentials.credentialUrl(productId, v) : null });
      }
      return out;
    },

    async history(orgId: string, productId: string, page: number, perPage: number) {
      await requireOwnedProduct(db, orgId, productId);
      const [rows, total] = await Promise.all([read.historyPage(orgId, productId, perPage, (page - 1) * perPage), read.historyCount(orgId, productId)]);
      const seals = await this.seals(orgId, productId, rows.filter((r) => r.action === 'publish').map(publishedVersionOf));
      return {
        items: rows.map((r) => ({
          version: r.version,
          changed_at: r.changed_at,
          action: r.action,
          key_id: r.key_id,
          source: r.source,
          changes: JSON.parse(r.changes) as Array<{ field: string; old: unknown; new: unknown }>,
          // Publish entries: the published version's content hash and credential address.
          ...(r.action === 'publish' ? (seals.get(publishedVersionOf(r)) ?? {}) : {}),
        })),
        total,
        page,
        per_page: perPage,
      };
    },
  };

  /** The EU registry's queue entry of a publish or withdrawal (features/registry), in its transaction. */
  async function queueForRegistry(
    trx: Transaction<Schema>,
    orgId: string,
    product: { id: string; gtin14: string | null; gtin_valid: number | boolean | null },
    next: ComplianceRow,
    kind: 'registration' | 'withdrawal',
    now: string,
  ) {
    if (!options.publicBaseUrl) throw new Error('Publishing needs the public base URL (createComplianceService options): registry entries hold the passport URI.');
    await queueRegistryEntry(trx, {
      orgId,
      productId: product.id,
      dppId: next.dpp_id,
      publishedVersion: next.published_version!,
      kind,
      gtin14: publishableGtin(product.gtin14, toBool(product.gtin_valid)),
      commodityCode: next.commodity_code,
      facilityId: next.facility_id,
      publicBaseUrl: options.publicBaseUrl,
      at: now,
    });
  }

  /** Common tail of publish and withdraw: list/stats columns and the history entry. */
  async function finishTransition(
    trx: Transaction<Schema>,
    orgId: string,
    product: { id: string; dpp_status: string | null },
    next: ComplianceRow,
    action: 'publish' | 'withdraw',
    actor: Actor,
    now: string,
    changes: Array<{ field: string; old: unknown; new: unknown }>,
  ) {
    const repo = createComplianceRepository(trx);
    const status = statusOf(next, valuesFromRow(next));
    await repo.setProductStatus(product.id, { has_dpp: 1, dpp_status: status, updated_at: now });
    await repo.insertHistory({
      id: newId(),
      org_id: orgId,
      product_id: product.id,
      version: next.version,
      action,
      changed_at: now,
      key_id: actor.keyId,
      source: actor.source,
      changes: JSON.stringify(changes),
    });
    await createStatsRepository(trx).adjust(orgId, statusDeltas(product.dpp_status, status));
  }
}

const isNumber = (v: number | null): v is number => v !== null;

/** The version a publish history entry published (its change of `published_version`). */
function publishedVersionOf(entry: { changes: string }): number | null {
  const change = (JSON.parse(entry.changes) as Array<{ field: string; new: unknown }>).find((c) => c.field === 'published_version');
  return typeof change?.new === 'number' ? change.new : null;
}

/**
 * What a published version shows: the passport, and the documents marked public at publish time
 * (`documents`, only when there are some: a version without any reads as before).
 */
async function publishedView(trx: Transaction<Schema>, product: ProductIdentity, next: ComplianceRow, values: ComplianceValues): Promise<PassportView> {
  const documents = await publicDocumentsOf(trx, next.product_id);
  return { ...passportView(product, next, values, 'published'), ...(documents.length ? { documents } : {}) };
}

/** Another writer changed the record between our read and our write: the transaction is retried. */
class VersionRace extends Error {}

export type ComplianceService = ReturnType<typeof createComplianceService>;
