/** rohs_compliant: Directive 2011/65/EU (and 2015/863), "RoHS compliant", per-part status tables. */
import type { ExtractedField } from '../../fields.js';
import { resolveBoolean, signal, type Signal } from '../claims.js';
import type { DocContext } from '../context.js';
import { findAll } from '../document.js';
import { complianceSignals } from './compliance-claim.js';

const PATTERNS = {
  family: 'RoHS',
  names: /\bRoHS\b|\bRestriction\s+of\s+(?:the\s+use\s+of\s+)?(?:certain\s+)?Hazardous\s+Substances\b/g,
  ignoreBefore: /\b(?:China|Chinese|Korea|Korean|UAE|India|Indian|Japan|J-?MOSS)\s*"?\s*$/i,
  predicate:
    /\b(?:is|are|be|being|been|remains?|ist|sind|est|sont|zijn)\s*:?\s*(?:fully\s+|100\s*%\s+|voll(?:ständig)?\s+|entièrement\s+)?(?:EU\s+)?RoHS[\s-]*(?:2|3|II|III)?[\s-]*(?:compliant|conform(?:ing|ant)?|konform|conformes?)\b|\bRoHS[\s-]*(?:2|3|II|III)?[\s-]*(?:compliant|konform|conform)\s+by\b/gi,
  keyValue: /\bRoHS(?:[\s-]*(?:2|3|II|III))?(?:\s+(?:compliant|compliance|status|conform|konform|conformité))?\s*[:=]\s*([A-Za-zéè✓✔-]+(?:\s+compliant)?)/gi,
};

/** A per-part certificate: "RoHS Compliance Status" column, then the status of the part(s). */
const STATUS_TABLE = /\bRoHS\s+(?:Compliance\s+)?Status\b/g;
const STATUS_VALUE = /(?:^|\n)(?:[^\n]*\s)?(Compliant(?:\s+with\s+exemptions?)?|Not\s+Compliant|Non[\s-]?Compliant|Yes|No)[ \t]*(?=\n|$)/gi;

export function extractRohs(ctx: DocContext): ExtractedField<boolean> | undefined {
  const signals: Signal[] = complianceSignals(ctx, PATTERNS);
  for (const header of findAll(ctx.doc, STATUS_TABLE)) {
    const { page } = header;
    const region = page.text.slice(header.end, header.end + 1200);
    STATUS_VALUE.lastIndex = 0;
    for (let m = STATUS_VALUE.exec(region); m; m = STATUS_VALUE.exec(region)) {
      const status = m[1]!;
      const at = header.end + m.index + m[0].lastIndexOf(status);
      const positive = /^(?:compliant|yes)/i.test(status);
      signals.push(signal(positive, 0.8, { page, index: at, end: at + status.length }, 'RoHS-status-table'));
    }
  }
  return resolveBoolean(signals);
}
