/**
 * One error type for everything the service refuses on purpose, a catalogue of factories,
 * and one RFC 9457 renderer. Routes and services throw `errors.x(...)`; the HTTP layer renders.
 */

export interface FieldError {
  /** JSON pointer-ish path of the offending field, e.g. `/materials/0/percentage` or `line 12: ean`. */
  field: string;
  /** The rule that was broken, stable for clients (e.g. `format`, `maximum`, `required`, `check_digit`). */
  rule: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

const TYPE_BASE = 'https://dpp-compliance.dev/problems/';

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly fieldErrors?: FieldError[],
    readonly extra?: Record<string, unknown>,
    /** Response headers the refusal needs (`WWW-Authenticate`, `Retry-After`, `Allow`). */
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }

  toProblem(instance?: string): Problem {
    return {
      type: TYPE_BASE + this.code.replaceAll('_', '-'),
      title: this.title,
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(instance ? { instance } : {}),
      ...(this.fieldErrors ? { errors: this.fieldErrors } : {}),
      ...this.extra,
    };
  }
}

/** The catalogue: every deliberate refusal the service makes. */
export const errors = {
  validation: (detail: string, fieldErrors: FieldError[]) => new AppError(400, 'validation_failed', 'Request validation failed', detail, fieldErrors),
  malformedBody: (detail: string) => new AppError(400, 'malformed_body', 'Malformed request body', detail),
  /** The client closed the connection before its body was complete; logged as the client's doing, not ours. */
  requestAborted: () => new AppError(400, 'request_aborted', 'Request aborted', 'The connection closed before the request body was complete.'),
  /** RFC 6750: a 401 names the scheme, and `invalid_token` when a key was sent but refused. */
  unauthenticated: (detail: string, keySent = false) =>
    new AppError(401, 'unauthenticated', 'Authentication required', detail, undefined, undefined, {
      'www-authenticate': keySent ? 'Bearer realm="dpp-compliance", error="invalid_token"' : 'Bearer realm="dpp-compliance"',
    }),
  forbidden: (scope: string) =>
    new AppError(403, 'insufficient_scope', 'Insufficient scope', `This API key lacks the "${scope}" scope.`, undefined, {
      required_scope: scope,
    }),
  notFound: (what: string, detail?: string) => new AppError(404, 'not_found', 'Not found', detail ?? `${what} not found.`),
  /** A product id that is unknown, or another organisation's: the same answer either way. */
  productNotFound: (productId: string) => new AppError(404, 'not_found', 'Not found', `Product ${productId} not found.`),
  conflict: (detail: string, extra?: Record<string, unknown>) => new AppError(409, 'conflict', 'Conflict', detail, undefined, extra),
  /** A published passport shows its GTIN, and printed codes carry it: the GTIN can never change after. */
  gtinFrozen: (productId: string, gtin14: string | null) =>
    new AppError(
      409,
      'identifier_frozen',
      'Identifier frozen by a published passport',
      `Product ${productId} has a published passport${gtin14 ? ` under GTIN ${gtin14}` : ''}, so its GTIN can no longer be set, changed or cleared: ` +
        'printed data carriers and the published versions must keep resolving to what they showed. Under GS1 allocation rules a new GTIN is a new trade item: ' +
        'create a new product with the new GTIN (and withdraw this passport if the old item is no longer sold).',
      [{ field: '/ean', rule: 'frozen_after_publication', message: 'cannot change once a passport has been published' }],
      { product_id: productId, gtin14 },
    ),
  /** A passport that contradicts itself cannot be published; each side of each contradiction is named. */
  inconsistent: (problems: FieldError[]) =>
    new AppError(
      409,
      'inconsistent_passport',
      'The passport contradicts itself',
      `The passport cannot be published while it contradicts itself: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}.`,
      problems,
    ),
  carrierTaken: (productId: string, gtin14: string) =>
    new AppError(
      409,
      'carrier_taken',
      "The code would open another organisation's passport",
      `GTIN ${gtin14} of product ${productId} has a published passport in another organisation, and its GS1 Digital Link resolves to that one: ` +
        "a code printed from here would open someone else's product. Check the GTIN (it is the brand owner's to allocate).",
      [{ field: '/ean', rule: 'carrier_unique', message: 'is published by another organisation' }],
      { product_id: productId, gtin14 },
    ),
  carrierUnpublished: (productId: string) =>
    new AppError(
      409,
      'not_published',
      'No published passport yet',
      `Product ${productId} has no published passport, so its code would open a "not found" page. ` +
        'Publish the passport first (POST /api/v1/compliance/dpp/{product_id}/publish), or ask for a proof with ?preview=true.',
      undefined,
      { product_id: productId },
    ),
  payloadTooLarge: (limit: number) =>
    new AppError(413, 'payload_too_large', 'Payload too large', `The request body exceeds the limit of ${limit} bytes.`, undefined, {
      limit_bytes: limit,
    }),
  unsupportedMediaType: (got: string, accepted: string[]) =>
    new AppError(415, 'unsupported_media_type', 'Unsupported media type', `Content-Type "${got}" is not accepted here; use ${accepted.join(' or ')}.`),
  /** A batch in which no item could be queued: nothing was written, and each item says why. */
  nothingQueued: (rejected: Array<{ product_id: string; reason: string }>) =>
    new AppError(
      422,
      'nothing_queued',
      'Nothing to queue',
      `None of the ${rejected.length} products could be queued (unknown products, or products without documents); nothing was written.`,
      rejected.map((r) => ({
        field: '/product_ids',
        rule: r.reason,
        message: `${r.product_id}: ${r.reason === 'not_found' ? 'no such product' : 'the product has no documents'}`,
      })),
      { rejected },
    ),
  unavailable: (detail: string) => new AppError(503, 'unavailable', 'Service unavailable', detail),
  /** Too much of one kind of work at once: try again after `retryAfterSeconds`. */
  busy: (detail: string, retryAfterSeconds: number) =>
    new AppError(
      503,
      'busy',
      'Service busy',
      detail,
      undefined,
      { retry_after_seconds: retryAfterSeconds },
      {
        'retry-after': String(retryAfterSeconds),
      },
    ),
  methodNotAllowed: (method: string, allowed: string[]) =>
    new AppError(
      405,
      'method_not_allowed',
      'Method not allowed',
      `${method} is not allowed here; use ${allowed.join(', ')}.`,
      undefined,
      {
        allowed_methods: allowed,
      },
      { allow: allowed.join(', ') },
    ),
  /** A refusal Fastify, Node or a plugin decided by HTTP status alone (416 for a bad Range, say). */
  byStatus: (status: number, title: string, detail: string) =>
    new AppError(
      status,
      title
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '_')
        .replace(/^_|_$/g, ''),
      title,
      detail,
    ),
};

/** Renders an unexpected error: details stay in the log, the client gets a generic 500. */
export function internalProblem(instance?: string): Problem {
  return {
    type: TYPE_BASE + 'internal-error',
    title: 'Internal server error',
    status: 500,
    detail: 'An unexpected error occurred; it has been logged.',
    code: 'internal_error',
    ...(instance ? { instance } : {}),
  };
}
