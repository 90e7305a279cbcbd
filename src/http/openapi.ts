import { STATUS_CODES } from 'node:http';

type Json = Record<string, any>;

const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];

/**
 * Final touches to the generated OpenAPI document, so generated clients read it right:
 * - a parameter with a default is not required (TypeBox lists it as required: the default fills it);
 * - error answers are `application/problem+json`, as the service sends them;
 * - every answer has a description named after its status rather than "Default Response";
 * - with rate limits on, every operation documents its 429 (problem+json, `Retry-After`, `RateLimit-*`).
 */
export function tidyOpenApi(doc: Json, options: { rateLimited?: boolean } = {}): Json {
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
      const problem = Object.entries<Json>(operation.responses ?? {}).find(([status, r]) => Number(status) >= 400 && r.content?.['application/problem+json']);
      if (options.rateLimited && problem && !operation.responses['429']) {
        const header = (description: string) => ({ description, schema: { type: 'integer' } });
        operation.responses['429'] = {
          description: STATUS_CODES[429],
          headers: {
            'Retry-After': header('seconds until the window resets'),
            'RateLimit-Limit': header('requests allowed per window'),
            'RateLimit-Remaining': header('requests left in the window'),
            'RateLimit-Reset': header('seconds until the window resets'),
          },
          content: problem[1].content,
        };
      }
    }
  }
  return doc;
}
