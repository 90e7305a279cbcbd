/**
 * GTIN (EAN/UPC) handling: GTIN-8/12/13/14 digits, the GTIN-14 form, and the GS1 check digit.
 * A wrong check digit is not a parse failure: catalogs hold such codes and must import them,
 * but they are flagged and never used in a GS1 Digital Link.
 */

export interface ParsedGtin {
  /** Digits as given (separators removed). */
  digits: string;
  /** Left-padded to 14 digits. */
  gtin14: string;
  /** The last digit matches the GS1 mod-10 check digit. */
  valid: boolean;
}

const LENGTHS = new Set([8, 12, 13, 14]);

/** GS1 check digit of the data digits (all but the last): weights 3,1,3,1… from the right. */
export function gtinCheckDigit(dataDigits: string): number {
  let sum = 0;
  for (let i = dataDigits.length - 1, weight = 3; i >= 0; i--, weight = 4 - weight) {
    sum += (dataDigits.charCodeAt(i) - 48) * weight;
  }
  return (10 - (sum % 10)) % 10;
}

/**
 * Parses a GTIN; returns undefined when it is not 8, 12, 13 or 14 digits.
 *
 * @example
 * parseGtin('3760000000001') // { digits: '3760000000001', gtin14: '03760000000001', valid: false }
 */
export function parseGtin(input: string): ParsedGtin | undefined {
  const digits = input.replace(/[\s-]/g, '');
  if (!LENGTHS.has(digits.length) || !/^\d+$/.test(digits)) return undefined;
  const check = gtinCheckDigit(digits.slice(0, -1));
  return { digits, gtin14: digits.padStart(14, '0'), valid: check === digits.charCodeAt(digits.length - 1) - 48 };
}
