import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';

/** One input row: its line number in the file, and either its fields or why it could not be read. */
export type SourceRow = { line: number; record: Record<string, unknown> } | { line: number; error: string };

export type ImportFormat = 'csv' | 'ndjson';

/** Picks the import format from a media type or a file name. */
export function formatFrom(mediaTypeOrName: string): ImportFormat | undefined {
  const s = mediaTypeOrName.toLowerCase();
  if (/(^|\/|\.)(csv)\b/.test(s) || s.startsWith('text/csv')) return 'csv';
  if (/ndjson|jsonl|x-ndjson|json-seq/.test(s)) return 'ndjson';
  return undefined;
}

export function readRows(stream: Readable, format: ImportFormat): AsyncIterable<SourceRow> {
  return format === 'csv' ? readCsv(stream) : readNdjson(stream);
}

/**
 * CSV with a header row. The delimiter (comma, semicolon as written by European spreadsheets, or tab)
 * is taken from the header line. Header names are trimmed and lower-cased.
 */
async function* readCsv(stream: Readable): AsyncIterable<SourceRow> {
  const parser = parse({
    bom: true,
    columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
    delimiter: await sniffDelimiter(stream),
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
  });
  stream.on('error', (e) => parser.destroy(e));
  stream.pipe(parser);
  // Records are taken from 'data' events, not the async iterator: on a parse error the iterator
  // drops the records already parsed but not yet read, and those rows must still be imported.
  const queue: Array<{ record: Record<string, string>; info: { lines: number } }> = [];
  let ended = false;
  let failure: (Error & { code?: string; lines?: number }) | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  parser.on('data', (item) => {
    queue.push(item);
    if (queue.length >= 1000) parser.pause();
    notify();
  });
  parser.on('end', () => {
    ended = true;
    notify();
  });
  parser.on('error', (e) => {
    failure = e;
    notify();
  });
  let line = 1;
  for (;;) {
    const item = queue.shift();
    if (item) {
      line = item.info.lines;
      yield { line, record: item.record };
      continue;
    }
    if (failure) {
      // A CSV that cannot be parsed further (an unclosed quote, say) ends the import with that reason;
      // the rows before it have been read and are kept.
      if (failure.code?.startsWith('CSV_')) {
        yield { line: failure.lines ?? line + 1, error: `unreadable CSV from here on: ${failure.message}` };
        return;
      }
      throw failure;
    }
    if (ended) return;
    parser.resume();
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

/** Reads until the first line ends, picks the delimiter that occurs most in it, and puts the bytes back. */
async function sniffDelimiter(stream: Readable): Promise<string> {
  let head = '';
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk: Buffer | null = stream.read();
    if (chunk === null) {
      if (stream.readableEnded || stream.destroyed) break;
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('readable', done);
          stream.off('end', done);
          stream.off('error', done);
          resolve();
        };
        stream.once('readable', done);
        stream.once('end', done);
        stream.once('error', done);
      });
      continue;
    }
    chunks.push(chunk);
    head += chunk.toString('utf8');
    if (head.includes('\n') || head.length > 65_536) break;
  }
  for (let i = chunks.length - 1; i >= 0; i--) stream.unshift(chunks[i]!);
  const firstLine = head.split('\n', 1)[0] ?? '';
  const counts = [',', ';', '\t'].map((d) => [d, firstLine.split(d).length - 1] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0]![1] > 0 ? counts[0]![0] : ',';
}

/** One JSON object per line; blank lines are skipped but still counted. */
async function* readNdjson(stream: Readable): AsyncIterable<SourceRow> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      yield { line, error: `not valid JSON: ${(e as Error).message}` };
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { line, error: 'each line must be a JSON object' };
      continue;
    }
    yield { line, record: value as Record<string, unknown> };
  }
}
