import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { gtinCheckDigit } from '../../src/lib/gtin.js';

/** A valid EAN-13: the 9-digit `prefix`, `n` on three digits, and its GS1 check digit. */
export function validEan(prefix: string, n: number): string {
  const data = `${prefix}${String(n).padStart(3, '0')}`;
  return `${data}${gtinCheckDigit(data)}`;
}

/** A complete passport, with a hostile manufacturer name that every output must escape. */
export const FULL_PASSPORT = {
  manufacturer: 'Ma Marque <script>alert(1)</script>',
  country_of_origin: 'FR',
  materials: [
    { name: 'Acier inoxydable', percentage: 80 },
    { name: 'Plastique recyclé', percentage: 20 },
  ],
  carbon_footprint_kg: 2.5,
  recyclability_score: 'A',
  certifications: ['CE', 'RoHS', 'Energy Star'],
  end_of_life_instructions: 'Recyclable via collecte sélective.',
};

/** A complete passport written as clients send it: lower-case codes the service normalises (FR, A, CE, RoHS). */
export const COMPLETE_PASSPORT = {
  manufacturer: 'Ma Marque',
  country_of_origin: 'fr',
  materials: [
    { name: 'Acier inoxydable', percentage: 80 },
    { name: 'Plastique recyclé', percentage: 20 },
  ],
  carbon_footprint_kg: 2.5,
  recyclability_score: 'a',
  certifications: ['ce', 'ROHS'],
  end_of_life_instructions: 'Recyclable via collecte sélective.',
};

// jsqr is CommonJS with a default export.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ?? jsQRModule) as unknown as typeof import('jsqr').default;

/** Decodes a QR code PNG with a real decoder. */
export function decodeQr(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
}

/** A multipart/form-data body with one file part (and optional text fields), for `inject`. */
export function multipartBody(file: { name: string; bytes: Buffer; type?: string }, fields: Record<string, string> = {}, fieldName = 'file') {
  const boundary = `----dpp${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${fieldName}"; filename="${file.name}"\r\nContent-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`,
    ),
    file.bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export const CORPUS = new URL('../../../shared/corpus/dev/docs/', import.meta.url);
