/** energy_class: "Energy efficiency class: A", "Energieeffizienzklasse B", "classe énergétique A++", "energieklasse C". */
import { normaliseEnergyClass } from '../../../passports/vocabulary.js';
import type { ExtractedField } from '../../fields.js';
import type { DocContext } from '../context.js';
import { evidenceOf, findAll } from '../document.js';
import { negationOf } from '../negation.js';

const LABEL = [
  'energy\\s+(?:efficiency\\s+)?(?:class|rating|label(?:\\s+class)?)',
  'Energieeffizienzklasse',
  'Energie(?:effizienz)?-?klasse',
  "classe\\s+(?:énergétique|d'efficacité\\s+énergétique|energetica|di\\s+efficienza\\s+energetica)",
  'energie(?:-?efficiëntie)?-?klasse',
  'energielabel',
  'clase\\s+(?:energética|de\\s+eficiencia\\s+energética)',
].join('|');
const ENERGY_CLASS = new RegExp(`\\b(?:${LABEL})\\s*(?:is\\s+|of\\s+|:|=|-)?\\s*"?(A\\s?\\+{1,3}|[A-G])(?![\\w+])`, 'gi');

export function extractEnergyClass(ctx: DocContext): ExtractedField<string> | undefined {
  for (const m of findAll(ctx.doc, ENERGY_CLASS)) {
    // The class letter is a capital (the pattern is case-insensitive for the label words only).
    if (!/^[A-G]/.test(m.groups[1]!)) continue;
    const value = normaliseEnergyClass(m.groups[1]!);
    if (value && !negationOf(m.page, m.index, m.end)) return { value, confidence: 0.85, evidence: [evidenceOf(m)] };
  }
  return undefined;
}
