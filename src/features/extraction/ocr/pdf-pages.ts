import { getDocumentProxy, getResolvedPDFJS } from 'unpdf';
import { ExtractionFailure, asExtractionFailure } from '../text/types.js';

/**
 * Scanned PDF pages as greyscale bitmaps, without a canvas: a scan is one or more images drawn on
 * the page (one JPEG per page, or strips or tiles of one), so the page's operator list is walked
 * for its image-drawing operators, each image is taken decoded from pdf.js (`page.objs`: JPEG,
 * Flate, CCITT, JBIG2 and JPX all come out as bitmaps) and drawn into one page bitmap at its place,
 * following the transformation matrices (scaling, translation, rotation, page /Rotate). Vector
 * graphics and text are not drawn: a page with text has a text layer and needs no OCR.
 */

export interface GrayBitmap {
  width: number;
  height: number;
  /** One byte per pixel, 0 black … 255 white, rows top to bottom. */
  data: Uint8Array;
}

export interface PageRenderOptions {
  /**
   * Lowest resolution a page is drawn at. Pages are otherwise drawn at the resolution of their
   * sharpest image: upsampling a 150 dpi scan to 300 dpi made tesseract lose a whole table of the
   * corpus scan, while the native 150 dpi read it all.
   */
  minDpi?: number;
  /** Upper bound on the resolution, whatever the images' own. */
  maxDpi?: number;
  /** Upper bound on the pixels of one page bitmap (the resolution is lowered to fit). */
  maxPagePixels?: number;
  /** Images with more pixels than this are skipped (pass the same cap to `openPdf`, which keeps pdf.js from decoding them). */
  maxImagePixels?: number;
}

const DEFAULTS: Required<PageRenderOptions> = {
  minDpi: 150,
  maxDpi: 400,
  maxPagePixels: 40_000_000,
  maxImagePixels: 100_000_000,
};

type Matrix = [number, number, number, number, number, number];
const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

/** m1 · m2 in pdf.js's convention: the point goes through m2 first, then m1. */
function multiply(m1: readonly number[], m2: readonly number[]): Matrix {
  const [a1 = 1, b1 = 0, c1 = 0, d1 = 1, e1 = 0, f1 = 0] = m1;
  const [a2 = 1, b2 = 0, c2 = 0, d2 = 1, e2 = 0, f2 = 0] = m2;
  return [a1 * a2 + c1 * b2, b1 * a2 + d1 * b2, a1 * c2 + c1 * d2, b1 * c2 + d1 * d2, a1 * e2 + c1 * f2 + e1, b1 * e2 + d1 * f2 + f1];
}

/** What pdf.js hands over for a decoded image (`kind` 1: 1 bit grey, 2: RGB, 3: RGBA). */
interface PdfJsImage {
  width?: number;
  height?: number;
  kind?: number;
  /** The pixels; for an image mask, pdf.js may instead give the id of an object that holds them. */
  data?: Uint8Array | Uint8ClampedArray | string | null;
}

/** An image to draw: the source (an id in `page.objs`, or inline data) and the CTM it is drawn with. */
interface Placement {
  source: string | PdfJsImage;
  mask: boolean;
  ctm: Matrix;
}

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;
type PdfPage = Awaited<ReturnType<PdfDocument['getPage']>>;

/**
 * Opens a PDF for `renderPdfPage`; destroy it with `pdf.destroy()`. pdf.js decodes no image of
 * more than `maxImagePixels` pixels (such an image is left out of the page).
 */
export async function openPdf(bytes: Uint8Array, maxImagePixels = DEFAULTS.maxImagePixels): Promise<PdfDocument> {
  // pdf.js takes ownership of the buffer it is given: hand it a copy.
  const options = { verbosity: 0, isEvalSupported: false, stopAtErrors: false, maxImageSize: maxImagePixels };
  return getDocumentProxy(new Uint8Array(bytes), options).catch((error: unknown) => {
    throw asExtractionFailure(error, 'PDF');
  });
}

/** Page `n` (1-based) as a greyscale bitmap, or undefined when the page draws no image. */
export async function renderPdfPage(pdf: PdfDocument, n: number, options: PageRenderOptions = {}): Promise<GrayBitmap | undefined> {
  const o = { ...DEFAULTS, ...options };
  const page = await pdf.getPage(n);
  try {
    const placements = await imagePlacements(page);
    if (placements.length === 0) return undefined;
    const images = await Promise.all(placements.map((p) => resolveImage(page, p.source)));
    // Resolution: that of the sharpest image, at least minDpi, at most maxDpi and maxPagePixels.
    let scale = o.minDpi / 72;
    placements.forEach((p, i) => {
      const img = images[i];
      if (!img?.width || !img.height) return;
      const [a, b, c, d] = p.ctm;
      scale = Math.max(scale, img.width / Math.max(1e-6, Math.hypot(a, b)), img.height / Math.max(1e-6, Math.hypot(c, d)));
    });
    scale = Math.min(scale, o.maxDpi / 72);
    const unit = page.getViewport({ scale: 1 });
    scale = Math.min(scale, Math.sqrt(o.maxPagePixels / Math.max(1, unit.width * unit.height)));
    const viewport = page.getViewport({ scale });
    const width = Math.max(1, Math.round(viewport.width));
    const height = Math.max(1, Math.round(viewport.height));
    const out: GrayBitmap = { width, height, data: new Uint8Array(width * height).fill(255) };
    let drawn = 0;
    placements.forEach((p, i) => {
      const img = images[i];
      if (!img?.width || !img.height || img.width * img.height > o.maxImagePixels) return;
      const gray = toGray(img, p.mask);
      if (!gray) return;
      drawImage(out, gray, multiply(viewport.transform, p.ctm));
      drawn++;
    });
    return drawn ? out : undefined;
  } finally {
    page.cleanup();
  }
}

/** The images a page draws, with their CTMs in PDF user space, in drawing order. */
async function imagePlacements(page: PdfPage): Promise<Placement[]> {
  const { OPS } = await getResolvedPDFJS();
  const list = await page.getOperatorList();
  const placements: Placement[] = [];
  const stack: Matrix[] = [];
  let ctm: Matrix = IDENTITY;
  for (let i = 0; i < list.fnArray.length; i++) {
    const op = list.fnArray[i];
    const args = (list.argsArray[i] ?? []) as unknown[];
    switch (op) {
      case OPS.save:
        stack.push(ctm);
        break;
      case OPS.restore:
        ctm = stack.pop() ?? ctm;
        break;
      case OPS.transform:
        ctm = multiply(ctm, args as number[]);
        break;
      case OPS.paintFormXObjectBegin:
        stack.push(ctm);
        if (Array.isArray(args[0]) || ArrayBuffer.isView(args[0])) ctm = multiply(ctm, Array.from(args[0] as ArrayLike<number>));
        break;
      case OPS.paintFormXObjectEnd:
        ctm = stack.pop() ?? ctm;
        break;
      case OPS.paintImageXObject:
        if (typeof args[0] === 'string') placements.push({ source: args[0], mask: false, ctm });
        break;
      case OPS.paintInlineImageXObject:
        if (args[0] && typeof args[0] === 'object') placements.push({ source: args[0] as PdfJsImage, mask: false, ctm });
        break;
      case OPS.paintImageMaskXObject:
        if (args[0] && typeof args[0] === 'object') placements.push({ source: args[0] as PdfJsImage, mask: true, ctm });
        break;
      case OPS.paintImageXObjectRepeat: {
        // [objId, scaleX, scaleY, positions]: the same image drawn at several places.
        const [id, sx, sy, positions] = args as [string, number, number, ArrayLike<number>];
        for (let k = 0; k + 1 < (positions?.length ?? 0); k += 2) {
          placements.push({ source: id, mask: false, ctm: multiply(ctm, [sx, 0, 0, sy, positions[k]!, positions[k + 1]!]) });
        }
        break;
      }
      case OPS.paintImageMaskXObjectGroup: {
        const group = (args[0] ?? []) as (PdfJsImage & { transform?: number[] })[];
        for (const img of group) placements.push({ source: img, mask: true, ctm: multiply(ctm, img.transform ?? IDENTITY) });
        break;
      }
    }
  }
  return placements;
}

/** The decoded image behind an id (`g_…` ids live in the document-wide objects), or behind a mask's `data` id. */
async function resolveImage(page: PdfPage, source: string | PdfJsImage): Promise<PdfJsImage | undefined> {
  if (typeof source !== 'string') {
    if (typeof source.data !== 'string') return source;
    const held = await resolveObject(page, source.data);
    return held && { ...source, ...held, data: held.data };
  }
  return resolveObject(page, source);
}

function resolveObject(page: PdfPage, id: string): Promise<PdfJsImage | undefined> {
  const objs = id.startsWith('g_') ? page.commonObjs : page.objs;
  return new Promise((resolve) => {
    try {
      objs.get(id, (img: unknown) => resolve((img ?? undefined) as PdfJsImage | undefined));
    } catch {
      resolve(undefined);
    }
  });
}

interface GrayImage {
  width: number;
  height: number;
  gray: Uint8Array;
  /** Coverage 0–255 per pixel; absent when the image is opaque. */
  alpha?: Uint8Array;
}

/** pdf.js image data as grey levels (ITU-R BT.601 luma), with coverage for RGBA images and masks. */
function toGray(img: PdfJsImage, mask: boolean): GrayImage | undefined {
  const { width = 0, height = 0, data } = img;
  if (!data || typeof data === 'string' || width < 1 || height < 1) return undefined;
  const n = width * height;
  const gray = new Uint8Array(n);
  const rowBytes = (width + 7) >> 3;
  if (mask || img.kind === 1) {
    // Packed bits, rows padded to bytes. Image masks: a 0 bit is painted (in the fill colour,
    // taken as black) and a 1 bit is left transparent; 1-bit images: 1 is white.
    if (data.length < rowBytes * height) return undefined;
    const alpha = mask ? new Uint8Array(n) : undefined;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = (data[y * rowBytes + (x >> 3)]! >> (7 - (x & 7))) & 1;
        if (alpha) alpha[y * width + x] = bit ? 0 : 255;
        else gray[y * width + x] = bit ? 255 : 0;
      }
    }
    return alpha ? { width, height, gray, alpha } : { width, height, gray };
  }
  const channels = data.length / n;
  if (channels === 1) return { width, height, gray: Uint8Array.from(data) };
  if (channels !== 3 && channels !== 4) return undefined;
  const alpha = channels === 4 ? new Uint8Array(n) : undefined;
  for (let i = 0, j = 0; i < n; i++, j += channels) {
    gray[i] = (data[j]! * 299 + data[j + 1]! * 587 + data[j + 2]! * 114 + 500) / 1000;
    if (alpha) alpha[i] = data[j + 3]!;
  }
  return alpha ? { width, height, gray, alpha } : { width, height, gray };
}

/**
 * Draws `img` into `out` through `m`, which maps the image's unit square (PDF image space: the
 * first row at the top, y = 1) to bitmap pixels. Each covered output pixel is mapped back into the
 * image and sampled bilinearly.
 */
function drawImage(out: GrayBitmap, img: GrayImage, m: Matrix): void {
  const [a, b, c, d, e, f] = m;
  const det = a * d - b * c;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-9) return;
  // Bounding box of the unit square in the output.
  const xs = [e, a + e, c + e, a + c + e];
  const ys = [f, b + f, d + f, b + d + f];
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const x1 = Math.min(out.width, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const y1 = Math.min(out.height, Math.ceil(Math.max(...ys)));
  // Inverse of m: output (X, Y) → unit square (u, v).
  const ia = d / det;
  const ib = -b / det;
  const ic = -c / det;
  const id = a / det;
  const { width: w, height: h, gray, alpha } = img;
  for (let Y = y0; Y < y1; Y++) {
    const py = Y + 0.5;
    for (let X = x0; X < x1; X++) {
      const px = X + 0.5;
      const u = ia * (px - e) + ic * (py - f);
      const v = ib * (px - e) + id * (py - f);
      if (u < 0 || u >= 1 || v <= 0 || v > 1) continue;
      // Continuous pixel coordinates, pixel centres at .5.
      const sx = Math.min(w - 1, Math.max(0, u * w - 0.5));
      const sy = Math.min(h - 1, Math.max(0, (1 - v) * h - 0.5));
      const ix = Math.floor(sx);
      const iy = Math.floor(sy);
      const fx = sx - ix;
      const fy = sy - iy;
      const ix1 = Math.min(w - 1, ix + 1);
      const iy1 = Math.min(h - 1, iy + 1);
      const r0 = iy * w;
      const r1 = iy1 * w;
      const top = gray[r0 + ix]! + (gray[r0 + ix1]! - gray[r0 + ix]!) * fx;
      const bottom = gray[r1 + ix]! + (gray[r1 + ix1]! - gray[r1 + ix]!) * fx;
      const value = top + (bottom - top) * fy;
      const o = Y * out.width + X;
      if (alpha) {
        const at = alpha[r0 + ix]! + (alpha[r0 + ix1]! - alpha[r0 + ix]!) * fx;
        const ab = alpha[r1 + ix]! + (alpha[r1 + ix1]! - alpha[r1 + ix]!) * fx;
        const cover = (at + (ab - at) * fy) / 255;
        out.data[o] = Math.round(out.data[o]! * (1 - cover) + value * cover);
      } else {
        out.data[o] = Math.round(value);
      }
    }
  }
}

/** A greyscale bitmap as a binary PGM (P5) file, a format tesseract's image reader (Leptonica) takes as is. */
export function toPgm(bitmap: GrayBitmap): Uint8Array {
  const header = Buffer.from(`P5\n${bitmap.width} ${bitmap.height}\n255\n`, 'latin1');
  const file = new Uint8Array(header.length + bitmap.data.length);
  file.set(header, 0);
  file.set(bitmap.data, header.length);
  return file;
}

/** Refuses a PDF without pages, or with more than `maxPages`, before any page is drawn. */
export function checkPageCount(pdf: PdfDocument, maxPages: number): void {
  if (pdf.numPages < 1) throw new ExtractionFailure('invalid_file', 'PDF: the document has no pages');
  if (pdf.numPages > maxPages) throw new ExtractionFailure('too_large', `PDF: ${pdf.numPages} pages (at most ${maxPages})`);
}
