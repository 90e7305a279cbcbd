/**
 * product_name and model: "Product: …", "Model: …", "Type designation: …" labels (EN/FR/DE/NL/IT/ES),
 * "the following product:" followed by the name, "product CR101/02 complies with", and a
 * "Part Number" table column. Values that look like another label or a sentence are refused.
 */
import type { ExtractedField } from '../../fields.js';
import type { DocContext } from '../context.js';
import { evidenceOf, findAll, type Page } from '../document.js';
import { COMPLIANCE_VERB } from '../lexicon.js';

interface Found {
  value: string;
  confidence: number;
  page: Page;
  index: number;
}

const PRODUCT_LABEL =
  /^(?:Product(?:\s+(?:name|description|designation|identification))?|Name\s+of\s+(?:the\s+)?product|Apparatus|Equipment|Produktbezeichnung|Produktname|Produkt|Bezeichnung|Gerätebezeichnung|Beschreibung\s+des\s+Gerätes|Gerät|Produit|Nom\s+du\s+produit|Désignation(?:\s+du\s+produit)?|Productnaam|Productomschrijving|Product|Benaming|Prodotto|Nome\s+del\s+prodotto|Producto|Nombre\s+del\s+producto)[ \t]*[:：][ \t]*(.*)$/gim;
const FOLLOWING_PRODUCT = /\b(?:the\s+)?following\s+(?:product|apparatus|equipment|device)s?[ \t]*:[ \t]*(.*)$/gim;
const MODEL_LABEL =
  /^(?:Model(?:\s+(?:No\.?|Number|name|reference|\w+))?|Type(?:\s+(?:designation|number|No\.?|reference))?|Typ(?:enbezeichnung|bezeichnung|ennummer)?|Modell(?:bezeichnung|nummer)?|Modèle|Référence(?:\s+du\s+modèle)?|Modelnummer|Typenummer|Typeaanduiding|Modello|Modelo|Part\s+(?:Number|No\.?)|Article\s+(?:Number|No\.?)|Art\.?\s*-?\s*Nr\.?|Artikelnummer|Item\s+(?:Number|No\.?)|SKU)[ \t]*[:：][ \t]*(.*)$/gim;
const INLINE_MODEL = new RegExp(
  `\\b(?:product|model|type|apparatus|device|Gerät|produit|modèle|apparaat|prodotto)\\s+([A-Z0-9][A-Z0-9./-]{0,30}\\d[A-Z0-9./-]{0,30})\\s+(?:hereby\\s+)?${COMPLIANCE_VERB}`,
  'g',
);
const PART_NUMBER_COLUMN = /\b(?:Part|Article|Item|Catalog(?:ue)?)\s+(?:Number|No\.?)\b[^\n]*\n([A-Z0-9][A-Z0-9./-]{3,30})(?=\s)/g;

/** The value on the label's line, or the first following line that is not itself a label (two-column layouts). */
function valueAfterLabel(page: Page, labelEnd: number, sameLine: string): { value: string; index: number } | undefined {
  if (sameLine.trim()) return { value: sameLine.trim(), index: labelEnd - sameLine.length };
  let offset = labelEnd + 1;
  for (const line of page.text.slice(labelEnd).split('\n').slice(1, 6)) {
    if (line.trim() && !/[:：]\s*$/.test(line)) return { value: line.trim(), index: offset };
    offset += line.length + 1;
  }
  return undefined;
}

function plausibleName(value: string): string | undefined {
  const v = value.replace(/\s+/g, ' ').replace(/[.,;:]+$/, '').trim();
  if (v.length < 2 || v.length > 100 || /[:：]/.test(v) || /\b(?:declare|hereby|complies|conform)\b/i.test(v)) return undefined;
  return v.split(' ').length <= 12 ? v : undefined;
}

function plausibleModel(value: string): string | undefined {
  const v = value.trim().split(/\s{2,}|\t|,|;|\s+\(/)[0]!.replace(/[.,;:]+$/, '').trim();
  if (v.length < 2 || v.length > 40 || !/\d/.test(v) || v.split(' ').length > 3) return undefined;
  return v;
}

function labelled(ctx: DocContext, re: RegExp, check: (v: string) => string | undefined, confidence: number): Found[] {
  const out: Found[] = [];
  for (const m of findAll(ctx.doc, re, 'text')) {
    const found = valueAfterLabel(m.page, m.end, m.groups[1] ?? '');
    const value = found && check(found.value);
    if (found && value) out.push({ value, confidence, page: m.page, index: found.index });
  }
  return out;
}

function field(found: Found | undefined): ExtractedField<string> | undefined {
  if (!found) return undefined;
  return { value: found.value, confidence: found.confidence, evidence: [evidenceOf({ page: found.page, index: found.index, end: found.index + found.value.length })] };
}

export function extractProductName(ctx: DocContext): ExtractedField<string> | undefined {
  return field([...labelled(ctx, PRODUCT_LABEL, plausibleName, 0.85), ...labelled(ctx, FOLLOWING_PRODUCT, plausibleName, 0.75)][0]);
}

export function extractModel(ctx: DocContext): ExtractedField<string> | undefined {
  const inline = findAll(ctx.doc, INLINE_MODEL).map((m) => ({ value: m.groups[1]!, confidence: 0.65, page: m.page, index: m.page.flat.indexOf(m.groups[1]!, m.index) }));
  const column = findAll(ctx.doc, PART_NUMBER_COLUMN, 'text').map((m) => ({ value: m.groups[1]!, confidence: 0.6, page: m.page, index: m.end - m.groups[1]!.length }));
  return field([...labelled(ctx, MODEL_LABEL, plausibleModel, 0.85), ...inline, ...column.filter((c) => /\d/.test(c.value))][0]);
}
