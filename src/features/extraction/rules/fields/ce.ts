/**
 * ce_marked: the CE marking named or shown (true), a negative statement ("CE marking does not
 * apply", "no CE") (false), or implied by an EU declaration of conformity under a CE-marking act
 * (true, 0.85: the text need not name CE).
 */
import type { ExtractedField } from '../../fields.js';
import { resolveBoolean, signal, type Signal } from '../claims.js';
import type { DocContext } from '../context.js';
import { findAll } from '../document.js';
import { negationOf } from '../negation.js';

/** Any mention of CE as a mark (upper case, not part of a code such as "CE6CFC3B"). */
const CE_MENTION = /(?<![\w/-])CE(?![\w-]*\d)(?!\w)(?!\)\s*(?:n°|No|Nr|\d))/g;
/** The mention is about the marking itself. */
const CE_MARK_AFTER =
  /^CE[\s-]*(?:mark(?:ing|ed|s)?|label(?:l?ed)?|logo|symbol|sign|conformity\s+marking|Kennzeichnung|Zeichen|gekennzeichnet|Konformitätskennzeichnung|markering|gemarkeerd|keurmerk|(?:declaration|Konformitätserklärung|conformiteitsverklaring)\b)/i;
const CE_MARK_BEFORE =
  /\b(?:marquage|marque|logo|symbole|sigle|marcatura|marcado|marchio|bears?\s+the|carries|carry|affixed|mit\s+dem|trägt\s+das|draagt\s+het|porte\s+le)\s*(?:the\s+|le\s+|das\s+|het\s+)?$/i;
/** CE alone on its line (a logo's alt text or a glyph), optionally with a notified body number. */
const CE_ALONE = /(?:^|\n)CE(?:\s+\d{4})?(?=\n|$)/g;

export function extractCeMarked(ctx: DocContext): ExtractedField<boolean> | undefined {
  return resolveBoolean(ceSignals(ctx));
}

/** The signals behind ce_marked; rule `ce-implied-by-eu-doc` marks the implied one. */
export function ceSignals(ctx: DocContext): Signal[] {
  const signals: Signal[] = [];
  for (const m of findAll(ctx.doc, CE_MENTION)) {
    if (negationOf(m.page, m.index, m.end)) {
      signals.push(signal(false, 0.85, m, 'ce-negated'));
      continue;
    }
    const after = m.page.flat.slice(m.index, m.index + 40);
    const before = m.page.flat.slice(Math.max(0, m.index - 30), m.index);
    if (CE_MARK_AFTER.test(after) || CE_MARK_BEFORE.test(before)) signals.push(signal(true, 0.9, m, 'ce-mark'));
  }
  for (const m of findAll(ctx.doc, CE_ALONE, 'text')) {
    const at = m.page.text.indexOf('CE', m.index);
    if (!negationOf(m.page, at, at + 2)) signals.push(signal(true, 0.75, { page: m.page, index: at, end: at + 2 }, 'ce-alone'));
  }
  // An EU declaration of conformity under a CE-marking act is the manufacturer's own statement that
  // the product meets the acts requiring the CE marking (Decision 768/2008/EC, Annex I, R10 and R12:
  // drawing it up, the manufacturer assumes that responsibility and affixes the mark). It is explicit
  // enough to apply (at or above the default 0.8), if below a CE mark named in the text.
  if (ctx.euDeclaration && !signals.some((s) => !s.value)) signals.push(signal(true, 0.85, ctx.euDeclaration, 'ce-implied-by-eu-doc'));
  return signals;
}
