/**
 * standards: harmonised standards cited, as EN designations with single spaces:
 * `EN 62368-1:2014+A11:2017`, `EN IEC 63000:2018`, `EN 301 489-1 V2.2.3`, `EN 60669-2-1:2004/A12:2010`.
 */
import type { Evidence, ExtractedField } from '../../fields.js';
import type { DocContext } from '../context.js';
import { evidenceOf, findAll } from '../document.js';

const STANDARD =
  /\b(?:ETSI\s+)?EN\s*(?:(?:IEC|ISO|ISO\/IEC|IEC\/ISO)\s+)?(\d{3,5}(?:\s\d{3})?(?:-\d{1,3}){0,3}(?::\d{4})?(?:\s*[+/&]\s*A\d{1,2}(?::\d{4})?|\s*\+\s*AC(?::\d{4})?)*(?:\s+V\d{1,2}(?:\.\d{1,2}){1,2})?)(?![\d-])/g;

export function normaliseStandard(designation: string): string {
  return designation
    .replace(/^ETSI\s+/, '')
    .replace(/\s*([+/&:])\s*/g, '$1')
    .replace(/^EN(?=\d)/, 'EN ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function extractStandards(ctx: DocContext): ExtractedField<string[]> | undefined {
  const value: string[] = [];
  const evidence: Evidence[] = [];
  for (const m of findAll(ctx.doc, STANDARD)) {
    const designation = normaliseStandard(m.groups[0]!);
    if (value.includes(designation)) continue;
    value.push(designation);
    if (evidence.length < 5) evidence.push(evidenceOf(m));
  }
  return value.length ? { value, confidence: 0.85, evidence } : undefined;
}

/** Comparison key of a designation in free text ("EN 301 489-1 V2.2.3 DRAFT" → "EN 301 489-1 V2.2.3"). */
export function standardKey(text: string): string {
  const m = new RegExp(STANDARD.source).exec(text);
  return (m ? normaliseStandard(m[0]) : text.replace(/\s+/g, ' ').trim()).toUpperCase();
}
