import type { Kysely } from 'kysely';

/**
 * `extractions.authority`: how much the document of an extraction counts for the product's data
 * (product_declaration, technical_document, component_statement; see features/extraction/authority.ts).
 * Runs from before this version have none and rank as technical documents.
 */
export function extractionAuthority() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('extractions').addColumn('authority', 'text').execute();
    },
  };
}
