/**
 * Extraction benchmark over a directory of documents (default: the dev corpus): documents/s and
 * pages/s of text extraction (in process, and isolated in the warm worker pool) and of the rules
 * engine, and the same PDFs through poppler's `pdftotext` in the same run as the ceiling.
 *
 *   npx tsx bench/extraction.ts [--dir ../shared/corpus/dev/docs] [--rounds 5]
 *
 * The isolated line uses the compiled `dist/` when present (`npm run build`), since a worker started
 * from TypeScript spends most of its time compiling with tsx.
 *
 * Targets (printed as PASS/FAIL, exit code always 0): PDF text extraction within 3× of pdftotext's
 * time; the rules engine adds under 20 % to text extraction. pdftotext comes from Debian's
 * poppler-utils (`apt-get install -y poppler-utils`); without it that comparison is skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { extractWithRules } from '../src/features/extraction/rules/index.js';
import { ExtractionPool, extractText, extractTextIsolated, mediaTypeFromFileName, type TextDocument } from '../src/features/extraction/text/index.js';

interface Options {
  dir: string;
  rounds: number;
}

function parseArgs(argv: string[]): Options {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const opts: Options = { dir: path.resolve(here, '../../shared/corpus/dev/docs'), rounds: 5 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (flag === '--dir') opts.dir = path.resolve(value());
    else if (flag === '--rounds') opts.rounds = Math.max(1, Number(value()) || 1);
    else throw new Error(`unknown argument ${flag}`);
  }
  return opts;
}

interface Doc {
  file: string;
  bytes: Uint8Array;
  mediaType: string;
}

/** Median wall time (ms) of `rounds` runs of `fn` after one warm-up run. */
async function time(rounds: number, fn: () => Promise<void> | void): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const rate = (count: number, ms: number) => (ms > 0 ? ((count * 1000) / ms).toFixed(1) : '-');
const line = (label: string, ms: number, docs: number, pages: number) =>
  `${label.padEnd(34)} ${ms.toFixed(1).padStart(9)} ms   ${rate(docs, ms).padStart(7)} docs/s   ${rate(pages, ms).padStart(7)} pages/s`;

function hasPdftotext(): boolean {
  return spawnSync('pdftotext', ['-v'], { stdio: 'ignore' }).status === 0;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const docs: Doc[] = fs
    .readdirSync(opts.dir)
    .sort()
    .flatMap((file) => {
      const mediaType = mediaTypeFromFileName(file);
      return mediaType ? [{ file, bytes: new Uint8Array(fs.readFileSync(path.join(opts.dir, file))), mediaType }] : [];
    });
  const pdfs = docs.filter((d) => d.mediaType === 'application/pdf');
  const texts = new Map<string, TextDocument>();
  for (const d of docs) texts.set(d.file, await extractText(d.bytes, d.mediaType));
  const pagesOf = (list: Doc[]) => list.reduce((n, d) => n + texts.get(d.file)!.pages.length, 0);

  console.log(`${docs.length} documents (${pdfs.length} PDF, ${pagesOf(pdfs)} PDF pages) in ${opts.dir}; median of ${opts.rounds} rounds after a warm-up`);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  console.log('');

  const textAll = await time(opts.rounds, async () => {
    for (const d of docs) await extractText(d.bytes, d.mediaType);
  });
  const textPdf = await time(opts.rounds, async () => {
    for (const d of pdfs) await extractText(d.bytes, d.mediaType);
  });
  const rulesAll = await time(opts.rounds, () => {
    for (const d of docs) extractWithRules(texts.get(d.file)!);
  });
  // The worker started from TypeScript compiles its sources with tsx on every start; the compiled
  // build (npm run build) is what production runs, so prefer it when it is there.
  const compiled = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/features/extraction/text/index.js');
  const textModule = fs.existsSync(compiled)
    ? ((await import(compiled)) as { extractTextIsolated: typeof extractTextIsolated; ExtractionPool: typeof ExtractionPool })
    : { extractTextIsolated, ExtractionPool };
  const isolatedLabel = `text, isolated, warm worker pool (${fs.existsSync(compiled) ? 'dist' : 'tsx'})`;
  // One pool for every run, as the job worker holds one: without it each document would start a worker of its own.
  const pool = new textModule.ExtractionPool({ size: 1 });
  const isolatedAll = await time(Math.min(opts.rounds, 2), async () => {
    for (const d of docs) await textModule.extractTextIsolated(d.bytes, d.mediaType, { timeoutMs: 60_000, pool });
  });
  await pool.close();

  console.log(line('text, in process (all documents)', textAll, docs.length, pagesOf(docs)));
  console.log(line('text, in process (PDF only)', textPdf, pdfs.length, pagesOf(pdfs)));
  console.log(line(isolatedLabel, isolatedAll, docs.length, pagesOf(docs)));
  console.log(line('rules engine (all documents)', rulesAll, docs.length, pagesOf(docs)));

  let pdftotext: number | undefined;
  if (hasPdftotext()) {
    pdftotext = await time(opts.rounds, () => {
      for (const d of pdfs) execFileSync('pdftotext', ['-q', '-enc', 'UTF-8', '-', '-'], { input: d.bytes, maxBuffer: 64 * 1024 * 1024 });
    });
    console.log(line('pdftotext (PDF only, a process each)', pdftotext, pdfs.length, pagesOf(pdfs)));
  }

  console.log('');
  if (pdftotext !== undefined) {
    const ratio = textPdf / pdftotext;
    console.log(`${ratio <= 3 ? 'PASS' : 'FAIL'} PDF text extraction takes ${ratio.toFixed(2)}× pdftotext's time (target ≤ 3×)`);
  } else {
    console.log('SKIP pdftotext not installed (apt-get install -y poppler-utils): no ceiling to compare with');
  }
  const overhead = rulesAll / textAll;
  console.log(`${overhead < 0.2 ? 'PASS' : 'FAIL'} rules engine adds ${(overhead * 100).toFixed(1)} % to text extraction (target < 20 %)`);
}

await main();
