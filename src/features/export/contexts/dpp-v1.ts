// GENERATED from ./dpp-v1.jsonld: do not edit by hand; edit the .jsonld and regenerate (test/features/export-jsonld.test.ts checks they match).

/** Context of the default JSON-LD export, served at `{baseUrl}/contexts/dpp/v1.jsonld`. */
export default {
  "@context": {
    "@version": 1.1,
    "@protected": true,
    "schema": "https://schema.org/",
    "gs1": "https://ref.gs1.org/voc/",
    "untp-dpp": "https://test.uncefact.org/vocabulary/untp/dpp/0/",
    "untp-core": "https://test.uncefact.org/vocabulary/untp/core/0/",
    "dppc": "https://dpp-compliance.dev/vocab#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "ProductPassport": "untp-dpp:ProductPassport",
    "name": "schema:name",
    "productId": {
      "@id": "schema:productID",
      "@type": "xsd:string"
    },
    "gtin": {
      "@id": "gs1:gtin",
      "@type": "xsd:string"
    },
    "dppId": {
      "@id": "dppc:dppId",
      "@type": "xsd:string"
    },
    "productName": "gs1:productName",
    "manufacturer": "schema:manufacturer",
    "countryOfOrigin": {
      "@id": "schema:countryOfOrigin",
      "@type": "@vocab",
      "@context": {
        "@protected": true,
        "@vocab": "https://vocabulary.uncefact.org/CountryId#"
      }
    },
    "materials": {
      "@id": "schema:material",
      "@container": "@set",
      "@context": {
        "@protected": true,
        "percentage": {
          "@id": "dppc:massPercentage",
          "@type": "xsd:decimal"
        }
      }
    },
    "carbonFootprint": {
      "@id": "untp-core:carbonFootprint",
      "@type": "xsd:decimal"
    },
    "recyclabilityScore": {
      "@id": "dppc:recyclabilityScore",
      "@type": "xsd:string"
    },
    "certifications": {
      "@id": "schema:hasCertification",
      "@container": "@set"
    },
    "endOfLifeInstructions": "dppc:endOfLifeInstructions",
    "reachCompliant": {
      "@id": "dppc:reachCompliant",
      "@type": "xsd:boolean"
    },
    "rohsCompliant": {
      "@id": "dppc:rohsCompliant",
      "@type": "xsd:boolean"
    },
    "ceMarked": {
      "@id": "dppc:ceMarked",
      "@type": "xsd:boolean"
    },
    "weeeCategory": {
      "@id": "dppc:weeeCategory",
      "@type": "xsd:string"
    },
    "energyClass": {
      "@id": "dppc:energyClass",
      "@type": "xsd:string"
    },
    "recyclable": {
      "@id": "dppc:recyclable",
      "@type": "xsd:boolean"
    },
    "hazardousSubstances": {
      "@id": "dppc:hazardousSubstance",
      "@container": "@set",
      "@context": {
        "@protected": true,
        "casNumber": {
          "@id": "dppc:casNumber",
          "@type": "xsd:string"
        },
        "ecNumber": {
          "@id": "dppc:ecNumber",
          "@type": "xsd:string"
        },
        "concentration": {
          "@id": "dppc:concentrationPercent",
          "@type": "xsd:decimal"
        },
        "location": {
          "@id": "dppc:locationInProduct",
          "@type": "xsd:string"
        }
      }
    },
    "dppStatus": {
      "@id": "dppc:dppStatus",
      "@type": "xsd:string"
    },
    "version": {
      "@id": "schema:version",
      "@type": "xsd:integer"
    },
    "publishedAt": {
      "@id": "schema:datePublished",
      "@type": "xsd:dateTime"
    },
    "dateModified": {
      "@id": "schema:dateModified",
      "@type": "xsd:dateTime"
    }
  }
} as const;
