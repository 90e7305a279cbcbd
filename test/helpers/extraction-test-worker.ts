/**
 * An extraction worker for `ExtractionPool` tests: the real job loop (`serveJobs`), plus media types
 * that misbehave on purpose. `test/hang` never returns, `test/crash` ends the thread, `test/oom`
 * fills the heap, `test/sleep` waits the milliseconds given as its text, `test/ocr-engines` tells how
 * many OCR engines this worker has started. Anything else is extracted as usual.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { runJob, serveJobs } from '../../src/features/extraction/text/worker-loop.js';

serveJobs(async (job, warmOcr) => {
  switch (job.mediaType) {
    case 'test/hang':
      for (;;) {
        // A parser stuck in a loop: only terminating the thread stops it.
      }
    case 'test/crash':
      process.exit(7);
    // eslint-disable-next-line no-fallthrough
    case 'test/oom': {
      const hoard: number[][] = [];
      for (;;) hoard.push(Array.from({ length: 100_000 }, (_, i) => i));
    }
    case 'test/sleep':
      await sleep(Number(Buffer.from(job.bytes).toString()));
      return { pages: ['slept'] };
    case 'test/ocr-engines':
      return { pages: [String(warmOcr.started)] };
    default:
      return runJob(job, warmOcr);
  }
});
