import type { Field, Material } from './record.js';
import { normaliseCertifications, normaliseCountry } from './vocabulary.js';

/** A value an extraction read, and which extraction read it. */
export interface ExtractedValue {
  value: unknown;
  extractionId: string;
}

/** What generation reads: the product's own data and what extractions found. */
export interface GenerationSource {
  title: string;
  brand: string | null;
  description: string | null;
  attributes: Record<string, unknown>;
  /** Values from completed extractions, most recent first, already above the confidence threshold. */
  extracted: Partial<Record<Field, ExtractedValue>>;
  weeeCategory: string | null;
}

/** Candidate values and, for each, where it came from (`rules:product-attributes`, `extraction:<id>` …). */
export interface Candidates {
  values: Partial<Record<Field, unknown>>;
  sources: Partial<Record<Field, string>>;
}

/** The languages generation writes end-of-life text in (`?lang=`). */
export const GEN_LANGS = ['en', 'fr', 'de', 'it'] as const;
export type GenLang = (typeof GEN_LANGS)[number];
export const LANGUAGE_NAMES: Record<GenLang, string> = { en: 'English', fr: 'French', de: 'German', it: 'Italian' };
export const isGenLang = (v: unknown): v is GenLang => typeof v === 'string' && (GEN_LANGS as readonly string[]).includes(v);

const STOPWORDS: Record<GenLang, string[]> = {
  en: ['the', 'and', 'with', 'for', 'of', 'to', 'not', 'your', 'black', 'white'],
  fr: ['le', 'la', 'les', 'et', 'avec', 'pour', 'de', 'des', 'en', 'du', 'au', 'aux', 'ne', 'pas', 'noir', 'blanc'],
  de: ['der', 'die', 'das', 'und', 'mit', 'für', 'aus', 'nicht', 'ein', 'eine', 'den', 'dem', 'zu', 'schwarz', 'weiß'],
  // Not "la", "le", "in", "e", "un": French, English and German have them too.
  it: ['il', 'lo', 'gli', 'con', 'per', 'di', 'del', 'della', 'dei', 'delle', 'non', 'una', 'nel', 'nella', 'alla', 'questo', 'nero', 'bianco'],
};

/** How many stop words of each language a text has. */
export function languageScores(text: string): Record<GenLang, number> {
  const words = text.toLowerCase().split(/[^\p{L}]+/u);
  return Object.fromEntries(GEN_LANGS.map((l) => [l, words.filter((w) => STOPWORDS[l].includes(w)).length])) as Record<GenLang, number>;
}

/** The product's language: an explicit `language` attribute, else the stop words of its title and description. */
export function productLanguage(source: Pick<GenerationSource, 'title' | 'description' | 'attributes'>): GenLang {
  const declared = String(source.attributes.language ?? source.attributes.lang ?? '')
    .slice(0, 2)
    .toLowerCase();
  if (isGenLang(declared)) return declared;
  const scores = languageScores(`${source.title} ${source.description ?? ''}`);
  const ranked = GEN_LANGS.map((l) => [l, scores[l]] as const).sort((a, b) => b[1] - a[1]);
  return ranked[0]![1] > 0 ? ranked[0]![0] : 'en';
}

// A material ends at a separator, a conjunction, the end of the line, or a full stop ending the sentence.
const MATERIAL_RE = /(\d{1,3}(?:[.,]\d+)?)\s*%\s*([\p{L}][\p{L}\s-]{1,40}?)(?=\s*(?:[,;/+]|\band\b|\bet\b|\bund\b|\.(?:\s|$)|$))/gmu;

/** Where in the product's data a rules value was read. */
type ProductPart = 'product-attributes' | 'product-description';

/** "Material: 80% stainless steel, 20% recycled plastic" in attributes or description, and where it was. */
function materialsWithOrigin(source: Pick<GenerationSource, 'description' | 'attributes'>): { materials: Material[]; from: ProductPart } | undefined {
  const texts: Array<[string, ProductPart]> = Object.entries(source.attributes)
    .filter(([k]) => /mat[eé]ri|werkstoff/i.test(k))
    .map(([, v]) => [String(v), 'product-attributes']);
  for (const line of (source.description ?? '').split('\n')) if (/mat[eé]ri|werkstoff/i.test(line)) texts.push([line, 'product-description']);
  for (const [text, from] of texts) {
    const found = [...text.matchAll(MATERIAL_RE)].map((m) => ({ name: m[2]!.trim(), percentage: Number(m[1]!.replace(',', '.')) }));
    const sum = found.reduce((s, m) => s + m.percentage, 0);
    if (found.length && sum <= 100.01) return { materials: found, from };
  }
  return undefined;
}

/** "Material: 80% stainless steel, 20% recycled plastic" in attributes or description. */
export function materialsFrom(source: Pick<GenerationSource, 'description' | 'attributes'>): Material[] | undefined {
  return materialsWithOrigin(source)?.materials;
}

const certificationCodes = (texts: string[]) =>
  texts
    .flatMap((t) => t.split(/[,|]/))
    .map((c) => c.trim())
    .filter((c) => c.length > 1 && c.length < 60);

/** Certifications in the attributes and in the description, apart. */
function certificationsWithOrigin(source: Pick<GenerationSource, 'description' | 'attributes'>): Array<{ codes: string[]; from: ProductPart }> {
  const attributes = Object.entries(source.attributes)
    .filter(([k]) => /certif/i.test(k))
    .map(([, v]) => (Array.isArray(v) ? v.join(',') : String(v)));
  const description = [...(source.description ?? '').matchAll(/certifications?:\s*([^\n;]+)/gi)].map((m) => m[1]!);
  const out: Array<{ codes: string[]; from: ProductPart }> = [];
  const a = certificationCodes(attributes);
  const d = certificationCodes(description);
  if (a.length) out.push({ codes: normaliseCertifications(a), from: 'product-attributes' });
  if (d.length) out.push({ codes: normaliseCertifications(d), from: 'product-description' });
  return out;
}

/** "Certification: ENERGY STAR,TCO,EPEAT Gold,RoHS" (catalog exports such as Icecat write this). */
export function certificationsFrom(source: Pick<GenerationSource, 'description' | 'attributes'>): string[] | undefined {
  const found = certificationsWithOrigin(source);
  return found.length ? normaliseCertifications(found.flatMap((f) => f.codes)) : undefined;
}

const EOL: Record<GenLang, { weee: string; generic: string; materials: (list: string) => string }> = {
  en: {
    weee: 'Do not dispose of with household waste: this product falls under the WEEE Directive 2012/19/EU. Take it to a collection point for electrical and electronic equipment or return it to the retailer.',
    generic: 'Dispose of the product according to local waste regulations; separate packaging for recycling.',
    materials: (list) => `Main materials for recycling: ${list}.`,
  },
  fr: {
    weee: 'Ne pas jeter avec les ordures ménagères : ce produit relève de la directive DEEE 2012/19/UE. Déposez-le dans un point de collecte des équipements électriques et électroniques ou rapportez-le au distributeur.',
    generic: 'Éliminez le produit selon la réglementation locale des déchets ; triez les emballages pour le recyclage.',
    materials: (list) => `Principaux matériaux à recycler : ${list}.`,
  },
  de: {
    weee: 'Nicht mit dem Hausmüll entsorgen: Dieses Produkt fällt unter die WEEE-Richtlinie 2012/19/EU. Geben Sie es an einer Sammelstelle für Elektro- und Elektronik-Altgeräte oder beim Händler zurück.',
    generic: 'Entsorgen Sie das Produkt nach den örtlichen Vorschriften; Verpackung getrennt dem Recycling zuführen.',
    materials: (list) => `Hauptmaterialien für das Recycling: ${list}.`,
  },
  it: {
    weee: 'Non smaltire con i rifiuti domestici: questo prodotto rientra nella direttiva RAEE 2012/19/UE. Consegnarlo a un centro di raccolta per apparecchiature elettriche ed elettroniche o restituirlo al rivenditore.',
    generic: 'Smaltire il prodotto secondo le norme locali sui rifiuti; separare gli imballaggi per il riciclo.',
    materials: (list) => `Materiali principali da riciclare: ${list}.`,
  },
};

/** End-of-life instructions from the WEEE category and the materials, in the product's language. */
export function endOfLifeText(lang: GenLang, weeeCategory: string | null, materials: Material[] | undefined): string {
  const t = EOL[lang];
  const parts = [weeeCategory ? t.weee : t.generic];
  if (materials?.length) parts.push(t.materials(materials.map((m) => `${m.name} (${m.percentage} %)`).join(', ')));
  return parts.join(' ');
}

/**
 * Candidate passport values for the fields generation may fill, from the product's data first,
 * then the extraction results, each with its source. Never invents a value the sources do not hold
 * (the end-of-life text is the one composed field, from the WEEE category and materials, written
 * from a template in `lang`).
 */
export function generateCandidates(source: GenerationSource, lang: GenLang = productLanguage(source)): Candidates {
  const values: Partial<Record<Field, unknown>> = {};
  const sources: Partial<Record<Field, string>> = {};
  const set = (field: Field, value: unknown, from: string) => {
    values[field] = value;
    sources[field] = from;
  };
  const x = source.extracted;
  const fromExtraction = (field: Field) => `extraction:${x[field]!.extractionId}`;

  if (source.brand) set('manufacturer', source.brand, 'rules:product-brand');
  else if (x.manufacturer) set('manufacturer', x.manufacturer.value, fromExtraction('manufacturer'));
  set('product_name', source.title, 'rules:product-title');

  const own = materialsWithOrigin(source);
  const materials = own?.materials ?? (x.materials?.value as Material[] | undefined);
  if (own) set('materials', own.materials, `rules:${own.from}`);
  else if (materials?.length) set('materials', materials, fromExtraction('materials'));

  const certs = certificationsWithOrigin(source);
  const extractedCerts = (x.certifications?.value as string[] | undefined) ?? [];
  const certifications = [...new Set([...certs.flatMap((c) => c.codes), ...extractedCerts])];
  if (certifications.length) {
    const from = [...certs.map((c) => `rules:${c.from}`), ...(extractedCerts.length ? [fromExtraction('certifications')] : [])];
    set('certifications', normaliseCertifications(certifications), from.join('+'));
  }

  const country = normaliseCountry(String(source.attributes.country_of_origin ?? source.attributes.country ?? ''));
  if (country) set('country_of_origin', country, 'rules:product-attributes');
  else if (typeof x.country_of_origin?.value === 'string') set('country_of_origin', x.country_of_origin.value, fromExtraction('country_of_origin'));

  const carbon = Number(source.attributes.carbon_footprint_kg ?? NaN);
  if (Number.isFinite(carbon) && carbon >= 0) set('carbon_footprint_kg', carbon, 'rules:product-attributes');
  else if (typeof x.carbon_footprint_kg?.value === 'number') set('carbon_footprint_kg', x.carbon_footprint_kg.value, fromExtraction('carbon_footprint_kg'));

  const weee = source.weeeCategory ?? (x.weee_category?.value as string | undefined) ?? null;
  set('end_of_life_instructions', endOfLifeText(lang, weee, materials), `rules:template-${lang}`);
  return { values, sources };
}
