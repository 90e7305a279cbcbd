import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync, type Hash } from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import canonicalize from 'canonicalize';

/**
 * The backup file (see README, "Backup and restore"): NDJSON, optionally gzip.
 *
 * 1. a header line: `{"format":"dpp-compliance-backup","version":1,"source":PUBLIC_BASE_URL,"organisation":{…},"created_at":…,"options":{…},"counts":{…}}`
 * 2. one line per record: `{"type":"<record type>","row":{…the row as stored…}}`, in the order of
 *    RECORD_TYPES (each record's references come before it);
 * 3. a trailer line: `{"type":"trailer","lines":<lines before it>,"sha256":"<hex>"}`, the SHA-256 of
 *    every byte before it (each line with its "\n", uncompressed). A truncated or edited file fails it.
 */
export const BACKUP_FORMAT = 'dpp-compliance-backup';
export const BACKUP_VERSION = 1;

/** Record types in file order, each with the table it restores. */
export const RECORD_TYPES = {
  signing_key: 'signing_keys',
  status_list: 'status_lists',
  product: 'products',
  compliance_record: 'compliance_records',
  compliance_history: 'compliance_history',
  publication: 'passport_publications',
  blob: 'blobs',
  document: 'documents',
  passport_instance: 'passport_instances',
  passport_successor: 'passport_successors',
  registry_entry: 'registry_entries',
  audit_event: 'audit_events',
} as const;

export type RecordType = keyof typeof RECORD_TYPES;
export const RECORD_ORDER = Object.keys(RECORD_TYPES) as RecordType[];

export interface BackupOptions {
  /** Signing keys carry their private JWK, encrypted with a passphrase (`private_key_encrypted`). */
  private_keys: boolean;
  /** Documents' bytes are in the file (`blob` records); else documents name their blob by sha256 only. */
  document_bytes: boolean;
  /** The organisation's audit log is in the file. */
  audit: boolean;
}

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  /** PUBLIC_BASE_URL of the installation that wrote it: DIDs, credential and status list URLs are under it. */
  source: string;
  /** The organisation row (id, slug, name…). */
  organisation: Record<string, unknown>;
  created_at: string;
  options: BackupOptions;
  /** Records per type. */
  counts: Partial<Record<RecordType, number>>;
  /** Private key encryption: scrypt salt (base64url) when `options.private_keys`. */
  key_encryption?: { kdf: 'scrypt'; salt: string; cipher: 'aes-256-gcm' };
}

export interface BackupTrailer {
  type: 'trailer';
  lines: number;
  sha256: string;
}

/** SHA-256 hex of the RFC 8785 (JCS) form of a stored JSON text, as `content_hash` is computed; undefined when JCS refuses it. */
export function jcsHash(jsonText: string): string | undefined {
  let canonical: string | undefined;
  try {
    canonical = canonicalize(JSON.parse(jsonText));
  } catch {
    return undefined;
  }
  return createHash('sha256')
    .update(canonical ?? '', 'utf8')
    .digest('hex');
}

/** Running hash over the lines of a backup, as the trailer states it. */
export class LineHasher {
  private readonly hash: Hash = createHash('sha256');
  lines = 0;
  add(line: string): void {
    this.hash.update(line, 'utf8');
    this.hash.update('\n');
    this.lines++;
  }
  digest(): string {
    return this.hash.copy().digest('hex');
  }
}

/** The lines of a backup file, gunzipped when it starts with the gzip magic bytes. */
export async function* backupLines(file: string): AsyncGenerator<string> {
  const fd = await fs.promises.open(file, 'r');
  const magic = Buffer.alloc(2);
  await fd.read(magic, 0, 2, 0);
  await fd.close();
  const raw: Readable = fs.createReadStream(file);
  const input = magic[0] === 0x1f && magic[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (e) => input.destroy(e));
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) yield line;
  } finally {
    lines.close();
    input.destroy();
    raw.destroy();
  }
}

const PBKDF = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

/** The AES-256 key a passphrase gives (scrypt, N=2^15, r=8, p=1, the backup's salt). */
export function passphraseKey(passphrase: string, salt: Buffer): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, 32, PBKDF);
}

export function newSalt(): Buffer {
  return randomBytes(16);
}

/** A private JWK encrypted for the backup: `<iv>.<tag>.<ciphertext>` (base64url), the kid as additional data. */
export function encryptPrivateKey(json: string, kid: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
  return `${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${ciphertext.toString('base64url')}`;
}

/** Opens `encryptPrivateKey`'s output; throws on a wrong passphrase or an altered value. */
export function decryptPrivateKey(sealed: string, kid: string, key: Buffer): string {
  const [iv, tag, ciphertext] = sealed.split('.');
  if (!iv || !tag || ciphertext === undefined) throw new Error(`the private key of ${kid} is not in the backup's encrypted form`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(kid, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}
