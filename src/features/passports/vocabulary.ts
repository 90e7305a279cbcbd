import countries from 'i18n-iso-countries';

/**
 * The EU compliance vocabulary: canonical certification spellings, WEEE categories (Directive
 * 2012/19/EU Annex III), energy classes, and identifier checks. Pure functions, no I/O.
 */

/** Canonical certification / mark names, keyed by a folded form (lower case, letters and digits only). */
const CERTIFICATIONS: Record<string, string> = {};
function cert(canonical: string, ...variants: string[]) {
  for (const v of [canonical, ...variants]) CERTIFICATIONS[fold(v)] = canonical;
}
cert('CE', 'CE mark', 'CE marking', 'CE marked', 'Conformité Européenne');
cert('UKCA', 'UKCA mark');
cert('RoHS', 'RoHS 2', 'RoHS 3', 'RoHS II', 'RoHS III', 'RoHS compliant', 'EU RoHS');
cert('REACH', 'REACH compliant');
cert('WEEE', 'WEEE compliant');
cert('FCC', 'FCC Part 15');
cert('Energy Star', 'ENERGY STAR', 'EnergyStar', 'Energy-Star');
cert('EU Ecolabel', 'EU Eco label', 'EU Ecolabel', 'Ecolabel', 'EU flower', 'European Ecolabel');
cert('EPEAT', 'EPEAT Registered');
cert('EPEAT Bronze');
cert('EPEAT Silver');
cert('EPEAT Gold');
cert('TCO Certified', 'TCO', 'TCO Certified Generation 9', 'TCO Development');
cert('Blue Angel', 'Blauer Engel', 'Der Blaue Engel', 'Ange Bleu');
cert('Nordic Swan', 'Nordic Ecolabel', 'Svanen', 'Nordic Swan Ecolabel');
cert('FSC', 'FSC certified', 'Forest Stewardship Council');
cert('PEFC');
cert('OEKO-TEX', 'OEKO-TEX Standard 100', 'Oeko-Tex', 'Oekotex', 'STANDARD 100 by OEKO-TEX');
cert('GOTS', 'Global Organic Textile Standard');
cert('Cradle to Cradle', 'Cradle to Cradle Certified', 'C2C', 'Cradle2Cradle');
cert('TÜV', 'TUV', 'TÜV Rheinland', 'TÜV SÜD');
cert('GS', 'GS mark', 'Geprüfte Sicherheit');
cert('UL', 'UL Listed');
cert('CB Scheme', 'CB', 'IECEE CB');
cert('KC');
cert('CCC', 'China Compulsory Certificate');
cert('RCM');
cert('PSE');

/** Lower case, accents and punctuation removed, so "ENERGY STAR®" and "energy-star" meet. */
function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/** Canonical spelling of a certification code; unknown codes are kept as given (trimmed). */
export function normaliseCertification(code: string): string {
  return CERTIFICATIONS[fold(code)] ?? code.trim().replace(/\s+/g, ' ');
}

/** Normalises a list, dropping duplicates that normalise to the same code, keeping first-seen order. */
export function normaliseCertifications(codes: readonly string[]): string[] {
  return [...new Set(codes.map(normaliseCertification).filter((c) => c !== ''))];
}

/** The six WEEE categories of Directive 2012/19/EU Annex III (from 15 August 2018), canonical names. */
export const WEEE_CATEGORIES = ['Temperature exchange equipment', 'Screens and monitors', 'Lamps', 'Large equipment', 'Small equipment', 'IT equipment'] as const;
export type WeeeCategory = (typeof WEEE_CATEGORIES)[number];

const WEEE_ALIASES: Record<string, WeeeCategory> = {};
function weee(category: WeeeCategory, ...aliases: string[]) {
  const n = WEEE_CATEGORIES.indexOf(category) + 1;
  for (const a of [category, String(n), `category ${n}`, `cat ${n}`, ...aliases]) WEEE_ALIASES[fold(a)] = category;
}
weee('Temperature exchange equipment', 'temperature exchange', 'cooling and freezing equipment', 'heat pumps');
weee('Screens and monitors', 'screens', 'monitors', 'displays', 'screens, monitors, and equipment containing screens', 'TVs');
weee('Lamps', 'lighting', 'light sources');
weee('Large equipment', 'large', 'large household appliances');
weee('Small equipment', 'small', 'small household appliances');
weee(
  'IT equipment',
  'small IT and telecommunication equipment',
  'small IT and telecommunications equipment',
  'small IT',
  'IT and telecommunications equipment',
  'IT and telecommunication equipment',
  'ICT equipment',
);

/** Canonical WEEE category for a name, number (1–6) or common alias; undefined when unknown. */
export function normaliseWeeeCategory(input: string | number): WeeeCategory | undefined {
  return WEEE_ALIASES[fold(String(input))];
}

/** Rescaled labels A–G, and the older scales A+++ to D (and their A++…E, A+…F variants). */
const ENERGY_CLASSES = new Set(['A+++', 'A++', 'A+', 'A', 'B', 'C', 'D', 'E', 'F', 'G']);

/** Upper-cased energy class when valid on either scale, else undefined. */
export function normaliseEnergyClass(input: string): string | undefined {
  const value = input.trim().toUpperCase().replace(/\s+/g, '');
  return ENERGY_CLASSES.has(value) ? value : undefined;
}

export const RECYCLABILITY_SCORES = ['A', 'B', 'C', 'D', 'E'] as const;

/** ISO 3166-1 alpha-2, upper-cased, when it names a country. */
export function normaliseCountry(input: string): string | undefined {
  const code = input.trim().toUpperCase();
  return /^[A-Z]{2}$/.test(code) && countries.isValid(code) ? code : undefined;
}

/** CAS Registry Number `NNNNNNN-NN-N` with its check digit. */
export function isValidCas(cas: string): boolean {
  const m = /^(\d{2,7})-(\d{2})-(\d)$/.exec(cas.trim());
  if (!m) return false;
  const digits = (m[1]! + m[2]!).split('').reverse();
  const sum = digits.reduce((s, d, i) => s + Number(d) * (i + 1), 0);
  return sum % 10 === Number(m[3]);
}

/** EC (EINECS/ELINCS) number `NNN-NNN-N` with its check digit. */
export function isValidEcNumber(ec: string): boolean {
  const m = /^(\d{3})-(\d{3})-(\d)$/.exec(ec.trim());
  if (!m) return false;
  const digits = (m[1]! + m[2]!).split('');
  const sum = digits.reduce((s, d, i) => s + Number(d) * (i + 1), 0);
  return sum % 11 === Number(m[3]);
}
