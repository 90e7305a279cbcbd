import { compactVerify, importJWK, type JWK } from 'jose';
import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import { dialectOf, isUniqueViolation, MAX_PARAMS } from '../../db/dialect.js';
import type { ComplianceRow, Schema } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import { foldForSearch } from '../../lib/text.js';
import { nowIso } from '../../lib/time.js';
import { recordAudit, type AuditActor } from '../audit/record.js';
import { sealPrivateKey } from '../credentials/keys.js';
import { valuesFromRow } from '../passports/record.js';
import { createStatsRepository, type StatDeltas } from '../stats/repository.js';
import {
  backupLines,
  BACKUP_FORMAT,
  BACKUP_VERSION,
  decryptPrivateKey,
  jcsHash,
  LineHasher,
  passphraseKey,
  RECORD_ORDER,
  RECORD_TYPES,
  type BackupHeader,
  type BackupTrailer,
  type RecordType,
} from './format.js';

type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

/** A backup the service will not import: nothing was written. */
export const backupRefused = (detail: string, extra?: Record<string, unknown>) =>
  new AppError(422, 'backup_refused', 'Backup refused', `${detail} Nothing was imported.`, undefined, extra);

export interface BackupImportSettings {
  /** This installation's SIGNING_SECRET: imported private keys are sealed with it. */
  signingSecret: string | undefined;
}

export interface BackupImportRequest {
  file: string;
  /** The organisation's slug here (default: the backup's). Its id is always the backup's. */
  orgSlug?: string | undefined;
  /** Opens the private keys of a backup made with them. */
  passphrase?: string | undefined;
  /** Who imports (audited as `organisation.restore`); the CLI by default. */
  actor?: AuditActor;
}

export interface BackupImportSummary {
  organisation: { id: string; slug: string; created: boolean };
  source: string;
  counts: Partial<Record<RecordType, number>>;
  /** Signing keys imported without their private part: retired here (they still verify); the next publish creates a new key. */
  keys_without_private_part: number;
  duration_ms: number;
}

/** Stored value of the private key of a key imported without it: it opens nowhere, so the key never signs. */
const NO_PRIVATE_KEY = 'unavailable:not-in-backup';
/** Ids looked up per query when checking for conflicts. */
const LOOKUP_CHUNK = 500;
/** Rows per insert statement at most. */
const INSERT_ROWS = 500;

interface Verified {
  header: BackupHeader;
  trailer: BackupTrailer;
  productIds: string[];
  gtins: string[];
  counts: Partial<Record<RecordType, number>>;
  privateKeys: Map<string, JWK>;
}

/**
 * Imports a backup (features/backup/format.ts) into this installation: the organisation with the same
 * id (its DID names it, so earlier credentials verify from its DID document here), its products with
 * the same ids and GTINs, their passports, every published version with its content hash and
 * credential, its signing keys' public parts, status lists, documents, batch and item passports,
 * registry entries and, when present, the audit log.
 *
 * First the whole file is read and checked, with nothing written: the trailer's SHA-256 and line
 * count, the counts in the header, each publication's content hash (recomputed: JCS, SHA-256) and
 * credential signature (against the backup's public key), and that no product id or GTIN is taken
 * by another organisation here. Then everything is written in one transaction, the file read again
 * and its hash checked again before the commit. Any refusal leaves the database as it was.
 */
export async function importBackup(db: Kysely<Schema>, settings: BackupImportSettings, request: BackupImportRequest): Promise<BackupImportSummary> {
  const started = Date.now();
  const verified = await verifyBackup(request.file, request.passphrase);
  const { header } = verified;
  const orgId = String(header.organisation.id);
  const slug = request.orgSlug ?? String(header.organisation.slug);

  const { created, keysWithoutPrivate } = await db
    .transaction()
    .execute(async (trx) => {
      const target = await prepareOrganisation(trx, header, slug);
      await checkConflicts(trx, orgId, verified);
      const written = await writeRecords(trx, orgId, request.file, verified, settings);
      await recordAudit(trx, {
        orgId,
        actor: request.actor ?? { keyId: null, source: 'cli' },
        action: 'organisation.restore',
        targetType: 'organisation',
        targetId: orgId,
        details: { source: header.source, backup_created_at: header.created_at, counts: verified.counts, organisation_created: target.created },
      });
      return { created: target.created, keysWithoutPrivate: written.keysWithoutPrivate };
    })
    .catch((e: unknown) => {
      if (isUniqueViolation(e)) throw backupRefused(`A record of the backup already exists on this installation (${(e as Error).message}).`);
      throw e;
    });
  return {
    organisation: { id: orgId, slug, created },
    source: header.source,
    counts: verified.counts,
    keys_without_private_part: keysWithoutPrivate,
    duration_ms: Date.now() - started,
  };
}

/** Reads the whole file and checks it, writing nothing (see importBackup). */
export async function verifyBackup(file: string, passphrase?: string): Promise<Verified> {
  const hasher = new LineHasher();
  let header: BackupHeader | undefined;
  let trailer: BackupTrailer | undefined;
  let order = 0;
  let lineNo = 0;
  const counts: Partial<Record<RecordType, number>> = {};
  const productIds: string[] = [];
  const gtins: string[] = [];
  const publicKeys = new Map<string, VerifyKey>();
  const privateKeys = new Map<string, JWK>();
  let sealingKey: Buffer | undefined;

  const lines = readable(backupLines(file));
  for await (const line of lines) {
    lineNo++;
    if (trailer) throw backupRefused(`Line ${lineNo} follows the trailer: the file was altered.`);
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw backupRefused(`Line ${lineNo} is not JSON: the file is damaged or truncated.`);
    }
    if (!header) {
      header = checkHeader(value);
      if (header.options.private_keys) {
        if (!passphrase) throw backupRefused('The backup carries encrypted private signing keys: give the passphrase it was made with.');
        sealingKey = passphraseKey(passphrase, Buffer.from(header.key_encryption?.salt ?? '', 'base64url'));
      }
      hasher.add(line);
      continue;
    }
    if (value.type === 'trailer') {
      trailer = value as unknown as BackupTrailer;
      if (trailer.lines !== hasher.lines || trailer.sha256 !== hasher.digest()) {
        throw backupRefused('The trailer does not match the lines before it (SHA-256 or line count): the file was altered or cut.');
      }
      continue;
    }
    hasher.add(line);
    const type = value.type as RecordType;
    const at = RECORD_ORDER.indexOf(type);
    const row = value.row as Record<string, unknown> | undefined;
    if (at < 0 || !row || typeof row !== 'object') throw backupRefused(`Line ${lineNo} is not a backup record.`);
    if (at < order) throw backupRefused(`Line ${lineNo}: a ${type} record after the ${RECORD_ORDER[order]} records; the file is out of order.`);
    order = at;
    if ('org_id' in row && row.org_id !== header.organisation.id) throw backupRefused(`Line ${lineNo}: a ${type} of another organisation (${String(row.org_id)}).`);
    counts[type] = (counts[type] ?? 0) + 1;

    if (type === 'signing_key') {
      const kid = String(row.kid);
      publicKeys.set(kid, await importJWK(JSON.parse(String(row.public_jwk)) as JWK, 'EdDSA'));
      if (sealingKey) {
        try {
          privateKeys.set(kid, JSON.parse(decryptPrivateKey(String(row.private_key_encrypted), kid, sealingKey)) as JWK);
        } catch {
          throw backupRefused(`The private key of signing key ${kid} does not open with this passphrase.`);
        }
      }
    } else if (type === 'product') {
      productIds.push(String(row.id));
      if (typeof row.gtin14 === 'string') gtins.push(row.gtin14);
    } else if (type === 'publication') {
      await checkPublication(lineNo, row, publicKeys);
    }
  }
  if (!header) throw backupRefused('The file is empty.');
  if (!trailer) throw backupRefused('The file has no trailer: it was cut short.');
  for (const type of RECORD_ORDER) {
    if ((header.counts[type] ?? 0) !== (counts[type] ?? 0)) {
      throw backupRefused(`The header counts ${header.counts[type] ?? 0} ${type} records, the file holds ${counts[type] ?? 0}.`);
    }
  }
  return { header, trailer, productIds, gtins, counts, privateKeys };
}

function checkHeader(value: Record<string, unknown>): BackupHeader {
  if (value.format !== BACKUP_FORMAT) throw backupRefused(`This is not a ${BACKUP_FORMAT} file.`);
  if (value.version !== BACKUP_VERSION) throw backupRefused(`Backup format version ${String(value.version)} is not one this service reads (it reads ${BACKUP_VERSION}).`);
  const header = value as unknown as BackupHeader;
  const org = header.organisation as { id?: unknown; slug?: unknown } | undefined;
  if (typeof org?.id !== 'string' || typeof org.slug !== 'string' || typeof header.counts !== 'object' || typeof header.options !== 'object') {
    throw backupRefused('The header lacks the organisation, counts or options.');
  }
  return header;
}

/** A published version as it was stored: its content hash recomputed, its credential verified with the backup's key. */
async function checkPublication(lineNo: number, row: Record<string, unknown>, publicKeys: Map<string, VerifyKey>) {
  const where = `publication ${String(row.product_id)} v${String(row.published_version)} (line ${lineNo})`;
  if (typeof row.snapshot !== 'string') throw backupRefused(`The ${where} has no snapshot.`);
  if (row.content_hash !== null && row.content_hash !== undefined) {
    if (jcsHash(row.snapshot) !== row.content_hash) throw backupRefused(`The snapshot of the ${where} does not match its content_hash: it was altered.`);
  }
  if (typeof row.credential === 'string') {
    const key = publicKeys.get(String(row.credential_kid));
    if (!key) throw backupRefused(`The credential of the ${where} names signing key ${String(row.credential_kid)}, which is not in the backup.`);
    try {
      await compactVerify(row.credential, key);
    } catch {
      throw backupRefused(`The credential of the ${where} does not verify with its signing key: it was altered.`);
    }
  }
}

/** The lines of the file; a read error (a gzip stream cut short) is a refusal. */
async function* readable(lines: AsyncGenerator<string>): AsyncGenerator<string> {
  try {
    for await (const line of lines) yield line;
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw backupRefused(`The file cannot be read (${(e as Error).message}): it is damaged or cut short.`);
  }
}

/** The organisation here: created with the backup's id, or an existing one of that id holding no passports yet. */
async function prepareOrganisation(trx: Transaction<Schema>, header: BackupHeader, slug: string): Promise<{ created: boolean }> {
  const org = header.organisation;
  const orgId = String(org.id);
  const byId = await trx.selectFrom('organisations').select(['id', 'slug']).where('id', '=', orgId).executeTakeFirst();
  const bySlug = await trx.selectFrom('organisations').select(['id', 'slug']).where('slug', '=', slug).executeTakeFirst();
  if (bySlug && bySlug.id !== orgId) {
    throw backupRefused(
      `Organisation "${slug}" exists here with another id (${bySlug.id}). The backup's credentials are issued by the DID of organisation ${orgId}, ` +
        'so it is imported under that id: give another slug (--org), or import before creating the organisation.',
    );
  }
  if (byId) {
    if (byId.slug !== slug) throw backupRefused(`Organisation ${orgId} exists here as "${byId.slug}", not "${slug}".`);
    for (const table of ['products', 'signing_keys', 'status_lists'] as const) {
      const any = await trx.selectFrom(table).select('org_id').where('org_id', '=', orgId).limit(1).executeTakeFirst();
      if (any) throw backupRefused(`Organisation "${slug}" already holds ${table.replace('_', ' ')}: a backup is imported into a new or empty organisation only, never over data.`);
    }
    return { created: false };
  }
  await trx
    .insertInto('organisations')
    .values(toStorable({ ...org, slug }) as never)
    .execute();
  return { created: true };
}

/** Refuses product ids or GTINs another organisation holds here (ids are global; a GTIN resolves to one passport). */
async function checkConflicts(trx: Transaction<Schema>, orgId: string, { productIds, gtins }: Verified) {
  for (let i = 0; i < productIds.length; i += LOOKUP_CHUNK) {
    const taken = await trx
      .selectFrom('products')
      .select('id')
      .where('id', 'in', productIds.slice(i, i + LOOKUP_CHUNK))
      .limit(5)
      .execute();
    if (taken.length) {
      throw backupRefused(`Product id ${taken.map((r) => r.id).join(', ')} already exists on this installation; a backup never overwrites.`, {
        conflicts: taken.map((r) => ({ product_id: r.id })),
      });
    }
  }
  for (let i = 0; i < gtins.length; i += LOOKUP_CHUNK) {
    const taken = await trx
      .selectFrom('products')
      .select(['gtin14', 'org_id'])
      .where('gtin14', 'in', gtins.slice(i, i + LOOKUP_CHUNK))
      .where('org_id', '!=', orgId)
      .limit(5)
      .execute();
    if (taken.length) {
      throw backupRefused(`GTIN ${taken.map((r) => r.gtin14).join(', ')} is held by another organisation on this installation; /01/{gtin} can resolve to only one.`, {
        conflicts: taken.map((r) => ({ gtin14: r.gtin14 })),
      });
    }
  }
}

/** A value as both databases store it: booleans as 0/1 (PostgreSQL reads '1'/'0' as boolean input). */
function toStorable(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
  return out;
}

/** Second read of the file, inside the transaction: every record written, counters and search kept right. */
async function writeRecords(trx: Transaction<Schema>, orgId: string, file: string, verified: Verified, settings: BackupImportSettings) {
  const postgres = dialectOf(trx) === 'postgres';
  const hasher = new LineHasher();
  const importedAt = nowIso();
  let pendingType: RecordType | undefined;
  let pending: Array<Record<string, unknown>> = [];
  let keysWithoutPrivate = 0;
  const blobRefs = new Set<string>();
  const stats: Required<StatDeltas> = { total_products: 0, with_dpp: 0, draft: 0, complete: 0, published: 0 };
  const certifications = new Map<string, number>();

  const flush = async () => {
    if (!pendingType || pending.length === 0) return;
    const table = RECORD_TYPES[pendingType];
    const columns = Object.keys(pending[0]!).length || 1;
    const per = Math.max(1, Math.min(INSERT_ROWS, Math.floor(MAX_PARAMS / columns)));
    for (let i = 0; i < pending.length; i += per) {
      let q = (trx as Kysely<any>).insertInto(table).values(pending.slice(i, i + per));
      // Blobs are shared by content: one already here is the same bytes.
      if (pendingType === 'blob') q = q.onConflict((oc) => oc.column('sha256').doNothing());
      await q.execute();
    }
    pending = [];
  };

  let first = true;
  for await (const line of backupLines(file)) {
    if (first) {
      first = false;
      hasher.add(line);
      continue;
    }
    const value = JSON.parse(line) as { type: RecordType | 'trailer'; row: Record<string, unknown> };
    if (value.type === 'trailer') break;
    hasher.add(line);
    const type = value.type;
    const row = toStorable(value.row);
    if (type === 'product') {
      delete row.search_vector;
      row.search_text = foldForSearch(String(row.title));
      stats.total_products++;
      if (row.has_dpp === 1) stats.with_dpp++;
      if (row.dpp_status === 'draft' || row.dpp_status === 'complete' || row.dpp_status === 'published') stats[row.dpp_status]++;
    } else if (type === 'compliance_record' && row.passport_created_at) {
      for (const code of new Set(valuesFromRow(row as unknown as ComplianceRow).certifications ?? [])) certifications.set(code, (certifications.get(code) ?? 0) + 1);
    } else if (type === 'signing_key') {
      const kid = String(row.kid);
      const jwk = verified.privateKeys.get(kid);
      delete row.private_key_encrypted;
      if (jwk) row.private_key = sealPrivateKey(jwk, kid, settings.signingSecret);
      else {
        // Without its private part a key still verifies what it signed, but cannot sign: retired here.
        row.private_key = NO_PRIVATE_KEY;
        if (row.status === 'active') {
          row.status = 'retired';
          row.retired_at = importedAt;
        }
        keysWithoutPrivate++;
      }
    } else if (type === 'blob') {
      row.bytes = Buffer.from(String(row.bytes), 'base64');
    } else if (type === 'document' && !verified.header.options.document_bytes) {
      blobRefs.add(String(row.sha256));
    }
    if (type !== pendingType) {
      await flush();
      pendingType = type;
    }
    pending.push(row);
    if (pending.length >= INSERT_ROWS) await flush();
  }
  await flush();
  // The file must be the one checked: read twice, it could have changed in between.
  if (hasher.lines !== verified.trailer.lines || hasher.digest() !== verified.trailer.sha256) throw backupRefused('The file changed while it was being imported.');

  if (blobRefs.size) {
    const refs = [...blobRefs];
    for (let i = 0; i < refs.length; i += LOOKUP_CHUNK) {
      const chunk = refs.slice(i, i + LOOKUP_CHUNK);
      const found = await trx.selectFrom('blobs').select('sha256').where('sha256', 'in', chunk).execute();
      if (found.length < chunk.length) {
        const have = new Set(found.map((r) => r.sha256));
        const missing = chunk.filter((s) => !have.has(s));
        throw backupRefused(
          `The backup names documents by sha256 only, and ${missing.length} of their contents are not on this installation (${missing.slice(0, 3).join(', ')}…): export with the documents' bytes.`,
        );
      }
    }
  }
  // SQLite's title index is filled by the writer (no insert trigger: see products/repository.ts); the
  // organisation held no products before, so all of its rows are new. PostgreSQL's vector is generated.
  if (!postgres) {
    await trx.executeQuery(CompiledQuery.raw('insert into products_fts (rowid, search_text) select rowid, search_text from products where org_id = ?', [orgId]));
  }
  const statsRepo = createStatsRepository(trx);
  await statsRepo.adjust(orgId, stats);
  await statsRepo.adjustCertifications(orgId, certifications);
  return { keysWithoutPrivate };
}
