import credentialsV2 from './contexts/credentials-v2.js';
import dppV1 from './contexts/dpp-v1.js';
import untpExtensionV1 from './contexts/untp-extension-v1.js';
import untp070ExtensionV1 from './contexts/untp-0.7-extension-v1.js';

/**
 * The JSON-LD contexts the exports cite, held in memory (TypeScript modules generated from the
 * `.jsonld` files beside them, so `dist/` needs no copied data files). Pure: no network, no I/O.
 */

/** A JSON-LD document whose top-level member is `@context`. */
export type ContextDocument = Readonly<{ '@context': unknown }>;

export const VC_V2_CONTEXT_URL = 'https://www.w3.org/ns/credentials/v2';
export const UNTP_DPP_CONTEXT_URL = 'https://test.uncefact.org/vocabulary/untp/dpp/0.6.0/';
/** Same as UNTP_DPP_CONTEXT_URL (the name the export routes use, e.g. as the `profile` of the UNTP export). */
export const UNTP_DPP_CONTEXT = UNTP_DPP_CONTEXT_URL;
/**
 * Upstream address of the UNTP core 0.6.0 context. The DPP context does not `@import` it (it
 * repeats every core term it needs); it is served for documents that cite it directly.
 */
export const UNTP_CORE_CONTEXT_URL = 'https://test.uncefact.org/vocabulary/untp/core/0.6.0/';
/** The UNTP 0.7.0 context: one for every UNTP credential (DPP, DCC, DFR, DIA, DTE), the profile of the 0.7.0 export. */
export const UNTP_070_CONTEXT_URL = 'https://vocabulary.uncefact.org/untp/0.7.0/context/';

export const DPP_CONTEXT_PATH = '/contexts/dpp/v1.jsonld';
export const UNTP_EXTENSION_CONTEXT_PATH = '/contexts/untp-extension/v1.jsonld';
/** Our terms for UNTP 0.7.0 credentials (a separate context: 0.6.0's protects some of the same names). */
export const UNTP_070_EXTENSION_CONTEXT_PATH = '/contexts/untp-0.7-extension/v1.jsonld';

/** Contexts the service serves itself, by path (prefix with PUBLIC_BASE_URL for the URL). */
export const CONTEXT_PATHS: Readonly<Record<string, ContextDocument>> = {
  [DPP_CONTEXT_PATH]: dppV1,
  [UNTP_EXTENSION_CONTEXT_PATH]: untpExtensionV1,
  [UNTP_070_EXTENSION_CONTEXT_PATH]: untp070ExtensionV1,
};

/**
 * Third-party contexts shipped with the service, by their upstream URL. The UNTP contexts are not
 * redistributed here (their licence differs from ours): a caller validating UNTP credentials passes
 * them to `localDocumentLoader` (the tests read them from shared/standards).
 */
export const UPSTREAM_CONTEXTS: Readonly<Record<string, ContextDocument>> = {
  [VC_V2_CONTEXT_URL]: credentialsV2,
};

export const dppContextUrl = (baseUrl: string): string => `${baseUrl}${DPP_CONTEXT_PATH}`;
export const untpExtensionContextUrl = (baseUrl: string): string => `${baseUrl}${UNTP_EXTENSION_CONTEXT_PATH}`;
export const untp070ExtensionContextUrl = (baseUrl: string): string => `${baseUrl}${UNTP_070_EXTENSION_CONTEXT_PATH}`;

/** What a jsonld.js document loader resolves to. */
export interface RemoteDocument {
  contextUrl: null;
  document: ContextDocument;
  documentUrl: string;
}

/**
 * A jsonld.js `documentLoader` that answers from memory: the W3C VC 2.0 context, the `extra`
 * documents given (e.g. the UNTP DPP and core 0.6.0 contexts), and our two contexts under `{baseUrl}/contexts/…`. Any other URL throws,
 * so expansion never reaches the network. jsonld is not imported here (it is a devDependency):
 * the loader only returns plain `{contextUrl, document, documentUrl}` objects.
 */
export function localDocumentLoader(baseUrl: string, extra: Readonly<Record<string, ContextDocument>> = {}): (url: string) => Promise<RemoteDocument> {
  const documents = new Map<string, ContextDocument>(Object.entries({ ...UPSTREAM_CONTEXTS, ...extra }));
  for (const [path, document] of Object.entries(CONTEXT_PATHS)) documents.set(`${baseUrl}${path}`, document);
  return async (url: string) => {
    const document = documents.get(url);
    if (!document) throw new Error(`localDocumentLoader: no local copy of ${url} (network access is disabled)`);
    // A deep copy: jsonld.js must not be able to alter the shared module objects.
    return { contextUrl: null, document: structuredClone(document) as ContextDocument, documentUrl: url };
  };
}
