export { extractText } from './extract-text.js';
export { extractTextIsolated, type IsolationOptions } from './isolated.js';
export { mediaTypeFromFileName, parseMediaType, DOCX, HTML, MARKDOWN, PDF, PLAIN } from './media-types.js';
export { DEFAULT_TEXT_LIMITS, ExtractionFailure, type ExtractionFailureReason, type TextDocument, type TextLimits } from './types.js';
