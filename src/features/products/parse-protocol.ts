import type { PreparedBatch } from './prepare-rows.js';

/** Batches the parse worker may send ahead of the writer: enough to overlap, little memory. */
export const PARSE_WINDOW = 2;

export type ToParser = { type: 'chunk'; data: ArrayBuffer } | { type: 'end' } | { type: 'ack' };
export type FromParser = { type: 'need' } | { type: 'rows'; batch: PreparedBatch } | { type: 'done' } | { type: 'error'; message: string };
