import { gtinCheckDigit } from './gtin.js';

/**
 * The identifiers the EU DPP registry (Reg. 2026/1778) asks for beside the product's GTIN: the
 * commodity code, the facility's GLN and the operator's EORI number or GLN. Each parser takes what a
 * person types (spaces, dots, hyphens, lower case) and answers the canonical form, or a reason.
 */

export type Parsed = { ok: true; value: string } | { ok: false; rule: string; message: string };

/** A Global Location Number: 13 digits, the last the GS1 mod-10 check digit (as for a GTIN). */
export function isValidGln(digits: string): boolean {
  return /^\d{13}$/.test(digits) && gtinCheckDigit(digits.slice(0, -1)) === digits.charCodeAt(12) - 48;
}

/** A GLN as typed: spaces and hyphens are dropped. */
export function parseGln(input: string): Parsed {
  const digits = input.replace(/[\s-]/g, '');
  if (!/^\d{13}$/.test(digits)) return { ok: false, rule: 'gln_format', message: `"${input}" is not a GLN (13 digits)` };
  if (!isValidGln(digits)) return { ok: false, rule: 'gln_check_digit', message: `"${input}" has a wrong GS1 check digit` };
  return { ok: true, value: digits };
}

/**
 * A commodity code: the Harmonized System subheading (6 digits), the Combined Nomenclature code (8) or
 * the TARIC code (10), digits only. Spaces and dots (`8516 50 00`, `8516.50.00`) are dropped. The first
 * two digits are an HS chapter, 01 to 97 (77 is reserved and never used).
 */
export function parseCommodityCode(input: string): Parsed {
  const digits = input.replace(/[\s.]/g, '');
  if (!/^(\d{6}|\d{8}|\d{10})$/.test(digits)) {
    return { ok: false, rule: 'commodity_code_format', message: `"${input}" is not a commodity code (6, 8 or 10 digits: HS, CN or TARIC)` };
  }
  const chapter = Number(digits.slice(0, 2));
  if (chapter < 1 || chapter > 97 || chapter === 77) {
    return { ok: false, rule: 'hs_chapter', message: `"${input}" does not start with a Harmonized System chapter (01–97, not 77)` };
  }
  return { ok: true, value: digits };
}

/** The schemes an operator identifier may be in. */
export type OperatorScheme = 'eori' | 'gln';

/**
 * An operator identifier: an EORI number (an ISO country code, two letters, then up to 15 letters or
 * digits: `DE1234567890123`) or a GLN (13 digits with a valid check digit). Spaces and hyphens are
 * dropped and letters upper-cased.
 */
export function parseOperatorId(input: string): Parsed & { scheme?: OperatorScheme } {
  const compact = input.replace(/[\s-]/g, '').toUpperCase();
  if (/^\d+$/.test(compact)) {
    const gln = parseGln(compact);
    return gln.ok ? { ...gln, scheme: 'gln' } : gln;
  }
  if (/^[A-Z]{2}[A-Z0-9]{1,15}$/.test(compact)) return { ok: true, value: compact, scheme: 'eori' };
  return {
    ok: false,
    rule: 'eori_or_gln',
    message: `"${input}" is neither an EORI number (two-letter country code and up to 15 letters or digits) nor a GLN (13 digits)`,
  };
}

/** The scheme of a stored (canonical) operator identifier. */
export function operatorScheme(operatorId: string): OperatorScheme {
  return /^\d{13}$/.test(operatorId) ? 'gln' : 'eori';
}
