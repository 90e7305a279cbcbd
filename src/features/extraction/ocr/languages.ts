import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ExtractionFailure } from '../text/types.js';

/** The OCR languages whose data ships with the app (`@tesseract.js-data/<code>` npm packages). */
export const OCR_LANGUAGES = ['eng', 'fra', 'deu'] as const;
export type OcrLanguage = (typeof OCR_LANGUAGES)[number];

/**
 * The languages OCR reads by default. Order matters to tesseract: the first is the primary
 * language, the others are tried on a word only when the primary reads it poorly, so a German
 * page read English-first loses umlauts ("Konformitatserklarung") and a French one German-first
 * loses its accents ("Societe Generale"). OCR therefore reads a page with the first language as
 * primary and, when the text is clearly in another loaded language (`dominantLanguage`), reads it
 * again with that one first, and keeps it first for the next pages.
 */
export const DEFAULT_OCR_LANGUAGES: readonly OcrLanguage[] = ['eng', 'fra', 'deu'];

/** Frequent short words and typical declaration words of each language (lower case). */
const MARKERS: Record<OcrLanguage, ReadonlySet<string>> = {
  eng: new Set(
    'the and of to for with is are this that we by on from all be as our not which hereby declare declares product products manufacturer compliance statement ltd inc'.split(' '),
  ),
  deu: new Set(
    'der die das und für mit von ist sind den dem nicht wir auf zur zum eine einer nach gemäß erklären erklärt hersteller richtlinie produkt konformität bei oder auch werden gmbh'.split(
      ' ',
    ),
  ),
  fra: new Set(
    'le la les de et du des pour avec est sont nous une dans par sur au aux que qui ce cette fabricant produit conformité déclaration selon conforme sarl sas'.split(' '),
  ),
};
/** Letters that, in a word, point to German or to French. */
const LETTERS: Partial<Record<OcrLanguage, RegExp>> = { deu: /[äöüß]/, fra: /[éèêàçùâîôûœë]/ };

/**
 * The language of `text` among `langs`, when one clearly leads: each word counts for a language
 * if it is one of its marker words or has one of its letters; the leader needs more than half as
 * many points again as any other. Undefined for mixed text or text without markers. (English text
 * read German- or French-first came out the same: switching away from English wrongly costs
 * only time.)
 */
export function dominantLanguage(text: string, langs: readonly OcrLanguage[]): OcrLanguage | undefined {
  const score = new Map<OcrLanguage, number>(langs.map((l) => [l, 0]));
  for (const word of text.toLowerCase().match(/\p{L}+/gu) ?? []) {
    for (const lang of langs) {
      if (MARKERS[lang].has(word) || LETTERS[lang]?.test(word)) score.set(lang, score.get(lang)! + 1);
    }
  }
  const ranked = [...score].sort((a, b) => b[1] - a[1]);
  const [best, second] = ranked;
  if (!best || best[1] < 1 || (second && best[1] <= 1.5 * second[1])) return undefined;
  return best[0];
}

/**
 * The data set used: the packages' `4.0.0_best_int` folder holds the integer-quantised LSTM
 * models (what tesseract.js itself picks for its default LSTM-only engine), smaller and faster to
 * load than the `4.0.0` folder, whose models also carry the legacy engine.
 */
const DATA_FOLDER = '4.0.0_best_int';

const require = createRequire(import.meta.url);

/**
 * Absolute path of each language's gzipped `.traineddata`, from the installed npm package: nothing
 * is downloaded, ever. Throws `ocr_unavailable` for a language that is not one of
 * `OCR_LANGUAGES` or whose package is missing.
 */
export function languageDataFiles(langs: readonly string[]): Record<string, string> {
  if (langs.length === 0) throw new ExtractionFailure('ocr_unavailable', 'OCR: no language given');
  const files: Record<string, string> = {};
  for (const lang of langs) {
    if (!(OCR_LANGUAGES as readonly string[]).includes(lang)) {
      throw new ExtractionFailure('ocr_unavailable', `OCR: no language data for "${lang}" (available: ${OCR_LANGUAGES.join(', ')})`);
    }
    let file: string;
    try {
      file = path.join(path.dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`)), DATA_FOLDER, `${lang}.traineddata.gz`);
    } catch {
      throw new ExtractionFailure('ocr_unavailable', `OCR: the npm package @tesseract.js-data/${lang} is not installed`);
    }
    if (!fs.existsSync(file)) throw new ExtractionFailure('ocr_unavailable', `OCR: ${file} is missing`);
    files[lang] = file;
  }
  return files;
}

/** `tesseract.js/package.json`, the anchor from which the OCR worker loads tesseract.js's worker script. */
export function tesseractPackageJson(): string {
  try {
    return require.resolve('tesseract.js/package.json');
  } catch {
    throw new ExtractionFailure('ocr_unavailable', 'OCR: the npm package tesseract.js is not installed');
  }
}
