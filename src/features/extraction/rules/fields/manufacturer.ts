/**
 * manufacturer: candidates from, strongest first, a "Manufacturer:" label (EN/FR/DE/NL/IT/ES), the
 * party that "hereby declares" (verklaart, erklärt, déclare), "made by", a copyright line, and a
 * brand that is both the document's web domain and a word it repeats. A name with a legal form
 * (Ltd, GmbH, B.V. …) scores higher; the best candidate wins.
 */
import type { ExtractedField } from '../../fields.js';
import { round } from '../claims.js';
import type { DocContext } from '../context.js';
import { evidenceOf, findAll, lineAt, type Page } from '../document.js';
import { cleanCompanyName, hasLegalForm } from './company-names.js';

interface Candidate {
  name: string;
  score: number;
  page: Page;
  index: number;
  end: number;
}

const LABEL =
  /^(?:Manufacturer(?:'s)?(?:\s+name)?|Name\s+of\s+(?:the\s+)?manufacturer|Manufactured\s+by|Legal\s+manufacturer|Hersteller(?:name)?|Name\s+des\s+Herstellers|Fabricant|Nom\s+du\s+fabricant|Fabrikant|Naam\s+(?:van\s+de\s+)?fabrikant|Producent|Fabbricante|Produttore|Fabricante)[ \t]*(?:\([^)\n]{0,40}\))?[ \t]*(?:[:：][ \t]*(.*)|$)/gim;
const DECLARES =
  /\b(?:hereby\s+)?(?:declares?|erklär(?:t|en)|déclar(?:e|ons)|verklaa?r(?:t|en)|dichiara|declara)\b(?!\s+(?:as|that\s+the\s+(?:above|following)\s+is))/gi;
const MADE_BY = /\b(?:manufactured|made|produced|hergestellt|fabriqué|geproduceerd|vervaardigd)\s+(?:by\/for|by|for|von|par|door)\s*:?\s+([^\n.;:()]{2,80})/gi;
const COPYRIGHT = /(?:©|\(c\)|\bcopyright\b)\s*(?:©\s*)?(?:(?:19|20)\d{2}(?:\s*-\s*(?:19|20)\d{2})?\s*,?\s*)?(\p{Lu}[^\n©]{1,80}?)(?=\s*(?:\.\s*)?(?:All\s+rights|Alle\s+Rechte|Tous\s+droits|Alle\s+rechten|Registered|\n|$))/gimu;
const DOMAIN = /\b(?:https?:\/\/)?(?:www\d?\.|[a-z0-9-]{1,63}\.)?([a-z0-9-]{2,30})\.(?:com|net|org|de|fr|nl|eu|co\.uk|uk|cn|io|be|it|es|ch|at|se|dk|fi|no|pl|jp|kr|tw|rocks)\b|@([a-z0-9-]{2,30})\./gi;
const GENERIC_DOMAINS = new Set(['google', 'youtube', 'facebook', 'github', 'linkedin', 'twitter', 'microsoft', 'europa', 'echa', 'iec', 'iso', 'cenelec', 'etsi', 'gs1', 'docusign', 'adobe', 'example', 'gmail', 'outlook', 'hotmail', 'yahoo', 'wikipedia', 'amazon', 'apple', 'epa', 'gov', 'w3', 'schema']);

function labelled(ctx: DocContext): Candidate[] {
  const out: Candidate[] = [];
  for (const m of findAll(ctx.doc, LABEL, 'text')) {
    let value = m.groups[1]?.trim() ?? '';
    let at = m.index + m.groups[0]!.length - value.length;
    if (!value) {
      // "Manufacturer" on its own line (a heading): the name is the next line.
      const next = m.page.text.slice(m.end).match(/^\s*\n([^\n]+)/);
      if (!next) continue;
      value = next[1]!.trim();
      at = m.end + next[0].length - next[1]!.length;
    }
    const name = cleanCompanyName(value);
    if (name) out.push({ name, score: 0.9, page: m.page, index: at, end: at + value.length });
  }
  return out;
}

function declarants(ctx: DocContext): Candidate[] {
  const out: Candidate[] = [];
  for (const m of findAll(ctx.doc, DECLARES, 'text')) {
    const [lineStart] = lineAt(m.page, m.index);
    let start = lineStart;
    let before = m.page.text.slice(lineStart, m.index);
    // The declarant's name and address often run over the previous line(s): "ACME B.V., Street 1,\nCity, declares".
    for (let i = 0; i < 2 && start > 0 && (/^[\s,]*$/.test(before) || /^\p{Ll}|^[^,]*,\s*$/u.test(before)); i++) {
      const [prevStart] = lineAt(m.page, start - 1);
      const prev = m.page.text.slice(prevStart, start - 1);
      if (!/,\s*$/.test(prev) && !/^[\s,]*$/.test(before)) break;
      start = prevStart;
      before = m.page.text.slice(start, m.index);
    }
    const clause = before.split(/(?<!\b(?:[A-Z]|Co|Ltd|Inc|Corp|No|St))[.;:](?=\s)/).pop() ?? before;
    const name = cleanCompanyName(clause.replace(/\n/g, ' '));
    if (name) out.push({ name, score: 0.8, page: m.page, index: m.index - clause.length, end: m.index });
  }
  return out;
}

function byPattern(ctx: DocContext, re: RegExp, score: number): Candidate[] {
  const out: Candidate[] = [];
  for (const m of findAll(ctx.doc, re, 'text')) {
    const name = cleanCompanyName(m.groups[1] ?? '');
    if (name) out.push({ name, score, page: m.page, index: m.index, end: m.end });
  }
  return out;
}

/** A brand that is the document's web or mail domain and a capitalised word it uses at least three times. */
function brandFromDomain(ctx: DocContext): Candidate[] {
  const labels = new Set(findAll(ctx.doc, DOMAIN).map((m) => (m.groups[1] ?? m.groups[2] ?? '').toLowerCase()));
  const out: Candidate[] = [];
  for (const label of labels) {
    if (GENERIC_DOMAINS.has(label) || label.length < 3) continue;
    const word = new RegExp(`(?<![\\w.@/-])(${label.replace(/-/g, '\\-')})(?![\\w-]|\\.(?:com|net|org)\\b)`, 'gi');
    const uses = findAll(ctx.doc, word).filter((m) => /^\p{Lu}/u.test(m.groups[1]!));
    if (uses.length >= 3) out.push({ name: uses[0]!.groups[1]!, score: 0.45, page: uses[0]!.page, index: uses[0]!.index, end: uses[0]!.end });
  }
  return out;
}

/** "Raspberry Pi (Trading)" → "Raspberry Pi (Trading) Limited" when the document also writes the legal form. */
function withLegalForm(ctx: DocContext, name: string): string {
  if (hasLegalForm(name)) return name;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const page of ctx.doc.pages) {
    const m = new RegExp(`${escaped},?\\s+((?:Co\\.,?\\s*)?(?:Limited|Ltd\\.?|LLC|Inc\\.?|GmbH|B\\.V\\.|N\\.V\\.|AG|S\\.A\\.|SAS|PLC|Corporation|Incorporated))`).exec(page.flat);
    if (m) return m[0].replace(/\s+/g, ' ');
  }
  return name;
}

export function extractManufacturer(ctx: DocContext): ExtractedField<string> | undefined {
  const candidates = [
    ...labelled(ctx),
    ...declarants(ctx),
    ...byPattern(ctx, MADE_BY, 0.6),
    ...byPattern(ctx, COPYRIGHT, 0.55),
    ...brandFromDomain(ctx),
  ].map((c) => ({ ...c, score: c.score + (hasLegalForm(c.name) ? 0.1 : 0) }));
  const best = candidates.reduce<Candidate | undefined>((a, c) => (!a || c.score > a.score ? c : a), undefined);
  if (!best) return undefined;
  const name = withLegalForm(ctx, best.name);
  const agreeing = candidates.filter((c) => c !== best && fold(c.name).includes(fold(best.name).slice(0, 12)));
  const confidence = Math.min(0.95, best.score - (hasLegalForm(best.name) ? 0.1 : 0) + 0.03 * agreeing.length);
  return { value: name, confidence: round(confidence), evidence: [evidenceOf(best), ...agreeing.slice(0, 2).map(evidenceOf)] };
}

const fold = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z0-9]/g, '');
