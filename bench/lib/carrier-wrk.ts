/**
 * `runWrk` of bench/lib/wrk.ts with a configurable `--timeout` (there it is fixed at 5 s). bench/carrier.ts
 * needs a longer one for the uncached QR scenario with sizes up to 2047 px: with 32 connections a request
 * queues behind ~31 others of ~0.1–0.5 s each, so most would count as timeouts and their latency be lost.
 * Same arguments, same parsing (the scripts end with the same `done` function).
 */
import { execFile } from 'node:child_process';
import type { WrkOptions, WrkResult } from './wrk.js';

export function runWrkWithTimeout(o: WrkOptions & { timeoutSec: number }): Promise<WrkResult> {
  const host = new URL(o.url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') throw new Error(`wrk targets loopback only, not ${host}`);
  const args = ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.seconds}s`, '--timeout', `${o.timeoutSec}s`, '--latency', '-s', o.script];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(o.url);
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { maxBuffer: 16 * 1024 * 1024, timeout: (o.seconds + o.timeoutSec + 30) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}\n${stderr}`));
      const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
      if (!line) return reject(new Error(`wrk printed no result:\n${stdout}\n${stderr}`));
      const j = JSON.parse(line.slice('WRKJSON '.length)) as Record<string, number>;
      const textNon2xx = Number(/Non-2xx or 3xx responses:\s*(\d+)/.exec(stdout)?.[1] ?? 0);
      const durationSec = j.duration_us! / 1e6;
      resolve({
        requests: j.requests!,
        durationSec,
        rps: j.requests! / durationSec,
        p50ms: j.p50_us! / 1000,
        p90ms: j.p90_us! / 1000,
        p99ms: j.p99_us! / 1000,
        maxMs: j.max_us! / 1000,
        non2xx: Math.max(j.status!, textNon2xx),
        socketErrors: j.connect! + j.read! + j.write! + j.timeout!,
        bytes: j.bytes!,
        raw: stdout.split('\n').filter((l) => !l.startsWith('WRKJSON ')).join('\n'),
      });
    });
  });
}
