import { createInterface } from 'node:readline';
import { finished, type Readable } from 'node:stream';
import { parse } from 'csv-parse';

/** One input row: its line number in the file, and either its fields or why it could not be read. */
export type SourceRow = { line: number; record: Record<string, unknown>; size?: number } | { line: number; error: string };

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

/** Parsed records (or bytes of them) waiting for the consumer before the input is paused. */
const QUEUE_HIGH_WATER = 1000;
const QUEUE_HIGH_WATER_BYTES = 2 * 1024 * 1024;
/** Input is handed to the parser in slices of this size, so a huge chunk is not parsed all at once. */
const SLICE_BYTES = 64 * 1024;

/**
 * CSV with a header row. The delimiter (comma, semicolon as written by European spreadsheets, or tab)
 * is taken from the header line. Header names are trimmed and lower-cased.
 *
 * Records are taken from csv-parse's `on_record` hook, as each is parsed, not from its readable side:
 * on a parse error the stream would drop the records it had parsed but not yet handed out, and the
 * rows before a broken line must still be imported. Back-pressure pauses the input instead.
 */
async function* readCsv(stream: Readable): AsyncIterable<SourceRow> {
  const queue: SourceRow[] = [];
  let queuedBytes = 0;
  let ended = false;
  let failure: (Error & { code?: string; lines?: number }) | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const fail = (e: Error) => {
    failure ??= e;
    notify();
  };
  // `finished` also reports an error or a premature close that happened before this line.
  finished(stream, (e) => e && fail(e));
  const head = await readFirstLine(stream);
  let bytesBefore = 0;
  const parser = parse({
    bom: true,
    columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
    delimiter: head.delimiter,
    relax_column_count: true,
    // A stray quote inside a field (`TV 55" screen`) is kept as text rather than ending the import.
    relax_quotes: true,
    skip_empty_lines: true,
    on_record: (record: Record<string, string>, context) => {
      const size = context.bytes - bytesBefore;
      queue.push({ line: context.lines, record, size });
      queuedBytes += size;
      bytesBefore = context.bytes;
      return null; // nothing goes to the parser's readable side
    },
  });
  parser.on('error', fail);
  parser.on('end', () => {
    ended = true;
    notify();
  });
  parser.resume(); // its readable side stays empty; flowing lets 'end' fire
  // The input goes to the parser slice by slice while the queue is below its high-water mark; the rest
  // of a chunk waits, and the input is paused, until the consumer has taken rows.
  let pending: Buffer | undefined = head.bytes.length ? head.bytes : undefined;
  let sourceEnded = head.ended;
  const full = () => queue.length >= QUEUE_HIGH_WATER || queuedBytes >= QUEUE_HIGH_WATER_BYTES;
  const feed = () => {
    while (pending && !full() && !failure) {
      parser.write(pending.subarray(0, SLICE_BYTES));
      pending = pending.length > SLICE_BYTES ? pending.subarray(SLICE_BYTES) : undefined;
    }
    if (pending || full()) stream.pause();
    else if (sourceEnded) {
      sourceEnded = false;
      parser.end();
    } else if (stream.isPaused()) stream.resume();
  };
  if (!head.ended) {
    stream.on('data', (chunk: Buffer | string) => {
      pending = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      try {
        feed();
      } catch (e) {
        fail(e as Error);
      }
      notify();
    });
    stream.on('end', () => {
      sourceEnded = true;
      feed();
    });
  }

  let line = 1;
  for (;;) {
    const item = queue.shift();
    if (item) {
      line = item.line;
      queuedBytes -= ('size' in item ? item.size : 0) ?? 0;
      yield item;
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
    try {
      feed(); // may parse more at once (the rest of a chunk), or set ended or failure
    } catch (e) {
      fail(e as Error);
    }
    if (queue.length || failure || ended) continue;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

/**
 * Reads until the first line ends (or the input does), and picks the delimiter that occurs most in
 * that line. Returns the bytes read, to be parsed first, and whether that was the whole input: a body
 * with no newline at all (empty, or a lone header) ends here, and its 'end' event has already passed.
 */
async function readFirstLine(stream: Readable): Promise<{ delimiter: string; bytes: Buffer; ended: boolean }> {
  let head = '';
  const chunks: Buffer[] = [];
  let ended = false;
  for (;;) {
    const chunk: Buffer | string | null = stream.read(); // a string from an object-mode stream
    if (chunk === null) {
      if (stream.errored) throw stream.errored;
      if (stream.readableEnded || stream.destroyed) {
        ended = true;
        break;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('readable', done);
          stream.off('end', done);
          stream.off('close', done);
          stream.off('error', done);
          resolve();
        };
        stream.once('readable', done);
        stream.once('end', done);
        stream.once('close', done);
        stream.once('error', done);
      });
      continue;
    }
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    // Only the start of a chunk: a chunk may be the whole (large) file.
    head += typeof chunk === 'string' ? chunk.slice(0, 65_536) : chunk.subarray(0, 65_536).toString('utf8');
    if (head.includes('\n') || head.length > 65_536) break;
  }
  const firstLine = head.split('\n', 1)[0] ?? '';
  const counts = [',', ';', '\t'].map((d) => [d, firstLine.split(d).length - 1] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return { delimiter: counts[0]![1] > 0 ? counts[0]![0] : ',', bytes: Buffer.concat(chunks), ended };
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
    yield { line, record: value as Record<string, unknown>, size: text.length };
  }
}
