/**
 * Runs wrk against a loopback URL and reads its results from a Lua `done` function that prints JSON
 * (cross-checked with wrk's own "Non-2xx or 3xx responses" line).
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface WrkResult {
  requests: number;
  durationSec: number;
  rps: number;
  p50ms: number;
  p90ms: number;
  p99ms: number;
  maxMs: number;
  non2xx: number;
  socketErrors: number;
  bytes: number;
  raw: string;
}

const DONE_LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
`;

/** A script that requests a fixed path (the URL's). */
export function fixedScript(dir: string): string {
  const file = path.join(dir, 'fixed.lua');
  fs.writeFileSync(file, DONE_LUA);
  return file;
}

/** A script that requests `prefix + <random line of idsFile>` per request; each thread seeds its own RNG. */
export function randomIdScript(dir: string, idsFile: string, prefix: string, name = 'random-ids.lua'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    `
local ids = {}
for line in io.lines(${JSON.stringify(idsFile)}) do
  if #line > 0 then ids[#ids + 1] = line end
end
local n = #ids
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
init = function(args)
  math.randomseed(os.time() + 7919 * (tid or 0))
end
request = function()
  return wrk.format(nil, ${JSON.stringify(prefix)} .. ids[math.random(1, n)])
end
${DONE_LUA}`,
  );
  return file;
}

export function wrkAvailable(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

export interface WrkOptions {
  url: string;
  script: string;
  seconds: number;
  threads: number;
  connections: number;
  headers?: Record<string, string>;
  /** wrk --timeout per request, in seconds (default 5). */
  timeoutSec?: number;
}

export function runWrk(o: WrkOptions): Promise<WrkResult> {
  const host = new URL(o.url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') throw new Error(`wrk targets loopback only, not ${host}`);
  // Per-request timeout: 5 s by default; slow scenarios (uncached large QR PNGs) pass a longer one.
  const timeoutSec = o.timeoutSec ?? 5;
  const args = ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.seconds}s`, '--timeout', `${timeoutSec}s`, '--latency', '-s', o.script];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(o.url);
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { maxBuffer: 16 * 1024 * 1024, timeout: (o.seconds + timeoutSec + 30) * 1000 }, (err, stdout, stderr) => {
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
        raw: stdout
          .split('\n')
          .filter((l) => !l.startsWith('WRKJSON '))
          .join('\n'),
      });
    });
  });
}
