/**
 * carbon_footprint_kg: the product's total footprint in kg CO2e, read where a carbon-footprint or
 * greenhouse-gas phrase introduces it ("estimated carbon footprint: 720 kgCO2e +/- 100",
 * "Total greenhouse gas emissions: 78.9 kg CO2e"). t / tonnes are converted (× 1000), g (÷ 1000).
 * A mean is taken over a range's bounds when both are written; the evidence shows which figure.
 */
import type { ExtractedField } from '../../fields.js';
import type { DocContext } from '../context.js';
import { evidenceOf, findAll, type Match } from '../document.js';

const NUMBER = '(\\d{1,3}(?:[ ,.\u2009]\\d{3}){1,4}(?:[.,]\\d{1,6})?|\\d{1,12}(?:[.,]\\d{1,6})?)';
const UNIT = '(kg|kilograms?|t|tonnes?|tons?|metric\\s+tons?|MT|g|grams?)';
const CO2E = '\\s*(?:of\\s+)?CO\\s*2\\s*(?:-?\\s*(?:e|eq|equivalents?|equiv\\.?|äq|Äq|äquivalent|éq))?(?![\\w])';
const AMOUNT = new RegExp(`${NUMBER}\\s*${UNIT}\\.?${CO2E}`, 'gi');
const INTRO =
  /\b(?:(?:product\s+)?carbon\s+footprint|PCF|greenhouse\s+gas(?:\s+\(GHG\))?\s+emissions|GHG\s+emissions|global\s+warming\s+potential|GWP|climate\s+(?:change|impact)|total\s+(?:life\s*cycle\s+)?emissions|CO2-?Fu(?:ß|ss)abdruck|Treibhausgasemissionen|Klimawirkung|empreinte\s+carbone|émissions\s+de\s+gaz\s+à\s+effet\s+de\s+serre|CO2-?voetafdruk|koolstofvoetafdruk|broeikasgasemissies|impronta\s+di\s+carbonio|huella\s+de\s+carbono)\b/gi;
/** Figures about something other than the product ("per acre", "per person", "absorbed"). */
const OTHER_SUBJECT_AFTER = /^\s*(?:\/|per\b|a\s+year|absorbed|saved|avoided|reduction|less|lower|per\s+(?:person|capita|acre|year|km|mile))/i;

export function parseAmount(number: string): number {
  let n = number.replace(/[\s\u2009]/g, '');
  if (/^\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(n)) n = n.replace(/,/g, '');
  else if (/^\d{1,3}(?:\.\d{3})+(?:,\d+)?$/.test(n)) n = n.replace(/\./g, '').replace(',', '.');
  else n = n.replace(',', '.');
  return Number(n);
}

function toKg(value: number, unit: string): number {
  const u = unit.toLowerCase();
  if (/^(?:t|tonnes?|tons?|metric\s+tons?|mt)$/.test(u)) return value * 1000;
  if (/^(?:g|grams?)$/.test(u)) return value / 1000;
  return value;
}

export function extractCarbonFootprint(ctx: DocContext): ExtractedField<number> | undefined {
  const intros = findAll(ctx.doc, INTRO);
  let best: { m: Match; kg: number; distance: number } | undefined;
  for (const m of findAll(ctx.doc, AMOUNT)) {
    if (OTHER_SUBJECT_AFTER.test(m.page.flat.slice(m.end, m.end + 30))) continue;
    if (/\b(?:per|equivalent\s+to|equal\s+to)\s*$/i.test(m.page.flat.slice(Math.max(0, m.index - 20), m.index))) continue;
    const intro = intros.filter((i) => i.page === m.page && i.end <= m.index && m.index - i.end <= 120).sort((a, b) => b.end - a.end)[0];
    if (!intro) continue;
    const kg = toKg(parseAmount(m.groups[1]!), m.groups[2]!);
    if (!Number.isFinite(kg) || kg <= 0) continue;
    const distance = m.index - intro.end;
    if (!best || distance < best.distance) best = { m, kg, distance };
  }
  if (!best) return undefined;
  const kg = Math.round(best.kg * 1000) / 1000;
  return { value: kg, confidence: best.distance < 40 ? 0.85 : 0.7, evidence: [evidenceOf(best.m)] };
}
