import fs from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';

type Json = Record<string, any>;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** A placeholder of a parameter's type, for a call that must type-check. */
function sample(schema: Json | undefined): string {
  if (schema?.enum) return JSON.stringify(schema.enum[0]);
  if (schema?.anyOf) return sample(schema.anyOf[0]);
  switch (schema?.type) {
    case 'integer':
    case 'number':
      return '1';
    case 'boolean':
      return 'true';
    default:
      return schema?.const !== undefined ? JSON.stringify(schema.const) : "'x'";
  }
}

/**
 * One call per operation with openapi-fetch, passing only the required parameters without a default:
 * a parameter that has a default but is typed as required (or a missing operation) fails to compile.
 */
function callsSource(doc: Json): { source: string; operations: number } {
  const lines = [
    "import createClient from 'openapi-fetch';",
    "import type { paths } from './api.js';",
    'type Content<T> = T extends { content: infer C } ? C[keyof C] : never;',
    'type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { requestBody?: infer R } ? Content<NonNullable<R>> : never;',
    "const client = createClient<paths>({ baseUrl: 'http://localhost' });",
    'export async function callEveryOperation() {',
  ];
  let operations = 0;
  for (const [route, item] of Object.entries<Json>(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      operations++;
      const params: Record<string, string[]> = {};
      for (const p of op.parameters ?? []) {
        // What a caller must send: required parameters without a default (a default fills the rest).
        if (!p.required || p.schema?.default !== undefined) continue;
        (params[p.in] ??= []).push(`${JSON.stringify(p.name)}: ${sample(p.schema)}`);
      }
      const parts = Object.entries(params).map(([where, list]) => `${where}: { ${list.join(', ')} }`);
      const init = [
        ...(parts.length ? [`params: { ${parts.join(', ')} }`] : []),
        ...(op.requestBody?.required ? [`body: undefined as unknown as Body<${JSON.stringify(route)}, ${JSON.stringify(method)}>`] : []),
      ];
      lines.push(`  await client.${method.toUpperCase()}(${JSON.stringify(route)}${init.length ? `, { ${init.join(', ')} }` : ''});`);
    }
  }
  lines.push('}');
  return { source: lines.join('\n') + '\n', operations };
}

describe.each(dialects)('the OpenAPI document (%s)', (dialect) => {
  let t: TestApp;
  let doc: Json;
  // Inside node_modules, so the generated code resolves openapi-fetch like project code does.
  const dir = path.resolve('node_modules/.cache/dpp-openapi-client', `${dialect}-${process.pid}`);
  beforeAll(async () => {
    t = await createTestApp(dialect);
    doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    fs.mkdirSync(dir, { recursive: true });
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('is a valid OpenAPI 3.1 document (swagger-parser)', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('documents a success answer for every operation, and errors as problem+json', () => {
    for (const [route, item] of Object.entries<Json>(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method] as Json | undefined;
        if (!op) continue;
        const statuses = Object.keys(op.responses ?? {});
        expect(
          statuses.some((s) => /^[23]/.test(s)),
          `${method} ${route}`,
        ).toBe(true);
        for (const s of statuses.filter((x) => Number(x) >= 400)) {
          const types = Object.keys(op.responses[s].content ?? {});
          expect(types.length === 0 || types.includes('application/problem+json'), `${method} ${route} ${s}: ${types}`).toBe(true);
          expect(types).not.toContain('application/json');
        }
      }
    }
    const qr = doc.paths['/api/v1/compliance/dpp/{product_id}/qr'].get.responses['200'].content;
    expect(Object.keys(qr).sort()).toEqual(['image/png', 'image/svg+xml']);
  });

  it('marks no parameter with a default as required', () => {
    for (const item of Object.values<Json>(doc.paths)) {
      for (const method of METHODS) {
        for (const p of item[method]?.parameters ?? []) {
          if (p.schema?.default !== undefined) expect(p.required, `${method} ${p.name}`).toBeFalsy();
        }
      }
    }
  });

  it('generates a typed client (openapi-typescript) with which a call of every operation type-checks', async () => {
    fs.writeFileSync(path.join(dir, 'api.ts'), astToString(await openapiTS(structuredClone(doc) as never)));
    const { source, operations } = callsSource(doc);
    expect(operations).toBeGreaterThanOrEqual(30);
    fs.writeFileSync(path.join(dir, 'calls.ts'), source);
    const program = ts.createProgram([path.join(dir, 'calls.ts')], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      types: [],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  }, 60_000);
});
