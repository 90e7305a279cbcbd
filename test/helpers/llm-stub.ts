/**
 * A local stand-in for the OpenAI and Anthropic HTTP APIs, for tests without internet: a `node:http`
 * server on 127.0.0.1 that answers `POST /v1/chat/completions` (OpenAI wire format) and
 * `POST /v1/messages` (Anthropic wire format) with replies scripted per test, and records every
 * request it got (headers and parsed body) so a test can check what the SDK sent.
 *
 * @example
 *   const stub = await startLlmStub();
 *   stub.script('openai', { body: openAiCompletion('{"ce_marked": null}') });
 *   // new OpenAI({ baseURL: stub.openaiBaseUrl, … })
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type LlmRoute = 'openai' | 'anthropic';

export interface StubRequest {
  route: LlmRoute | 'other';
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The JSON body, parsed (undefined when it was not JSON). */
  body: any;
  rawBody: string;
}

export interface StubReply {
  /** HTTP status, 200 unless given. */
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string is sent as it is (with a JSON content type: for invalid bodies). */
  body?: unknown;
  /** Wait this long before answering (a slow provider). */
  delayMs?: number;
}

export type StubStep = StubReply | ((request: StubRequest, index: number) => StubReply);

export interface LlmStub {
  /** `http://127.0.0.1:<port>`: the Anthropic base URL. */
  url: string;
  /** `http://127.0.0.1:<port>/v1`: the OpenAI base URL. */
  openaiBaseUrl: string;
  anthropicBaseUrl: string;
  /** Every request received, in order. */
  requests: StubRequest[];
  /** Requests of one route. */
  requestsTo(route: LlmRoute): StubRequest[];
  /** Replies for the next requests of a route, in order; the last one repeats. Replaces earlier scripts. */
  script(route: LlmRoute, ...steps: StubStep[]): void;
  /** Forgets scripts and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

const ROUTES: Record<string, LlmRoute> = {
  'POST /v1/chat/completions': 'openai',
  'POST /v1/messages': 'anthropic',
};

let ids = 0;
const nextId = (prefix: string) => `${prefix}_${(++ids).toString(36).padStart(6, '0')}`;

/** A Chat Completions answer whose message content is `content` (a JSON string, or anything). */
export function openAiCompletion(content: string | null, extra: { finish_reason?: string; refusal?: string | null; model?: string } = {}) {
  return {
    id: nextId('chatcmpl'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: extra.model ?? 'gpt-stub',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: extra.refusal ?? null },
        logprobs: null,
        finish_reason: extra.finish_reason ?? 'stop',
      },
    ],
    usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
  };
}

/** A Messages answer that calls the tool `name` with `input`. */
export function anthropicToolUse(input: unknown, name = 'record_compliance_fields', extra: { stop_reason?: string; model?: string } = {}) {
  return {
    id: nextId('msg'),
    type: 'message',
    role: 'assistant',
    model: extra.model ?? 'claude-stub',
    content: [{ type: 'tool_use', id: nextId('toolu'), name, input }],
    stop_reason: extra.stop_reason ?? 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 50 },
  };
}

/** A Messages answer with text only (the model did not call the tool). */
export function anthropicText(text: string) {
  return {
    id: nextId('msg'),
    type: 'message',
    role: 'assistant',
    model: 'claude-stub',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 10 },
  };
}

/** The error body each API sends with a non-2xx status. */
export function apiError(route: LlmRoute, status: number, message: string, headers: Record<string, string> = {}): StubReply {
  const body =
    route === 'openai'
      ? { error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'api_error', param: null, code: null } }
      : { type: 'error', error: { type: status === 429 ? 'rate_limit_error' : status === 529 ? 'overloaded_error' : 'api_error', message } };
  return { status, headers, body };
}

export async function startLlmStub(): Promise<LlmStub> {
  const requests: StubRequest[] = [];
  const scripts = new Map<LlmRoute, StubStep[]>();
  const served = new Map<LlmRoute, number>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
      const path = (req.url ?? '/').split('?')[0]!;
      const route = ROUTES[`${req.method} ${path}`] ?? 'other';
      const request: StubRequest = { route, method: req.method ?? 'GET', path, headers: req.headers, body, rawBody };
      requests.push(request);

      let reply: StubReply;
      if (route === 'other') {
        reply = { status: 404, body: { error: { message: `no such route: ${req.method} ${path}` } } };
      } else {
        const steps = scripts.get(route) ?? [];
        const index = served.get(route) ?? 0;
        served.set(route, index + 1);
        const step = steps[Math.min(index, steps.length - 1)];
        reply =
          step === undefined
            ? { status: 500, headers: { 'x-should-retry': 'false' }, body: { error: { message: `no reply scripted for ${route}` } } }
            : typeof step === 'function'
              ? step(request, index)
              : step;
      }

      const send = () => {
        if (res.destroyed || res.writableEnded) return;
        const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
        res.end(text);
      };
      if (reply.delayMs) {
        const timer = setTimeout(send, reply.delayMs);
        // The client gave up (its timeout): nothing to answer.
        res.on('close', () => clearTimeout(timer));
      } else {
        send();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    requests,
    requestsTo: (route) => requests.filter((r) => r.route === route),
    script(route, ...steps) {
      scripts.set(route, steps);
      served.set(route, 0);
    },
    reset() {
      scripts.clear();
      served.clear();
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
