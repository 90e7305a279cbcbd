import { parseGtin } from '../../lib/gtin.js';

/**
 * The URI a passport is reached at, and that its QR code encodes: a GS1 Digital Link
 * `{base}/01/{GTIN-14}` when the product has a GTIN with a valid check digit, else `{base}/dpp/{id}`.
 */
export function passportUri(baseUrl: string, productId: string, gtin14: string | null): string {
  return gtin14 ? `${baseUrl}/01/${gtin14}` : `${baseUrl}/dpp/${productId}`;
}

/** The GTIN-14 to publish for a product: only when its check digit is valid. */
export function publishableGtin(gtin14: string | null, valid: boolean | null): string | null {
  return gtin14 && valid ? gtin14 : null;
}

/**
 * Reads the GTIN of a Digital Link path segment: exactly 14 digits with a valid check digit
 * (GS1 Digital Link always writes GTINs as 14 digits after /01/).
 */
export function gtinFromDigitalLink(segment: string): string | undefined {
  if (!/^\d{14}$/.test(segment)) return undefined;
  return parseGtin(segment)?.valid ? segment : undefined;
}
