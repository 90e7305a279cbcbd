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
