import { createRequire } from 'node:module';
import countries from 'i18n-iso-countries';
import type { PublicDocumentRole } from '../documents/public-roles.js';

export const LANGUAGES = ['en', 'fr', 'de'] as const;
export type Lang = (typeof LANGUAGES)[number];

const require = createRequire(import.meta.url);
for (const lang of LANGUAGES) countries.registerLocale(require(`i18n-iso-countries/langs/${lang}.json`));

/** Words of the public passport page, per language. */
const STRINGS = {
  en: {
    title: 'Digital Product Passport',
    product: 'Product',
    manufacturer: 'Manufacturer',
    countryOfOrigin: 'Country of origin',
    gtin: 'GTIN',
    materials: 'Materials',
    carbon: 'Carbon footprint',
    carbonUnit: 'kg CO₂e over the life cycle',
    recyclability: 'Recyclability score',
    certifications: 'Certifications',
    environment: 'Environmental compliance',
    endOfLife: 'End of life',
    replacedBy: 'This product has been replaced by:',
    batchPassport: 'Batch passport',
    itemPassport: 'Item passport',
    batch: 'Batch',
    serial: 'Serial number',
    productionDate: 'Made on',
    restricted: 'Restricted information',
    restrictedNote: 'Shown to the holder of an access grant; not part of the public passport.',
    dismantling_instructions: 'Dismantling',
    spare_parts_sources: 'Spare parts',
    conformity_test_results: 'Conformity test results',
    version: 'Version',
    published: 'Published',
    yes: 'Yes',
    no: 'No',
    unknown: 'Not stated',
    reach: 'REACH compliant',
    rohs: 'RoHS compliant',
    ce: 'CE marked',
    weee: 'WEEE category',
    energy: 'Energy class',
    recyclable: 'Recyclable',
    substances: 'Substances of very high concern',
    none: 'None stated',
    notFound: 'No published passport',
    notFoundDetail: 'There is no published Digital Product Passport at this address.',
    badRequest: 'Invalid product code',
    machineReadable: 'Machine-readable version (JSON-LD)',
    language: 'Language',
    documents: 'Documents',
  },
  fr: {
    title: 'Passeport numérique de produit',
    product: 'Produit',
    manufacturer: 'Fabricant',
    countryOfOrigin: "Pays d'origine",
    gtin: 'GTIN',
    materials: 'Matériaux',
    carbon: 'Empreinte carbone',
    carbonUnit: 'kg CO₂e sur le cycle de vie',
    recyclability: 'Score de recyclabilité',
    certifications: 'Certifications',
    environment: 'Conformité environnementale',
    endOfLife: 'Fin de vie',
    replacedBy: 'Ce produit a été remplacé par :',
    batchPassport: 'Passeport du lot',
    itemPassport: 'Passeport de l’article',
    batch: 'Lot',
    serial: 'Numéro de série',
    productionDate: 'Fabriqué le',
    restricted: 'Informations à accès restreint',
    restrictedNote: 'Affiché au titulaire d’un droit d’accès ; ne fait pas partie du passeport public.',
    dismantling_instructions: 'Démontage',
    spare_parts_sources: 'Pièces détachées',
    conformity_test_results: 'Résultats des essais de conformité',
    version: 'Version',
    published: 'Publié le',
    yes: 'Oui',
    no: 'Non',
    unknown: 'Non précisé',
    reach: 'Conforme REACH',
    rohs: 'Conforme RoHS',
    ce: 'Marquage CE',
    weee: 'Catégorie DEEE',
    energy: 'Classe énergétique',
    recyclable: 'Recyclable',
    substances: 'Substances extrêmement préoccupantes',
    none: 'Aucune déclarée',
    notFound: 'Aucun passeport publié',
    notFoundDetail: "Il n'y a pas de passeport numérique de produit publié à cette adresse.",
    badRequest: 'Code produit invalide',
    machineReadable: 'Version lisible par machine (JSON-LD)',
    language: 'Langue',
    documents: 'Documents',
  },
  de: {
    title: 'Digitaler Produktpass',
    product: 'Produkt',
    manufacturer: 'Hersteller',
    countryOfOrigin: 'Herkunftsland',
    gtin: 'GTIN',
    materials: 'Materialien',
    carbon: 'CO₂-Fußabdruck',
    carbonUnit: 'kg CO₂e über den Lebenszyklus',
    recyclability: 'Recyclingfähigkeit',
    certifications: 'Zertifizierungen',
    environment: 'Umwelt-Konformität',
    endOfLife: 'Entsorgung',
    replacedBy: 'Dieses Produkt wurde ersetzt durch:',
    batchPassport: 'Chargenpass',
    itemPassport: 'Artikelpass',
    batch: 'Charge',
    serial: 'Seriennummer',
    productionDate: 'Hergestellt am',
    restricted: 'Eingeschränkt zugängliche Angaben',
    restrictedNote: 'Für Inhaber einer Zugangsberechtigung; nicht Teil des öffentlichen Passes.',
    dismantling_instructions: 'Demontage',
    spare_parts_sources: 'Ersatzteile',
    conformity_test_results: 'Ergebnisse der Konformitätsprüfungen',
    version: 'Version',
    published: 'Veröffentlicht am',
    yes: 'Ja',
    no: 'Nein',
    unknown: 'Keine Angabe',
    reach: 'REACH-konform',
    rohs: 'RoHS-konform',
    ce: 'CE-Kennzeichnung',
    weee: 'WEEE-Kategorie',
    energy: 'Energieeffizienzklasse',
    recyclable: 'Recyclingfähig',
    substances: 'Besonders besorgniserregende Stoffe',
    none: 'Keine angegeben',
    notFound: 'Kein veröffentlichter Produktpass',
    notFoundDetail: 'Unter dieser Adresse gibt es keinen veröffentlichten digitalen Produktpass.',
    badRequest: 'Ungültiger Produktcode',
    machineReadable: 'Maschinenlesbare Fassung (JSON-LD)',
    language: 'Sprache',
    documents: 'Dokumente',
  },
} satisfies Record<Lang, Record<string, string>>;

export type Strings = (typeof STRINGS)['en'];

export function strings(lang: Lang): Strings {
  return STRINGS[lang];
}

/** Names of the roles of public documents (documents/public-roles.ts), per language. */
const DOCUMENT_ROLE_NAMES: Record<Lang, Record<PublicDocumentRole, string>> = {
  en: {
    declaration_of_conformity: 'EU Declaration of Conformity',
    certificate: 'Certificate',
    user_manual: 'User manual',
    instructions: 'Instructions',
    quick_start_guide: 'Quick start guide',
    safety_information: 'Safety information',
    sustainability_information: 'Sustainability information',
  },
  fr: {
    declaration_of_conformity: 'Déclaration UE de conformité',
    certificate: 'Certificat',
    user_manual: "Manuel d'utilisation",
    instructions: 'Instructions',
    quick_start_guide: 'Guide de démarrage rapide',
    safety_information: 'Informations de sécurité',
    sustainability_information: 'Informations environnementales',
  },
  de: {
    declaration_of_conformity: 'EU-Konformitätserklärung',
    certificate: 'Zertifikat',
    user_manual: 'Bedienungsanleitung',
    instructions: 'Anleitung',
    quick_start_guide: 'Schnellstartanleitung',
    safety_information: 'Sicherheitsinformationen',
    sustainability_information: 'Nachhaltigkeitsinformationen',
  },
};

export function documentRoleName(role: PublicDocumentRole, lang: Lang): string {
  return DOCUMENT_ROLE_NAMES[lang][role] ?? role;
}

/** WEEE category names (Directive 2012/19/EU Annex III) in the page languages; English is canonical. */
const WEEE_NAMES: Record<Exclude<Lang, 'en'>, Record<string, string>> = {
  fr: {
    'Temperature exchange equipment': "Équipements d'échange thermique",
    'Screens and monitors': 'Écrans et moniteurs',
    Lamps: 'Lampes',
    'Large equipment': 'Gros équipements',
    'Small equipment': 'Petits équipements',
    'IT equipment': 'Petits équipements informatiques et de télécommunications',
  },
  de: {
    'Temperature exchange equipment': 'Wärmeüberträger',
    'Screens and monitors': 'Bildschirme und Monitore',
    Lamps: 'Lampen',
    'Large equipment': 'Großgeräte',
    'Small equipment': 'Kleingeräte',
    'IT equipment': 'Kleine IT- und Telekommunikationsgeräte',
  },
};

export function weeeCategoryName(category: string, lang: Lang): string {
  return lang === 'en' ? category : (WEEE_NAMES[lang][category] ?? category);
}

/** Country name in the page's language, or the code when unknown. */
export function countryName(code: string, lang: Lang): string {
  return countries.getName(code, lang) ?? code;
}

/**
 * The page language: `?lang=` when it names a supported language, else the best match of
 * Accept-Language by quality, else English.
 */
export function negotiateLanguage(query: string | undefined, acceptLanguage: string | undefined): Lang {
  const asked = query?.toLowerCase().slice(0, 2);
  if (asked && (LANGUAGES as readonly string[]).includes(asked)) return asked as Lang;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.find((p) => p.trim().startsWith('q='));
      return { lang: (tag ?? '').trim().toLowerCase().slice(0, 2), q: q ? Number(q.trim().slice(2)) || 0 : 1 };
    })
    .filter((x) => (LANGUAGES as readonly string[]).includes(x.lang) && x.q > 0)
    .sort((a, b) => b.q - a.q);
  return (ranked[0]?.lang as Lang | undefined) ?? 'en';
}
