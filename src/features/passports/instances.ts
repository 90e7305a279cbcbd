import type { Kysely } from 'kysely';
import { isUniqueViolation, toBool } from '../../db/dialect.js';
import type { PassportInstancesTable, Schema } from '../../db/schema.js';
import { AppError, errors, type FieldError } from '../../errors.js';
import { newId } from '../../lib/ids.js';
import { nowIso } from '../../lib/time.js';
import { recordAudit, type AuditActor } from '../audit/record.js';
import { gtinPath, qualifierProblem } from '../export/resolver/dl-path.js';
import { requireOwnedProduct } from '../products/ownership.js';
import { fieldNames } from './derive.js';
import { PASSPORT_MODEL, type Field } from './model.js';
import { normalisePatch } from './rules.js';
import type { PassportView } from './views.js';

/**
 * Batch and item passports. ESPR lets the delegated act of a product category ask for a passport
 * per model, per batch or per item (the Battery Regulation asks for one per battery). Here the model
 * passport is the product's published passport; a batch (GS1 AI 10, its lot) or an item (AI 21, its
 * serial) passport extends the model's live published version with what that batch or item states
 * itself (the fields declared `perInstance` in the model: where it was made, its footprint, its
 * materials) and its production date. It is issued once and never changes, like a model version;
 * issuing again for the same lot or serial makes its next version, and a withdrawal takes the batch
 * or item passport off the public side (the resolver then falls back to the model passport).
 *
 * The Digital Link of a batch is `/01/{gtin}/10/{lot}`, of an item `/01/{gtin}/21/{serial}` (or
 * `/10/{lot}/21/{serial}`): the product needs a valid GTIN.
 */
export const INSTANCE_LEVELS = ['batch', 'item'] as const;
export type InstanceLevel = (typeof INSTANCE_LEVELS)[number];

/** The fields a batch or item passport may state itself. */
export const PER_INSTANCE_FIELDS = fieldNames(PASSPORT_MODEL, (row) => row.perInstance === true) as readonly Field[];

/** What a batch or item passport adds to the model's: which batch or item, and which versions. */
export interface Granularity {
  level: InstanceLevel;
  instance_id: string;
  lot: string | null;
  serial: string | null;
  production_date: string | null;
  version: number;
  based_on_version: number;
  issued_at: string;
}

/** A batch or item passport as published: the model's snapshot with the batch's or item's own values, and its granularity. */
export type InstanceView = PassportView & { granularity: Granularity };

export interface InstanceInput {
  level: InstanceLevel;
  lot?: string | undefined;
  serial?: string | undefined;
  production_date?: string | undefined;
  values?: Partial<Record<Field, unknown>> | undefined;
}

const INSTANCE_COLUMNS = ['id', 'gtin14', 'gtin_valid', 'dpp_status', 'title', 'ean'] as const;

/** Field problems of an instance body that its JSON Schema cannot state. */
function identityProblems(input: InstanceInput): FieldError[] {
  const problems: FieldError[] = [];
  if (input.level === 'batch' && input.lot === undefined) problems.push({ field: 'body/lot', rule: 'required', message: 'a batch passport needs the lot (GS1 AI 10)' });
  if (input.level === 'batch' && input.serial !== undefined)
    problems.push({ field: 'body/serial', rule: 'absent', message: 'a batch passport has no serial; issue an item passport' });
  if (input.level === 'item' && input.serial === undefined) problems.push({ field: 'body/serial', rule: 'required', message: 'an item passport needs the serial (GS1 AI 21)' });
  for (const [ai, name, value] of [['10', 'lot', input.lot] as const, ['21', 'serial', input.serial] as const]) {
    const problem = value === undefined ? undefined : qualifierProblem(ai, value);
    if (problem) problems.push({ field: `body/${name}`, rule: 'cset82', message: problem });
  }
  return problems;
}

/** The instance's own values, normalised by the passport's rules; their problems named under body/values. */
function normaliseValues(values: Partial<Record<Field, unknown>>) {
  try {
    return normalisePatch(values);
  } catch (e) {
    if (e instanceof AppError && e.fieldErrors) {
      throw errors.validation(
        e.message,
        e.fieldErrors.map((f) => ({ ...f, field: `body/values${f.field.startsWith('/') ? '' : '/'}${f.field}` })),
      );
    }
    throw e;
  }
}

/** The published batch or item passport: the model snapshot, the instance's values over it, and its granularity. */
function composeSnapshot(model: PassportView, values: Partial<Record<Field, unknown>>, granularity: Granularity): InstanceView {
  const top: Record<string, unknown> = { ...model };
  const environmental: Record<string, unknown> = { ...model.environmental };
  for (const [name, value] of Object.entries(values)) {
    if (value === null || value === undefined) continue;
    if (PASSPORT_MODEL[name as Field].section === 'environmental') environmental[name] = value;
    else top[name] = value;
  }
  return { ...(top as PassportView), environmental: environmental as PassportView['environmental'], granularity };
}

function summary(row: PassportInstancesTable, baseUrl: string, gtin14: string | null) {
  return {
    instance_id: row.id,
    level: row.level,
    lot: row.lot,
    serial: row.serial,
    production_date: row.production_date,
    version: row.version,
    based_on_version: row.based_on_version,
    values: JSON.parse(row.instance_values) as Record<string, unknown>,
    created_at: row.created_at,
    withdrawn_at: row.withdrawn_at,
    uri: gtin14 ? `${baseUrl}${gtinPath(gtin14, { lot: row.lot ?? undefined, serial: row.serial ?? undefined })}` : null,
  };
}

export function createInstanceService(db: Kysely<Schema>, baseUrl: string) {
  return {
    /** Issues a batch or item passport (or the next version of one) over the model's live published version. */
    async issue(orgId: string, productId: string, input: InstanceInput, actor: AuditActor) {
      try {
        return await db.transaction().execute(async (trx) => {
          // Ownership first: another organisation's product is a 404 whatever the body says.
          const product = await requireOwnedProduct(trx, orgId, productId, INSTANCE_COLUMNS, { lock: true });
          const problems = identityProblems(input);
          if (problems.length) throw errors.validation(problems.map((p) => `${p.field} ${p.message}`).join('; '), problems);
          const values = normaliseValues(input.values ?? {});
          const gtin14 = product.gtin14 && toBool(product.gtin_valid) ? product.gtin14 : null;
          if (!gtin14) {
            throw errors.conflict(`Product ${productId} has no valid GTIN: batch and item passports are reached at /01/{gtin}/10/{lot} or /21/{serial}.`, { field: 'ean' });
          }
          const record = await trx.selectFrom('compliance_records').select(['published_version', 'withdrawn_at']).where('product_id', '=', productId).executeTakeFirst();
          if (!record || record.published_version === null || record.withdrawn_at) {
            throw errors.conflict('Publish the model passport first: a batch or item passport extends its live published version.');
          }
          const publication = await trx
            .selectFrom('passport_publications')
            .select(['snapshot'])
            .where('product_id', '=', productId)
            .where('published_version', '=', record.published_version)
            .executeTakeFirstOrThrow();
          const ident = input.level === 'batch' ? `batch:${input.lot}` : `item:${input.serial}`;
          const previous = await trx
            .selectFrom('passport_instances')
            .select((eb) => eb.fn.max<number | null>('version').as('v'))
            .where('product_id', '=', productId)
            .where('ident', '=', ident)
            .executeTakeFirst();
          const now = nowIso();
          const id = newId();
          const version = Number(previous?.v ?? 0) + 1;
          const granularity: Granularity = {
            level: input.level,
            instance_id: id,
            lot: input.lot ?? null,
            serial: input.serial ?? null,
            production_date: input.production_date ?? null,
            version,
            based_on_version: record.published_version,
            issued_at: now,
          };
          const row: PassportInstancesTable = {
            id,
            org_id: orgId,
            product_id: productId,
            level: input.level,
            ident,
            lot: granularity.lot,
            serial: granularity.serial,
            production_date: granularity.production_date,
            version,
            based_on_version: record.published_version,
            instance_values: JSON.stringify(values),
            snapshot: JSON.stringify(composeSnapshot(JSON.parse(publication.snapshot) as PassportView, values, granularity)),
            created_at: now,
            created_by_key_id: actor.keyId,
            withdrawn_at: null,
          };
          // An earlier version of the same batch or item gives way to this one.
          await trx
            .updateTable('passport_instances')
            .set({ withdrawn_at: now })
            .where('product_id', '=', productId)
            .where('ident', '=', ident)
            .where('withdrawn_at', 'is', null)
            .execute();
          await trx.insertInto('passport_instances').values(row).execute();
          await recordAudit(trx, {
            orgId,
            actor,
            action: 'passport.instance.issue',
            targetType: 'passport',
            targetId: productId,
            at: now,
            details: { instance_id: id, level: row.level, lot: row.lot, serial: row.serial, version, based_on_version: row.based_on_version },
          });
          return summary(row, baseUrl, gtin14);
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw errors.conflict('This batch or item passport is being issued by another request; read it and retry.');
        throw e;
      }
    },

    async list(orgId: string, productId: string, query: { level?: InstanceLevel | undefined; page: number; per_page: number }) {
      const product = await requireOwnedProduct(db, orgId, productId, INSTANCE_COLUMNS);
      const gtin14 = product.gtin14 && toBool(product.gtin_valid) ? product.gtin14 : null;
      let q = db.selectFrom('passport_instances').where('product_id', '=', productId);
      if (query.level) q = q.where('level', '=', query.level);
      const [rows, count] = await Promise.all([
        q
          .selectAll()
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(query.per_page)
          .offset((query.page - 1) * query.per_page)
          .execute(),
        q.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items: rows.map((r) => summary(r, baseUrl, gtin14)), total: Number(count.n), page: query.page, per_page: query.per_page };
    },

    /** Takes a batch or item passport off the public side; its Digital Link then opens the model passport. */
    async withdraw(orgId: string, productId: string, instanceId: string, actor: AuditActor) {
      return db.transaction().execute(async (trx) => {
        const product = await requireOwnedProduct(trx, orgId, productId, INSTANCE_COLUMNS, { lock: true });
        const row = await trx.selectFrom('passport_instances').selectAll().where('product_id', '=', productId).where('id', '=', instanceId).executeTakeFirst();
        if (!row) throw errors.notFound('Batch or item passport', `Batch or item passport ${instanceId} not found.`);
        if (row.withdrawn_at) throw errors.conflict('This batch or item passport is already withdrawn (or replaced by a later version).');
        const now = nowIso();
        await trx.updateTable('passport_instances').set({ withdrawn_at: now }).where('id', '=', instanceId).execute();
        await recordAudit(trx, {
          orgId,
          actor,
          action: 'passport.instance.withdraw',
          targetType: 'passport',
          targetId: productId,
          at: now,
          details: { instance_id: instanceId, level: row.level, lot: row.lot, serial: row.serial, version: row.version },
        });
        return summary({ ...row, withdrawn_at: now }, baseUrl, product.gtin14 && toBool(product.gtin_valid) ? product.gtin14 : null);
      });
    },
  };
}

export type InstanceService = ReturnType<typeof createInstanceService>;

/**
 * The live batch or item passport a Digital Link names, for the public resolver: the item by its
 * serial (and lot, when the link gives one), else the batch by its lot; undefined when none is live
 * (the resolver then shows the model passport).
 */
export async function findLiveInstance(db: Kysely<Schema>, productId: string, q: { lot?: string | undefined; serial?: string | undefined }): Promise<InstanceView | undefined> {
  const live = () => db.selectFrom('passport_instances').select('snapshot').where('product_id', '=', productId).where('withdrawn_at', 'is', null);
  if (q.serial !== undefined) {
    let item = live().where('level', '=', 'item').where('serial', '=', q.serial);
    if (q.lot !== undefined) item = item.where((eb) => eb.or([eb('lot', '=', q.lot!), eb('lot', 'is', null)]));
    const found = await item.executeTakeFirst();
    if (found) return JSON.parse(found.snapshot) as InstanceView;
  }
  if (q.lot !== undefined) {
    const batch = await live().where('level', '=', 'batch').where('lot', '=', q.lot).executeTakeFirst();
    if (batch) return JSON.parse(batch.snapshot) as InstanceView;
  }
  return undefined;
}
