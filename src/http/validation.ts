import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { FieldError } from '../errors.js';
import { MAX_JSON_DEPTH, tooDeepAt } from '../lib/json-depth.js';
import { textProblemAt } from '../lib/text.js';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    // Unknown fields are an error, never silently dropped.
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: coerce ? 'array' : false,
    strict: false,
  });
  addFormats(ajv);
  return ajv;
}

// JSON bodies are typed as sent ("2.1" is not a number); path and query strings are coerced.
const bodyAjv = makeAjv(false);
const paramsAjv = makeAjv(true);

type Check = ((data: unknown) => boolean) & { errors?: Array<Partial<ErrorObject>> | null };

/**
 * Bodies (and query strings, path parameters) get two checks beyond their schema, for every route at once: nesting deeper than
 * MAX_JSON_DEPTH is refused before anything walks the value recursively (validation, JSON.stringify
 * when storing), and a text value that shows nothing (only whitespace or zero-width characters) is
 * refused like an empty one would be, as is any NUL character (see textProblemAt). Body strings are walked once the schema has passed, so the
 * walk is bounded by the depth check.
 */
function bodyCheck(schemaCheck: Check): Check {
  const check: Check = (data) => {
    const deep = tooDeepAt(data);
    if (deep) {
      check.errors = [{ instancePath: deep, keyword: 'max_depth', message: `must not nest objects or arrays more than ${MAX_JSON_DEPTH} levels deep`, params: {} }];
      return false;
    }
    if (!schemaCheck(data)) {
      check.errors = schemaCheck.errors;
      return false;
    }
    const text = textProblemAt(data);
    if (text) {
      check.errors = [{ instancePath: text.path, keyword: text.rule, message: text.message, params: {} }];
      return false;
    }
    check.errors = null;
    return true;
  };
  return check;
}

// Query strings and path parameters get the same checks (a `search=%00` must not reach the database).
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'headers' ? paramsAjv.compile(schema) : bodyCheck((httpPart === 'body' ? bodyAjv : paramsAjv).compile(schema) as Check)) as ReturnType<
    FastifySchemaCompiler<object>
  >;

/** Turns Ajv errors into field errors with paths such as `/materials/0/percentage` or `query/per_page`. */
export function fieldErrorsFromAjv(errs: ErrorObject[], part: string | undefined): FieldError[] {
  const base = part && part !== 'body' ? part : '';
  return withoutNullableNoise(errs).map((e) => {
    let field = e.instancePath;
    if (e.keyword === 'required') field += `/${(e.params as { missingProperty: string }).missingProperty}`;
    if (e.keyword === 'additionalProperties') field += `/${(e.params as { additionalProperty: string }).additionalProperty}`;
    const path = base ? `${base}${field || ''}` : field || '/';
    return { field: path, rule: e.keyword === 'additionalProperties' ? 'unknown_field' : e.keyword, message: describe(e) };
  });
}

/**
 * A nullable field (`anyOf: [T, null]`) that gets a wrong value fails three ways in Ajv: "must be T",
 * "must be null" and "must match a schema in anyOf". The client needs one: the real rule, saying
 * that null is allowed too ("must be string or null").
 */
function withoutNullableNoise(errs: ErrorObject[]): ErrorObject[] {
  let out = errs;
  for (const anyOf of errs.filter((e) => e.keyword === 'anyOf')) {
    const branch = out.filter((e) => e !== anyOf && e.schemaPath.startsWith(`${anyOf.schemaPath}/`));
    const isNull = (e: ErrorObject) => e.keyword === 'type' && (e.params as { type?: string }).type === 'null' && e.instancePath === anyOf.instancePath;
    const nullError = branch.find(isNull);
    const rest = branch.filter((e) => e !== nullError);
    if (!nullError || rest.length === 0) continue;
    out = out
      .filter((e) => e !== anyOf && e !== nullError)
      .map((e) =>
        rest.includes(e) && e.keyword === 'type' && e.instancePath === anyOf.instancePath ? { ...e, message: `must be ${(e.params as { type: string }).type} or null` } : e,
      );
  }
  return out;
}

function describe(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return 'is not a known field';
  if (e.keyword === 'required') return 'is required';
  return e.message ?? 'is invalid';
}
