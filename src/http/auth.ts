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
 * Runs at onRequest, before the body is read, so an unauthenticated upload costs nothing. A key
 * already in the key cache is checked synchronously (no promise per request on the hot path).
 */
export function installAuth(app: FastifyInstance, access: AccessService) {
  app.decorateRequest('principal', null);
  const admit = (request: FastifyRequest, principal: Principal) => {
    const needed: Scope =
      request.routeOptions.config.scope ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write');
    if (!hasScope(principal.scopes, needed)) throw errors.forbidden(needed);
    request.principal = principal;
  };
  app.addHook('onRequest', (request, _reply, done) => {
    const key = bearer(request);
    let cached: Principal | undefined;
    try {
      cached = access.authenticateCached(key);
      if (cached) admit(request, cached);
    } catch (e) {
      return done(e as Error);
    }
    if (cached) return done();
    access.authenticate(key).then(
      (principal) => {
        let refused: Error | undefined;
        try {
          admit(request, principal);
        } catch (e) {
          refused = e as Error;
        }
        done(refused);
      },
      (e: Error) => done(e),
    );
  });
}
