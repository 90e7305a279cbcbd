/** Cleaning of company names read from documents: legal forms, address tails, pronouns, lead words. */

const LEGAL_FORMS =
  'Co\\.?,?\\s*(?:Ltd|LTD)\\.?|Pty\\.?\\s+Ltd\\.?|Pte\\.?\\s+Ltd\\.?|Ltd\\.?|LTD\\.?|Limited|LIMITED|LLC|L\\.L\\.C\\.|Inc\\.?|INC\\.?|Incorporated|Corp\\.?|CORP\\.?|Corporation|CORPORATION|' +
  'GmbH(?:\\s*&\\s*Co\\.?\\s*KG)?|AG|KG|SE|S\\.A\\.S?\\.?|SAS|SARL|S\\.à\\s?r\\.l\\.|B\\.V\\.?|BV|N\\.V\\.?|NV|S\\.p\\.A\\.?|SpA|S\\.r\\.l\\.?|Srl|S\\.L\\.?|S\\.L\\.U\\.?|' +
  'Oy|Oyj|AB|A\\/S|ApS|AS|PLC|plc|LLP|L\\.P\\.?|LP|Sp\\.\\s*z\\s*o\\.o\\.|s\\.r\\.o\\.|Kft\\.?|K\\.K\\.|Co\\.?';

/** Legal-form tokens (Ltd, GmbH, B.V., Co., Ltd, L.P. …), matched at the end of a name: the company evidence a name needs. */
export const LEGAL_FORM = new RegExp(`(?:\\b(?:${LEGAL_FORMS}))$`);

/** The same tokens anywhere, ending at a word edge: "Orbis Development Company, L.P. The information …". */
const LEGAL_FORM_INSIDE = new RegExp(`^(.{2,80}?\\b(?:${LEGAL_FORMS}))(?=[\\s,;)]|$)`);

const LEGAL_FORM_START =
  /^\s*(?:Co\.?|Ltd\.?|LTD\.?|Limited|LLC|Inc\.?|INC\.?|Incorporated|Corp\.?|GmbH|AG|KG|SE|S\.A|SAS|SARL|B\.V|BV|N\.V|NV|S\.p\.A|S\.r\.l|S\.L|Oy|AB|PLC|plc|LLP|L\.P|LP)\b/i;

const PRONOUN_PREFIX = /^(?:we|wir|nous|wij|noi|i|the\s+(?:company|manufacturer|undersigned)|hiermit|hereby|hierbij|par\s+la\s+présente|con\s+la\s+presente)\b[\s,]*/i;
/**
 * "Il fabbricante Vetroni S.r.l." → "Vetroni S.r.l.": the article and the word for manufacturer or
 * company that lead a name in a sentence (IT, FR, DE, NL, PL, ES, EN).
 */
const LEAD_WORDS =
  /^(?:(?:il|lo|la|le|les|l'|der|die|das|de|het|el|the)\s*)?(?:fabbricante|produttore|società|ditta|azienda|fabricant|société|entreprise|hersteller(?:in)?|firma|unternehmen|gesellschaft|fabrikant|producent|bedrijf|fabricante|empresa|manufacturer|company)(?=[\s,:]|$)[\s,:]*/i;
const HEREBY_SUFFIX = /[\s,]*(?:hereby|hierbij|hiermit|par\s+la\s+présente|herewith|con\s+la\s+presente)\s*$/i;
const ADDRESS_LIKE =
  /\d|\b(?:street|str\.|straße|strasse|road|rd\.|avenue|ave\.?|building|unit|suite|floor|zone|district|weg|laan|plein|rue|via|viale|piazza|corso|box|P\.?O\.?)\b/i;
const NOT_A_NAME =
  /^(?:the|a|an|this|that|our|their|its|all|any|manufacturer|hersteller|fabricant|fabrikant|fabbricante|name|address|date|signature|page|general|table|section|chapter|life\s+cycle)\b/i;

/** Splits at commas that end a name part, keeping "Co., Ltd" and ", Inc." with the name. */
function nameSegments(text: string): string[] {
  const parts = text.split(',');
  const segments: string[] = [];
  for (const part of parts) {
    const last = segments[segments.length - 1];
    if (last !== undefined && LEGAL_FORM_START.test(part) && !ADDRESS_LIKE.test(part.replace(/L\.P\.?/, ''))) segments[segments.length - 1] = `${last},${part}`;
    else segments.push(part);
  }
  return segments.map((s) => s.trim()).filter(Boolean);
}

/**
 * A company name from raw text: pronouns, lead words and "hereby" dropped, the address cut off at
 * the first comma that starts one, trailing punctuation trimmed. Undefined when nothing name-like is left.
 */
export function cleanCompanyName(raw: string): string | undefined {
  let text = raw.replace(/\s+/g, ' ').trim().replace(PRONOUN_PREFIX, '').replace(LEAD_WORDS, '').replace(HEREBY_SUFFIX, '');
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

/**
 * The company name at the start of `text` that ends in a legal form, for text that runs on after it
 * ("Orbis Development Company, L.P. The information …", "Kessler Elektronik GmbH · Industriestraße 12").
 */
export function leadingCompanyName(text: string): string | undefined {
  const cleaned = text.replace(/\s+/g, ' ').trim().replace(PRONOUN_PREFIX, '').replace(LEAD_WORDS, '');
  const m = LEGAL_FORM_INSIDE.exec(cleaned);
  const name = m && cleanCompanyName(m[1]!);
  return name && hasLegalForm(name) && name.split(' ').length <= 8 ? name : undefined;
}
