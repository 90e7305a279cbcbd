import { DEFAULT_OCR_MEMORY_MB, DEFAULT_OCR_TIMEOUT_MS, OcrEngine, type OcrEngineOptions } from './engine.js';
import type { OcrLanguage } from './languages.js';

/**
 * Keeps one started OCR engine between calls of `ocrImages` / `ocrPdf` (their `warm` option), so
 * that a long-lived extraction worker pays tesseract's start (about 1 s: the WebAssembly core and
 * the language data) once instead of once per document. At most one engine is kept: memory stays
 * bounded by that engine's `maxMemoryMb` (its WebAssembly memory never shrinks, so the worker that
 * owns this is recycled after a number of jobs; see `ExtractionPool`).
 *
 * An engine is handed out to one call at a time; after the call it comes back with `release`. It
 * is kept only if it is still usable (a timeout, a memory-limit stop or a tesseract abort closes
 * it); a call with other languages, memory cap or page segmentation mode starts a new engine and
 * the old one is closed. Each use gets the time limit of its call, counted from `acquire`.
 */
export class WarmOcrEngine {
  private idle: { engine: OcrEngine; key: string } | undefined;
  private closed = false;
  /** Engines started (for tests and diagnostics). */
  started = 0;

  /** A usable engine with these settings: the idle one when it matches, else a new one. */
  async acquire(langs: readonly OcrLanguage[], options: OcrEngineOptions = {}): Promise<OcrEngine> {
    const key = keyOf(langs, options);
    const idle = this.idle;
    this.idle = undefined;
    if (idle && idle.key === key && idle.engine.usable) {
      try {
        await idle.engine.reuse(options.timeoutMs ?? DEFAULT_OCR_TIMEOUT_MS);
        return idle.engine;
      } catch {
        await idle.engine.close();
      }
    } else if (idle) {
      await idle.engine.close();
    }
    this.started++;
    return OcrEngine.start(langs, options);
  }

  /** Gives the engine back after a call: kept (paused) for the next one if still usable, else closed. */
  async release(engine: OcrEngine, langs: readonly OcrLanguage[], options: OcrEngineOptions = {}): Promise<void> {
    if (this.closed || !engine.usable || this.idle) {
      await engine.close();
      return;
    }
    engine.pause();
    this.idle = { engine, key: keyOf(langs, options) };
  }

  /** Closes the idle engine; later releases close theirs. */
  async close(): Promise<void> {
    this.closed = true;
    const idle = this.idle;
    this.idle = undefined;
    await idle?.engine.close();
  }
}

function keyOf(langs: readonly OcrLanguage[], options: OcrEngineOptions): string {
  return JSON.stringify([langs, options.maxMemoryMb ?? DEFAULT_OCR_MEMORY_MB, options.pageSegMode ?? 3]);
}
