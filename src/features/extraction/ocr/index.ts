export { ocrImages, ocrPdf, imageSize, type OcrOptions, type PdfOcrOptions } from './ocr.js';
export { OcrEngine, DEFAULT_OCR_MEMORY_MB, DEFAULT_OCR_TIMEOUT_MS, type OcrEngineOptions } from './engine.js';
export { DEFAULT_OCR_LANGUAGES, OCR_LANGUAGES, type OcrLanguage } from './languages.js';
export { openPdf, renderPdfPage, toPgm, type GrayBitmap, type PageRenderOptions } from './pdf-pages.js';
export { WarmOcrEngine } from './warm.js';
