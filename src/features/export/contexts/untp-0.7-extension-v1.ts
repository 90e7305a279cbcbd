// GENERATED from ./untp-0.7-extension-v1.jsonld: do not edit by hand; edit the .jsonld and regenerate (test/features/untp-070.test.ts checks they match).

/** Our terms for UNTP DPP 0.7.0 credentials (the credential type, and what UNTP lacks), served at `{baseUrl}/contexts/untp-0.7-extension/v1.jsonld`. */
export default {
  "@context": {
    "@version": 1.1,
    "@protected": true,
    "dppc": "https://dpp-compliance.dev/vocab#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "DigitalProductPassport": "https://vocabulary.uncefact.org/untp/DigitalProductPassport",
    "dppId": {
      "@id": "dppc:dppId",
      "@type": "xsd:string"
    },
    "dppStatus": {
      "@id": "dppc:dppStatus",
      "@type": "xsd:string"
    },
    "dppVersion": {
      "@id": "dppc:dppVersion",
      "@type": "xsd:integer"
    },
    "weeeCategory": {
      "@id": "dppc:weeeCategory",
      "@type": "xsd:string"
    },
    "energyClass": {
      "@id": "dppc:energyClass",
      "@type": "xsd:string"
    },
    "endOfLifeInstructions": "dppc:endOfLifeInstructions",
    "recyclabilityScore": {
      "@id": "dppc:recyclabilityScore",
      "@type": "xsd:string"
    },
    "recyclable": {
      "@id": "dppc:recyclable",
      "@type": "xsd:boolean"
    },
    "materials": {
      "@id": "dppc:material",
      "@container": "@set",
      "@context": {
        "@protected": true,
        "massFraction": {
          "@id": "dppc:massFraction",
          "@type": "xsd:decimal"
        }
      }
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
    }
  }
} as const;
