/**
 * The job loop of an extraction worker thread (see `ExtractionPool`): reads one document at a time
 * from the parent port and answers `{id, jobs, ok: true, result}` or `{id, jobs, ok: false, reason,
 * message}`. A failure the extraction handles (a broken file, an OCR timeout, …) is an answer like
 * any other and the worker stays usable; anything worse (heap exhausted, a crash) ends the thread,
 * which the pool sees and reports.
 */
import { parentPort } from 'node:worker_threads';
import { WarmOcrEngine } from '../ocr/warm.js';
import { extractText } from './extract-text.js';
import { asExtractionFailure, type TextDocument, type WorkerJob, type WorkerReply, type WorkerRequest } from './types.js';

/** Extracts one document; `warmOcr` keeps tesseract started for the next one. */
export type JobRunner = (job: WorkerJob, warmOcr: WarmOcrEngine) => Promise<TextDocument>;

export const runJob: JobRunner = (job, warmOcr) => extractText(job.bytes, job.mediaType, job.limits, { ocr: job.ocr, warmOcr });

/** Serves jobs on `parentPort`, one at a time (the pool never sends a second before the first is answered). */
export function serveJobs(run: JobRunner = runJob): void {
  const port = parentPort;
  if (!port) throw new Error('serveJobs runs in a worker thread');
  const warmOcr = new WarmOcrEngine();
  let jobs = 0;
  port.on('message', async ({ id, job }: WorkerRequest) => {
    let reply: WorkerReply;
    jobs++;
    try {
      reply = { id, jobs, ok: true, result: await run(job, warmOcr) };
    } catch (error) {
      const failure = asExtractionFailure(error, job.mediaType);
      reply = { id, jobs, ok: false, reason: failure.reason, message: failure.message };
    }
    port.postMessage(reply);
  });
}
