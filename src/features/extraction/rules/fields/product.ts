/**
 * product_name and model: "Product: …", "Model: …", "Type designation: …" labels (EN/FR/DE/NL/IT/ES),
 * also in tables (label alone with the value on the next line, or label and value run together on
 * lines of a label column), "the following product:" followed by the name, "product CR101/02
 * complies with", "type WBM-24", a "Part Number / Part Description" table, the product a report is
 * about (the line beside "Product Carbon Footprint", or a title line the report repeats), and the
 * scope of a supplier's blanket statement ("certifies that all active assemblies manufactured by
 * X"), the last ones at confidences below the apply threshold. Values that look like another label
 * or a sentence are refused.
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
/** Any label of a DoC's identification table, to recognise a table of labels and values without colons. */
const TABLE_LABEL =
  /^(?:\d{1,2}[.)]\s*)?(?:Manufacturer(?:'s\s+name)?|Address|Product(?:\s+name)?|Model|Type|Brand|Trade\s+mark|Hersteller|Anschrift|Adresse|Produkt|Typ|Modell|Marke|Fabricant|Produit|Modèle|Marque|Fabbricante|Indirizzo|Prodotto|Modello|Marchio|Fabrikant|Adres|Merk)\b/i;
const PRODUCT_ALONE = /^(?:\d{1,2}[.)]\s*)?(?:Product(?:\s+name)?|Produkt(?:bezeichnung)?|Produit|Prodotto|Producto)$/i;
const MODEL_ALONE = /^(?:\d{1,2}[.)]\s*)?(?:Model|Type|Typ|Modell|Modèle|Modello|Modelo)$/i;
const TABLE_PRODUCT = /^(?:\d{1,2}[.)]\s*)?(?:Product(?:\s+name)?|Produkt|Produit|Prodotto|Producto|Apparatus|Equipment|Radio\s+equipment)\s+(\S.*)$/i;
const TABLE_MODEL = /^(?:\d{1,2}[.)]\s*)?(?:Model|Type|Typ|Modell|Modèle|Modello|Modelo)\s+(\S.*)$/i;
const INLINE_TYPE = /\b(?:type|model|Typ|modèle|modello)\s+([A-Z]{1,6}-?[A-Z0-9]*\d[A-Z0-9]*(?:-[A-Z0-9]+)*)\b/g;
const PART_DESCRIPTION = /\b(?:Part|Article|Item)\s+(?:Number|No\.?)\s+(?:Part\s+|Article\s+|Item\s+)?Description\b[^\n]*\n([A-Z0-9][A-Z0-9./-]{3,30})\s+([^\n]{3,120})/g;
const REPORT_TITLE =
  /^(?:Product\s+(?:Carbon\s+Footprint|Environmental\s+(?:Report|Information|Profile|Declaration|Data\s+Sheet))|Environmental\s+Product\s+Declaration|Eco\s+Declaration|Life\s+Cycle\s+Assessment|Produkt-?Umweltdatenblatt|Umweltproduktdeklaration|Déclaration\s+environnementale\s+(?:de\s+|du\s+)?produit|Profil\s+environnemental\s+(?:du\s+)?produit|Dichiarazione\s+ambientale\s+di\s+prodotto)\b/i;
const SCOPE =
  /\b(?:certif(?:y|ies)|declares?|confirms?)\s+that\s+(?:all\s+)?(?:its\s+|our\s+|the\s+)?((?:[\p{L}\d-]+\s+){0,3}?(?:products|devices|assemblies|components|parts|articles|connectors)(?:\s+manufactured\s+by\s+\p{Lu}[^,.(]{1,60}?)?)(?=\s*(?:\(|are\b|is\b|comply|listed|supplied|,))/giu;
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

/** Label-and-value lines of a table whose columns ran together: two or more label lines in a row. */
function tableRows(ctx: DocContext, re: RegExp, check: (v: string) => string | undefined, confidence: number): Found[] {
  const out: Found[] = [];
  for (const page of ctx.doc.pages) {
    const lines = page.text.split('\n');
    let offset = 0;
    lines.forEach((line, i) => {
      const inTable = TABLE_LABEL.test(lines[i - 1] ?? '') || TABLE_LABEL.test(lines[i + 1] ?? '');
      const m = inTable && !/[:：]/.test(line) ? re.exec(line) : null;
      const value = m && check(m[1]!);
      if (value) out.push({ value, confidence, page, index: offset + line.indexOf(m[1]!) });
      offset += line.length + 1;
    });
  }
  return out;
}

/** A label alone on its line in a table, its value on the next line ("Product\nPortable speaker\nModel\nNL-S200"). */
function labelAboveValue(ctx: DocContext, re: RegExp, check: (v: string) => string | undefined, confidence: number, evident?: RegExp): Found[] {
  const out: Found[] = [];
  for (const page of ctx.doc.pages) {
    const lines = page.text.split('\n');
    let offset = 0;
    lines.forEach((line, i) => {
      offset += line.length + 1;
      const next = lines[i + 1];
      if (!re.test(line.trim()) || !next || TABLE_LABEL.test(next)) return;
      const inTable = TABLE_LABEL.test(lines[i - 1] ?? '') || TABLE_LABEL.test(lines[i + 2] ?? '') || evident?.test(next.trim());
      const value = inTable ? check(next) : undefined;
      if (value) out.push({ value, confidence, page, index: offset });
    });
  }
  return out;
}

/** The product a report is about: the line beside its title, or a first line it repeats on another page. */
function reportSubject(ctx: DocContext): Found[] {
  const page = ctx.doc.pages[0];
  if (!page) return [];
  const lines = page.text
    .split('\n')
    .map((text) => ({ text: text.trim(), index: page.text.indexOf(text) }))
    .filter((l) => l.text);
  const head = lines.slice(0, 4);
  const out: Found[] = [];
  head.forEach((line, i) => {
    if (!REPORT_TITLE.test(line.text)) return;
    // A product name above a title ("Nestwell Camera\nProduct Environmental Report"), else below it.
    for (const other of [i > 0 ? head[i - 1] : head[i + 1]]) {
      const value = other && !REPORT_TITLE.test(other.text) && !/[.:]$/.test(other.text) ? plausibleName(other.text) : undefined;
      if (value && other) out.push({ value, confidence: 0.6, page, index: other.index });
    }
  });
  const first = lines[0];
  if (first && /\d/.test(first.text) && /^\p{Lu}/u.test(first.text) && first.text.split(' ').length <= 8) {
    const repeated = ctx.doc.pages.slice(1).some((p) => p.text.split('\n').some((l) => l.trim() === first.text));
    const value = repeated ? plausibleName(first.text) : undefined;
    if (value) out.push({ value, confidence: 0.6, page, index: first.index });
  }
  return out;
}

function plausibleName(value: string): string | undefined {
  const v = value
    .replace(/\s+/g, ' ')
    .replace(/[.,;:]+$/, '')
    .trim();
  if (v.length < 2 || v.length > 100 || /[:：]/.test(v) || /\b(?:declare|hereby|complies|conform)\b/i.test(v)) return undefined;
  return v.split(' ').length <= 12 ? v : undefined;
}

function plausibleModel(value: string): string | undefined {
  const v = value
    .trim()
    .split(/\s{2,}|\t|,|;|\s+\(/)[0]!
    .replace(/[.,;:]+$/, '')
    .trim();
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
  const description = findAll(ctx.doc, PART_DESCRIPTION, 'text').map((m) => ({
    value: plausibleName(m.groups[2]!.replace(/,\s*$/, '')) ?? '',
    confidence: 0.6,
    page: m.page,
    index: m.end - m.groups[2]!.length,
  }));
  const scope = findAll(ctx.doc, SCOPE).map((m) => ({
    value: plausibleName(m.groups[1]!) ?? '',
    confidence: 0.55,
    page: m.page,
    index: m.page.flat.indexOf(m.groups[1]!, m.index),
  }));
  return field(
    [
      ...labelled(ctx, PRODUCT_LABEL, plausibleName, 0.85),
      ...labelAboveValue(ctx, PRODUCT_ALONE, plausibleName, 0.8),
      ...tableRows(ctx, TABLE_PRODUCT, plausibleName, 0.8),
      ...labelled(ctx, FOLLOWING_PRODUCT, plausibleName, 0.75),
      ...reportSubject(ctx),
      ...description,
      ...scope,
    ].filter((f) => f.value)[0],
  );
}

export function extractModel(ctx: DocContext): ExtractedField<string> | undefined {
  const inline = findAll(ctx.doc, INLINE_MODEL).map((m) => ({ value: m.groups[1]!, confidence: 0.65, page: m.page, index: m.page.flat.indexOf(m.groups[1]!, m.index) }));
  const column = findAll(ctx.doc, PART_NUMBER_COLUMN, 'text').map((m) => ({ value: m.groups[1]!, confidence: 0.6, page: m.page, index: m.end - m.groups[1]!.length }));
  const typed = findAll(ctx.doc, INLINE_TYPE).map((m) => ({ value: m.groups[1]!, confidence: 0.6, page: m.page, index: m.page.flat.indexOf(m.groups[1]!, m.index) }));
  return field(
    [
      ...labelled(ctx, MODEL_LABEL, plausibleModel, 0.85),
      ...labelAboveValue(ctx, MODEL_ALONE, plausibleModel, 0.8, /^[A-Z0-9][A-Z0-9./-]{1,30}$/),
      ...tableRows(ctx, TABLE_MODEL, plausibleModel, 0.8),
      ...inline,
      ...column.filter((c) => /\d/.test(c.value)),
      ...typed,
    ][0],
  );
}
