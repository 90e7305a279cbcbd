/**
 * Yes/no fields (ce_marked, rohs_compliant, reach_compliant, weee_marked) are decided from signals:
 * each positive or negative statement found adds one. Only positives → true, only negatives →
 * false, both → the document contradicts itself (or speaks of several products) and the field is
 * left out, as is a field with no signal at all.
 */
import type { Evidence, ExtractedField } from '../fields.js';
import { evidenceOf, sentenceStart, type Match, type Page } from './document.js';
import { COMPLIANCE_VERB, HEDGE } from './lexicon.js';
import { negationOf } from './negation.js';

export interface Signal {
  value: boolean;
  confidence: number;
  evidence: Evidence;
  /** Which rule produced it (kept for debugging and tests). */
  rule: string;
}

export function signal(value: boolean, confidence: number, at: Pick<Match, 'page' | 'index' | 'end'>, rule: string): Signal {
  return { value, confidence, evidence: evidenceOf(at), rule };
}

/** Max confidence, nudged up a little by each further agreeing signal, at most 0.98. */
export function combinedConfidence(confidences: number[]): number {
  const sorted = [...confidences].sort((a, b) => b - a);
  const [best = 0, ...rest] = sorted;
  return Math.min(
    0.98,
    rest.reduce((c, x) => c + (1 - c) * x * 0.25, best),
  );
}

export function resolveBoolean(signals: Signal[]): ExtractedField<boolean> | undefined {
  const yes = signals.filter((s) => s.value);
  const no = signals.filter((s) => !s.value);
  if (yes.length > 0 === no.length > 0) return undefined;
  const chosen = yes.length ? yes : no;
  const evidence: Evidence[] = [];
  for (const s of [...chosen].sort((a, b) => b.confidence - a.confidence)) {
    if (!evidence.some((e) => e.page === s.evidence.page && e.snippet === s.evidence.snippet)) evidence.push(s.evidence);
    if (evidence.length === 3) break;
  }
  return { value: chosen === yes, confidence: round(combinedConfidence(chosen.map((s) => s.confidence))), evidence };
}

export const round = (x: number) => Math.round(x * 100) / 100;

const COMPLIANCE_VERB_RE = new RegExp(`\\b${COMPLIANCE_VERB}`, 'gi');
const HEDGE_RE = new RegExp(`\\b${HEDGE}\\b`, 'i');
const OBLIGATION_BEFORE_VERB = /\b(?:to|must|shall|should|may|can|need|needs|required|muss|müssen|soll|doit|doivent|moet|moeten)\s+(?:\w+\s+)?$/i;

/**
 * Whether a finite statement of conformity governs the mention at `index`: a compliance verb
 * earlier in the same sentence (lists and bullets after "complies with the following:" included),
 * not an obligation ("must comply with") and not a definition ("designated as", "when").
 */
export function governedByComplianceVerb(page: Page, index: number): boolean {
  const from = sentenceStart(page, index, 320, false);
  const before = page.flat.slice(from, index);
  COMPLIANCE_VERB_RE.lastIndex = 0;
  let verb: RegExpExecArray | null = null;
  for (let m = COMPLIANCE_VERB_RE.exec(before); m; m = COMPLIANCE_VERB_RE.exec(before)) verb = m;
  if (!verb) return false;
  if (OBLIGATION_BEFORE_VERB.test(before.slice(0, verb.index))) return false;
  return !isHedged(page, index);
}

/** The sentence up to the mention reads as a definition or a condition. */
export function isHedged(page: Page, index: number): boolean {
  return HEDGE_RE.test(page.flat.slice(sentenceStart(page, index), index));
}

/** Negative signals for every mention that a negation applies to; the rest of the mentions are returned. */
export function splitNegated(mentions: Match[]): { negated: Match[]; plain: Match[] } {
  const negated: Match[] = [];
  const plain: Match[] = [];
  for (const m of mentions) (negationOf(m.page, m.index, m.end) ? negated : plain).push(m);
  return { negated, plain };
}
