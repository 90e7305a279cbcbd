import fs from 'node:fs';
import { UNTP_CORE_CONTEXT_URL, UNTP_DPP_CONTEXT_URL, localDocumentLoader, type ContextDocument } from '../../src/features/export/contexts.js';

const STANDARDS = new URL('../../../shared/standards/', import.meta.url);
const read = (path: string) => JSON.parse(fs.readFileSync(new URL(path, STANDARDS), 'utf8')) as ContextDocument;

/** The UNTP DPP 0.6.0 contexts, from the standards folder (not redistributed with the service). */
export const UNTP_CONTEXTS: Record<string, ContextDocument> = {
  [UNTP_DPP_CONTEXT_URL]: read('untp-dpp-0.6.0/context.jsonld'),
  [UNTP_CORE_CONTEXT_URL]: read('untp-dpp-0.6.0/core-context.jsonld'),
};

/** An offline jsonld.js document loader with our contexts, W3C VC 2.0 and UNTP 0.6.0. */
export const testDocumentLoader = (baseUrl: string) => localDocumentLoader(baseUrl, UNTP_CONTEXTS);
