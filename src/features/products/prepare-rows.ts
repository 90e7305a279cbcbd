import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { AppError } from '../../errors.js';
import { MAX_JSON_DEPTH, tooDeepAt } from '../../lib/json-depth.js';
import { textProblemAt } from '../../lib/text.js';
import { readRows, type ImportFormat, type SourceRow } from './row-sources.js';
import { gtinColumns } from './service.js';

const MAX_TEXT = { title: 1000, external_id: 200, brand: 300, category: 300, description: 100_000 } as const;

/** Column aliases accepted in files, mapped to catalog fields; any other column goes to `attributes`. */
const ALIASES: Record<string, keyof typeof MAX_TEXT | 'ean' | 'attributes'> = {
  title: 'title',
  name: 'title',
  product_name: 'title',
  ean: 'ean',
  gtin: 'ean',
  upc: 'ean',
  external_id: 'external_id',
  sku: 'external_id',
  brand: 'brand',
  manufacturer: 'brand',
  category: 'category',
  description: 'description',
  attributes: 'attributes',
};

export interface RowFields {
  title?: string;
  ean?: string;
  external_id?: string;
  brand?: string;
  category?: string;
  description?: string;
  attributes: Record<string, unknown>;
}

/** One input row checked and mapped to catalog columns, or the reason it cannot be imported. */
export type PreparedRow = { line: number; fields: RowFields; gtin: ReturnType<typeof gtinColumns> } | { line: number; error: string; field?: string };

class RowError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Maps one input record to catalog fields. Empty cells and nulls mean "not given". */
function fieldsOf(record: Record<string, unknown>): RowFields {
  const out: RowFields = { attributes: {} };
  for (const [rawKey, value] of Object.entries(record)) {
    if (value === null || value === undefined || value === '') continue;
    const key = rawKey.trim().toLowerCase();
    const field = ALIASES[key];
    if (!field) {
      out.attributes[rawKey.trim()] = value;
    } else if (field === 'attributes') {
      const parsed = typeof value === 'string' ? safeJson(value) : value;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new RowError('attributes', 'attributes must be a JSON object');
      Object.assign(out.attributes, parsed);
    } else {
      if (typeof value === 'object') throw new RowError(field, `${field} must be text`);
      const text = String(value).trim();
      if (field !== 'ean' && text.length > MAX_TEXT[field]) {
        throw new RowError(field, `${field} is longer than ${MAX_TEXT[field]} characters`);
      }
      if (text) out[field] = text;
    }
  }
  // Checked here, per line, before anything serialises the row: a line nested thousands of levels deep
  // is that line's failure, not the import's.
  const deep = tooDeepAt(out.attributes, MAX_JSON_DEPTH - 1);
  if (deep) throw new RowError('attributes', `attributes must not nest more than ${MAX_JSON_DEPTH} levels deep (at ${deep.slice(0, 80)})`);
  const { attributes, ...text } = out;
  const bad = textProblemAt(text) ?? textProblemAt(attributes, '/attributes');
  if (bad) throw new RowError(bad.path.split('/')[1]!, `${bad.path.slice(1, 80)} ${bad.message}`);
  return out;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Checks one source row: everything about a row that needs no database. */
function prepareRow(item: SourceRow): PreparedRow {
  if ('error' in item) return item;
  try {
    const fields = fieldsOf(item.record);
    return { line: item.line, fields, gtin: gtinColumns(fields.ean, 'ean') };
  } catch (e) {
    if (e instanceof RowError) return { line: item.line, error: e.message, field: e.field };
    if (e instanceof AppError) return { line: item.line, error: e.message, field: 'ean' };
    throw e;
  }
}

/** Where import rows come from: a stream (an HTTP body, stdin) or a file the reader opens itself. */
export type ImportSource = Readable | { path: string };

/** A batch of checked rows and how many bytes of the input were read to make it (when known). */
export interface PreparedBatch {
  rows: PreparedRow[];
  bytesRead?: number;
}

function openSource(source: ImportSource): Readable {
  return 'path' in source && typeof source.path === 'string' && !('pipe' in source) ? fs.createReadStream(source.path, { highWaterMark: 256 * 1024 }) : (source as Readable);
}

/**
 * A batch also ends once its rows came from this many bytes of input, so rows with long descriptions
 * or attributes cannot make a batch (and the parse worker's bounded heap) arbitrarily large.
 */
export const BATCH_MAX_BYTES = 4 * 1024 * 1024;

/** Reads, parses and checks rows on the calling thread, in batches of at most `batchSize` rows. */
export async function* prepareRows(source: ImportSource, format: ImportFormat, batchSize: number): AsyncIterable<PreparedBatch> {
  const stream = openSource(source);
  const bytesRead = () => (stream as Partial<fs.ReadStream>).bytesRead;
  let rows: PreparedRow[] = [];
  let bytes = 0;
  for await (const item of readRows(stream, format)) {
    rows.push(prepareRow(item));
    bytes += ('size' in item ? item.size : undefined) ?? 0;
    if (rows.length >= batchSize || bytes >= BATCH_MAX_BYTES) {
      yield { rows, bytesRead: bytesRead() };
      rows = [];
      bytes = 0;
    }
  }
  if (rows.length) yield { rows, bytesRead: bytesRead() };
}
