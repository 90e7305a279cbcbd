import { Type } from 'typebox';

/** RFC 9457 problem document, as every error of the API is answered. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), rule: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true, $id: 'Problem' },
);

const ref = Type.Unsafe<unknown>({ $ref: 'Problem#' });

/** The error answers every authenticated route can give, for the OpenAPI document. */
export const ProblemResponses = {
  400: ref,
  401: ref,
  403: ref,
  404: ref,
  409: ref,
  413: ref,
  415: ref,
};

/**
 * Paging query parameters shared by every list. `page` is bounded so the offset stays a safe integer
 * for both databases (a page beyond the data is simply empty).
 */
export const PageParams = {
  page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
  per_page: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
};
