/** Cleaning of company names read from documents: legal forms, address tails, pronouns. */

/** Legal-form tokens (Ltd, GmbH, B.V., Co., Ltd …), matched at the end of a name. */
export const LEGAL_FORM =
  /(?:\b(?:Co\.?,?\s*(?:Ltd|LTD)\.?|Pty\.?\s+Ltd\.?|Ltd\.?|LTD\.?|Limited|LIMITED|LLC|L\.L\.C\.|Inc\.?|INC\.?|Incorporated|Corp\.?|Corporation|GmbH(?:\s*&\s*Co\.?\s*KG)?|AG|KG|SE|S\.A\.S?\.?|SAS|SARL|S\.à\s?r\.l\.|B\.V\.?|BV|N\.V\.?|NV|S\.p\.A\.?|S\.r\.l\.?|S\.L\.?|Oy|AB|A\/S|ApS|AS|PLC|plc|LLP|Sp\.\s*z\s*o\.o\.|s\.r\.o\.|Kft\.?))$/;

const LEGAL_FORM_START = /^\s*(?:Co\.?|Ltd\.?|LTD\.?|Limited|LLC|Inc\.?|INC\.?|Incorporated|Corp\.?|GmbH|AG|KG|SE|S\.A|SAS|SARL|B\.V|BV|N\.V|NV|S\.p\.A|S\.r\.l|S\.L|Oy|AB|PLC|plc|LLP)\b/i;

const PRONOUN_PREFIX = /^(?:we|wir|nous|wij|i|the\s+(?:company|manufacturer|undersigned)|hiermit|hereby|hierbij|par\s+la\s+présente)\b[\s,]*/i;
const HEREBY_SUFFIX = /[\s,]*(?:hereby|hierbij|hiermit|par\s+la\s+présente|herewith)\s*$/i;
const ADDRESS_LIKE = /\d|\b(?:street|str\.|straße|strasse|road|rd\.|avenue|ave\.?|building|unit|suite|floor|zone|district|weg|laan|plein|rue|box|P\.?O\.?)\b/i;
const NOT_A_NAME = /^(?:the|a|an|this|that|our|their|its|all|any|manufacturer|hersteller|fabricant|fabrikant|name|address|date|signature)\b/i;

/** Splits at commas that end a name part, keeping "Co., Ltd" and ", Inc." with the name. */
function nameSegments(text: string): string[] {
  const parts = text.split(',');
  const segments: string[] = [];
  for (const part of parts) {
    const last = segments[segments.length - 1];
    if (last !== undefined && LEGAL_FORM_START.test(part) && !ADDRESS_LIKE.test(part)) segments[segments.length - 1] = `${last},${part}`;
    else segments.push(part);
  }
  return segments.map((s) => s.trim()).filter(Boolean);
}

/**
 * A company name from raw text: pronouns and "hereby" dropped, the address cut off at the first
 * comma that starts one, trailing punctuation trimmed. Undefined when nothing name-like is left.
 */
export function cleanCompanyName(raw: string): string | undefined {
  let text = raw.replace(/\s+/g, ' ').trim().replace(PRONOUN_PREFIX, '').replace(HEREBY_SUFFIX, '');
  const [first] = nameSegments(text);
  text = (first ?? '').replace(/\s+(?:19|20)\d{2}$/, '').replace(/^[\s"':-]+|[\s"',;:-]+$/g, '');
  const open = (text.match(/\(/g) ?? []).length;
  const close = (text.match(/\)/g) ?? []).length;
  if (close > open) text = text.replace(/\)+$/, '').trim();
  else if (open > close) text = text.slice(0, text.lastIndexOf('(')).trim();
  if (text.length < 2 || text.length > 80) return undefined;
  if (!/^[\p{Lu}\d]/u.test(text) || NOT_A_NAME.test(text) || /https?:|www\.|@/.test(text)) return undefined;
  if (!/\p{L}{2}/u.test(text)) return undefined;
  return text;
}

export function hasLegalForm(name: string): boolean {
  return LEGAL_FORM.test(name);
}
