import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { FieldError } from '../errors.js';

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

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : paramsAjv).compile(schema) as ReturnType<FastifySchemaCompiler<object>>;

/** Turns Ajv errors into field errors with paths such as `/materials/0/percentage` or `query/per_page`. */
export function fieldErrorsFromAjv(errs: ErrorObject[], part: string | undefined): FieldError[] {
  const base = part && part !== 'body' ? part : '';
  return errs.map((e) => {
    let field = e.instancePath;
    if (e.keyword === 'required') field += `/${(e.params as { missingProperty: string }).missingProperty}`;
    if (e.keyword === 'additionalProperties') field += `/${(e.params as { additionalProperty: string }).additionalProperty}`;
    const path = base ? `${base}${field || ''}` : field || '/';
    return { field: path, rule: e.keyword === 'additionalProperties' ? 'unknown_field' : e.keyword, message: describe(e) };
  });
}

function describe(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return 'is not a known field';
  if (e.keyword === 'required') return 'is required';
  return e.message ?? 'is invalid';
}
