/**
 * Throughput of isolated text extraction (worker threads with heap and time limits, OCR on) over a
 * directory of documents (default: the dev corpus, scans included), in documents/s:
 *
 *   - fresh: a new worker thread per document, as `extractTextIsolated` did before the pool
 *     (`ExtractionPool` with `maxJobsPerWorker: 1`: worker start, module loading and tesseract's start
 *     paid for every document);
 *   - warm: the pool's workers kept between documents (tesseract too), one document at a time
 *     (as one extraction job after another) and all documents at once (the job worker's concurrency).
 *
 *   npx tsx bench/extraction-throughput.ts [--dir ../shared/corpus/dev/docs] [--passes 3] [--size 2] [--tsx]
 *
 * Workers run the compiled `dist/` when it has the pool (`npm run build`), as production does; `--tsx`
 * (or no build) runs them from TypeScript, where every worker start also compiles its sources.
 * Each line gives every pass; the pool of a warm line is made once, so its first pass includes starting it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as source from '../src/features/extraction/text/index.js';

interface Options {
  dir: string;
  passes: number;
  size: number;
  tsx: boolean;
}

function parseArgs(argv: string[]): Options {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const opts: Options = { dir: path.resolve(here, '../../shared/corpus/dev/docs'), passes: 3, size: 2, tsx: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (flag === '--dir') opts.dir = path.resolve(value());
    else if (flag === '--passes') opts.passes = Math.max(1, Number(value()) || 1);
    else if (flag === '--size') opts.size = Math.max(1, Number(value()) || 1);
    else if (flag === '--tsx') opts.tsx = true;
    else throw new Error(`unknown argument ${flag}`);
  }
  return opts;
}

interface Doc {
  file: string;
  bytes: Uint8Array;
  mediaType: string;
}

type Api = Pick<typeof source, 'ExtractionPool'>;
type Pool = InstanceType<Api['ExtractionPool']>;

const JOB = { timeoutMs: 120_000, ocr: true } as const;

/** Extracts every document, `concurrency` at a time; docs/s, and the failures (by reason). */
async function pass(pool: Pool, docs: Doc[], concurrency: number): Promise<{ rate: number; failures: string[] }> {
  const failures: string[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < docs.length) {
        const d = docs[next++]!;
        await pool.run(d.bytes, d.mediaType, JOB).catch((e: { reason?: string; message: string }) => failures.push(`${d.file}: ${e.reason ?? e.message}`));
      }
    }),
  );
  return { rate: (docs.length * 1000) / (performance.now() - t0), failures };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function line(label: string, passes: number, run: () => Promise<{ rate: number; failures: string[] }>): Promise<number> {
  const rates: number[] = [];
  const failures = new Set<string>();
  for (let i = 0; i < passes; i++) {
    const r = await run();
    rates.push(r.rate);
    r.failures.forEach((f) => failures.add(f));
  }
  console.log(`${label.padEnd(44)} ${rates.map((r) => r.toFixed(2).padStart(6)).join(' ')}   median ${median(rates).toFixed(2)} docs/s`);
  for (const f of failures) console.log(`    failed: ${f}`);
  return median(rates);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const compiled = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/features/extraction/text/index.js');
  const useDist = !opts.tsx && fs.existsSync(compiled) && fs.existsSync(path.join(path.dirname(compiled), 'pool.js'));
  const api: Api = useDist ? ((await import(compiled)) as Api) : source;
  const docs: Doc[] = fs
    .readdirSync(opts.dir)
    .sort()
    .flatMap((file) => {
      const mediaType = source.mediaTypeFromFileName(file);
      return mediaType ? [{ file, bytes: new Uint8Array(fs.readFileSync(path.join(opts.dir, file))), mediaType }] : [];
    });
  console.log(`${docs.length} documents in ${opts.dir}, OCR on; workers from ${useDist ? 'dist/ (compiled)' : 'src/ (tsx)'}`);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}; docs/s of each pass, ${opts.passes} passes`);
  console.log('');

  // Before: a fresh worker per document (one pool per pass; every worker retires after one document).
  const freshPool = (size: number) => new api.ExtractionPool({ size, maxJobsPerWorker: 1 });
  const fresh1 = await line('fresh worker per document, one at a time', opts.passes, async () => {
    const pool = freshPool(1);
    try {
      return await pass(pool, docs, 1);
    } finally {
      await pool.close();
    }
  });
  const freshN = await line(`fresh worker per document, ${opts.size} at a time`, opts.passes, async () => {
    const pool = freshPool(opts.size);
    try {
      return await pass(pool, docs, opts.size);
    } finally {
      await pool.close();
    }
  });

  // After: warm workers (and their OCR engines) kept across documents and passes.
  const warm1Pool = new api.ExtractionPool({ size: 1 });
  const warm1 = await line('warm pool of 1, one at a time', opts.passes, () => pass(warm1Pool, docs, 1));
  await warm1Pool.close();
  const warmNPool = new api.ExtractionPool({ size: opts.size });
  const warmN = await line(`warm pool of ${opts.size}, ${opts.size} at a time`, opts.passes, () => pass(warmNPool, docs, opts.size));
  await warmNPool.close();
  const warmAllPool = new api.ExtractionPool({ size: opts.size });
  const warmAll = await line(`warm pool of ${opts.size}, all ${docs.length} queued at once`, opts.passes, () => pass(warmAllPool, docs, docs.length));
  await warmAllPool.close();

  console.log('');
  console.log(`one at a time: ${(warm1 / fresh1).toFixed(2)}× (${fresh1.toFixed(2)} → ${warm1.toFixed(2)} docs/s)`);
  console.log(`${opts.size} at a time: ${(warmN / freshN).toFixed(2)}× (${freshN.toFixed(2)} → ${warmN.toFixed(2)} docs/s); all queued: ${warmAll.toFixed(2)} docs/s`);
}

await main();
