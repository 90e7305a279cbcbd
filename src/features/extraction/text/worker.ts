/**
 * Worker-thread entry of `ExtractionPool` (and so of `extractTextIsolated`): serves documents one
 * at a time until the pool terminates the thread (see `worker-loop.ts`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WORKER_KIND, type WorkerData } from './types.js';
import { serveJobs } from './worker-loop.js';

if (parentPort && (workerData as WorkerData | undefined)?.kind === WORKER_KIND) serveJobs();
