import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
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

/** Who makes a change through the API, as the audit log and the passport history record it. */
export function actorOf(request: FastifyRequest): { keyId: string; source: 'api'; requestId: string } {
  return { keyId: principalOf(request).keyId, source: 'api', requestId: request.id };
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
 *
 * Two hooks: the context's hook finds the caller (401), and each route gets its own hook, added as
 * the route is registered, that checks the scope it needs (403). The needed scope is then known in
 * advance: reading it from `request.routeOptions` on every request cost more than the key check.
 */
export function installAuth(app: FastifyInstance, access: AccessService) {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', (request, _reply, done) => {
    const key = bearer(request);
    const cached = access.authenticateCached(key);
    if (cached) {
      request.principal = cached;
      return done();
    }
    access.authenticate(key).then(
      (principal) => {
        request.principal = principal;
        done();
      },
      (e: Error) => done(e),
    );
  });
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    const needed: Scope = route.config?.scope ?? (methods.every((m) => m === 'GET' || m === 'HEAD') ? 'read' : 'write');
    const checkScope: onRequestHookHandler = (request, _reply, done) => {
      done(hasScope(principalOf(request).scopes, needed) ? undefined : errors.forbidden(needed));
    };
    route.onRequest = [...[route.onRequest ?? []].flat(), checkScope];
  });
}
