import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../../http/auth.js';
import { ProblemResponses } from '../../http/schemas.js';
import { AuditPage, AuditQuery } from './schemas.js';
import type { AuditService } from './service.js';

export interface AuditRoutesOptions {
  audit: AuditService;
}

/** The organisation's audit log, for admin keys. */
export const auditRoutes: FastifyPluginAsyncTypebox<AuditRoutesOptions> = async (app, { audit }) => {
  app.get(
    '/audit-events',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['Audit'],
        summary: 'The audit log: publish, withdraw, deletions and key changes, newest first (admin keys only)',
        description:
          'Who (`actor_key_id`, null for the CLI) did what (`action`) to which passport, product, document or key (`target_id`), ' +
          "in the caller's organisation only. `since` is inclusive, `until` exclusive. Kept AUDIT_RETENTION_DAYS days.",
        querystring: AuditQuery,
        response: { 200: AuditPage, ...ProblemResponses },
      },
    },
    async (request) => {
      const { page, per_page, ...filters } = request.query;
      return audit.list(principalOf(request).orgId, filters, page, per_page);
    },
  );
};
