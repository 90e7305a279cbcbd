import type { Migration } from 'kysely';
import type { Dialect } from '../dialect.js';
import { foundation } from './0001-foundation.js';
import { passports } from './0002-passports.js';
import { resolver } from './0003-resolver.js';
import { jobsAndDocuments } from './0004-jobs-documents.js';
import { leanProductIndexes } from './0005-lean-product-indexes.js';
import { passportMissingFields } from './0006-passport-missing-fields.js';
import { extractionAuthority } from './0007-extraction-authority.js';
import { auditLog } from './0008-audit-log.js';
import { rateLimits } from './0009-rate-limits.js';
import { searchVector } from './0010-search-vector.js';
import { catalogChanges } from './0011-catalog-changes.js';
import { credentials } from './0012-credentials.js';
import { accessGrants } from './0013-access-grants.js';
import { passportInstances } from './0016-passport-instances.js';
import { passportSuccessors } from './0017-passport-successors.js';
import { publicDocuments } from './0014-public-documents.js';
import { registry } from './0015-registry.js';
import { searchPrefixes } from './0018-search-prefixes.js';

/** Static migration index, in order. Names are frozen once released. */
export function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001-foundation': foundation(dialect),
    '0002-passports': passports(dialect),
    '0003-resolver': resolver(),
    '0004-jobs-documents': jobsAndDocuments(dialect),
    '0005-lean-product-indexes': leanProductIndexes(dialect),
    '0006-passport-missing-fields': passportMissingFields(dialect),
    '0007-extraction-authority': extractionAuthority(),
    '0008-audit-log': auditLog(),
    '0009-rate-limits': rateLimits(dialect),
    '0010-search-vector': searchVector(dialect),
    '0011-catalog-changes': catalogChanges(dialect),
    '0012-credentials': credentials(),
    '0013-access-grants': accessGrants(),
    '0014-public-documents': publicDocuments(),
    '0015-registry': registry(),
    '0016-passport-instances': passportInstances(),
    '0017-passport-successors': passportSuccessors(),
    '0018-search-prefixes': searchPrefixes(dialect),
  };
}
