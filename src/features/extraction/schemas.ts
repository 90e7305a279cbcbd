import { Type } from 'typebox';

/** Response shapes of the extraction routes, for validation-free serialisation and the OpenAPI document. */

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Open = { additionalProperties: true };

/** 202 of POST /compliance/batch/extract: the spec's task_id, queued, status and message, plus what was queued and refused. */
export const BatchQueued = Type.Object(
  {
    task_id: Type.String(),
    queued: Type.Integer({ description: 'products queued' }),
    documents_queued: Type.Integer(),
    status: Type.String({ description: 'queued' }),
    message: Type.String(),
    provider: Type.String(),
    rejected: Type.Array(Type.Object({ product_id: Type.String(), reason: Type.String({ description: 'not_found or no_documents' }) }, Open), {
      description: 'products not queued, and why',
    }),
  },
  Open,
);

export const QueuedProducts = Type.Object(
  {
    product_id: Type.String(),
    status: Type.String({ description: 'queued, or no_documents (200) when the product has none' }),
    documents_found: Type.Integer(),
    task_id: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
  },
  Open,
);

export const QueuedDocument = Type.Object({ product_id: Type.String(), asset_id: Type.String(), status: Type.String(), task_id: Type.String() }, Open);

const Counts = Type.Object({ queued: Type.Integer(), running: Type.Integer(), completed: Type.Integer(), failed: Type.Integer() }, Open);

export const TaskProgress = Type.Object(
  {
    task_id: Type.String(),
    provider: Type.String(),
    status: Type.String({ description: 'queued, running or completed' }),
    created_at: Type.String(),
    counts: Counts,
    products: Type.Array(Type.Object({ product_id: Type.String(), documents: Type.Integer(), completed: Type.Integer(), failed: Type.Integer(), status: Type.String() }, Open)),
  },
  Open,
);

export const ExtractionResults = Type.Object(
  {
    product_id: Type.String(),
    extractions: Type.Array(
      Type.Object(
        {
          extraction_id: Type.String(),
          asset_id: Type.String(),
          document_name: Nullable(Type.String()),
          task_id: Nullable(Type.String()),
          provider: Type.String(),
          status: Type.String({ description: 'queued, running, completed or failed' }),
          extracted_at: Nullable(Type.String()),
          fields: Type.Record(Type.String(), Type.Unknown(), { description: 'field → extracted value' }),
          field_details: Type.Record(Type.String(), Type.Unknown(), { description: 'field → {value, confidence, evidence[]}' }),
          confidence: Type.Union([Type.Number(), Type.Null()]),
          applied_fields: Type.Array(Type.String()),
          conflicts: Type.Array(Type.Unknown(), {
            description: 'values not applied: {field, extracted, current, reason, kept_source} (kept_source names where the kept value came from)',
          }),
          authority: Nullable(
            Type.String({
              description:
                "what the document counts as for the product: product_declaration (its EU DoC) > technical_document > component_statement (a supplier's RoHS/REACH statement, which never sets product-level fields); null until the run reads the document",
            }),
          ),
          error: Nullable(Type.String()),
        },
        Open,
      ),
    ),
  },
  Open,
);
