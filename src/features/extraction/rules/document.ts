/**
 * The document as the rules read it: each page normalised (Unicode compatibility forms, straight
 * quotes, markdown syntax reduced to its text, spaces collapsed), in two views of equal length:
 * `text` keeps line breaks (for "Label: value" lines), `flat` has them as spaces (for sentences
 * that a PDF broke over lines). An offset means the same place in both.
 */
import { MAX_SNIPPET_LENGTH, type Evidence } from '../fields.js';

export interface Page {
  /** 1-based. */
  number: number;
  text: string;
  flat: string;
}

export interface Doc {
  pages: Page[];
}

/** Upper bound on the characters read from one document; the rules are linear, this bounds the time. */
export const MAX_DOCUMENT_CHARS = 3_000_000;

export interface Match {
  page: Page;
  index: number;
  end: number;
  groups: (string | undefined)[];
}

function reduceMarkdown(text: string): string {
  return (
    text
      // Bounded lengths: an unclosed "![x](" must not scan the rest of a long line each time.
      .replace(/!\[([^\]\n]{0,200})\]\([^)\n]{0,500}\)/g, ' $1 ') // images → alt text (a CE logo is often only that)
      .replace(/\[([^\]\n]{1,200})\]\([^)\n]{0,500}\)/g, '$1') // links → their text
      .replace(/\{\s*[:.#]?[\w-]+(?:\s*=\s*["']?[\w-]+["']?)?(?:\s+[:.#]?[\w-]+(?:\s*=\s*["']?[\w-]+["']?)?)*\s*\}/g, ' ') // attribute lists { align=right }
      .replace(/\*\*|__/g, '')
      .replace(/(^|[\s(])\*([^*\n]{1,300})\*(?=[\s).,:;]|$)/gm, '$1$2')
      .replace(/^[ \t]{0,3}#{1,6}[ \t]+/gm, '')
      .replace(/^[ \t]*(?:-{3,}|\*{3,}|_{3,}|={3,})[ \t]*$/gm, '')
      .replace(/^[ \t]*[*+-][ \t]+/gm, '• ')
  );
}

export function normalisePageText(raw: string): string {
  const text = raw
    .normalize('NFKC')
    .replace(/\r\n?/g, '\n')
    .replace(/[\u2018\u2019\u201a\u2032`´]/g, "'")
    .replace(/[\u201c\u201d\u201e\u2033«»]/g, '"')
    .replace(/[\u2010\u2011\u2012\u2013\u2014\u2212]/g, '-')
    .replace(/\u00ad|\u200b|\u200c|\u200d|\ufeff/g, '')
    .replace(/[\uf000-\uf8ff]/g, ' ') // private-use glyphs (bullets of symbol fonts)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, ' ');
  return (
    reduceMarkdown(text)
      .replace(/[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+/g, ' ')
      // A word a PDF hyphenated at the line end ("Konformitäts-\nerklärung"), not "Elektro-\nund Elektronik-".
      .replace(/(\p{Ll})- ?\n(?!(?:und|oder|bzw|and|or|en|of|et|ou)\b)(\p{Ll})/gu, '$1$2')
      .replace(/ ?\n ?/g, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim()
  );
}

export function prepareDocument(input: { pages: readonly string[] }): Doc {
  let budget = MAX_DOCUMENT_CHARS;
  const pages = input.pages.map((raw, i) => {
    const text = normalisePageText(typeof raw === 'string' ? raw.slice(0, Math.max(0, budget)) : '');
    budget -= text.length;
    return { number: i + 1, text, flat: text.replace(/\n/g, ' ') };
  });
  return { pages };
}

/**
 * Matches looked at per pattern and document. A real document repeats a statement a handful of
 * times; the cap keeps a hostile one (the same phrase 100 000 times) from costing quadratic time.
 */
export const MAX_MATCHES = 300;

/** The matches of a global regex on each page's flat (or line) view, in reading order, at most `limit`. */
export function findAll(doc: Doc, pattern: RegExp, view: 'flat' | 'text' = 'flat', limit = MAX_MATCHES): Match[] {
  const re = pattern.global ? pattern : new RegExp(pattern.source, pattern.flags + 'g');
  const out: Match[] = [];
  for (const page of doc.pages) {
    re.lastIndex = 0;
    for (let m = re.exec(page[view]); m && out.length < limit; m = re.exec(page[view])) {
      if (m[0] === '') {
        re.lastIndex++;
        continue;
      }
      out.push({ page, index: m.index, end: m.index + m[0].length, groups: [...m] });
    }
  }
  return out;
}

/** A short snippet (≤ 200 chars) around [start, end) of a page: the match with context on both sides. */
export function snippetAt(page: Page, start: number, end: number): string {
  const room = Math.max(0, MAX_SNIPPET_LENGTH - (end - start));
  let from = Math.max(0, start - Math.floor(room * 0.4));
  let to = Math.min(page.flat.length, end + (room - (start - from)));
  from = Math.max(0, Math.min(from, to - MAX_SNIPPET_LENGTH));
  // Cut at word edges, never inside the match.
  if (from > 0) from = Math.min(start, nextSpace(page.flat, from));
  if (to < page.flat.length) to = Math.max(end, previousSpace(page.flat, to));
  return page.flat.slice(from, to).replace(/\s+/g, ' ').trim().slice(0, MAX_SNIPPET_LENGTH);
}

function nextSpace(text: string, at: number): number {
  const i = text.indexOf(' ', at);
  return i === -1 || i - at > 20 ? at : i + 1;
}

function previousSpace(text: string, at: number): number {
  const i = text.lastIndexOf(' ', at);
  return i === -1 || at - i > 20 ? at : i;
}

export function evidenceOf(m: { page: Page; index: number; end: number }): Evidence {
  return { page: m.page.number, snippet: snippetAt(m.page, m.index, m.end) };
}

const ABBREVIATION_BEFORE_DOT =
  /(?:\b(?:No|Nr|Co|Ltd|Inc|Corp|B\.V|N\.V|S\.A|e\.g|i\.e|approx|ca|Art|Fig|vs|etc|St|Dr|Mr|Ms|Nos|Ref|Rev|incl|resp|bzw|ggf|z\.B|u\.a|Abs|vgl)|\b[A-Z])$/;

/** Start of the sentence containing `at`: after ". " + capital, "!", "?", a blank line, or a bullet. */
export function sentenceStart(page: Page, at: number, limit = 400, stopAtBullets = true): number {
  const floor = Math.max(0, at - limit);
  for (let i = at - 1; i >= floor; i--) {
    const c = page.text[i];
    if (c === '\n' && page.text[i - 1] === '\n') return i + 1;
    if (c === '•' && stopAtBullets) return i + 1;
    if ((c === '.' || c === '!' || c === '?') && /\s/.test(page.flat[i + 1] ?? ' ') && isSentenceEnd(page.flat, i)) return i + 1;
  }
  return floor;
}

/** End of the sentence containing `at` (exclusive). */
export function sentenceEnd(page: Page, at: number, limit = 400): number {
  const ceiling = Math.min(page.flat.length, at + limit);
  for (let i = at; i < ceiling; i++) {
    const c = page.text[i];
    if (c === '\n' && page.text[i + 1] === '\n') return i;
    if (c === '•' && i > at) return i;
    if ((c === '.' || c === '!' || c === '?') && /\s/.test(page.flat[i + 1] ?? ' ') && isSentenceEnd(page.flat, i)) return i + 1;
  }
  return ceiling;
}

function isSentenceEnd(flat: string, dot: number): boolean {
  if (flat[dot] !== '.') return true;
  if (ABBREVIATION_BEFORE_DOT.test(flat.slice(Math.max(0, dot - 8), dot))) return false;
  return true;
}

/** The line of `text` containing offset `at`: [start, end). */
export function lineAt(page: Page, at: number): [number, number] {
  const start = page.text.lastIndexOf('\n', at - 1) + 1;
  const nl = page.text.indexOf('\n', at);
  return [start, nl === -1 ? page.text.length : nl];
}
