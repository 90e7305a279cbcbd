import type { Kysely } from 'kysely';
import type { Schema } from '../../db/schema.js';
import { errors } from '../../errors.js';
import { nowIso } from '../../lib/time.js';
import type { LlmProviderOptions, LlmSettings } from '../extraction/llm/settings.js';
import { generateCandidates, GEN_LANGS, isGenLang, productLanguage, type ExtractedValue, type GenLang } from './generate.js';
import { COMPOSED_FIELDS, generationModel, providerProblem, resolveGenerationProvider, type GenerationContext, type GenerationModel, type LlmGeneration } from './generate-llm.js';
import { valuesFromRow, type Field } from './record.js';
import { normalisePatch } from './rules.js';
import type { Actor, ComplianceService, DppStatus } from './service.js';

const isEmpty = (v: unknown) => v === null || v === undefined || (Array.isArray(v) && v.length === 0);
/** A field source that an earlier generation recorded (`generate`, or `generate:<origin>`). */
const byGeneration = (source: string | undefined) => source === 'generate' || source?.startsWith('generate:') === true;

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

export interface GenerateOptions {
  /** `openai`, `anthropic` or `rules`; the configured default when absent. */
  provider?: string | undefined;
  /** Language of the end-of-life text; the product's own language when absent. */
  lang?: string | undefined;
}

/**
 * POST /compliance/dpp/{id}/generate: drafts the passport from the product's own data and its
 * extraction results, offline (`rules`) or with a model (`openai`, `anthropic`). Fills empty fields
 * only (or fields an earlier generation filled); a value a person set, or one an extraction applied,
 * is never touched. Every value written records its source (`rules:…`, `extraction:<id>`,
 * `llm:<provider>:<model>`), in the answer and in the passport's field sources (`generate:<source>`).
 * The model is asked before the one transaction that writes: a provider error writes nothing.
 */
export function createGenerateService(
  db: Kysely<Schema>,
  compliance: ComplianceService,
  options: { threshold: number; defaultProvider: string; llm?: LlmSettings | undefined; llmOptions?: LlmProviderOptions },
) {
  /** One generator (and SDK client, with its connection pool) per provider, made on first use and kept by this service. */
  const models = new Map<'openai' | 'anthropic', GenerationModel>();
  const modelFor = (provider: 'openai' | 'anthropic'): GenerationModel => {
    let model = models.get(provider);
    if (!model) {
      // resolveGenerationProvider checked that the settings configure this provider.
      model = generationModel(provider, options.llm!, options.llmOptions);
      models.set(provider, model);
    }
    return model;
  };
  return {
    async generate(orgId: string, productId: string, actor: Actor, request: GenerateOptions = {}) {
      if (request.lang !== undefined && !isGenLang(request.lang)) {
        throw errors.validation(`Unsupported lang "${request.lang}"; supported: ${GEN_LANGS.join(', ')}.`, [
          { field: 'lang', rule: 'enum', message: `must be one of ${GEN_LANGS.join(', ')}` },
        ]);
      }
      const provider = resolveGenerationProvider(request.provider, options.defaultProvider, options.llm);
      const product = await db
        .selectFrom('products')
        .select(['title', 'brand', 'description', 'attributes'])
        .where('org_id', '=', orgId)
        .where('id', '=', productId)
        .executeTakeFirst();
      if (!product) throw errors.productNotFound(productId);
      const record = await db.selectFrom('compliance_records').selectAll().where('product_id', '=', productId).executeTakeFirst();
      const extractions = await db
        .selectFrom('extractions')
        .select(['id', 'asset_id', 'provider', 'fields'])
        .where('org_id', '=', orgId)
        .where('product_id', '=', productId)
        .where('status', '=', 'completed')
        .orderBy('extracted_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      type Read = { value: unknown; confidence: number; evidence?: Array<{ page: number; snippet: string }> };
      const parsed = extractions.map((row) => ({ ...row, fields: JSON.parse(row.fields ?? '{}') as Record<string, Read> }));
      const extracted: Partial<Record<Field, ExtractedValue>> = {};
      for (const row of parsed) {
        for (const [name, f] of Object.entries(row.fields)) {
          if (f.confidence >= options.threshold && !(name in extracted)) extracted[name as Field] = { value: f.value, extractionId: row.id };
        }
      }
      const source = {
        title: product.title,
        brand: product.brand,
        description: product.description,
        attributes: JSON.parse(product.attributes) as Record<string, unknown>,
        extracted,
        weeeCategory: valuesFromRow(record).weee_category,
      };
      const lang: GenLang = (request.lang as GenLang | undefined) ?? productLanguage(source);
      const rules = generateCandidates(source, lang);
      const values = { ...rules.values };
      const sources = { ...rules.sources };

      let llm: LlmGeneration | undefined;
      if (provider !== 'rules') {
        const documents = await db
          .selectFrom('documents')
          .select(['id', 'filename', 'media_type', 'kind'])
          .where('org_id', '=', orgId)
          .where('product_id', '=', productId)
          .orderBy('created_at', 'asc')
          .orderBy('id', 'asc')
          .limit(100)
          .execute();
        // The latest completed extraction of each document.
        const latest = new Map<string, (typeof parsed)[number]>();
        for (const row of parsed) if (!latest.has(row.asset_id)) latest.set(row.asset_id, row);
        const context: GenerationContext = {
          lang,
          product: { title: source.title, brand: source.brand, description: source.description, attributes: source.attributes },
          weeeCategory: source.weeeCategory,
          documents,
          extractions: [...latest.values()].map((row) => ({ id: row.id, document_id: row.asset_id, provider: row.provider, fields: row.fields })),
        };
        try {
          llm = await modelFor(provider).generate(context);
        } catch (e) {
          throw providerProblem(e) ?? e;
        }
        const label = `llm:${llm.provider}:${llm.model}`;
        for (const [field, value] of Object.entries(llm.values) as Array<[Field, unknown]>) {
          // The model fills what the product's data and the documents do not say, and writes the
          // composed fields (end-of-life text, recyclability) itself; it never overrides a value read
          // from the product or a document.
          if (COMPOSED_FIELDS.has(field) || !(field in values)) {
            values[field] = value;
            sources[field] = label;
          }
        }
      }

      const candidates = validOnly(values);
      const result = await compliance.change(orgId, productId, candidates, {
        actor: { ...actor, source: provider === 'rules' ? 'generate' : `generate:${provider}` },
        createPassport: true,
        // Empty fields only, or what an earlier generation wrote: never a person's value, nor a value
        // an extraction read from a document (a brand is weaker evidence than a manufacturer's DoC).
        mayWrite: (_field, current, currentSource) => isEmpty(current) || byGeneration(currentSource),
        fieldSource: (field) => `generate:${sources[field] ?? provider}`,
      });
      // The passport's status after the change (a published passport stays published).
      const status = (result.product.dpp_status ?? 'draft') as DppStatus;
      return {
        product_id: productId,
        status,
        generated_at: nowIso(),
        fields_filled: result.changed,
        dpp_status: status,
        provider,
        model: llm?.model ?? null,
        lang,
        sources: Object.fromEntries(result.changed.map((f) => [f, sources[f] ?? provider])),
        rejected: llm?.rejected ?? [],
      };
    },
  };
}

export type GenerateService = ReturnType<typeof createGenerateService>;
