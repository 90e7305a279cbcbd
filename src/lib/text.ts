/**
 * Folds text for search: Unicode compatibility form, accents removed, lower case, anything
 * that is not a letter or digit turned into a single space. "Crème Brûlée-Set" → "creme brulee set".
 */
export function foldForSearch(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Lower case, accents removed, letters and digits only: "RoHS  2011/65/EU," and "rohs 2011/65/eu" meet. */
export function foldToKey(text: string): string {
  return foldForSearch(text).replaceAll(' ', '');
}

/** Whitespace and invisible format characters (zero-width space and joiners, word joiner, BOM, soft hyphen). */
const INVISIBLE_ONLY = /^[\s\p{Cf}]*$/u;

/** True when the text shows nothing: empty, or only whitespace and zero-width characters. */
export function isBlank(text: string): boolean {
  return INVISIBLE_ONLY.test(text);
}

/** What is wrong with a text value in a request, where it is, and the rule it breaks. */
export interface TextProblem {
  path: string;
  rule: 'minLength' | 'no_nul' | 'finite';
  message: string;
}

/**
 * The first text in `value` (a string, or an object key) the service will not store: a non-empty
 * string that shows nothing (only whitespace or zero-width characters: a title of U+200B looks empty
 * everywhere it is shown), or any text with a NUL character (PostgreSQL cannot store U+0000 in text
 * or jsonb, and no compliance data needs it); also a number too large for a double. Undefined when all is well. Recursive: callers bound the
 * depth first (see json-depth.ts).
 */
export function textProblemAt(value: unknown, path = ''): TextProblem | undefined {
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify would store as null: refuse it instead.
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path: path || '/', rule: 'finite', message: 'must be a finite number (it overflows a double)' };
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return { path: path || '/', rule: 'no_nul', message: 'must not contain the NUL character (U+0000)' };
    if (value !== '' && isBlank(value)) return { path: path || '/', rule: 'minLength', message: 'must not be blank (only whitespace or zero-width characters)' };
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, child] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    const childPath = `${path}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (typeof key === 'string' && key.includes('\u0000')) return { path: childPath, rule: 'no_nul', message: 'names must not contain the NUL character (U+0000)' };
    const found = textProblemAt(child, childPath);
    if (found) return found;
  }
  return undefined;
}
