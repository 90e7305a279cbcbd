import { STATUS_CODES } from 'node:http';

type Json = Record<string, any>;

const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];

/**
 * Final touches to the generated OpenAPI document, so generated clients read it right:
 * - a parameter with a default is not required (TypeBox lists it as required: the default fills it);
 * - error answers are `application/problem+json`, as the service sends them;
 * - every answer has a description named after its status rather than "Default Response".
 */
export function tidyOpenApi(doc: Json): Json {
  for (const item of Object.values<Json>(doc.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method] as Json | undefined;
      if (!operation) continue;
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in !== 'path' && parameter.schema?.default !== undefined) parameter.required = false;
      }
      for (const [status, response] of Object.entries<Json>(operation.responses ?? {})) {
        const code = Number(status);
        if (response.description === 'Default Response') response.description = STATUS_CODES[code] ?? 'Response';
        if (code >= 400 && response.content?.['application/json']) {
          response.content = { 'application/problem+json': response.content['application/json'] };
        }
      }
    }
  }
  return doc;
}
