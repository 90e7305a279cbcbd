/**
 * certifications: marks and certification schemes the document claims for the product, in the
 * canonical spellings of `normaliseCertifications`. RoHS, REACH and WEEE have their own fields
 * and are not repeated here; CE is listed only where the document names or shows it.
 */
import { normaliseCertifications } from '../../../passports/vocabulary.js';
import type { Evidence, ExtractedField } from '../../fields.js';
import { isHedged } from '../claims.js';
import type { DocContext } from '../context.js';
import { evidenceOf, findAll } from '../document.js';
import { negationOf } from '../negation.js';

/** [canonical name, pattern]: patterns precise enough not to fire on ordinary words. */
const MARKS: [string, RegExp][] = [
  ['UKCA', /\bUKCA[\s-]*(?:mark(?:ing|ed)?|logo|symbol)\b|\b(?:bears|carries)\s+the\s+UKCA\b/g],
  ['FCC', /\bFCC\s+(?:ID|Part\s*15|part\s+15|Rules|rules|compliance|certified|certification)\b|\bpart\s+15\s+of\s+the\s+FCC\b|\bdeel\s+15\s+van\s+de\s+FCC\b/gi],
  ['Energy Star', /\bENERGY\s*STAR\b/gi],
  ['EU Ecolabel', /\bEU\s+Eco-?label\b|\bEuropean\s+Ecolabel\b/gi],
  ['EPEAT Gold', /\bEPEAT\s+Gold\b/gi],
  ['EPEAT Silver', /\bEPEAT\s+Silver\b/gi],
  ['EPEAT Bronze', /\bEPEAT\s+Bronze\b/gi],
  ['EPEAT', /\bEPEAT\b(?!\s+(?:Gold|Silver|Bronze))/gi],
  ['TCO Certified', /\bTCO\s+Certified\b/gi],
  ['Blue Angel', /\bBlue\s+Angel\b|\bBlauer?\s+Engel\b|\bAnge\s+Bleu\b/gi],
  ['Nordic Swan', /\bNordic\s+(?:Swan|Ecolabel)\b|\bSvanen\b/gi],
  ['FSC', /\bFSC\b(?:[\s-]*(?:certified|certification|®|label|Mix|Recycled|100\s*%))?/g],
  ['PEFC', /\bPEFC\b/g],
  ['OEKO-TEX', /\bOEKO-?TEX\b/gi],
  ['GOTS', /\bGOTS\b|\bGlobal\s+Organic\s+Textile\s+Standard\b/g],
  ['Cradle to Cradle', /\bCradle\s+to\s+Cradle\b/gi],
  ['TÜV', /\bT(?:Ü|UE|U)V\s+(?:Rheinland|SÜD|SUD|Nord|Austria|certified|tested|geprüft|mark)\b/gi],
  ['GS', /\bGS[\s-]+(?:mark|Zeichen)\b|\bGeprüfte\s+Sicherheit\b/gi],
  ['UL', /\bUL\s+(?:Listed|listed|Certified|certified|Recognized|mark)\b|\bcULus\b/g],
  ['CB Scheme', /\bCB\s+(?:Scheme|scheme|certificate|Certificate|test\s+certificate)\b|\bIECEE\s+CB\b/g],
  ['KC', /\bKC\s+(?:mark|certification|certified)\b/gi],
  ['CCC', /\bCCC\s+(?:mark|certification|certified)\b|\bChina\s+Compulsory\s+Certificat(?:e|ion)\b/gi],
  ['RCM', /\bRCM\s+(?:mark|compliance)\b|\bRegulatory\s+Compliance\s+Mark\b/gi],
  ['PSE', /\bPSE\s+(?:mark|Mark)\b/g],
  ['China RoHS', /\bChina\s+RoHS\b|\bChinese\s+RoHS\b|\bSJ\/T\s*11364\b/gi],
  // Declarable-substance lists a supplier states its parts meet (material declarations for the supply chain).
  ['IEC 62474', /\bIEC\s*62474\b/g],
  ['GADSL', /\bGADSL\b|\bGlobal\s+Automotive\s+Declarable\s+Substance\s+List\b/g],
];

export function extractCertifications(ctx: DocContext, ceExplicit: { page: number; snippet: string }[] | undefined): ExtractedField<string[]> | undefined {
  const names: string[] = [];
  const evidence: Evidence[] = [];
  if (ceExplicit?.length) {
    names.push('CE');
    evidence.push(ceExplicit[0]!);
  }
  for (const [name, pattern] of MARKS) {
    const m = findAll(ctx.doc, pattern).find((x) => !negationOf(x.page, x.index, x.end) && !isHedged(x.page, x.index));
    if (!m) continue;
    names.push(name);
    if (evidence.length < 5) evidence.push(evidenceOf(m));
  }
  const value = normaliseCertifications(names);
  return value.length ? { value, confidence: 0.75, evidence } : undefined;
}
