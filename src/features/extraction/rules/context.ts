/**
 * What several fields need to know about the whole document: the EU acts it cites, and whether it
 * is (or contains) an EU declaration of conformity.
 */
import { findAll, type Doc, type Match } from './document.js';
import { findActs, isCeMarkingAct, type ActCitation } from './legal-acts.js';
import { DOC_TITLE } from './lexicon.js';
import { negationOf } from './negation.js';

export interface DocContext {
  doc: Doc;
  acts: ActCitation[];
  /** Title (or mention) of a declaration of conformity, not negated, when the document cites an act that requires CE marking. */
  euDeclaration?: Match;
}

const DOC_TITLE_RE = new RegExp(`(?<![\\w-])${DOC_TITLE}`, 'gi');
/** "RoHS Declaration of Conformity" of a component maker is not an EU declaration for CE marking. */
const SUBSTANCE_DECLARATION = /\b(?:RoHS|REACH|SVHC|material|substance|halogen)[\s-]*(?:\d|II|III)?\s*$/i;

export function analyseDocument(doc: Doc): DocContext {
  const acts = findActs(doc);
  const ceActs = acts.filter((c) => isCeMarkingAct(c.act) && !negationOf(c.match.page, c.match.index, c.match.end));
  const onlyRohs = ceActs.every((c) => c.act.year === 2011 && c.act.number === 65);
  const titles = findAll(doc, DOC_TITLE_RE).filter((m) => {
    const before = m.page.flat.slice(Math.max(0, m.index - 30), m.index);
    if (SUBSTANCE_DECLARATION.test(before)) return false;
    // A RoHS-only declaration counts only when it calls itself an EU/EC declaration.
    if (onlyRohs && !/^(?:EU|EC|CE|European|EG)\b|Konformitätserklärung|conformiteitsverklaring|de\s+conformit/i.test(m.groups[0]!)) return false;
    return !negationOf(m.page, m.index, m.end);
  });
  const euDeclaration = ceActs.length > 0 ? titles[0] : undefined;
  return euDeclaration ? { doc, acts, euDeclaration } : { doc, acts };
}
