/**
 * country_of_origin: "Made in China", "Country of origin: Germany", "Fabriqué en France",
 * "Hergestellt in Deutschland", "Gemaakt in Nederland", "Made in P.R.C." → ISO 3166-1 alpha-2.
 * An LCA assumption such as "Assembly location: China" is not a declared origin and is not read.
 */
import countries from 'i18n-iso-countries';
import { normaliseCountry } from '../../../passports/vocabulary.js';
import type { ExtractedField } from '../../fields.js';
import type { DocContext } from '../context.js';
import { evidenceOf, findAll } from '../document.js';

const ORIGIN = new RegExp(
  [
    '\\b(?<made>Made|Manufactured|Produced|Assembled|Fabriqué|Fabriquée|Produit|Assemblé|Hergestellt|Produziert|Gefertigt|Gemaakt|Geproduceerd|Vervaardigd|Geassembleerd|Prodotto|Fabbricato|Fabricado|Hecho)\\s+(?:in|en|au|aux|à|a)\\s+(?:the\\s+)?',
    "\\b(?<label>Country\\s+of\\s+origin|Origin|Pays\\s+d'origine|Origine|Herkunftsland|Ursprungsland|Land\\s+van\\s+herkomst|Paese\\s+di\\s+origine|País\\s+de\\s+origen)\\s*[:：]\\s*",
  ]
    .map((p) => `(?:${p})`)
    .join('|')
    .replace(/^/, '(?:') + ")(?<place>[\\p{Lu}][\\p{L}.'’ -]{1,40})",
  'gu',
);

const ALIASES: Record<string, string> = {
  prc: 'CN',
  'p r c': 'CN',
  'p r china': 'CN',
  'peoples republic of china': 'CN',
  'mainland china': 'CN',
  china: 'CN',
  chine: 'CN',
  usa: 'US',
  'u s a': 'US',
  'u s': 'US',
  'united states': 'US',
  'united states of america': 'US',
  america: 'US',
  uk: 'GB',
  'u k': 'GB',
  'great britain': 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'united kingdom': 'GB',
  deutschland: 'DE',
  germany: 'DE',
  holland: 'NL',
  nederland: 'NL',
  'the netherlands': 'NL',
  korea: 'KR',
  'south korea': 'KR',
  'republic of korea': 'KR',
  taiwan: 'TW',
  'taiwan r o c': 'TW',
  'r o c': 'TW',
  vietnam: 'VN',
  'viet nam': 'VN',
  'czech republic': 'CZ',
  turkey: 'TR',
  türkiye: 'TR',
  russia: 'RU',
};
const LANGS = ['en', 'fr', 'de', 'nl', 'it', 'es'];

function key(text: string): string {
  return text
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^\p{L}]+/gu, ' ')
    .trim();
}

/** Alpha-2 of a country name in any of the six languages, trying the longest leading run of words first. */
export function countryCode(place: string): string | undefined {
  const words = place.replace(/[.]+$/, '').split(/\s+/).filter(Boolean).slice(0, 5);
  for (let n = words.length; n >= 1; n--) {
    const candidate = words.slice(0, n).join(' ');
    const alias = ALIASES[key(candidate)];
    if (alias) return alias;
    for (const lang of LANGS) {
      const code = countries.getAlpha2Code(candidate, lang);
      if (code) return normaliseCountry(code);
    }
  }
  return undefined;
}

export function extractCountryOfOrigin(ctx: DocContext): ExtractedField<string> | undefined {
  for (const m of findAll(ctx.doc, ORIGIN)) {
    const before = m.page.flat.slice(Math.max(0, m.index - 12), m.index);
    if (/\b(?:not|nicht|pas|niet|non)\s*$/i.test(before)) continue;
    const place = m.groups[3] ?? ''; // (?<made>)=1, (?<label>)=2, (?<place>)=3
    const code = countryCode(place);
    if (!code) continue;
    const word = /^(?:Assembled|Assemblé|Geassembleerd)/i.test(m.groups[0]!) ? 0.7 : /^(?:Origin|Origine)\b/i.test(m.groups[0]!) ? 0.75 : 0.85;
    return { value: code, confidence: word, evidence: [evidenceOf(m)] };
  }
  return undefined;
}
