import type { RawBuilder } from 'kysely';
import type { Static } from 'typebox';
import type { Dialect } from '../../db/dialect.js';
import type { ComplianceRow } from '../../db/schema.js';
import { passportDocumentSql as documentSql, renderPassport, type ProductIdentity } from './derive.js';
import { PASSPORT_MODEL, type DppStatus, type Field, type PassportModel } from './model.js';
import type { ComplianceValues } from './record.js';
import { missingForComplete } from './rules.js';
import type { PublicDocument } from '../documents/public-roles.js';

export type { ProductIdentity } from './derive.js';

/** How the view answers a field: [] for an unset list, the title for the name, else null when unset. */
type Answered<K extends Field> = PassportModel[K] extends { list: true }
  ? Static<PassportModel[K]['output']>
  : PassportModel[K] extends { fallsBackToTitle: true }
    ? string
    : Static<PassportModel[K]['output']> | null;
type Section<S extends 'passport' | 'environmental'> = { [K in Field as PassportModel[K]['section'] extends S ? K : never]: Answered<K> };

/** The passport as the API answers it (spec fields first, then lifecycle fields); its schema is derived from the same model. */
export type PassportView = { product_id: string; ean: string | null; dpp_id: string } & Section<'passport'> & {
    updated_at: string;
    dpp_status: DppStatus;
    version: number;
    missing_fields: string[];
    has_unpublished_changes: boolean;
    published_version: number | null;
    published_at: string | null;
    withdrawn_at: string | null;
    environmental: Section<'environmental'>;
    /** In a published version: the documents marked public when it was published (not a model field). */
    documents?: PublicDocument[];
  };

/** The passport as the API answers it, from values in the application (publish snapshots, exports). */
export function passportView(product: ProductIdentity, row: ComplianceRow, v: ComplianceValues, status: DppStatus): PassportView {
  return renderPassport(PASSPORT_MODEL, product, row, v, status, missingForComplete(v)) as PassportView;
}

/**
 * The same passport as `passportView`, rendered by the database as JSON text (see derive.ts). The
 * passport GET answers this text as it comes: reading the row into objects, running the rules and
 * serialising again was about a sixth of its cost. Both renderers are derived from the model; a test
 * still compares them over records of every kind (test/features/passport-document.test.ts).
 */
export function passportDocumentSql(dialect: Dialect): RawBuilder<string | null> {
  return documentSql(PASSPORT_MODEL, dialect);
}
