/**
 * Scores an extractor against labelled real documents (`../shared/corpus/dev/`): per field,
 * correct / wrong / missed, precision and recall.
 *
 * Rules of comparison:
 * - A label of `null` (or an empty list) means the document does not say: a value extracted there
 *   is wrong ("spurious", counted in `wrong`); nothing extracted is not counted at all.
 *   A field the labels do not have at all is not scored for that document.
 * - Booleans exactly. `ce_marked` expects true where the labels say so or where
 *   `ce_marking_implied_by_eu_doc` is true; `weee_marked` is the label `weee.mentioned` (true) —
 *   `mentioned: false` means the document does not speak of WEEE (null).
 * - manufacturer and product_name: case- and punctuation-insensitive containment either way;
 *   model exact after the same folding; country, energy class and WEEE category after normalising.
 * - carbon_footprint_kg: within 2 % (or 0.5 kg).
 * - Lists (directives, standards, certifications, materials): a document's list is correct only
 *   when the sets match after normalising items (directives by act number, `2011/65/EC` =
 *   `2011/65/EU`, `(EU) 2015/863` = `2015/863/EU`); item-level precision and recall are reported
 *   beside it.
 * - precision = correct / (correct + wrong); recall = correct / labelled.
 * - Scanned documents (`text_layer: false`) are read by OCR, as the extraction job reads them, and
 *   scored like the rest. A document whose text extraction fails counts as missed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { foldToKey } from '../../lib/text.js';
import { normaliseCertification, normaliseCountry, normaliseEnergyClass, normaliseWeeeCategory } from '../passports/vocabulary.js';
import { FIELD_NAMES, type ExtractionResult, type FieldName } from './fields.js';
import { extractWithRules } from './rules/index.js';
import { countryCode } from './rules/fields/country.js';
import { standardKey } from './rules/fields/standards.js';
import { actKey, parseAct } from './rules/legal-acts.js';
import { ExtractionPool, extractTextIsolated, mediaTypeFromFileName, type TextDocument } from './text/index.js';

export interface LabelledDocument {
  file: string;
  text_layer?: boolean;
  fields: Record<string, unknown>;
}

export type Outcome = 'correct' | 'wrong' | 'spurious' | 'missed';

export interface FieldScore {
  labelled: number;
  correct: number;
  /** Includes `spurious`: values extracted where the label is null. */
  wrong: number;
  spurious: number;
  missed: number;
  precision: number | null;
  recall: number | null;
  /** List fields: item-level counts over all documents. */
  items?: { truePositives: number; falsePositives: number; falseNegatives: number; precision: number | null; recall: number | null };
}

export interface DocumentOutcome {
  file: string;
  status: 'scored' | 'failed';
  reason?: string;
  mistakes: { field: FieldName; outcome: Exclude<Outcome, 'correct'>; expected: unknown; extracted: unknown }[];
}

export interface EvaluationReport {
  fields: Record<FieldName, FieldScore>;
  documents: DocumentOutcome[];
  overall: { correct: number; wrong: number; missed: number; labelled: number; precision: number | null; recall: number | null };
  key: { fields: readonly FieldName[]; precision: number | null; recall: number | null };
}

export interface EvaluateOptions {
  /** Text extraction; default: `extractTextIsolated` (with OCR and a 120 s timeout) in `pool`. */
  extractText?: (bytes: Uint8Array, mediaType: string) => Promise<TextDocument>;
  /** The extraction workers of the default text extraction, owned by the caller; default a pool made for this evaluation and closed after it. */
  pool?: ExtractionPool;
}

/** The fields the accuracy targets are set on. */
export const KEY_FIELDS = ['ce_marked', 'rohs_compliant', 'reach_compliant', 'weee_marked', 'manufacturer', 'directives'] as const satisfies readonly FieldName[];

const LIST_FIELDS = new Set<FieldName>(['certifications', 'directives', 'standards', 'materials']);

/** The expected value of a field from a label record; null = the document does not say; undefined = not labelled. */
export function expectedValue(fields: Record<string, unknown>, name: FieldName): unknown {
  const weee = fields.weee as { mentioned?: boolean; category?: string | null } | undefined;
  switch (name) {
    case 'ce_marked': {
      if (!('ce_marked' in fields) && !('ce_marking_implied_by_eu_doc' in fields)) return undefined;
      return fields.ce_marked ?? (fields.ce_marking_implied_by_eu_doc === true ? true : null);
    }
    case 'weee_marked':
      return weee ? (weee.mentioned === true ? true : null) : fields.weee_marked;
    case 'weee_category':
      return weee ? (weee.category ?? null) : fields.weee_category;
    case 'carbon_footprint_kg': {
      const cf = fields.carbon_footprint as { value_kgco2e?: number } | undefined;
      return cf ? (cf.value_kgco2e ?? null) : fields.carbon_footprint_kg;
    }
    case 'materials': {
      if (Array.isArray(fields.materials)) return fields.materials.length ? fields.materials : null;
      const percent = fields.materials_percent as Record<string, number> | undefined;
      if (percent) return Object.entries(percent).map(([n, p]) => ({ name: n.replace(/_/g, ' '), percentage: p }));
      return undefined; // free text (e.g. "Tin (Sn) plating") cannot be scored
    }
    default: {
      const v = fields[name];
      return Array.isArray(v) && v.length === 0 ? null : v;
    }
  }
}

type Matcher = (expected: unknown, extracted: unknown) => boolean;

const directiveKey = (s: string) => {
  const act = parseAct(s);
  return act ? actKey(act) : foldToKey(s);
};
const certificationMatch = (expected: string, extracted: string) => {
  const label = foldToKey(normaliseCertification(expected.replace(/\(.*$/, '').trim()));
  const value = foldToKey(extracted);
  return label === value || label.startsWith(value);
};
const materialMatch = (e: { name: string; percentage: number }, x: { name: string; percentage: number }) =>
  (foldToKey(e.name).includes(foldToKey(x.name)) || foldToKey(x.name).includes(foldToKey(e.name))) && Math.abs(e.percentage - x.percentage) <= 0.5;

const ITEM_MATCHERS: Partial<Record<FieldName, Matcher>> = {
  directives: (e, x) => directiveKey(String(e)) === directiveKey(String(x)),
  standards: (e, x) => standardKey(String(e)) === standardKey(String(x)),
  certifications: (e, x) => certificationMatch(String(e), String(x)),
  materials: (e, x) => materialMatch(e as never, x as never),
};

const SCALAR_MATCHERS: Partial<Record<FieldName, Matcher>> = {
  manufacturer: (e, x) => containsEitherWay(String(e), String(x)),
  product_name: (e, x) => containsEitherWay(String(e), String(x)),
  model: (e, x) => foldToKey(String(e)) === foldToKey(String(x)),
  country_of_origin: (e, x) => (normaliseCountry(String(e)) ?? countryCode(String(e))) === String(x),
  energy_class: (e, x) => normaliseEnergyClass(String(e)) === x,
  weee_category: (e, x) => normaliseWeeeCategory(String(e)) === x,
  carbon_footprint_kg: (e, x) => Math.abs(Number(e) - Number(x)) <= Math.max(0.5, 0.02 * Math.abs(Number(e))),
};

function containsEitherWay(a: string, b: string): boolean {
  const x = foldToKey(a);
  const y = foldToKey(b);
  return x !== '' && y !== '' && (x.includes(y) || y.includes(x));
}

/** Greedy one-to-one matching of two lists. */
export function matchItems(expected: unknown[], extracted: unknown[], same: Matcher) {
  const left = [...extracted];
  let truePositives = 0;
  for (const e of expected) {
    const i = left.findIndex((x) => same(e, x));
    if (i >= 0) {
      truePositives++;
      left.splice(i, 1);
    }
  }
  return { truePositives, falsePositives: left.length, falseNegatives: expected.length - truePositives };
}

function emptyScore(list: boolean): FieldScore {
  const score: FieldScore = { labelled: 0, correct: 0, wrong: 0, spurious: 0, missed: 0, precision: null, recall: null };
  if (list) score.items = { truePositives: 0, falsePositives: 0, falseNegatives: 0, precision: null, recall: null };
  return score;
}

const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

/** Scores one field of one document and adds it to `score`; returns the outcome (undefined: not counted). */
export function scoreField(name: FieldName, expected: unknown, extracted: unknown, score: FieldScore): Outcome | undefined {
  if (expected === undefined) return undefined;
  const has = extracted !== undefined && !(Array.isArray(extracted) && extracted.length === 0);
  if (expected === null) {
    if (!has) return undefined;
    score.wrong++;
    score.spurious++;
    if (score.items && Array.isArray(extracted)) score.items.falsePositives += extracted.length;
    return 'spurious';
  }
  score.labelled++;
  let ok: boolean;
  if (score.items) {
    const counts = matchItems(expected as unknown[], has ? (extracted as unknown[]) : [], ITEM_MATCHERS[name]!);
    score.items.truePositives += counts.truePositives;
    score.items.falsePositives += counts.falsePositives;
    score.items.falseNegatives += counts.falseNegatives;
    ok = counts.falsePositives === 0 && counts.falseNegatives === 0;
  } else {
    ok = has && (SCALAR_MATCHERS[name] ?? ((e, x) => e === x))(expected, extracted);
  }
  if (!has) {
    score.missed++;
    return 'missed';
  }
  if (ok) score.correct++;
  else score.wrong++;
  return ok ? 'correct' : 'wrong';
}

async function resolveDocument(dir: string, file: string): Promise<string | undefined> {
  for (const candidate of [path.join(dir, file), path.join(dir, 'docs', file)]) {
    if (
      await fs.stat(candidate).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

export async function evaluate(
  dir: string,
  labelsPath: string,
  extract: (doc: TextDocument) => Promise<ExtractionResult>,
  options: EvaluateOptions = {},
): Promise<EvaluationReport> {
  if (!options.extractText && !options.pool) {
    // Documents are read one at a time: one warm worker, stopped when the evaluation ends.
    const pool = new ExtractionPool({ size: 1 });
    try {
      return await evaluate(dir, labelsPath, extract, { ...options, pool });
    } finally {
      await pool.close();
    }
  }
  const { pool } = options;
  const readText = options.extractText ?? ((bytes, mediaType) => extractTextIsolated(bytes, mediaType, { timeoutMs: 120_000, ocr: true, ...(pool ? { pool } : {}) }));
  const labels = JSON.parse(await fs.readFile(labelsPath, 'utf8')) as LabelledDocument[];
  const fields = Object.fromEntries(FIELD_NAMES.map((n) => [n, emptyScore(LIST_FIELDS.has(n))])) as Record<FieldName, FieldScore>;
  const documents: DocumentOutcome[] = [];
  for (const label of labels) {
    const outcome: DocumentOutcome = { file: label.file, status: 'scored', mistakes: [] };
    documents.push(outcome);
    let result: ExtractionResult = {};
    try {
      const file = await resolveDocument(dir, label.file);
      const mediaType = mediaTypeFromFileName(label.file);
      if (!file || !mediaType) throw new Error(file ? 'unknown file type' : 'file not found');
      const text = await readText(new Uint8Array(await fs.readFile(file)), mediaType);
      if (text.needsOcr) throw new Error('no text layer and OCR found no text');
      result = await extract(text);
    } catch (error) {
      Object.assign(outcome, { status: 'failed', reason: (error as Error).message });
    }
    for (const name of FIELD_NAMES) {
      const expected = expectedValue(label.fields, name);
      const extracted = result[name]?.value;
      const o = scoreField(name, expected, extracted, fields[name]);
      if (o && o !== 'correct') outcome.mistakes.push({ field: name, outcome: o, expected, extracted });
    }
  }
  for (const score of Object.values(fields)) {
    score.precision = ratio(score.correct, score.correct + score.wrong);
    score.recall = ratio(score.correct, score.labelled);
    if (score.items) {
      const { truePositives: tp, falsePositives: fp, falseNegatives: fn } = score.items;
      Object.assign(score.items, { precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn) });
    }
  }
  const sum = (pick: (s: FieldScore) => number, names: readonly FieldName[] = FIELD_NAMES) => names.reduce((a, n) => a + pick(fields[n]), 0);
  return {
    fields,
    documents,
    overall: {
      correct: sum((s) => s.correct),
      wrong: sum((s) => s.wrong),
      missed: sum((s) => s.missed),
      labelled: sum((s) => s.labelled),
      precision: ratio(
        sum((s) => s.correct),
        sum((s) => s.correct + s.wrong),
      ),
      recall: ratio(
        sum((s) => s.correct),
        sum((s) => s.labelled),
      ),
    },
    key: {
      fields: KEY_FIELDS,
      precision: ratio(
        sum((s) => s.correct, KEY_FIELDS),
        sum((s) => s.correct + s.wrong, KEY_FIELDS),
      ),
      recall: ratio(
        sum((s) => s.correct, KEY_FIELDS),
        sum((s) => s.labelled, KEY_FIELDS),
      ),
    },
  };
}

const pct = (x: number | null) => (x === null ? '-' : x.toFixed(2));
const short = (v: unknown) => {
  const s = JSON.stringify(v) ?? 'absent';
  return s.length > 70 ? `${s.slice(0, 67)}...` : s;
};

/** The report as a table per field, the documents skipped or failed, the mistakes, and the overall line. */
export function formatEvaluation(report: EvaluationReport): string {
  const head = ['field', 'labelled', 'correct', 'wrong', '(spurious)', 'missed', 'precision', 'recall', 'item P', 'item R'];
  const rows = FIELD_NAMES.map((n) => {
    const s = report.fields[n];
    return [
      n,
      s.labelled,
      s.correct,
      s.wrong,
      s.spurious,
      s.missed,
      pct(s.precision),
      pct(s.recall),
      s.items ? pct(s.items.precision) : '',
      s.items ? pct(s.items.recall) : '',
    ].map(String);
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''];
  const scored = report.documents.filter((d) => d.status === 'scored').length;
  out.push(`documents: ${scored} scored, ${report.documents.length - scored} not scored`);
  for (const d of report.documents.filter((x) => x.status !== 'scored')) out.push(`  ${d.status}: ${d.file} (${d.reason})`);
  const mistakes = report.documents.flatMap((d) => d.mistakes.map((m) => `  ${d.file}: ${m.field} ${m.outcome}: expected ${short(m.expected)}, extracted ${short(m.extracted)}`));
  if (mistakes.length) out.push('mistakes:', ...mistakes);
  out.push(`key fields (${report.key.fields.join(', ')}): precision ${pct(report.key.precision)}, recall ${pct(report.key.recall)}`);
  const o = report.overall;
  out.push(`all fields: precision ${pct(o.precision)}, recall ${pct(o.recall)} (${o.correct} correct, ${o.wrong} wrong, ${o.missed} missed of ${o.labelled} labelled)`);
  return out.join('\n');
}

/**
 * `dpp eval-extraction DIR [--labels FILE]`: the rules engine over a labelled directory; returns the
 * printed text. The labels default to DIR/labels.json; documents are read from DIR or DIR/docs.
 */
export async function runEvalCommand(dir: string, labelsPath?: string, options: Pick<EvaluateOptions, 'pool'> = {}): Promise<string> {
  const labels = labelsPath ?? path.join(dir, 'labels.json');
  const report = await evaluate(dir, labels, async (doc) => extractWithRules(doc), options);
  return formatEvaluation(report);
}
