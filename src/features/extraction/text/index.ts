export { extractText } from './extract-text.js';
export { extractTextIsolated, type IsolationOptions } from './isolated.js';
export { mediaTypeFromFileName, parseMediaType, DOCX, HTML, JPEG, MARKDOWN, PDF, PLAIN, PNG } from './media-types.js';
export {
  DEFAULT_TEXT_LIMITS,
  ExtractionFailure,
  type ExtractionFailureReason,
  type OcrSettings,
  type TextDocument,
  type TextLimits,
} from './types.js';
