import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errors, internalProblem, type Problem } from '../errors.js';
import { fieldErrorsFromAjv } from './validation.js';

export const PROBLEM_JSON = 'application/problem+json';

/** Maps anything thrown in a request to an RFC 9457 problem: AppErrors as they are, Fastify's own by code. */
export function toAppError(error: FastifyError): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error.validation) {
    const fields = fieldErrorsFromAjv(error.validation as never, error.validationContext);
    const summary = fields.map((f) => `${f.field} ${f.message}`).join('; ');
    return errors.validation(`Request validation failed: ${summary}.`, fields);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.payloadTooLarge(Number((error as { limit?: number }).limit) || 0);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType(String(error.message.split('"')[1] ?? 'unknown'), ['application/json']);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.malformedBody('The request has a JSON content type but an empty body.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errors.malformedBody(`The body is not valid JSON: ${error.message}`);
  }
  if (error instanceof SyntaxError || error.statusCode === 400) return errors.malformedBody(error.message);
  if (error.statusCode === 413) return errors.payloadTooLarge(0);
  return undefined;
}

export function sendProblem(reply: FastifyReply, problem: Problem) {
  return reply.code(problem.status).type(PROBLEM_JSON).send(problem);
}

/** Installs the one error renderer and the problem+json 404. 5xx details are logged, never shown. */
export function installProblemHandlers(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(error);
    if (appError) {
      if (appError.status >= 500) request.log.error({ err: error }, appError.message);
      return sendProblem(reply, appError.toProblem(request.url));
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, internalProblem(request.url));
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, errors.notFound('Route', `No route ${request.method} ${request.url.split('?')[0]}.`).toProblem(request.url)),
  );
}
