/**
 * Citations of EU legal acts and their canonical strings (see `fields.ts`):
 * directives `YYYY/N/EU|EC|EEC` (also for the post-2015 numbering: `(EU) 2015/863` → `2015/863/EU`),
 * regulations their number without prefix (`(EC) No 1907/2006` → `1907/2006`, `(EU) 2017/1369` → `2017/1369`).
 * Every act also has a key `year:number` that ignores the form and the suffix, for comparisons.
 */
import { findAll, type Doc, type Match } from './document.js';

export type ActKind = 'directive' | 'regulation';

export interface LegalAct {
  year: number;
  number: number;
  kind: ActKind;
  /** Suffix of an old-style directive (EU, EC, EEC). */
  suffix?: 'EU' | 'EC' | 'EEC';
}

/** Acts often cited in compliance documents whose kind (and suffix) is known, keyed `year:number`. */
const KNOWN: Record<string, { kind: ActKind; suffix?: 'EU' | 'EC' | 'EEC'; name?: string }> = {
  '2011:65': { kind: 'directive', suffix: 'EU', name: 'RoHS' },
  '2015:863': { kind: 'directive', suffix: 'EU', name: 'RoHS' },
  '2017:2102': { kind: 'directive', suffix: 'EU', name: 'RoHS' },
  '2019:172': { kind: 'directive', suffix: 'EU', name: 'RoHS' },
  '2002:95': { kind: 'directive', suffix: 'EC', name: 'RoHS' },
  '2012:19': { kind: 'directive', suffix: 'EU', name: 'WEEE' },
  '2002:96': { kind: 'directive', suffix: 'EC', name: 'WEEE' },
  '2006:1907': { kind: 'regulation', name: 'REACH' },
  '2014:30': { kind: 'directive', suffix: 'EU', name: 'EMC' },
  '2004:108': { kind: 'directive', suffix: 'EC', name: 'EMC' },
  '2014:35': { kind: 'directive', suffix: 'EU', name: 'LVD' },
  '2006:95': { kind: 'directive', suffix: 'EC', name: 'LVD' },
  '2014:53': { kind: 'directive', suffix: 'EU', name: 'RED' },
  '1999:5': { kind: 'directive', suffix: 'EC', name: 'R&TTE' },
  '2006:42': { kind: 'directive', suffix: 'EC', name: 'Machinery' },
  '2009:48': { kind: 'directive', suffix: 'EC', name: 'Toys' },
  '2014:34': { kind: 'directive', suffix: 'EU', name: 'ATEX' },
  '2014:68': { kind: 'directive', suffix: 'EU', name: 'PED' },
  '2013:53': { kind: 'directive', suffix: 'EU', name: 'Recreational craft' },
  '2009:125': { kind: 'directive', suffix: 'EC', name: 'Ecodesign' },
  '2010:30': { kind: 'directive', suffix: 'EU' },
  '2006:66': { kind: 'directive', suffix: 'EC', name: 'Batteries' },
  '1994:62': { kind: 'directive', suffix: 'EC', name: 'Packaging' },
  '2001:95': { kind: 'directive', suffix: 'EC' },
  '2023:1230': { kind: 'regulation', name: 'Machinery' },
  '2016:425': { kind: 'regulation', name: 'PPE' },
  '2016:426': { kind: 'regulation', name: 'Gas appliances' },
  '2017:745': { kind: 'regulation', name: 'Medical devices' },
  '2017:1369': { kind: 'regulation' },
  '2024:1781': { kind: 'regulation' },
  '2023:1542': { kind: 'regulation' },
  '2023:988': { kind: 'regulation' },
  '2025:40': { kind: 'regulation' },
  '2019:1020': { kind: 'regulation' },
  '2019:1021': { kind: 'regulation' },
  '2008:1272': { kind: 'regulation' },
  '2008:765': { kind: 'regulation' },
  '2009:278': { kind: 'regulation' },
};

/** Acts whose citation in a declaration of conformity means the product bears the CE marking. */
const CE_MARKING_ACTS = new Set([
  '2014:30',
  '2004:108',
  '2014:35',
  '2006:95',
  '2014:53',
  '1999:5',
  '2006:42',
  '2009:48',
  '2014:34',
  '2014:68',
  '2013:53',
  '2023:1230',
  '2016:425',
  '2016:426',
  '2017:745',
  '2011:65',
]);

export const actKey = (act: Pick<LegalAct, 'year' | 'number'>) => `${act.year}:${act.number}`;
export const isCeMarkingAct = (act: LegalAct) => CE_MARKING_ACTS.has(actKey(act));
export const actFamily = (act: LegalAct) => KNOWN[actKey(act)]?.name;

/** The canonical string of an act (fields.ts). */
export function canonicalAct(act: LegalAct): string {
  if (act.kind === 'regulation') return act.year >= 2015 ? `${act.year}/${act.number}` : `${act.number}/${act.year}`;
  const year = act.year < 2000 ? String(act.year).slice(2) : String(act.year);
  return `${year}/${act.number}/${act.suffix ?? 'EU'}`;
}

const SUFFIXES: Record<string, 'EU' | 'EC' | 'EEC'> = { EU: 'EU', UE: 'EU', EC: 'EC', EG: 'EC', CE: 'EC', EEC: 'EEC', EWG: 'EEC', CEE: 'EEC', EEG: 'EEC' };
const DIRECTIVE_WORD = /\b(?:directive|richtlinie|richtlijn|direttiva|directiva)\s*(?:\(\w+\)\s*)?$/i;
const REGULATION_WORD = /\b(?:regulation|verordnung|règlement|verordening|regolamento|reglamento)\s*(?:\(\w+\)\s*)?(?:No\.?\s*)?$/i;

function fullYear(y: number): number {
  return y < 100 ? (y >= 50 ? 1900 + y : 2000 + y) : y;
}

function plausible(act: LegalAct): LegalAct | undefined {
  return act.year >= 1958 && act.year <= 2099 && act.number >= 1 && act.number <= 9999 ? act : undefined;
}

function withKnown(act: LegalAct): LegalAct {
  const known = KNOWN[actKey(act)];
  if (!known) return act;
  return known.suffix ? { ...act, kind: known.kind, suffix: known.suffix } : { year: act.year, number: act.number, kind: known.kind };
}

/** Old-style directives: `2011/65/EU`, `94/62/EC`, `2004/108/EG`, `2011/65/\nEU`. */
const SUFFIXED = /\b((?:19|20)?\d{2})\s*\/\s*(\d{1,4})\s*\/\s*(EU|UE|EC|EG|CE|EEC|EWG|CEE|EEG)\b/g;
/** `(EU) 2015/863`, `(EC) No 1907/2006`, `EU 2015/863`, `(EU) No. 528/2012`. */
const PREFIXED = /(?:\((?:EU|EC|EEC|UE|CE|EG|EWG)\)|\b(?:EU|EC|UE|EG))\s*(?:(?:No|Nr|n°)\.?\s*)?(\d{1,4})\s*\/\s*(\d{1,4})\b(?!\s*\/\s*(?:EU|EC|EG|CE|UE|EEC))/g;
/** `Regulation No 1907/2006`, `Directive 2015/863` (a word names the kind, no prefix). */
const WORDED =
  /\b(?:(?:Regulation|Verordnung|règlement|verordening|regolamento|reglamento)\s*(?:(?:No|Nr|n°)\.?\s*)?|(?:Directive|Richtlinie|richtlijn|direttiva|directiva)\s+)(\d{1,4})\s*\/\s*(\d{1,4})\b(?!\s*\/\s*(?:EU|EC|EG|CE|UE|EEC))/gi;

function numbered(a: number, b: number, kindHint: ActKind | undefined, hasNo: boolean): LegalAct | undefined {
  // Post-2015 numbering puts the year first; older regulations put it last ("No 1907/2006").
  if (!hasNo && a >= 2015 && a <= 2099) return plausible(withKnown({ year: a, number: b, kind: kindHint ?? 'regulation' }));
  if (b >= 1958 && b <= 2014) return plausible(withKnown({ year: b, number: a, kind: 'regulation' }));
  return undefined;
}

export interface ActCitation {
  act: LegalAct;
  match: Match;
}

/** Every citation of an EU act in the document, in reading order. */
export function findActs(doc: Doc): ActCitation[] {
  const out: ActCitation[] = [];
  for (const match of findAll(doc, SUFFIXED)) {
    const suffix = SUFFIXES[match.groups[3]!.toUpperCase()]!;
    const act = plausible({ year: fullYear(Number(match.groups[1])), number: Number(match.groups[2]), kind: 'directive', suffix });
    if (act) out.push({ act: withKnown(act), match });
  }
  for (const re of [PREFIXED, WORDED]) {
    for (const match of findAll(doc, re)) {
      const before = match.page.flat.slice(Math.max(0, match.index - 40), match.index);
      const text = match.page.flat.slice(match.index, match.end);
      const hint: ActKind | undefined =
        DIRECTIVE_WORD.test(before) || /^(?:Directive|Richtlinie|richtlijn|direttiva|directiva)/i.test(text)
          ? 'directive'
          : REGULATION_WORD.test(before) || /^(?:Regulation|Verordnung|règlement|verordening|regolamento|reglamento)/i.test(text)
            ? 'regulation'
            : undefined;
      const act = numbered(Number(match.groups[1]), Number(match.groups[2]), hint, /\b(?:No|Nr|n°)\.?\s*\d/i.test(text));
      if (act && !out.some((c) => c.match.page === match.page && c.match.index <= match.index && c.match.end >= match.end)) {
        out.push({ act, match });
      }
    }
  }
  return out.sort((x, y) => x.match.page.number - y.match.page.number || x.match.index - y.match.index);
}

/**
 * Parses one citation string (a label or a canonical value) into an act, or undefined.
 * `2011/65/EC` → 2011:65, `(EU) 2015/863` → 2015:863, `1907/2006` → 2006:1907.
 */
export function parseAct(citation: string): LegalAct | undefined {
  const acts = findActs({ pages: [{ number: 1, text: citation, flat: citation.replace(/\n/g, ' ') }] });
  if (acts[0]) return acts[0].act;
  const bare = /^\s*(\d{1,4})\s*\/\s*(\d{1,4})\s*$/.exec(citation);
  return bare ? numbered(Number(bare[1]), Number(bare[2]), undefined, false) : undefined;
}
