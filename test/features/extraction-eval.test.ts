import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_FIELDS, evaluate, expectedValue, formatEvaluation, runEvalCommand, type EvaluationReport } from '../../src/features/extraction/eval.js';
import type { ExtractionResult } from '../../src/features/extraction/fields.js';
import { extractWithRules } from '../../src/features/extraction/rules/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, '../../../shared/corpus/dev');

const field = <T>(value: T) => ({ value, confidence: 0.9, evidence: [{ page: 1, snippet: 'x' }] });

describe('evaluation rules of comparison', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-eval-'));
    fs.writeFileSync(path.join(dir, 'a.md'), 'document a');
    fs.mkdirSync(path.join(dir, 'docs'));
    fs.writeFileSync(path.join(dir, 'docs', 'b.txt'), 'document b');
    const labels = [
      {
        file: 'a.md',
        fields: {
          ce_marked: null,
          ce_marking_implied_by_eu_doc: true,
          rohs_compliant: true,
          reach_compliant: null,
          weee: { mentioned: false, category: null },
          manufacturer: 'Raspberry Pi (Trading) Limited',
          directives: ['2011/65/EC', '(EU) 2015/863'],
          certifications: [],
        },
      },
      { file: 'b.txt', fields: { ce_marked: false, rohs_compliant: null, weee: { mentioned: true }, manufacturer: 'ACME', directives: ['2014/30/EU'] } },
      { file: 'missing.md', fields: { rohs_compliant: true } },
    ];
    fs.writeFileSync(path.join(dir, 'labels.json'), JSON.stringify(labels));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const extracted: Record<string, ExtractionResult> = {
    'document a': {
      ce_marked: field(true), // implied by the EU declaration: correct
      rohs_compliant: field(false), // wrong
      reach_compliant: field(true), // label null: spurious
      manufacturer: field('RASPBERRY PI (TRADING)'), // containment: correct
      directives: field(['2011/65/EU', '2015/863/EU']), // same acts: correct
    },
    'document b': { directives: field(['2014/30/EU', '2014/35/EU']), weee_marked: field(true) },
  };

  let report: EvaluationReport;
  beforeAll(async () => {
    report = await evaluate(dir, path.join(dir, 'labels.json'), async (doc) => extracted[doc.pages.join('')] ?? {});
  });

  it('counts correct, wrong (with spurious) and missed per field', () => {
    expect(report.fields.ce_marked).toMatchObject({ labelled: 2, correct: 1, wrong: 0, missed: 1 });
    expect(report.fields.rohs_compliant).toMatchObject({ labelled: 2, correct: 0, wrong: 1, missed: 1 });
    expect(report.fields.reach_compliant).toMatchObject({ labelled: 0, correct: 0, wrong: 1, spurious: 1, missed: 0 });
    expect(report.fields.weee_marked).toMatchObject({ labelled: 1, correct: 1 });
    expect(report.fields.manufacturer).toMatchObject({ labelled: 2, correct: 1, missed: 1 });
    expect(report.fields.rohs_compliant.precision).toBe(0);
    expect(report.fields.manufacturer.recall).toBe(0.5);
  });

  it('compares lists as sets of normalised items, with item-level precision and recall beside', () => {
    expect(report.fields.directives).toMatchObject({ labelled: 2, correct: 1, wrong: 1, missed: 0 });
    expect(report.fields.directives.items).toMatchObject({ truePositives: 3, falsePositives: 1, falseNegatives: 0, precision: 0.75, recall: 1 });
    expect(report.fields.certifications.labelled).toBe(0); // [] means the document names none
  });

  it('reports a file it cannot read as failed (its fields missed), and reads from DIR or DIR/docs', () => {
    const status = Object.fromEntries(report.documents.map((d) => [d.file, d.status]));
    expect(status).toEqual({ 'a.md': 'scored', 'b.txt': 'scored', 'missing.md': 'failed' });
  });

  it('prints a table per field and ends with the overall line', () => {
    const text = formatEvaluation(report);
    expect(text).toMatch(/^field\s+labelled\s+correct\s+wrong/);
    expect(text).toMatch(/^rohs_compliant\s+2\s+0\s+1\s+0\s+1\s+0\.00\s+0\.00$/m);
    expect(text).toContain('failed: missing.md (file not found)');
    const { correct, wrong, missed, labelled } = report.overall;
    expect(report.overall.precision).toBe(correct / (correct + wrong));
    expect(report.overall.recall).toBe(correct / labelled);
    expect(text).toMatch(/^rohs_compliant\s+2\s+0\s+1\s+0\s+1\s+0\.00\s+0\.00$/m);
    expect(text.split('\n').at(-1)).toBe(
      `all fields: precision ${report.overall.precision!.toFixed(2)}, recall ${report.overall.recall!.toFixed(2)} (${correct} correct, ${wrong} wrong, ${missed} missed of ${labelled} labelled)`,
    );
  });

  it('maps the label conventions of labels.json', () => {
    expect(expectedValue({ ce_marked: null, ce_marking_implied_by_eu_doc: true }, 'ce_marked')).toBe(true);
    expect(expectedValue({ ce_marked: false, ce_marking_implied_by_eu_doc: false }, 'ce_marked')).toBe(false);
    expect(expectedValue({ weee: { mentioned: false } }, 'weee_marked')).toBeNull();
    expect(expectedValue({ carbon_footprint: { value_kgco2e: 720 } }, 'carbon_footprint_kg')).toBe(720);
    expect(expectedValue({ directives: [] }, 'directives')).toBeNull();
    expect(expectedValue({}, 'standards')).toBeUndefined();
  });
});

describe('evaluation of the rules engine on the dev corpus', () => {
  let report: EvaluationReport;
  beforeAll(async () => {
    report = await evaluate(corpus, path.join(corpus, 'labels.json'), async (doc) => extractWithRules(doc));
  }, 120_000);

  it.each(KEY_FIELDS.map((f) => [f]))('%s: precision >= 0.95 and recall >= 0.85', (name) => {
    const score = report.fields[name];
    expect(score.labelled).toBeGreaterThan(0);
    expect(score.precision, `${name} precision`).toBeGreaterThanOrEqual(0.95);
    expect(score.recall, `${name} recall`).toBeGreaterThanOrEqual(0.85);
  });

  it('meets the targets over the key fields and over all fields, the scan read by OCR and scored', () => {
    expect(report.key.precision).toBeGreaterThanOrEqual(0.95);
    expect(report.key.recall).toBeGreaterThanOrEqual(0.85);
    expect(report.overall.precision).toBeGreaterThanOrEqual(0.95);
    expect(report.overall.recall).toBeGreaterThanOrEqual(0.9);
    expect(report.documents.filter((d) => d.status !== 'scored')).toEqual([]);
    const scan = report.documents.find((d) => d.file === 'sullins_rohs3-statement_scanned.pdf')!;
    expect(scan.mistakes.filter((m) => ['manufacturer', 'rohs_compliant', 'directives'].includes(m.field))).toEqual([]);
  });

  it('runs as the eval-extraction command', async () => {
    const text = await runEvalCommand(corpus);
    expect(text).toMatch(/^ce_marked\s+7\s+7\s+0/m);
    expect(text.split('\n').at(-1)).toMatch(/^all fields: precision \d\.\d\d, recall \d\.\d\d \(\d+ correct, \d+ wrong, \d+ missed of \d+ labelled\)$/);
  }, 120_000);
});

describe('evaluation on documents in the styles without a manufacturer label (test/fixtures/extraction-styles)', () => {
  const styles = path.resolve(here, '../fixtures/extraction-styles');
  let report: EvaluationReport;
  beforeAll(async () => {
    report = await evaluate(styles, path.join(styles, 'labels.json'), async (doc) => extractWithRules(doc));
  }, 60_000);

  it('finds the manufacturer in letterheads, footers, signatures, declarant clauses, copyright lines and tables, never a wrong one', () => {
    const m = report.fields.manufacturer;
    expect(m.labelled).toBeGreaterThanOrEqual(17);
    expect(m.wrong, JSON.stringify(report.documents.flatMap((d) => d.mistakes))).toBe(0);
    expect(m.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('reads "no SVHC above 0.1 %" in English, German, French and Italian as REACH compliant, and a listed SVHC as no claim', () => {
    expect(report.fields.reach_compliant).toMatchObject({ wrong: 0, missed: 0 });
    expect(report.fields.reach_compliant.labelled).toBeGreaterThanOrEqual(7);
  });

  it('meets precision >= 0.95 and recall >= 0.9 over all fields', () => {
    expect(report.overall.precision).toBeGreaterThanOrEqual(0.95);
    expect(report.overall.recall).toBeGreaterThanOrEqual(0.9);
  });
});
