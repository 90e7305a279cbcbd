import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { sql, type Kysely } from 'kysely';

/** Publications whose content hash is filled per transaction by the backfill. */
const BACKFILL_BATCH = 500;

/**
 * Signed, revocable passport credentials:
 * - `passport_publications` gains `content_hash` (SHA-256 hex of the RFC 8785 JCS form of `snapshot`),
 *   `credential` (the compact JWS, `typ: vc+jwt`), `credential_kid` (the key that signed it), and the
 *   credential's place in its organisation's revocation status list (`status_list`, `status_index`);
 * - `signing_keys`: an organisation's Ed25519 keys (at most one `active`, the rest `retired` and still
 *   listed in its DID document so earlier credentials verify); `private_key` is the private JWK,
 *   sealed with AES-256-GCM when SIGNING_SECRET is set;
 * - `status_lists`: an organisation's W3C Bitstring Status Lists (`encoded_list`: GZIP + base64url of
 *   the bits, without the multibase prefix) and the next free index of each.
 *
 * Publications made before this migration get their content hash (the JCS rule is copied here: the
 * `canonicalize` package, SHA-256 hex) but no credential: they stay unsigned.
 */
export function credentials() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      for (const [column, type] of [
        ['content_hash', 'text'],
        ['credential', 'text'],
        ['credential_kid', 'text'],
        ['status_list', 'integer'],
        ['status_index', 'integer'],
      ] as const) {
        await db.schema.alterTable('passport_publications').addColumn(column, type).execute();
      }
      // One credential per place in a list (several NULLs are allowed on both databases).
      await db.schema.createIndex('passport_publications_status_idx').on('passport_publications').columns(['org_id', 'status_list', 'status_index']).unique().execute();

      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_key', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('retired_at', 'text')
        .execute();
      await db.schema.createIndex('signing_keys_org_idx').on('signing_keys').columns(['org_id', 'created_at']).execute();
      // At most one active key per organisation: two first publishes racing to create it cannot both win.
      await db.schema.createIndex('signing_keys_one_active_idx').on('signing_keys').column('org_id').unique().where(sql.ref('status'), '=', 'active').execute();

      await db.schema
        .createTable('status_lists')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('list_number', 'integer', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('next_index', 'integer', (c) => c.notNull())
        .addColumn('encoded_list', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('status_lists_pk', ['org_id', 'purpose', 'list_number'])
        .execute();

      // Content hashes of the publications already made, a batch per statement round.
      let after: { product_id: string; published_version: number } | undefined;
      for (;;) {
        let q = db
          .selectFrom('passport_publications')
          .select(['product_id', 'published_version', 'snapshot'])
          .orderBy('product_id')
          .orderBy('published_version')
          .limit(BACKFILL_BATCH);
        if (after) {
          const { product_id, published_version } = after;
          q = q.where((eb) => eb.or([eb('product_id', '>', product_id), eb.and([eb('product_id', '=', product_id), eb('published_version', '>', published_version)])]));
        }
        const rows = (await q.execute()) as Array<{ product_id: string; published_version: number; snapshot: string }>;
        if (rows.length === 0) break;
        for (const row of rows) {
          let canonical: string | undefined;
          try {
            canonical = canonicalize(JSON.parse(row.snapshot));
          } catch {
            // Text JCS refuses (a lone surrogate): that publication keeps no hash rather than a wrong one.
            continue;
          }
          const hash = createHash('sha256')
            .update(canonical ?? '', 'utf8')
            .digest('hex');
          await db
            .updateTable('passport_publications')
            .set({ content_hash: hash })
            .where('product_id', '=', row.product_id)
            .where('published_version', '=', row.published_version)
            .execute();
        }
        const last = rows.at(-1)!;
        after = { product_id: last.product_id, published_version: Number(last.published_version) };
      }
    },
  };
}
