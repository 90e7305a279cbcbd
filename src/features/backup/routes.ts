import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import type { Schema } from '../../db/schema.js';
import { actorOf, principalOf } from '../../http/auth.js';
import { ProblemResponses } from '../../http/schemas.js';
import { backupChunks, type BackupExportSettings } from './export.js';

export interface BackupRoutesOptions {
  db: Kysely<Schema>;
  settings: BackupExportSettings;
}

/** The organisation's backup (admin keys only). Importing is a CLI command: see README, "Backup and restore". */
export const backupRoutes: FastifyPluginAsyncTypebox<BackupRoutesOptions> = async (app, { db, settings }) => {
  app.get(
    '/compliance/backup',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['Backup'],
        summary: "The organisation's backup: passports, every published version with its hash and credential, keys' public parts, documents (admin keys only)",
        description:
          'NDJSON (gzip with `gzip=true`): a header line, one line per record, and a trailer holding the SHA-256 of the lines before it. ' +
          'Read from one consistent snapshot and streamed. Private signing keys are never in an API backup (`dpp backup export --include-private-keys` only). ' +
          'Import it with `dpp backup import --file <file>` on another installation.',
        querystring: Type.Object(
          {
            gzip: Type.Boolean({ default: false, description: 'gzip the file' }),
            document_bytes: Type.Boolean({ default: true, description: "carry documents' bytes (base64); false: documents by sha256 only" }),
            audit: Type.Boolean({ default: false, description: 'carry the audit log' }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: { description: 'The backup file', content: { 'application/x-ndjson': { schema: { type: 'string' } }, 'application/gzip': { schema: { type: 'string' } } } },
          ...ProblemResponses,
        },
      },
    },
    async (request, reply) => {
      const { orgId } = principalOf(request);
      const { gzip, document_bytes, audit } = request.query;
      const date = new Date().toISOString().slice(0, 10);
      const body = Readable.from(backupChunks(db, settings, { orgId, documentBytes: document_bytes, audit, actor: actorOf(request) }));
      reply.header('cache-control', 'no-store');
      if (gzip) {
        reply.header('content-disposition', `attachment; filename="backup-${orgId}-${date}.ndjson.gz"`);
        const zipped = createGzip();
        body.on('error', (e) => zipped.destroy(e));
        return reply.type('application/gzip').send(body.pipe(zipped));
      }
      reply.header('content-disposition', `attachment; filename="backup-${orgId}-${date}.ndjson"`);
      return reply.type('application/x-ndjson').send(body);
    },
  );
};
