import type { Kysely } from 'kysely';
import type { Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';
import { nowIso } from '../../lib/time.js';
import { resolveProvider } from '../extraction/providers.js';
import { generateCandidates } from './generate.js';
import { valuesFromRow, type Field } from './record.js';
import { normalisePatch } from './rules.js';
import type { Actor, ComplianceService, DppStatus } from './service.js';

const isEmpty = (v: unknown) => v === null || v === undefined || (Array.isArray(v) && v.length === 0);

/** Keeps only the candidates that pass validation: generation fills what it can and never fails on a bad source. */
function validOnly(candidates: Partial<Record<Field, unknown>>): Partial<Record<Field, unknown>> {
  return Object.fromEntries(
    Object.entries(candidates).filter(([field, value]) => {
      try {
        normalisePatch({ [field]: value });
        return true;
      } catch {
        return false;
      }
    }),
  );
}

/**
 * POST /compliance/dpp/{id}/generate: drafts the passport from the product's own data and its
 * extraction results. Fills empty fields only (or fields an earlier generation or extraction filled);
 * a value a person set is never touched.
 */
export function createGenerateService(db: Kysely<Schema>, compliance: ComplianceService, options: { threshold: number; defaultProvider: string }) {
  return {
    async generate(orgId: string, productId: string, actor: Actor, provider?: string) {
      resolveProvider(provider, options.defaultProvider);
      const product = await db
        .selectFrom('products')
        .select(['title', 'brand', 'description', 'attributes'])
        .where('org_id', '=', orgId)
        .where('id', '=', productId)
        .executeTakeFirst();
      if (!product) throw errors.notFound('Product', `Product ${productId} not found.`);
      const record = await db.selectFrom('compliance_records').selectAll().where('product_id', '=', productId).executeTakeFirst();
      const extractions = await db
        .selectFrom('extractions')
        .select('fields')
        .where('org_id', '=', orgId)
        .where('product_id', '=', productId)
        .where('status', '=', 'completed')
        .orderBy('extracted_at', 'desc')
        .execute();
      const extracted: Partial<Record<Field, unknown>> = {};
      for (const row of extractions) {
        const fields = JSON.parse(row.fields ?? '{}') as Record<string, { value: unknown; confidence: number }>;
        for (const [name, f] of Object.entries(fields)) {
          if (f.confidence >= options.threshold && !(name in extracted)) extracted[name as Field] = f.value;
        }
      }
      const candidates = validOnly(
        generateCandidates({
          title: product.title,
          brand: product.brand,
          description: product.description,
          attributes: JSON.parse(product.attributes) as Record<string, unknown>,
          extracted,
          weeeCategory: valuesFromRow(record).weee_category,
        }),
      );
      const result = await compliance.change(orgId, productId, candidates, {
        actor: { ...actor, source: 'generate' },
        createPassport: true,
        // Empty fields only, or what an earlier generation wrote: never a person's value, nor a value
        // an extraction read from a document (a brand is weaker evidence than a manufacturer's DoC).
        mayWrite: (_field, current, source) => isEmpty(current) || source === 'generate',
      });
      // The passport's status after the change (a published passport stays published).
      const status = (result.product.dpp_status ?? 'draft') as DppStatus;
      return {
        product_id: productId,
        status,
        generated_at: nowIso(),
        fields_filled: result.changed,
        dpp_status: status,
      };
    },
  };
}

export type GenerateService = ReturnType<typeof createGenerateService>;
