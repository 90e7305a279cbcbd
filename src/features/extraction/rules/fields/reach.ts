/** reach_compliant: Regulation (EC) No 1907/2006, "REACH compliant", "contains no SVHC". */
import type { ExtractedField } from '../../fields.js';
import { isHedged, resolveBoolean, signal } from '../claims.js';
import type { DocContext } from '../context.js';
import { findAll } from '../document.js';
import { complianceSignals } from './compliance-claim.js';

const PATTERNS = {
  family: 'REACH',
  // Upper case only: "reach" is an English word.
  names: /\bREACH\b(?![a-z])/g,
  predicate:
    /\b(?:is|are|be|being|been|remains?|ist|sind|est|sont|zijn)\s*:?\s*(?:fully\s+|100\s*%\s+|voll(?:ständig)?\s+)?(?:EU\s+)?REACH[\s-]*(?:compliant|conform(?:ing|ant)?|konform|conformes?)\b/g,
  keyValue: /\bREACH(?:\s+(?:compliant|compliance|status|conform|konform|conformité))?\s*[:=]\s*([A-Za-zéè✓✔-]+(?:\s+compliant)?)/g,
};

const SVHC = '(?:SVHCs?|substances?\\s+of\\s+very\\s+high\\s+concern|Candidate\\s+List\\s+substances?)';
/** The article contains no SVHC above the threshold: what a REACH article 33 statement says. */
const NO_SVHC = new RegExp(
  [
    `\\b(?:does|do)\\s+not\\s+contain\\s+(?:any\\s+)?(?:of\\s+the\\s+)?${SVHC}`,
    `\\bcontains?\\s+no\\s+${SVHC}`,
    `\\bno\\s+${SVHC}\\s+(?:above|over|exceeding|in\\s+(?:a\\s+)?concentrations?|>)`,
    `\\b(?:free\\s+(?:of|from)|without)\\s+${SVHC}`,
    `\\b${SVHC}[^.]{0,80}\\b(?:below|less\\s+than|not\\s+exceed(?:ing)?|under)\\s+(?:the\\s+(?:threshold\\s+(?:of\\s+)?)?)?0[.,]1\\s*%`,
    '\\benthält\\s+keine\\s+(?:SVHC|besonders\\s+besorgniserregenden)',
    '\\bkeine\\s+(?:SVHC|besonders\\s+besorgniserregenden\\s+Stoffe)',
    '\\bne\\s+contient\\s+(?:pas\\s+de|aucune?)\\s+(?:SVHC|substances?\\s+extrêmement\\s+préoccupantes?)',
    '\\bbevat\\s+geen\\s+(?:SVHC|zeer\\s+zorgwekkende\\s+stoffen|ZZS)',
  ].join('|'),
  'gi',
);

export function extractReach(ctx: DocContext): ExtractedField<boolean> | undefined {
  const signals = complianceSignals(ctx, PATTERNS);
  for (const m of findAll(ctx.doc, NO_SVHC)) if (!isHedged(m.page, m.index)) signals.push(signal(true, 0.75, m, 'REACH-no-svhc'));
  return resolveBoolean(signals);
}
