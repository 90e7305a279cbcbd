/**
 * The shared reading of "is the product compliant with act X" (RoHS, REACH, WEEE): mentions of the
 * act or its name, negated or not; a compliance verb that governs a mention; "X compliant" said of
 * the product; "X: yes/no" values; and the act listed in an EU declaration of conformity.
 */
import { governedByComplianceVerb, isHedged, signal, type Signal } from '../claims.js';
import type { DocContext } from '../context.js';
import { findAll, type Match } from '../document.js';
import { actFamily } from '../legal-acts.js';
import { negationOf } from '../negation.js';

export interface ClaimPatterns {
  /** Family name of the acts in `legal-acts.ts` (RoHS, REACH, WEEE). */
  family: string;
  /** Mentions by name (global regex). */
  names: RegExp;
  /** Mentions to ignore (e.g. "China RoHS"), tested on the 20 characters before the mention. */
  ignoreBefore?: RegExp;
  /** "X compliant" as a predicate of the product (global regex). */
  predicate: RegExp;
  /** "X: yes" (group 1 the value) (global regex). */
  keyValue: RegExp;
}

const YES = /^(?:yes|y|ja|oui|si|sí|compliant|conform|conforme|konform|ok|✓|✔)$/i;
const NO = /^(?:no|n|nein|non|nee|not\s+compliant|non[\s-]?compliant|non[\s-]?conforme?|nicht\s+konform)$/i;

export function complianceSignals(ctx: DocContext, p: ClaimPatterns): Signal[] {
  const signals: Signal[] = [];
  const mentions: Match[] = [
    ...findAll(ctx.doc, p.names).filter((m) => !p.ignoreBefore?.test(m.page.flat.slice(Math.max(0, m.index - 20), m.index))),
    ...ctx.acts.filter((c) => actFamily(c.act) === p.family).map((c) => c.match),
  ];
  for (const m of mentions) {
    if (negationOf(m.page, m.index, m.end)) {
      if (!isHedged(m.page, m.index)) signals.push(signal(false, 0.85, m, `${p.family}-negated`));
    } else if (governedByComplianceVerb(m.page, m.index)) {
      signals.push(signal(true, 0.85, m, `${p.family}-complies-with`));
    } else if (ctx.euDeclaration) {
      signals.push(signal(true, 0.8, m, `${p.family}-in-eu-declaration`));
    }
  }
  for (const m of findAll(ctx.doc, p.predicate)) {
    if (!negationOf(m.page, m.index, m.end) && !isHedged(m.page, m.index)) signals.push(signal(true, 0.85, m, `${p.family}-predicate`));
  }
  for (const m of findAll(ctx.doc, p.keyValue)) {
    if (isHedged(m.page, m.index)) continue;
    const value = (m.groups[1] ?? '').trim();
    if (YES.test(value)) signals.push(signal(true, 0.75, m, `${p.family}-value`));
    else if (NO.test(value)) signals.push(signal(false, 0.75, m, `${p.family}-value`));
  }
  return signals;
}
