import QRCode from 'qrcode';

export type QrFormat = 'png' | 'svg';
export type QrEcc = 'L' | 'M' | 'Q' | 'H';

export interface QrOptions {
  format: QrFormat;
  /** Width of the image in pixels (PNG) or user units (SVG). */
  size: number;
  /** Quiet zone in modules; ISO/IEC 18004 asks for 4. */
  margin: number;
  ecc: QrEcc;
}

/** Encodes a URI as a QR code image: PNG bytes or SVG text. */
export async function renderQr(uri: string, options: QrOptions): Promise<Buffer | string> {
  const common = { errorCorrectionLevel: options.ecc, margin: options.margin, width: options.size };
  return options.format === 'svg'
    ? QRCode.toString(uri, { ...common, type: 'svg' })
    : QRCode.toBuffer(uri, { ...common, type: 'png' });
}
