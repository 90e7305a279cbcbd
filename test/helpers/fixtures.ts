import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';

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

// jsqr is CommonJS with a default export.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ?? jsQRModule) as unknown as typeof import('jsqr').default;

/** Decodes a QR code PNG with a real decoder. */
export function decodeQr(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
}
