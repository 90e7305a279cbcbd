import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type ControlledTransaction } from 'kysely';
import { dialectOf } from '../../db/dialect.js';
import type { Schema } from '../../db/schema.js';
import { sqliteConnectionOf } from '../../db/sqlite-direct.js';
import { errors } from '../../errors.js';
import { nowIso } from '../../lib/time.js';
import { recordAudit, type AuditActor } from '../audit/record.js';
import { openPrivateKey } from '../credentials/keys.js';
import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  encryptPrivateKey,
  LineHasher,
  newSalt,
  passphraseKey,
  RECORD_ORDER,
  RECORD_TYPES,
  type BackupHeader,
  type BackupOptions,
  type BackupTrailer,
  type RecordType,
} from './format.js';

export interface BackupExportSettings {
  /** PUBLIC_BASE_URL, written in the header. */
  baseUrl: string;
  /** SIGNING_SECRET, to open the stored private keys when they are exported. */
  signingSecret: string | undefined;
}

export interface BackupExportRequest {
  orgId: string;
  /** Carry the signing keys' private JWKs, encrypted with this passphrase (CLI only). */
  privateKeyPassphrase?: string | undefined;
  /** Documents' bytes in the file (default true). */
  documentBytes?: boolean;
  /** The audit log in the file (default false). */
  audit?: boolean;
  /** Who asks: the export is audited (`organisation.backup`). */
  actor: AuditActor;
}

/** Rows read per query; blobs one at a time (a document may be tens of MB). */
const PAGE_ROWS = 1000;
const BLOB_PAGE_ROWS = 1;
/** Output is handed on in chunks of about this many characters. */
const CHUNK_CHARS = 64 * 1024;

/** Columns never written to a backup: derived by the database (PostgreSQL's generated search vector). */
const DERIVED_COLUMNS = new Set(['search_vector']);

/** The primary key each table is paged by. */
const KEYS: Record<RecordType, readonly string[]> = {
  signing_key: ['kid'],
  status_list: ['purpose', 'list_number'],
  product: ['id'],
  compliance_record: ['product_id'],
  compliance_history: ['id'],
  publication: ['product_id', 'published_version'],
  blob: ['sha256'],
  document: ['id'],
  passport_instance: ['id'],
  passport_successor: ['product_id'],
  registry_entry: ['id'],
  audit_event: ['id'],
};

type AnyDb = Kysely<any>;

/**
 * A consistent read of the whole organisation: on PostgreSQL a read-only REPEATABLE READ transaction
 * (one snapshot for every query); on SQLite a transaction on a second, read-only connection to the
 * same file (WAL: the snapshot of its first read), so the service's writer is never held up.
 */
async function openSnapshot(db: Kysely<Schema>): Promise<{ reader: AnyDb; close: () => Promise<void> }> {
  if (dialectOf(db) === 'postgres') {
    const trx: ControlledTransaction<Schema> = await db.startTransaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute();
    return { reader: trx as AnyDb, close: () => trx.rollback().execute() };
  }
  const file = await db.transaction().execute(async (trx) => sqliteConnectionOf(trx).name);
  if (!file || file === ':memory:') return { reader: db as AnyDb, close: async () => {} };
  const connection = new SQLite(file, { readonly: true, fileMustExist: true });
  const ro = new Kysely<Schema>({ dialect: new SqliteDialect({ database: connection }) });
  const trx = await ro.startTransaction().execute();
  return {
    reader: trx as AnyDb,
    close: async () => {
      await trx.rollback().execute();
      await ro.destroy();
    },
  };
}

/** The rows of one record type that belong to the organisation (blobs: those its documents use). */
function scoped(reader: AnyDb, type: RecordType, orgId: string) {
  const table = RECORD_TYPES[type];
  if (type === 'blob') {
    return reader.selectFrom('blobs').where('sha256', 'in', reader.selectFrom('documents').select('sha256').where('org_id', '=', orgId));
  }
  return reader.selectFrom(table).where('org_id', '=', orgId);
}

async function countOf(reader: AnyDb, type: RecordType, orgId: string): Promise<number> {
  const row = (await scoped(reader, type, orgId)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirst()) as { n: string | number } | undefined;
  return Number(row?.n ?? 0);
}

/** Every row of a record type, a page per query, in primary key order (keyset pagination). */
async function* rowsOf(reader: AnyDb, type: RecordType, orgId: string): AsyncGenerator<Record<string, unknown>> {
  const keys = KEYS[type];
  const limit = type === 'blob' ? BLOB_PAGE_ROWS : PAGE_ROWS;
  let after: unknown[] | undefined;
  for (;;) {
    let q = scoped(reader, type, orgId).selectAll();
    if (after) {
      const last = after;
      q = q.where(sql<boolean>`(${sql.join(keys.map((k) => sql.ref(k)))}) > (${sql.join(last)})`);
    }
    for (const k of keys) q = q.orderBy(k);
    const rows = (await q.limit(limit).execute()) as Array<Record<string, unknown>>;
    for (const row of rows) yield row;
    if (rows.length < limit) return;
    const lastRow = rows.at(-1)!;
    after = keys.map((k) => lastRow[k]);
  }
}

/**
 * The backup of one organisation as chunks of NDJSON text (header, records, trailer): everything
 * needed to serve its passports elsewhere at the same identifiers. Read from one consistent snapshot,
 * a page at a time, so memory stays flat whatever the catalog's size. A consumer that stops early
 * (a closed download) ends the snapshot.
 *
 * Not in a backup: API keys and access grants (credentials of this installation: issue new ones),
 * jobs and extraction results (work in progress), rate-limit counters.
 */
export async function* backupChunks(db: Kysely<Schema>, settings: BackupExportSettings, request: BackupExportRequest): AsyncGenerator<string> {
  const organisation = await db.selectFrom('organisations').selectAll().where('id', '=', request.orgId).executeTakeFirst();
  if (!organisation) throw errors.notFound('Organisation', `Organisation ${request.orgId} does not exist.`);
  const options: BackupOptions = {
    private_keys: request.privateKeyPassphrase !== undefined,
    document_bytes: request.documentBytes ?? true,
    audit: request.audit ?? false,
  };
  if (options.private_keys && !request.privateKeyPassphrase)
    throw errors.validation('An empty passphrase cannot protect private keys.', [{ field: 'passphrase', rule: 'minLength', message: 'must not be empty' }]);
  const salt = options.private_keys ? newSalt() : undefined;
  const sealingKey = salt ? passphraseKey(request.privateKeyPassphrase!, salt) : undefined;
  const types = RECORD_ORDER.filter((t) => (t !== 'blob' || options.document_bytes) && (t !== 'audit_event' || options.audit));

  // A copy of the whole catalog leaves the service: audited before the first byte.
  await recordAudit(db, {
    orgId: request.orgId,
    actor: request.actor,
    action: 'organisation.backup',
    targetType: 'organisation',
    targetId: request.orgId,
    details: { ...options },
  });
  const { reader, close } = await openSnapshot(db);
  try {
    const counts: Partial<Record<RecordType, number>> = {};
    for (const type of types) counts[type] = await countOf(reader, type, request.orgId);
    const header: BackupHeader = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      source: settings.baseUrl,
      organisation,
      created_at: nowIso(),
      options,
      counts,
      ...(salt ? { key_encryption: { kdf: 'scrypt' as const, salt: salt.toString('base64url'), cipher: 'aes-256-gcm' as const } } : {}),
    };
    const hasher = new LineHasher();
    let chunk = '';
    const add = (value: unknown) => {
      const line = JSON.stringify(value);
      hasher.add(line);
      chunk += line + '\n';
    };
    add(header);
    for (const type of types) {
      let written = 0;
      for await (const stored of rowsOf(reader, type, request.orgId)) {
        add({ type, row: recordRow(type, stored, settings, sealingKey) });
        written++;
        if (chunk.length >= CHUNK_CHARS) {
          yield chunk;
          chunk = '';
        }
      }
      // The snapshot guarantees it; a mismatch would make the file unreadable, so say so here.
      if (written !== counts[type]) throw new Error(`backup of ${type}: counted ${counts[type]} rows, read ${written}`);
    }
    const trailer: BackupTrailer = { type: 'trailer', lines: hasher.lines, sha256: hasher.digest() };
    chunk += JSON.stringify(trailer) + '\n';
    yield chunk;
  } finally {
    await close();
  }
}

/** A row as written: private keys removed (or encrypted for the backup), blob bytes in base64, derived columns dropped. */
function recordRow(type: RecordType, stored: Record<string, unknown>, settings: BackupExportSettings, sealingKey: Buffer | undefined): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(stored)) {
    if (DERIVED_COLUMNS.has(column)) continue;
    row[column] = Buffer.isBuffer(value) ? value.toString('base64') : value;
  }
  if (type === 'signing_key') {
    const kid = String(stored.kid);
    delete row.private_key;
    if (sealingKey) {
      let jwk: object;
      try {
        jwk = openPrivateKey(String(stored.private_key), kid, settings.signingSecret);
      } catch (e) {
        throw errors.conflict(`The private key of signing key ${kid} cannot be read here (${(e as Error).message}), so it cannot be exported.`);
      }
      row.private_key_encrypted = encryptPrivateKey(JSON.stringify(jwk), kid, sealingKey);
    }
  }
  return row;
}
