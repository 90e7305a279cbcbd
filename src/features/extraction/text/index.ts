export { extractText } from './extract-text.js';
export { extractTextIsolated, type IsolationOptions } from './isolated.js';
export {
  ExtractionPool,
  ExtractionPoolBusyError,
  ExtractionPoolClosedError,
  defaultExtractionWorkers,
  type ExtractionPoolOptions,
  type PoolJobOptions,
  type PoolRun,
  type PoolStats,
} from './pool.js';
export { mediaTypeFromFileName, parseMediaType, DOCX, HTML, JPEG, MARKDOWN, PDF, PLAIN, PNG } from './media-types.js';
export { DEFAULT_TEXT_LIMITS, ExtractionFailure, type ExtractionFailureReason, type OcrSettings, type TextDocument, type TextLimits } from './types.js';
