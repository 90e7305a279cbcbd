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

const SVHC = '(?:SVHCs?|substances?\\s+of\\s+very\\s+high\\s+concern|Candidate\\s+List)';
const SVHC_DE = '(?:SVHC|Kandidatenliste|besonders\\s+besorgniserregend)';
const SVHC_FR = '(?:SVHC|liste\\s+(?:des\\s+substances\\s+)?candidates?|extrêmement\\s+préoccupantes?)';
const SVHC_IT = '(?:SVHC|elenco\\s+(?:delle\\s+)?(?:sostanze\\s+)?candidate|lista\\s+(?:delle\\s+)?(?:sostanze\\s+)?candidate|estremamente\\s+preoccupanti)';
const SVHC_NL = '(?:SVHC|kandidaatslijst|zeer\\s+zorgwekkende\\s+stoffen|ZZS)';
/** Within one sentence: no sentence end between the negation and the SVHC words (a decimal point is no end). */
const SAME_SENTENCE = '(?:[^.!?\\n]|\\.(?=\\d)|\\n(?!\\n)){0,160}?';
/**
 * The article contains no SVHC of the Candidate List above the threshold (0.1 % w/w): what a REACH
 * Article 33 statement says when there is nothing to report, in any wording or language. It means
 * `reach_compliant: true`. The opposite ("contains lead above 0.1 %") is the Article 33 information
 * duty, not a non-compliance, so it yields no signal at all.
 */
const NO_SVHC = new RegExp(
  [
    `\\b(?:do(?:es)?\\s+not|don't|doesn't|shall\\s+not)\\s+contain${SAME_SENTENCE}\\b${SVHC}`,
    `\\bcontains?\\s+no\\s+${SAME_SENTENCE}\\b${SVHC}`,
    `\\bno\\s+${SVHC}\\s+(?:above|over|exceeding|in\\s+(?:a\\s+)?concentrations?|>|is\\s+present|are\\s+present)`,
    `\\b(?:free\\s+(?:of|from)|without)\\s+${SVHC}`,
    `\\b${SVHC}[^.]{0,80}\\b(?:below|less\\s+than|not\\s+exceed(?:ing)?|under)\\s+(?:the\\s+(?:threshold\\s+(?:of\\s+)?)?)?0[.,]1\\s*%`,
    `\\b(?:enthält|enthalten)\\s+keine${SAME_SENTENCE}${SVHC_DE}`,
    `\\bkeine${SAME_SENTENCE}${SVHC_DE}${SAME_SENTENCE}\\benthalten`,
    `\\bkeine\\s+(?:SVHC|besonders\\s+besorgniserregenden\\s+Stoffe)`,
    `\\bne\\s+contien(?:t|nent)\\s+(?:pas|aucune?)\\b${SAME_SENTENCE}${SVHC_FR}`,
    `\\bnon\\s+(?:contiene|contengono)\\b${SAME_SENTENCE}${SVHC_IT}`,
    `\\bbevat(?:ten)?\\s+geen\\b${SAME_SENTENCE}${SVHC_NL}`,
  ].join('|'),
  'gi',
);

export function extractReach(ctx: DocContext): ExtractedField<boolean> | undefined {
  const signals = complianceSignals(ctx, PATTERNS);
  for (const m of findAll(ctx.doc, NO_SVHC)) if (!isHedged(m.page, m.index)) signals.push(signal(true, 0.75, m, 'REACH-no-svhc'));
  return resolveBoolean(signals);
}
