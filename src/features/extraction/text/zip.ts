import { inflateRawSync } from 'node:zlib';
import { ExtractionFailure } from './types.js';

/**
 * A minimal, defensive ZIP reader for DOCX: reads the central directory, and inflates only the
 * entries asked for, with one budget of decompressed bytes for all of them (zlib stops at the cap,
 * so a zip bomb costs at most the budget). No ZIP64, no encryption: DOCX files do not need them.
 */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const MAX_ENTRIES = 10_000;

function invalid(message: string): ExtractionFailure {
  return new ExtractionFailure('invalid_file', `DOCX: ${message}`);
}

export class ZipReader {
  private readonly view: DataView;
  readonly entries: Map<string, ZipEntry>;
  private budget: number;

  constructor(
    private readonly bytes: Uint8Array,
    maxDecompressedBytes: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.budget = maxDecompressedBytes;
    this.entries = this.readCentralDirectory();
  }

  private u16(offset: number): number {
    if (offset + 2 > this.bytes.length) throw invalid('truncated archive');
    return this.view.getUint16(offset, true);
  }

  private u32(offset: number): number {
    if (offset + 4 > this.bytes.length) throw invalid('truncated archive');
    return this.view.getUint32(offset, true);
  }

  private findEndOfCentralDirectory(): number {
    const stop = Math.max(0, this.bytes.length - 22 - 0xffff);
    for (let i = this.bytes.length - 22; i >= stop; i--) if (this.view.getUint32(i, true) === EOCD_SIGNATURE) return i;
    throw invalid('not a ZIP archive (no end of central directory)');
  }

  private readCentralDirectory(): Map<string, ZipEntry> {
    if (this.bytes.length < 22) throw invalid('not a ZIP archive (too short)');
    const eocd = this.findEndOfCentralDirectory();
    const count = this.u16(eocd + 10);
    let offset = this.u32(eocd + 16);
    if (count === 0xffff || offset === 0xffffffff) throw invalid('ZIP64 archives are not supported');
    if (count > MAX_ENTRIES) throw new ExtractionFailure('too_large', `DOCX: ${count} entries (at most ${MAX_ENTRIES})`);
    const entries = new Map<string, ZipEntry>();
    const names = new TextDecoder('utf-8');
    for (let i = 0; i < count; i++) {
      if (this.u32(offset) !== CENTRAL_SIGNATURE) throw invalid('corrupt central directory');
      const nameLength = this.u16(offset + 28);
      const end = offset + 46 + nameLength;
      if (end > this.bytes.length) throw invalid('truncated central directory');
      const name = names.decode(this.bytes.subarray(offset + 46, end));
      entries.set(name, {
        name,
        method: this.u16(offset + 10),
        compressedSize: this.u32(offset + 20),
        uncompressedSize: this.u32(offset + 24),
        localHeaderOffset: this.u32(offset + 42),
      });
      offset = end + this.u16(offset + 30) + this.u16(offset + 32);
    }
    return entries;
  }

  /** The entry's bytes, decompressed; throws `too_large` when the shared budget runs out. */
  read(name: string): Uint8Array | undefined {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    const local = entry.localHeaderOffset;
    if (this.u32(local) !== LOCAL_SIGNATURE) throw invalid(`corrupt local header of ${name}`);
    const start = local + 30 + this.u16(local + 26) + this.u16(local + 28);
    const end = start + entry.compressedSize;
    if (end > this.bytes.length) throw invalid(`${name} is truncated`);
    const data = this.bytes.subarray(start, end);
    const tooLarge = () => new ExtractionFailure('too_large', `DOCX: decompressed content exceeds the limit of ${this.budget} bytes left (zip bomb?)`);
    let out: Uint8Array;
    if (entry.method === 0) {
      out = data;
    } else if (entry.method === 8) {
      try {
        out = inflateRawSync(data, { maxOutputLength: Math.max(1, this.budget) });
      } catch (error) {
        if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
        throw invalid(`${name}: ${(error as Error).message}`);
      }
    } else {
      throw invalid(`${name}: compression method ${entry.method} is not supported`);
    }
    if (out.length > this.budget) throw tooLarge();
    this.budget -= out.length;
    return out;
  }
}
