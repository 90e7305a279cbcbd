/**
 * The ceiling for bench/api.ts: a bare Fastify app (same Fastify, same process model: one node process)
 * that answers a real passport response, held in memory, on the passport route. No auth, no database.
 *
 *   PORT=… BODY_FILE=passport.json node --import tsx bench/lib/bare-server.ts
 */
import fs from 'node:fs';
import Fastify from 'fastify';

const port = Number(process.env.PORT);
const body = JSON.parse(fs.readFileSync(process.env.BODY_FILE!, 'utf8')) as Record<string, unknown>;

const app = Fastify({ logger: { level: 'warn' } });
app.get('/healthz', async () => ({ status: 'ok' }));
app.get('/api/v1/compliance/dpp/:product_id', async (request) => ({
  ...body,
  product_id: (request.params as { product_id: string }).product_id,
}));

await app.listen({ port, host: '127.0.0.1' });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0));
  });
}
