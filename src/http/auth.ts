import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../errors.js';
import { hasScope, type Scope } from '../features/access/key-format.js';
import type { AccessService, Principal } from '../features/access/service.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Scope a route needs; by default `read` for GET/HEAD and `write` otherwise. */
    scope?: Scope;
  }
}

/** The caller's principal; throws if the route was registered outside the authenticated scope. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw errors.unauthenticated('Authentication required.');
  return request.principal;
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/**
 * Authenticates every request of the encapsulated context it is registered in (the /api/v1 routes).
 * Runs at onRequest, before the body is read, so an unauthenticated upload costs nothing.
 */
export function installAuth(app: FastifyInstance, access: AccessService) {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const principal = await access.authenticate(bearer(request));
    const needed: Scope =
      request.routeOptions.config.scope ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write');
    if (!hasScope(principal.scopes, needed)) throw errors.forbidden(needed);
    request.principal = principal;
  });
}
