/**
 * manufacturer: candidates from, strongest first,
 * - a "Manufacturer:" label (EN/FR/DE/NL/IT/ES; also numbered, value on the next line, or in a
 *   table column with no colon),
 * - the party that declares or certifies ("X hereby certifies", "Il fabbricante X … dichiara",
 *   "Hiermit bestätigt die X, dass", "for and on behalf of X"),
 * - the signature block after a closing ("Sincerely, … X Inc."),
 * - the letterhead or footer line that starts with a company name ("X GmbH · Street 12 · HRB …"),
 * - "made by", a copyright line ("© 2024 X Inc."), and a brand that is both the document's web
 *   domain and a word it repeats.
 * A name outside a label needs company evidence: a legal form (GmbH, Inc., L.P. …), written with the
 * name or elsewhere in the document. A section heading ("General Requirements") never has one.
 */
import type { ExtractedField } from '../../fields.js';
import { round } from '../claims.js';
import type { DocContext } from '../context.js';
import { evidenceOf, findAll, lineAt, type Page } from '../document.js';
import { cleanCompanyName, hasLegalForm, leadingCompanyName } from './company-names.js';

interface Candidate {
  name: string;
  score: number;
  page: Page;
  index: number;
  end: number;
  /** Labels and "made by" name the manufacturer themselves; other sources need a legal form. */
  labelled?: boolean;
}

const LABEL_WORDS =
  "Manufacturer(?:'s)?(?:\\s+name)?|Name\\s+of\\s+(?:the\\s+)?manufacturer|Manufactured\\s+by|Legal\\s+manufacturer|Hersteller(?:name)?|Name\\s+des\\s+Herstellers|Fabricant|Nom\\s+du\\s+fabricant|Fabrikant|Naam\\s+(?:van\\s+de\\s+)?fabrikant|Producent|Fabbricante|Produttore|Fabricante";
const LABEL = new RegExp(`^(?:\\d{1,2}[.)]\\s*)?(?:${LABEL_WORDS})[ \\t]*(?:\\([^)\\n]{0,40}\\))?[ \\t]*(?:[:：][ \\t]*(.*)|$)`, 'gim');
/** A table row whose columns the text layer ran together: "Hersteller Brunnmeier Funktechnik GmbH". */
const LABEL_COLUMN = new RegExp(`^(?:\\d{1,2}[.)]\\s*)?(?:${LABEL_WORDS})[ \\t]+(\\p{Lu}.*)$`, 'gimu');
const DECLARES =
  /\b(?:hereby\s+)?(?:declares?|certif(?:y|ies)|confirms?|erklär(?:t|en)|bestätig(?:t|en)|bescheinig(?:t|en)|déclar(?:e|ons)|certifi(?:e|ons)|atteste|verklaa?r(?:t|en)|bevestig(?:t|en)|dichiara|certifica|conferma|declara|certifica)\b(?!\s+(?:as|that\s+the\s+(?:above|following)\s+is))/gi;
/** The verb before the name: "Hiermit bestätigt die X GmbH, dass", "certifie la société X SAS que". */
const DECLARES_BEFORE =
  /\b(?:bestätig(?:t|en)|erklär(?:t|en)|bescheinig(?:t|en)|versicher(?:t|n)|certifie|déclare|atteste|dichiara|certifica)\s+(?:hiermit\s+)?(?:(?:die|der|das|la|le|il)\s+)?([^,\n]{2,90}?)\s*,?\s+(?:dass|que|che)\b/gi;
const ON_BEHALF =
  /\b(?:for\s+and\s+on\s+behalf\s+of|on\s+behalf\s+of|for\s+and\s+behalf\s+of|im\s+Namen\s+(?:der|des|von)|pour\s+le\s+compte\s+de|au\s+nom\s+de|per\s+conto\s+di|in\s+nome\s+e\s+per\s+conto\s+di|namens)\s*:?\s+([^\n]{2,90})/gi;
const CLOSING =
  /^(?:(?:yours\s+)?sincerely|(?:best|kind|warm)?\s*regards|yours\s+(?:faithfully|truly)|respectfully|mit\s+freundlichen\s+grüßen|freundliche\s+grüße|cordialement|salutations\s+distinguées|distinti\s+saluti|cordiali\s+saluti|met\s+vriendelijke\s+groet(?:en)?|atentamente)\b[,.]?\s*$/gim;
const MADE_BY = /\b(?:manufactured|made|produced|hergestellt|fabriqué|geproduceerd|vervaardigd)\s+(?:by\/for|by|for|von|par|door)\s*:?\s+([^\n.;:()]{2,80})/gi;
const COPYRIGHT = /(?:©|\(c\)|\bcopyright\b)(?:\s*(?:©|\(c\)|copyright))?\s*(?:(?:19|20)\d{2}(?:\s*-\s*(?:19|20)\d{2})?\s*,?\s*)?(\p{Lu}[^\n©]{1,100})/gimu;
const COPYRIGHT_TAIL = /\s*(?:\.\s*)?(?:All\s+rights|Alle\s+Rechte|Tous\s+droits|Alle\s+rechten|Tutti\s+i\s+diritti|Registered)[^]*$/i;
const DOMAIN =
  /\b(?:https?:\/\/)?(?:www\d?\.|[a-z0-9-]{1,63}\.)?([a-z0-9-]{2,30})\.(?:com|net|org|de|fr|nl|eu|co\.uk|uk|cn|io|be|it|es|ch|at|se|dk|fi|no|pl|jp|kr|tw|rocks)\b|@([a-z0-9-]{2,30})\./gi;
const GENERIC_DOMAINS = new Set([
  'google',
  'youtube',
  'facebook',
  'github',
  'linkedin',
  'twitter',
  'microsoft',
  'europa',
  'echa',
  'iec',
  'iso',
  'cenelec',
  'etsi',
  'gs1',
  'docusign',
  'adobe',
  'example',
  'gmail',
  'outlook',
  'hotmail',
  'yahoo',
  'wikipedia',
  'amazon',
  'apple',
  'epa',
  'gov',
  'w3',
  'schema',
]);
/** Parts of a letterhead or footer line after the name: "·", "•", "|", " - ", or a comma before an address. */
const LINE_PARTS = /\s+[·•|]\s+|\s+-\s+|\t/;
const ADDRESS_LINE = /\b\d{4,5}\b|\b\d+\s+\p{L}|\p{L}\s+\d+\b|\b(?:street|road|avenue|suite|unit|straße|strasse|rue|via|laan|weg|P\.?O\.?\s+Box)\b/iu;

function candidate(name: string | undefined, score: number, page: Page, index: number, end: number, labelled = false): Candidate[] {
  return name ? [{ name, score, page, index, end, labelled }] : [];
}

function labelled(ctx: DocContext): Candidate[] {
  const out: Candidate[] = [];
  for (const m of findAll(ctx.doc, LABEL, 'text')) {
    let value = m.groups[1]?.trim() ?? '';
    let at = m.index + m.groups[0]!.length - value.length;
    let alone = false;
    if (!value) {
      // "Manufacturer" on its own line (a table or a heading): the name is the next line.
      const next = m.page.text.slice(m.end).match(/^\s*\n([^\n]+)(?:\n([^\n]+))?/);
      if (!next) continue;
      value = next[1]!.trim();
      at = m.end + next[0].indexOf(next[1]!);
      // A heading followed by prose is no table: the value then needs company evidence or an address after it.
      alone = !ADDRESS_LINE.test(next[2] ?? '') && !/^(?:address|adresse|anschrift|indirizzo|adres)\b/i.test(next[2] ?? '');
    }
    const name = cleanCompanyName(value);
    if (name && (!alone || hasLegalForm(name))) out.push({ name, score: 0.9, page: m.page, index: at, end: at + value.length, labelled: true });
  }
  for (const m of findAll(ctx.doc, LABEL_COLUMN, 'text')) {
    const name = leadingCompanyName(m.groups[1]!);
    const at = m.end - m.groups[1]!.length;
    out.push(...candidate(name, 0.85, m.page, at, m.end, true));
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
    out.push(...candidate(cleanCompanyName(clause.replace(/\n/g, ' ')), 0.8, m.page, m.index - clause.length, m.index));
  }
  for (const m of findAll(ctx.doc, DECLARES_BEFORE)) out.push(...candidate(cleanCompanyName(m.groups[1]!), 0.8, m.page, m.index, m.end));
  for (const m of findAll(ctx.doc, ON_BEHALF, 'text')) out.push(...candidate(leadingCompanyName(m.groups[1]!), 0.8, m.page, m.index, m.end));
  return out;
}

/** The lines after a closing ("Sincerely,"): a signer, a title, and the company. */
function signatures(ctx: DocContext): Candidate[] {
  const out: Candidate[] = [];
  for (const m of findAll(ctx.doc, CLOSING, 'text')) {
    let offset = m.end;
    for (const line of m.page.text.slice(m.end).split('\n').slice(1, 9)) {
      offset += line.length + 1;
      const name = leadingCompanyName(line.split(LINE_PARTS)[0]!);
      if (name) {
        out.push({ name, score: 0.75, page: m.page, index: offset - line.length - 1, end: offset - 1 });
        break;
      }
    }
  }
  return out;
}

/** A company named at the start of one of the first or last lines of a page: a letterhead or a footer. */
function letterheadsAndFooters(ctx: DocContext): Candidate[] {
  const out: Candidate[] = [];
  for (const page of ctx.doc.pages) {
    const lines: { text: string; index: number }[] = [];
    let offset = 0;
    for (const text of page.text.split('\n')) {
      if (text.trim()) lines.push({ text, index: offset });
      offset += text.length + 1;
    }
    const edges = new Set([...lines.slice(0, 6), ...lines.slice(-6)]);
    for (const line of edges) {
      const name = leadingCompanyName(line.text.split(LINE_PARTS)[0]!);
      // A line made of the name only, or the name then its address or registration.
      const rest = line.text.slice(line.text.indexOf(name ?? '') + (name?.length ?? 0));
      if (name && (/^[\s.,]*$/.test(rest) || LINE_PARTS.test(rest.slice(0, 4)) || /^\s*,/.test(rest))) {
        out.push({ name, score: 0.7, page, index: line.index, end: line.index + line.text.length });
      }
    }
  }
  return out;
}

function byPattern(ctx: DocContext, re: RegExp, score: number, clean: (raw: string) => string | undefined, labelledName = false): Candidate[] {
  return findAll(ctx.doc, re, 'text').flatMap((m) => candidate(clean(m.groups[1] ?? ''), score, m.page, m.index, m.end, labelledName));
}

const fromCopyright = (raw: string) => {
  const text = raw.replace(COPYRIGHT_TAIL, '');
  return leadingCompanyName(text) ?? cleanCompanyName(text.replace(/\.\s.*$/, ''));
};

/** A brand that is the document's web or mail domain and a capitalised word it uses at least three times. */
function brandFromDomain(ctx: DocContext): Candidate[] {
  const labels = new Set(findAll(ctx.doc, DOMAIN).map((m) => (m.groups[1] ?? m.groups[2] ?? '').toLowerCase()));
  const out: Candidate[] = [];
  for (const label of labels) {
    if (GENERIC_DOMAINS.has(label) || label.length < 3) continue;
    const word = new RegExp(`(?<![\\w.@/-])(${label.replace(/-/g, '\\-')})(?![\\w-]|\\.(?:com|net|org)\\b)`, 'gi');
    const uses = findAll(ctx.doc, word).filter((m) => /^\p{Lu}/u.test(m.groups[1]!));
    if (uses.length >= 3) out.push({ name: uses[0]!.groups[1]!, score: 0.45, page: uses[0]!.page, index: uses[0]!.index, end: uses[0]!.end, labelled: true });
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
    ...signatures(ctx),
    ...letterheadsAndFooters(ctx),
    ...byPattern(ctx, MADE_BY, 0.6, cleanCompanyName, true),
    ...byPattern(ctx, COPYRIGHT, 0.55, fromCopyright),
    ...brandFromDomain(ctx),
  ]
    .map((c) => ({ ...c, name: withLegalForm(ctx, c.name) }))
    // Company evidence: outside a label, a name without a legal form is as likely a heading or a phrase.
    .filter((c) => c.labelled || hasLegalForm(c.name))
    .map((c) => ({ ...c, score: c.score + (hasLegalForm(c.name) ? 0.1 : 0) }));
  const best = candidates.reduce<Candidate | undefined>((a, c) => (!a || c.score > a.score ? c : a), undefined);
  if (!best) return undefined;
  const agreeing = candidates.filter((c) => c !== best && fold(c.name).includes(fold(best.name).slice(0, 12)));
  const confidence = Math.min(0.95, best.score - (hasLegalForm(best.name) ? 0.1 : 0) + 0.03 * agreeing.length);
  return { value: best.name, confidence: round(confidence), evidence: [evidenceOf(best), ...agreeing.slice(0, 2).map(evidenceOf)] };
}

const fold = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
