import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errors, internalProblem, type Problem } from '../errors.js';
import { fieldErrorsFromAjv } from './validation.js';

export const PROBLEM_JSON = 'application/problem+json';

/** Maps anything thrown in a request to an RFC 9457 problem: AppErrors as they are, Fastify's own by code. */
export function toAppError(error: FastifyError, bodyLimitBytes: number): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error.validation) {
    const fields = fieldErrorsFromAjv(error.validation as never, error.validationContext);
    const summary = fields.map((f) => `${f.field} ${f.message}`).join('; ');
    return errors.validation(`Request validation failed: ${summary}.`, fields);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.payloadTooLarge(Number((error as { limit?: number }).limit) || bodyLimitBytes);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType(String(error.message.split('"')[1] ?? 'unknown'), ['application/json']);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.malformedBody('The request has a JSON content type but an empty body.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errors.malformedBody(`The body is not valid JSON: ${error.message}`);
    case 'ECONNRESET':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return errors.requestAborted();
  }
  if (error instanceof SyntaxError || error.statusCode === 400) return errors.malformedBody(error.message);
  if (error.statusCode === 413) return errors.payloadTooLarge(bodyLimitBytes);
  const status = error.statusCode ?? 500;
  // Any other refusal a plugin made by status (416 for an unsatisfiable Range, 412 for If-Match, 405 …):
  // its own message may name files or internals, so the client gets the status's standard wording.
  if (status >= 400 && status < 500) {
    const title = STATUS_CODES[status] ?? 'Client error';
    return errors.byStatus(status, title, `${title}.`);
  }
  return undefined;
}

export function sendProblem(reply: FastifyReply, problem: Problem, headers?: Record<string, string>) {
  if (headers) reply.headers(headers);
  // Also here, because a 404/405 answered at onRequest may come before the hook that sets it.
  reply.header('x-request-id', reply.request.id);
  // A refused request whose body was not read closes its connection: the client may keep sending
  // (slowly, or a large upload) and must not hold a connection for nothing.
  const raw = reply.request.raw;
  const hasBody = raw.headers['transfer-encoding'] !== undefined || Number(raw.headers['content-length'] ?? 0) > 0;
  if (hasBody && !raw.complete) reply.header('connection', 'close');
  return reply.code(problem.status).type(PROBLEM_JSON).send(problem);
}

export interface ProblemHandlerOptions {
  /** Named in 413 answers whose error does not carry its own limit. */
  bodyLimitBytes: number;
}

/**
 * Installs the one error renderer, the problem+json 404 and 405, and problem+json answers to requests
 * Node refuses before Fastify sees them (malformed, headers too large). 5xx details are logged, never shown.
 */
export function installProblemHandlers(app: FastifyInstance, { bodyLimitBytes }: ProblemHandlerOptions) {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(error, bodyLimitBytes);
    if (appError) {
      if (appError.status >= 500) request.log.error({ err: error }, appError.message);
      return sendProblem(reply, appError.toProblem(request.url), appError.headers);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, internalProblem(request.url));
  });

  const routes = routeTable(app);
  // An unknown route is answered at once, before any body is read: a slow or endless upload to a
  // path that does not exist costs nothing.
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.is404) return done();
    const path = request.url.split('?')[0]!;
    const allowed = routes.methodsFor(path);
    const error = allowed.length ? errors.methodNotAllowed(request.method, allowed) : errors.notFound('Route', `No route ${request.method} ${truncate(path)}.`);
    void sendProblem(reply, error.toProblem(truncate(request.url)), error.headers);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, errors.notFound('Route', `No route ${request.method} ${truncate(request.url.split('?')[0]!)}.`).toProblem(truncate(request.url))),
  );
}

function truncate(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The path patterns of every route and their methods, to tell a wrong method (405) from a wrong path (404). */
function routeTable(app: FastifyInstance) {
  const patterns: Array<{ regex: RegExp; methods: Set<string> }> = [];
  app.addHook('onRoute', (route) => {
    // A catch-all (the resolver's compressed links, /{segment}) says nothing about which methods a path has.
    if ((route.config as { catchAll?: boolean } | undefined)?.catchAll) return;
    const source = route.url
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    const regex = new RegExp(`^${source}/?$`);
    const existing = patterns.find((p) => p.regex.source === regex.source);
    const methods = [route.method].flat();
    if (existing) methods.forEach((m) => existing.methods.add(m));
    else patterns.push({ regex, methods: new Set(methods) });
  });
  return {
    methodsFor(path: string): string[] {
      const methods = new Set<string>();
      for (const p of patterns) if (p.regex.test(path)) p.methods.forEach((m) => methods.add(m));
      return [...methods].sort();
    },
  };
}

/**
 * Fastify's router refuses some URLs before any route or hook runs (a malformed percent-encoding, a
 * path segment above `maxParamLength`): the same problem+json as everything else.
 */
export function frameworkErrorProblem(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const problem =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? errors.byStatus(414, 'URI Too Long', 'A path segment is longer than this service accepts (100 characters).')
      : error.code === 'FST_ERR_BAD_URL'
        ? errors.byStatus(400, 'Bad Request', 'The URL is not valid: a percent-encoding in its path cannot be decoded.')
        : errors.byStatus(400, 'Bad Request', 'The request could not be routed.');
  return sendProblem(reply, problem.toProblem());
}

/**
 * Node answers some requests itself (a malformed request line, headers above the limit, a timed-out
 * request): this gives those answers the same problem+json shape, and closes the connection.
 */
export function clientErrorProblem(error: Error & { code?: string }, socket: Socket) {
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_URI_TOO_LONG' ? 414 : 400;
  // A response already under way cannot get another in its stream: only close the connection.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (!socket.writable || error.code === 'ECONNRESET' || inFlight) return socket.destroy(error);
  const title = STATUS_CODES[status] ?? 'Bad Request';
  const body = JSON.stringify(errors.byStatus(status, title, `${title}: the request could not be read (${error.code ?? 'malformed'}).`).toProblem());
  // Written, then destroyed: ending alone would leave a half-open socket whose request (a timed-out
  // upload, say) the parser goes on reading, holding its import slot.
  socket.end(`HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_JSON}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, () =>
    socket.destroy(),
  );
}
