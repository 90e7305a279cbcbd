import type { Kysely } from 'kysely';

/**
 * Documents a product's owner marks public (a Declaration of Conformity, a user manual…):
 * `documents.public_role` is the role the document plays on the public passport (a GS1 link type
 * follows from it), null while the document is private, which every existing document stays.
 * `public_changed_at` is when it was last marked public or private. The public side shows a
 * document only once a published passport version lists it (the publication snapshot captures it).
 */
export function publicDocuments() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('documents').addColumn('public_role', 'text').execute();
      await db.schema.alterTable('documents').addColumn('public_changed_at', 'text').execute();
    },
  };
}
