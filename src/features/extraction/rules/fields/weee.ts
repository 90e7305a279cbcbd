/**
 * weee_marked: the document says WEEE (Directive 2012/19/EU) or the crossed-out wheeled bin
 * applies: the act or its acronym (WEEE, DEEE, AEEA, RAEE, ElektroG) in a positive statement, the
 * bin symbol, or a "do not dispose of with household waste" notice about the product.
 * weee_category: an Annex III category named or numbered near such a statement.
 */
import { WEEE_CATEGORIES, normaliseWeeeCategory, type WeeeCategory } from '../../../passports/vocabulary.js';
import type { ExtractedField } from '../../fields.js';
import { isHedged, resolveBoolean, signal, type Signal } from '../claims.js';
import type { DocContext } from '../context.js';
import { evidenceOf, findAll, sentenceEnd, sentenceStart } from '../document.js';
import { CROSSED_BIN, DISPOSAL_OBJECT, DISPOSAL_PROHIBITION, HOUSEHOLD_WASTE } from '../lexicon.js';
import { negationOf } from '../negation.js';
import { complianceSignals } from './compliance-claim.js';

const PATTERNS = {
  family: 'WEEE',
  names:
    /\b(?:WEEE|DEEE|AEEA|RAEE|ElektroG)\b|\bWaste\s+(?:of\s+)?Electrical\s+and\s+Electronic\s+Equipment\b|\bElektro-\s*und\s+Elektronik-?\s*Altgeräte\b|\bdéchets\s+d'équipements\s+électriques\s+et\s+électroniques\b|\bafgedankte\s+elektrische\s+en\s+elektronische\s+apparatuur\b/gi,
  predicate: /\b(?:is|are|ist|sind|est|sont|zijn)\s+(?:fully\s+)?WEEE[\s-]*(?:compliant|konform|conformes?|registered|registriert)\b/gi,
  keyValue: /\bWEEE(?:\s+(?:compliant|compliance|marked|marking|symbol))?\s*[:=]\s*([A-Za-z✓✔-]+)/gi,
};

const BIN_RE = new RegExp(`\\b${CROSSED_BIN}`, 'gi');
const WASTE_RE = new RegExp(`\\b${HOUSEHOLD_WASTE}`, 'gi');
const PROHIBITION_RE = new RegExp(`\\b${DISPOSAL_PROHIBITION}\\b`, 'i');
const OBJECT_RE = new RegExp(`\\b${DISPOSAL_OBJECT}`, 'i');

export function extractWeeeMarked(ctx: DocContext): ExtractedField<boolean> | undefined {
  const signals: Signal[] = complianceSignals(ctx, PATTERNS);
  // A plain mention of WEEE outside any claim still says the regime applies, weakly.
  for (const m of findAll(ctx.doc, PATTERNS.names)) {
    if (!negationOf(m.page, m.index, m.end) && !isHedged(m.page, m.index)) signals.push(signal(true, 0.6, m, 'WEEE-mentioned'));
  }
  for (const m of findAll(ctx.doc, BIN_RE)) if (!negationOf(m.page, m.index, m.end)) signals.push(signal(true, 0.85, m, 'WEEE-crossed-bin'));
  for (const m of findAll(ctx.doc, WASTE_RE)) {
    const sentence = m.page.flat.slice(sentenceStart(m.page, m.index), sentenceEnd(m.page, m.end));
    if (PROHIBITION_RE.test(sentence) && OBJECT_RE.test(sentence)) signals.push(signal(true, 0.8, m, 'WEEE-disposal-notice'));
  }
  return resolveBoolean(signals);
}

const CATEGORY_NUMBER = /\b(?:WEEE[\s-]*)?(?:category|categories|catégorie|Kategorie|categorie|categoria|categoría|cat\.)\s*(?:no\.?\s*|nr\.?\s*|n°\s*)?:?\s*([1-6])(?![\d.,])/gi;
const CATEGORY_NAMES = new RegExp(
  `\\b(?:${[
    'temperature\\s+exchange\\s+equipment',
    'screens,?\\s+monitors',
    'equipment\\s+containing\\s+screens',
    'small\\s+IT\\s+and\\s+telecommunications?\\s+equipment',
    'large\\s+equipment',
    'small\\s+equipment',
    'lamps',
  ].join('|')})`,
  'gi',
);

/** Category only where WEEE applies and the document uses the 2012/19/EU numbering (not the ten of 2002/96/EC). */
export function extractWeeeCategory(ctx: DocContext, weee: ExtractedField<boolean> | undefined): ExtractedField<WeeeCategory> | undefined {
  if (!weee?.value) return undefined;
  const anchors = [...findAll(ctx.doc, PATTERNS.names), ...ctx.acts.filter((c) => c.act.year === 2012 && c.act.number === 19).map((c) => c.match)];
  const near = (page: number, index: number) => anchors.some((a) => a.page.number === page && Math.abs(a.index - index) < 250);
  const oldScheme = ctx.acts.some((c) => c.act.year === 2002 && c.act.number === 96) && !ctx.acts.some((c) => c.act.year === 2012 && c.act.number === 19);
  for (const m of findAll(ctx.doc, CATEGORY_NAMES)) {
    const category = normaliseWeeeCategory(m.groups[0]!.replace(/\s+/g, ' ')) ?? nameToCategory(m.groups[0]!);
    if (category && near(m.page.number, m.index)) return { value: category, confidence: 0.75, evidence: [evidenceOf(m)] };
  }
  if (oldScheme) return undefined;
  for (const m of findAll(ctx.doc, CATEGORY_NUMBER)) {
    const category = normaliseWeeeCategory(Number(m.groups[1]));
    if (category && near(m.page.number, m.index)) return { value: category, confidence: 0.7, evidence: [evidenceOf(m)] };
  }
  return undefined;
}

function nameToCategory(name: string): WeeeCategory | undefined {
  const n = name.toLowerCase();
  if (n.startsWith('temperature')) return WEEE_CATEGORIES[0];
  if (n.startsWith('screens') || n.includes('containing screens')) return WEEE_CATEGORIES[1];
  if (n.startsWith('lamps')) return WEEE_CATEGORIES[2];
  if (n.startsWith('large')) return WEEE_CATEGORIES[3];
  if (n.startsWith('small it')) return WEEE_CATEGORIES[5];
  if (n.startsWith('small')) return WEEE_CATEGORIES[4];
  return undefined;
}
