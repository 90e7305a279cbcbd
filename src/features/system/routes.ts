import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Database } from '../../db/database.js';
import { errors } from '../../errors.js';

/** Liveness and readiness probes (no API key). */
export const systemRoutes: FastifyPluginAsyncTypebox<{ database: Database }> = async (app, { database }) => {
  const Status = Type.Object({ status: Type.String() });
  app.get('/healthz', { schema: { tags: ['System'], summary: 'Process is alive', response: { 200: Status } } }, async () => ({
    status: 'ok',
  }));
  app.get('/readyz', { schema: { tags: ['System'], summary: 'Database reachable', response: { 200: Status } } }, async () => {
    if (!(await database.ping())) throw errors.unavailable('The database does not answer.');
    return { status: 'ready' };
  });
};
