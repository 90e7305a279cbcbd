import { PASSPORT_MODEL, type FieldRow } from '../../passports/model.js';

/**
 * Context of the default JSON-LD export, served at `{baseUrl}/contexts/dpp/v1.jsonld`: the prefixes and
 * the terms for the passport's identity and lifecycle, and one term per passport field, as the model
 * defines it (passports/model.ts). `dpp-v1.jsonld` beside this file is the same document as published;
 * test/features/export-jsonld.test.ts checks they match (`npm run contexts` rewrites the file after a
 * field is added). The context only grows: a term once published keeps its meaning.
 */
const fieldTerms = Object.fromEntries(Object.values(PASSPORT_MODEL as Readonly<Record<string, FieldRow>>).map((row) => [row.jsonLd.term, row.jsonLd.definition]));

export default {
  '@context': {
    '@version': 1.1,
    '@protected': true,
    schema: 'https://schema.org/',
    gs1: 'https://ref.gs1.org/voc/',
    'untp-dpp': 'https://test.uncefact.org/vocabulary/untp/dpp/0/',
    'untp-core': 'https://test.uncefact.org/vocabulary/untp/core/0/',
    dppc: 'https://dpp-compliance.dev/vocab#',
    xsd: 'http://www.w3.org/2001/XMLSchema#',

    ProductPassport: 'untp-dpp:ProductPassport',

    name: 'schema:name',
    productId: { '@id': 'schema:productID', '@type': 'xsd:string' },
    gtin: { '@id': 'gs1:gtin', '@type': 'xsd:string' },
    dppId: { '@id': 'dppc:dppId', '@type': 'xsd:string' },

    ...fieldTerms,

    DigitalDocument: 'schema:DigitalDocument',
    documents: {
      '@id': 'dppc:document',
      '@container': '@set',
      '@context': {
        '@protected': true,
        documentRole: { '@id': 'dppc:documentRole', '@type': 'xsd:string' },
        linkType: { '@id': 'dppc:linkType', '@type': '@id' },
        encodingFormat: { '@id': 'schema:encodingFormat', '@type': 'xsd:string' },
        contentSize: { '@id': 'schema:contentSize', '@type': 'xsd:integer' },
        sha256: { '@id': 'dppc:sha256', '@type': 'xsd:string' },
      },
    },
    granularityLevel: { '@id': 'dppc:granularityLevel', '@type': 'xsd:string' },
    batchNumber: { '@id': 'gs1:hasBatchLotNumber', '@type': 'xsd:string' },
    serialNumber: { '@id': 'gs1:hasSerialNumber', '@type': 'xsd:string' },
    productionDate: { '@id': 'dppc:productionDate', '@type': 'xsd:date' },
    basedOnVersion: { '@id': 'dppc:basedOnVersion', '@type': 'xsd:integer' },
    dppStatus: { '@id': 'dppc:dppStatus', '@type': 'xsd:string' },
    version: { '@id': 'schema:version', '@type': 'xsd:integer' },
    publishedAt: { '@id': 'schema:datePublished', '@type': 'xsd:dateTime' },
    dateModified: { '@id': 'schema:dateModified', '@type': 'xsd:dateTime' },
  },
} as const;
