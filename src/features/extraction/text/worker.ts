/**
 * Worker-thread entry of `extractTextIsolated`: extracts the text of the one document in
 * `workerData` and posts `{ok: true, result}` or `{ok: false, reason, message}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { extractText } from './extract-text.js';
import { WORKER_KIND, asExtractionFailure, type WorkerJob } from './types.js';

const job = workerData as WorkerJob | undefined;
if (parentPort && job?.kind === WORKER_KIND) {
  const port = parentPort;
  try {
    const result = await extractText(job.bytes, job.mediaType, job.limits, { ocr: job.ocr });
    port.postMessage({ ok: true, result });
  } catch (error) {
    const failure = asExtractionFailure(error, job.mediaType);
    port.postMessage({ ok: false, reason: failure.reason, message: failure.message });
  }
}
