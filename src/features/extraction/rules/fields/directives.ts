/** directives: every EU act the document cites, canonical (legal-acts.ts), in order of first citation. */
import type { Evidence, ExtractedField } from '../../fields.js';
import type { DocContext } from '../context.js';
import { evidenceOf } from '../document.js';
import { canonicalAct } from '../legal-acts.js';

export function extractDirectives(ctx: DocContext): ExtractedField<string[]> | undefined {
  const value: string[] = [];
  const evidence: Evidence[] = [];
  for (const { act, match } of ctx.acts) {
    const canonical = canonicalAct(act);
    if (value.includes(canonical)) continue;
    value.push(canonical);
    if (evidence.length < 5) evidence.push(evidenceOf(match));
  }
  return value.length ? { value, confidence: 0.9, evidence } : undefined;
}
