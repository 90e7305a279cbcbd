import type { Field, Material } from './record.js';
import { normaliseCertifications, normaliseCountry } from './vocabulary.js';

/** What generation reads: the product's own data and what extractions found. */
export interface GenerationSource {
  title: string;
  brand: string | null;
  description: string | null;
  attributes: Record<string, unknown>;
  /** Values from completed extractions, most recent first, already above the confidence threshold. */
  extracted: Partial<Record<Field, unknown>>;
  weeeCategory: string | null;
}

export type GenLang = 'en' | 'fr' | 'de';

const STOPWORDS: Record<GenLang, string[]> = {
  en: ['the', 'and', 'with', 'for', 'of', 'black', 'white'],
  fr: ['le', 'la', 'les', 'et', 'avec', 'pour', 'de', 'des', 'en', 'noir', 'blanc'],
  de: ['der', 'die', 'das', 'und', 'mit', 'für', 'aus', 'schwarz', 'weiß'],
};

/** The product's language: an explicit `language` attribute, else the stop words of its title and description. */
export function productLanguage(source: Pick<GenerationSource, 'title' | 'description' | 'attributes'>): GenLang {
  const declared = String(source.attributes.language ?? source.attributes.lang ?? '').slice(0, 2).toLowerCase();
  if (declared === 'fr' || declared === 'de' || declared === 'en') return declared;
  const words = `${source.title} ${source.description ?? ''}`.toLowerCase().split(/[^\p{L}]+/u);
  const score = (lang: GenLang) => words.filter((w) => STOPWORDS[lang].includes(w)).length;
  const ranked = (['en', 'fr', 'de'] as const).map((l) => [l, score(l)] as const).sort((a, b) => b[1] - a[1]);
  return ranked[0]![1] > 0 ? ranked[0]![0] : 'en';
}

// A material ends at a separator, a conjunction, the end of the line, or a full stop ending the sentence.
const MATERIAL_RE = /(\d{1,3}(?:[.,]\d+)?)\s*%\s*([\p{L}][\p{L}\s-]{1,40}?)(?=\s*(?:[,;/+]|\band\b|\bet\b|\bund\b|\.(?:\s|$)|$))/gmu;

/** "Material: 80% stainless steel, 20% recycled plastic" in attributes or description. */
export function materialsFrom(source: Pick<GenerationSource, 'description' | 'attributes'>): Material[] | undefined {
  const texts = Object.entries(source.attributes)
    .filter(([k]) => /mat[eé]ri|werkstoff/i.test(k))
    .map(([, v]) => String(v));
  for (const line of (source.description ?? '').split('\n')) if (/mat[eé]ri|werkstoff/i.test(line)) texts.push(line);
  for (const text of texts) {
    const found = [...text.matchAll(MATERIAL_RE)].map((m) => ({ name: m[2]!.trim(), percentage: Number(m[1]!.replace(',', '.')) }));
    const sum = found.reduce((s, m) => s + m.percentage, 0);
    if (found.length && sum <= 100.01) return found;
  }
  return undefined;
}

/** "Certification: ENERGY STAR,TCO,EPEAT Gold,RoHS" (catalog exports such as Icecat write this). */
export function certificationsFrom(source: Pick<GenerationSource, 'description' | 'attributes'>): string[] | undefined {
  const texts = Object.entries(source.attributes)
    .filter(([k]) => /certif/i.test(k))
    .map(([, v]) => (Array.isArray(v) ? v.join(',') : String(v)));
  for (const m of (source.description ?? '').matchAll(/certifications?:\s*([^\n;]+)/gi)) texts.push(m[1]!);
  const codes = texts.flatMap((t) => t.split(/[,|]/)).map((c) => c.trim()).filter((c) => c.length > 1 && c.length < 60);
  return codes.length ? normaliseCertifications(codes) : undefined;
}

const EOL: Record<GenLang, { weee: string; generic: string; materials: (list: string) => string }> = {
  en: {
    weee: 'Do not dispose of with household waste: this product falls under the WEEE Directive 2012/19/EU. Take it to a collection point for electrical and electronic equipment or return it to the retailer.',
    generic: 'Dispose of the product according to local waste regulations; separate packaging for recycling.',
    materials: (list) => `Main materials for recycling: ${list}.`,
  },
  fr: {
    weee: "Ne pas jeter avec les ordures ménagères : ce produit relève de la directive DEEE 2012/19/UE. Déposez-le dans un point de collecte des équipements électriques et électroniques ou rapportez-le au distributeur.",
    generic: 'Éliminez le produit selon la réglementation locale des déchets ; triez les emballages pour le recyclage.',
    materials: (list) => `Principaux matériaux à recycler : ${list}.`,
  },
  de: {
    weee: 'Nicht mit dem Hausmüll entsorgen: Dieses Produkt fällt unter die WEEE-Richtlinie 2012/19/EU. Geben Sie es an einer Sammelstelle für Elektro- und Elektronik-Altgeräte oder beim Händler zurück.',
    generic: 'Entsorgen Sie das Produkt nach den örtlichen Vorschriften; Verpackung getrennt dem Recycling zuführen.',
    materials: (list) => `Hauptmaterialien für das Recycling: ${list}.`,
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
 * then the extraction results. Never invents a value the sources do not hold (the end-of-life text
 * is the one composed field, from the WEEE category and materials).
 */
export function generateCandidates(source: GenerationSource): Partial<Record<Field, unknown>> {
  const out: Partial<Record<Field, unknown>> = {};
  const x = source.extracted;
  const manufacturer = source.brand ?? (x.manufacturer as string | undefined);
  if (manufacturer) out.manufacturer = manufacturer;
  out.product_name = source.title;
  const materials = materialsFrom(source) ?? (x.materials as Material[] | undefined);
  if (materials?.length) out.materials = materials;
  const certifications = [...new Set([...(certificationsFrom(source) ?? []), ...((x.certifications as string[] | undefined) ?? [])])];
  if (certifications.length) out.certifications = certifications;
  const country = normaliseCountry(String(source.attributes.country_of_origin ?? source.attributes.country ?? '')) ?? (x.country_of_origin as string | undefined);
  if (country) out.country_of_origin = country;
  const carbon = Number(source.attributes.carbon_footprint_kg ?? NaN);
  if (Number.isFinite(carbon) && carbon >= 0) out.carbon_footprint_kg = carbon;
  else if (typeof x.carbon_footprint_kg === 'number') out.carbon_footprint_kg = x.carbon_footprint_kg;
  const weee = source.weeeCategory ?? (x.weee_category as string | undefined) ?? null;
  out.end_of_life_instructions = endOfLifeText(productLanguage(source), weee, materials);
  return out;
}
