import net from 'node:net';
import type { FastifyInstance } from 'fastify';

/** Listens on a free loopback port and answers the base URL and port. */
export async function listen(app: FastifyInstance): Promise<{ port: number; base: string }> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  return { port: address.port, base: `http://127.0.0.1:${address.port}` };
}

/** A raw client socket, for what no HTTP client does on purpose: stop mid-body, trickle, never finish. */
export interface RawClient {
  socket: net.Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server (or anything) closes the socket, with the milliseconds it took from `connect`. */
  closed: Promise<number>;
  write(data: string | Buffer): void;
  destroy(): void;
}

export function rawConnect(port: number, options: { allowHalfOpen?: boolean } = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let text = '';
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
    const closed = new Promise<number>((done) => socket.once('close', () => done(Date.now() - started)));
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => {}); // resets are part of these tests
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => text,
        closed,
        write: (data) => {
          if (!socket.destroyed) socket.write(data);
        },
        destroy: () => socket.destroy(),
      }),
    );
    socket.once('error', reject);
  });
}

/** One HTTP/1.1 chunk of a chunked body. */
export function chunk(data: string): string {
  return `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;
}

export function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it answers true, or fails after `timeoutMs`. */
export async function waitFor(probe: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
