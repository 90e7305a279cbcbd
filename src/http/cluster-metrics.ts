/**
 * `/metrics` for the whole of a `dpp serve --workers N` cluster, with prom-client's cluster support.
 *
 * A scrape lands on one worker (whichever the connection is handed to). That worker asks the primary
 * over the cluster's IPC channel; the primary's AggregatorRegistry asks every worker for its registry
 * (prom-client's own request/answer messages), merges them by each metric's `aggregator` (sum unless
 * the metric says otherwise) and renders the text, which the primary sends back to the asking worker.
 * Only that last hop, worker → primary → worker, is ours: prom-client aggregates in the primary only.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { errors } from '../errors.js';

const ASK = 'dpp:cluster-metrics:ask';
const ANSWER = 'dpp:cluster-metrics:answer';

/**
 * How long a worker waits for the primary before answering 503. prom-client's primary gives up on a
 * worker that does not answer after 5 s (and then answers with that error), so this is only reached
 * when the primary itself does not answer.
 */
export const PRIMARY_TIMEOUT_MS = 6_000;

interface Ask {
  type: typeof ASK;
  id: number;
}
interface Answer {
  type: typeof ANSWER;
  id: number;
  metrics?: string;
  error?: string;
}

/** The part of a worker's `process` the worker → primary hop uses (a test passes a fake). */
export interface PrimaryChannel {
  send(message: Ask, callback: (error: Error | null) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * Primary: answers each worker's request with every worker's metrics, aggregated. Install before
 * forking. The AggregatorRegistry is constructed for its side effect too: it listens for the workers' answers.
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: Partial<Ask> | null) => {
    if (message?.type !== ASK || typeof message.id !== 'number') return;
    const id = message.id;
    const reply = (answer: Omit<Answer, 'type' | 'id'>) => {
      // The asker may have died meanwhile: with a callback, a closed channel is not an 'error' event.
      if (worker.isConnected()) worker.send({ type: ANSWER, id, ...answer }, undefined, () => undefined);
    };
    aggregator.clusterMetrics().then(
      (metrics) => reply({ metrics }),
      (e: Error) => reply({ error: e.message }),
    );
  });
}

/**
 * Worker: what this process answers the primary's collection requests with (prom-client's listener,
 * installed once per process by constructing an AggregatorRegistry). A worker calls this with `[]`
 * as soon as it starts, so a scrape while it is still building its app gets an (empty) answer rather
 * than waiting for prom-client's 5 s timeout; its app then names its registry.
 */
export function answerPrimary(registries: Registry[]): void {
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries(registries);
}

/**
 * Worker: a function that asks the primary for the cluster's metrics. It rejects with a 503 problem
 * when the primary reports an error (a worker that did not answer) or does not answer in `timeoutMs`.
 */
export function clusterScraper(timeoutMs = PRIMARY_TIMEOUT_MS, channel: PrimaryChannel = process as unknown as PrimaryChannel): () => Promise<string> {
  let nextId = 0;
  const waiting = new Map<number, (answer: Pick<Answer, 'metrics' | 'error'>) => void>();
  channel.on('message', (message) => {
    const answer = message as Partial<Answer> | null;
    if (answer?.type === ANSWER && typeof answer.id === 'number') waiting.get(answer.id)?.(answer);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const finish = ({ metrics, error }: Pick<Answer, 'metrics' | 'error'>) => {
        clearTimeout(timer);
        waiting.delete(id);
        if (error === undefined && metrics !== undefined) resolve(metrics);
        else reject(errors.unavailable(`The cluster's metrics could not be collected: ${error ?? 'no metrics in the answer'}.`));
      };
      const timer = setTimeout(() => finish({ error: `the cluster primary did not answer within ${timeoutMs} ms` }), timeoutMs);
      waiting.set(id, finish);
      channel.send({ type: ASK, id }, (e) => {
        if (e) finish({ error: `the cluster primary cannot be reached (${e.message})` });
      });
    });
}
