import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Database } from '../../db/database.js';
import { errors } from '../../errors.js';

/** Liveness and readiness probes (no API key). */
export const systemRoutes: FastifyPluginAsyncTypebox<{ database: Database; servedBy?: { worker: number; pid: number } }> = async (app, { database, servedBy }) => {
  const Status = Type.Object({ status: Type.String() });
  // In a cluster (`dpp serve --workers N`) /healthz also names the worker process that answered.
  const Health = Type.Object({ status: Type.String(), worker: Type.Optional(Type.Integer()), pid: Type.Optional(Type.Integer()) });
  const health = servedBy ? { status: 'ok', worker: servedBy.worker, pid: servedBy.pid } : { status: 'ok' };
  app.get('/healthz', { schema: { tags: ['System'], summary: 'Process is alive', response: { 200: Health } } }, async () => health);
  app.get('/readyz', { schema: { tags: ['System'], summary: 'Database reachable', response: { 200: Status } } }, async () => {
    if (!(await database.ping())) throw errors.unavailable('The database does not answer.');
    return { status: 'ready' };
  });
};
