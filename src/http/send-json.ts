import type { FastifyReply } from 'fastify';

/** Sends JSON text that is already in the shape of the route's response schema, as it is (Fastify serialises only objects). */
export function sendJson(reply: FastifyReply, json: string) {
  return reply.type('application/json; charset=utf-8').send(json);
}
