import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WarmOcrEngine } from '../../src/features/extraction/ocr/index.js';
import {
  DOCX,
  ExtractionFailure,
  ExtractionPool,
  ExtractionPoolBusyError,
  ExtractionPoolClosedError,
  extractText,
  type ExtractionPoolOptions,
} from '../../src/features/extraction/text/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const docs = path.resolve(here, '../../../shared/corpus/dev/docs');
const read = (file: string) => new Uint8Array(fs.readFileSync(path.join(docs, file)));
const text = (s: string) => new Uint8Array(Buffer.from(s));
/** The worker of test/helpers/extraction-test-worker.ts: the real job loop plus documents that hang, crash or fill the heap. */
const testWorker = { url: new URL('../helpers/extraction-test-worker.ts', import.meta.url).href, name: 'extraction-test-worker' };

const pools: ExtractionPool[] = [];
function pool(options: ExtractionPoolOptions = {}): ExtractionPool {
  const p = new ExtractionPool({ workerModule: testWorker, ...options });
  pools.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(Error);
  return outcome as Error;
}

describe('extraction pool: warm workers', () => {
  it('reads several documents with the same worker, which counts them', async () => {
    const p = pool({ size: 1 });
    const first = await p.runDetailed(text('Made in Germany'), 'text/plain');
    const pdf = await p.runDetailed(read('raspberrypi_pico_eu-doc.pdf'), 'application/pdf', { timeoutMs: 30_000 });
    const markdown = await p.runDetailed(read('teqsas_lap-teq-plus-interface_eu-konformitaetserklaerung_de.md'), 'text/markdown');
    expect(first.document.pages).toEqual(['Made in Germany']);
    // The same text as in this process.
    expect(pdf.document).toEqual(await extractText(read('raspberrypi_pico_eu-doc.pdf'), 'application/pdf'));
    expect(markdown.document.pages[0]).toMatch(/Konformit/);
    expect(new Set([first.threadId, pdf.threadId, markdown.threadId]).size).toBe(1);
    expect([first.jobs, pdf.jobs, markdown.jobs]).toEqual([1, 2, 3]);
    expect(p.stats()).toMatchObject({ workers: 1, busy: 0, queued: 0, started: 1, retired: 0 });
  });

  it('keeps a worker after a failure the extraction handled (a broken file)', async () => {
    const p = pool({ size: 1 });
    const ok = await p.runDetailed(text('first'), 'text/plain');
    const broken = await failure(p.run(text('not a pdf'), 'application/pdf'));
    expect(broken).toBeInstanceOf(ExtractionFailure);
    expect((broken as ExtractionFailure).reason).toBe('invalid_file');
    const notZip = await failure(p.run(text('PK\u0003\u0004 but nothing else'), DOCX));
    expect((notZip as ExtractionFailure).reason).toBe('invalid_file');
    const after = await p.runDetailed(text('after'), 'text/plain');
    expect(after.threadId).toBe(ok.threadId);
    expect(after.jobs).toBe(4);
    expect(p.stats()).toMatchObject({ started: 1, retired: 0 });
  });

  it('replaces a worker after maxJobsPerWorker documents', async () => {
    const p = pool({ size: 1, maxJobsPerWorker: 2 });
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await p.runDetailed(text(`doc ${i}`), 'text/plain'));
    expect(runs.map((r) => r.jobs)).toEqual([1, 2, 1, 2, 1]);
    expect(runs[0]!.threadId).toBe(runs[1]!.threadId);
    expect(runs[2]!.threadId).not.toBe(runs[1]!.threadId);
    expect(runs[4]!.threadId).not.toBe(runs[3]!.threadId);
    expect(p.stats()).toMatchObject({ workers: 1, started: 3, retired: 2 });
  });

  it('queues documents beyond the pool size and runs them in order on the free workers', async () => {
    const p = pool({ size: 2 });
    const runs = Array.from({ length: 6 }, (_, i) => p.runDetailed(text(i === 0 ? '300' : `doc ${i}`), i === 0 ? 'test/sleep' : 'text/plain'));
    // Two start at once (a worker each), four wait.
    expect(p.stats()).toMatchObject({ workers: 2, busy: 2, queued: 4 });
    const done = await Promise.all(runs);
    expect(done.slice(1).map((r) => r.document.pages[0])).toEqual(['doc 1', 'doc 2', 'doc 3', 'doc 4', 'doc 5']);
    // Never more than two workers; together they handled all six.
    expect(new Set(done.map((r) => r.threadId)).size).toBe(2);
    expect(p.stats()).toMatchObject({ workers: 2, busy: 0, queued: 0, started: 2 });
    const perWorker = new Map<number, number>();
    for (const r of done) perWorker.set(r.threadId, Math.max(perWorker.get(r.threadId) ?? 0, r.jobs));
    expect([...perWorker.values()].reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('refuses a document when maxQueued already wait', async () => {
    const p = pool({ size: 1, maxQueued: 1 });
    const running = p.run(text('200'), 'test/sleep');
    const waiting = p.run(text('queued'), 'text/plain');
    const refused = await failure(p.run(text('one too many'), 'text/plain'));
    expect(refused).toBeInstanceOf(ExtractionPoolBusyError);
    expect(refused).not.toBeInstanceOf(ExtractionFailure);
    expect((await running).pages).toEqual(['slept']);
    expect((await waiting).pages).toEqual(['queued']);
  });
});

describe('extraction pool: a worker that fails is replaced, the others go on', () => {
  it('times out a stuck document, terminates its worker, and a concurrent document still succeeds', async () => {
    const p = pool({ size: 2 });
    const stuck = p.run(text('x'), 'test/hang', { timeoutMs: 500 });
    const concurrent = p.runDetailed(read('raspberrypi_pico_eu-doc.pdf'), 'application/pdf', { timeoutMs: 30_000 });
    const f = await failure(stuck);
    expect(f).toMatchObject({ name: 'ExtractionFailure', reason: 'timeout' });
    expect(f.message).toMatch(/500 ms/);
    const ok = await concurrent;
    expect(ok.document.pages.join('')).toMatch(/Raspberry Pi/);
    expect(p.stats()).toMatchObject({ retired: 1 });
    // The survivor stays; the next documents get it and a new worker.
    const next = await Promise.all([p.runDetailed(text('a'), 'text/plain'), p.runDetailed(text('b'), 'text/plain')]);
    expect(next.map((r) => r.document.pages[0])).toEqual(['a', 'b']);
    expect(next.map((r) => r.threadId)).toContain(ok.threadId);
    expect(p.stats()).toMatchObject({ workers: 2, started: 3, retired: 1 });
  });

  it('reports a crashed worker as worker_crashed, and a concurrent document still succeeds', async () => {
    const p = pool({ size: 2 });
    const crash = p.run(text('x'), 'test/crash', { timeoutMs: 30_000 });
    const concurrent = p.runDetailed(text('still here'), 'text/plain');
    const f = await failure(crash);
    expect(f).toMatchObject({ reason: 'worker_crashed' });
    expect(f.message).toMatch(/code 7/);
    expect((await concurrent).document.pages).toEqual(['still here']);
    const after = await p.runDetailed(text('after'), 'text/plain');
    expect(after.document.pages).toEqual(['after']);
    expect(p.stats()).toMatchObject({ retired: 1 });
  });

  it('reports a worker that fills its heap as memory_limit, and a concurrent document still succeeds', async () => {
    const p = pool({ size: 2, maxOldGenerationMb: 64 });
    const oom = p.run(text('x'), 'test/oom', { timeoutMs: 60_000 });
    const concurrent = p.runDetailed(read('raspberrypi_pico_eu-doc.pdf'), 'application/pdf', { timeoutMs: 60_000 });
    const f = await failure(oom);
    expect(f).toMatchObject({ reason: 'memory_limit' });
    expect(f.message).toMatch(/64 MiB/);
    expect((await concurrent).document.pages.join('')).toMatch(/Raspberry Pi/);
    expect(p.stats()).toMatchObject({ retired: 1 });
  }, 60_000);
});

describe('extraction pool: closing, idling, not holding the process', () => {
  it('close() stops running and waiting documents and refuses new ones', async () => {
    const p = pool({ size: 1 });
    await p.run(text('warm'), 'text/plain');
    const running = failure(p.run(text('x'), 'test/hang', { timeoutMs: 60_000 }));
    const waiting = failure(p.run(text('later'), 'text/plain'));
    expect(p.stats()).toMatchObject({ busy: 1, queued: 1 });
    await p.close();
    expect(await running).toBeInstanceOf(ExtractionPoolClosedError);
    expect(await waiting).toBeInstanceOf(ExtractionPoolClosedError);
    expect(await failure(p.run(text('after'), 'text/plain'))).toBeInstanceOf(ExtractionPoolClosedError);
    expect(p.stats()).toMatchObject({ workers: 0, busy: 0, queued: 0 });
  });

  it('stops a worker idle for idleTimeoutMs', async () => {
    const p = pool({ size: 1, idleTimeoutMs: 100 });
    const first = await p.runDetailed(text('one'), 'text/plain');
    await vi.waitFor(() => expect(p.stats().workers).toBe(0), { timeout: 10_000, interval: 50 });
    const second = await p.runDetailed(text('two'), 'text/plain');
    expect(second.threadId).not.toBe(first.threadId);
    expect(second.jobs).toBe(1);
  });

  it('does not keep the process alive once its workers are idle (no close needed)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpp-pool-'));
    try {
      const script = path.join(dir, 'main.mts');
      const poolModule = pathToFileURL(path.resolve(here, '../../src/features/extraction/text/pool.ts')).href;
      fs.writeFileSync(
        script,
        `import { ExtractionPool } from ${JSON.stringify(poolModule)};
const pool = new ExtractionPool({ size: 2, idleTimeoutMs: 0 });
const docs = await Promise.all([pool.run(Buffer.from('a'), 'text/plain'), pool.run(Buffer.from('b'), 'text/plain')]);
console.log(JSON.stringify({ pages: docs.flatMap((d) => d.pages), workers: pool.stats().workers }));
`,
      );
      // Were a worker still referenced, the process would wait for ever; the 60 s kill would fail the test.
      const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: path.resolve(here, '../..'), encoding: 'utf8', timeout: 60_000 });
      expect(child.error).toBeUndefined();
      expect(child.signal).toBeNull();
      expect(child.status).toBe(0);
      expect(JSON.parse(child.stdout.trim())).toEqual({ pages: ['a', 'b'], workers: 2 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 70_000);
});

describe('extraction pool: OCR stays warm', { timeout: 90_000 }, () => {
  it('starts tesseract once for two scans in one worker, and reads the same text both times', async () => {
    const p = pool({ size: 1 });
    const scan = read('sullins_rohs3-statement_scanned.pdf');
    const first = await p.runDetailed(scan, 'application/pdf', { ocr: true, timeoutMs: 60_000 });
    const second = await p.runDetailed(scan, 'application/pdf', { ocr: true, timeoutMs: 60_000 });
    expect(first.document.ocr).toBe(true);
    expect(first.document.pages[0]).toMatch(/RoHS3 Compliance Statement/);
    expect(second.document).toEqual(first.document);
    expect(second.threadId).toBe(first.threadId);
    const engines = await p.runDetailed(new Uint8Array(), 'test/ocr-engines');
    expect(engines.threadId).toBe(first.threadId);
    expect(engines.document.pages).toEqual(['1']);
  });

  it('hands back a kept engine with its languages in the loaded order, and starts a new one for other settings', async () => {
    const warm = new WarmOcrEngine();
    try {
      const engine = await warm.acquire(['eng', 'deu'], { timeoutMs: 30_000 });
      await engine.setPrimary('deu');
      expect(engine.primary).toBe('deu');
      await warm.release(engine, ['eng', 'deu'], { timeoutMs: 30_000 });
      const again = await warm.acquire(['eng', 'deu'], { timeoutMs: 30_000 });
      expect(again).toBe(engine);
      expect(again.primary).toBe('eng');
      expect(warm.started).toBe(1);
      await warm.release(again, ['eng', 'deu']);
      const other = await warm.acquire(['eng'], { timeoutMs: 30_000 });
      expect(other).not.toBe(engine);
      expect(engine.usable).toBe(false);
      expect(warm.started).toBe(2);
      await warm.release(other, ['eng']);
    } finally {
      await warm.close();
    }
  });

  it('does not keep an engine that failed (its time limit ran out)', async () => {
    const warm = new WarmOcrEngine();
    try {
      const engine = await warm.acquire(['eng'], { timeoutMs: 30_000 });
      await warm.release(engine, ['eng']);
      // A limit too short for the next use: the engine fails with timeout and is not kept.
      const again = await warm.acquire(['eng'], { timeoutMs: 1 });
      await vi.waitFor(() => expect(again.usable).toBe(false), { timeout: 5000 });
      await warm.release(again, ['eng']);
      const fresh = await warm.acquire(['eng'], { timeoutMs: 30_000 });
      expect(fresh).not.toBe(engine);
      expect(warm.started).toBe(2);
      await warm.release(fresh, ['eng']);
    } finally {
      await warm.close();
    }
  });
});
