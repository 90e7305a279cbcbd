import fs from 'node:fs';
import addFormatsModule from 'ajv-formats';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import jsonld from 'jsonld';
import { UNTP_070_CONTEXT_URL, localDocumentLoader, type ContextDocument } from '../../src/features/export/contexts.js';

/**
 * The UNTP DPP 0.7.0 artefacts: `schema.json` (artefacts/schema/v0.7.0/dpp/DigitalProductPassport.json),
 * `context.jsonld` (artefacts/contexts/v0.7.0/untp-context.jsonld, served at UNTP_070_CONTEXT_URL) and
 * `sample-instance.json`, from UN/CEFACT's spec-untp at tag v0.7.0. Read from test/fixtures/untp-dpp-0.7.0/
 * or, beside the 0.6.x copies, from shared/standards/untp-dpp-0.7.0/ (see README, "UNTP versions").
 */
const CANDIDATES = [new URL('../fixtures/untp-dpp-0.7.0/', import.meta.url), new URL('../../../shared/standards/untp-dpp-0.7.0/', import.meta.url)];
export const UNTP_070_DIR = CANDIDATES.find((dir) => fs.existsSync(new URL('schema.json', dir)));

function read(name: string): unknown {
  if (!UNTP_070_DIR) {
    throw new Error(
      `The UNTP DPP 0.7.0 schema and context are not here: put schema.json, context.jsonld and sample-instance.json in ${CANDIDATES.map((c) => c.pathname).join(' or ')}`,
    );
  }
  return JSON.parse(fs.readFileSync(new URL(name, UNTP_070_DIR), 'utf8'));
}

export const untp070 = {
  schema: () => read('schema.json') as object,
  context: () => read('context.jsonld') as ContextDocument,
  sample: () => read('sample-instance.json') as Record<string, unknown>,
};

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** Validates against the 0.7.0 JSON Schema as UN/CEFACT does (draft 2020-12, formats, not strict); [] when valid. */
export function untp070SchemaErrors(): (doc: unknown) => ErrorObject[] {
  const validate = addFormats(new Ajv2020({ strict: false, allErrors: true })).compile(untp070.schema());
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []));
}

/** An offline jsonld.js document loader: our contexts, W3C VC 2.0 and UNTP 0.7.0; the network is refused. */
export const untp070DocumentLoader = (baseUrl: string) => localDocumentLoader(baseUrl, { [UNTP_070_CONTEXT_URL]: untp070.context() });

/** jsonld.expand in safe mode: fails on any term, type or value the contexts do not define. */
export function expandSafe070(doc: object, baseUrl: string): Promise<Record<string, unknown>[]> {
  const options = { safe: true, documentLoader: untp070DocumentLoader(baseUrl) } as unknown as jsonld.Options.Expand;
  return jsonld.expand(doc as jsonld.JsonLdDocument, options) as unknown as Promise<Record<string, unknown>[]>;
}
