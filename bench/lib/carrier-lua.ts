/**
 * wrk Lua scripts for bench/carrier.ts. Every script ends with the same `done` function as bench/lib/wrk.ts
 * (copied: it is not exported there), so `runWrk` from bench/lib/wrk.ts reads their results.
 */
import fs from 'node:fs';
import path from 'node:path';

const DONE_LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
`;

/** Lua that loads the non-empty lines of a file into `ids` and numbers the threads (`tid`, 1-based). */
function header(idsFile: string): string {
  return `
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
`;
}

function write(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, body + DONE_LUA);
  return file;
}

/** `prefix .. <random id> .. suffix` per request; each thread seeds its own RNG. */
export function randomPathScript(dir: string, name: string, idsFile: string, prefix: string, suffix = ''): string {
  return write(
    dir,
    name,
    `${header(idsFile)}
init = function(args)
  math.randomseed(os.time() + 7919 * (tid or 0))
end
request = function()
  return wrk.format(nil, ${JSON.stringify(prefix)} .. ids[math.random(1, n)] .. ${JSON.stringify(suffix)})
end
`,
  );
}

/** `prefix .. <id> .. suffix`, going round the ids of the file in turn (each thread from its own offset). */
export function rotatingPathScript(dir: string, name: string, idsFile: string, prefix: string, suffix = ''): string {
  return write(
    dir,
    name,
    `${header(idsFile)}
local c = 0
request = function()
  c = c + 1
  return wrk.format(nil, ${JSON.stringify(prefix)} .. ids[((c + (tid or 1) - 1) % n) + 1] .. ${JSON.stringify(suffix)})
end
`,
  );
}

export interface UniqueQrOptions {
  /** The product ids (one per line). */
  idsFile: string;
  /** Path before the id, e.g. /api/v1/compliance/dpp/ */
  prefix: string;
  /** Smallest and largest ?size= (inclusive). */
  sizeMin: number;
  sizeMax: number;
  /** wrk threads (the request numbers of the threads interleave: k = base + c·threads + tid − 1). */
  threads: number;
  /** First request number: past every number an earlier run (the warm-up) used. */
  base: number;
}

/**
 * Each request k (numbered across all threads, never reused within a run) asks for
 *   id   = ids[(k·7919) mod n]                 (7919 prime, coprime with n unless n is a multiple of it)
 *   size = sizeMin + (k·997) mod S             (S = sizeMax − sizeMin + 1; 997 prime, coprime with S)
 * Both maps are bijections of k mod n and k mod S, so the (id, size) pair only repeats after lcm(n, S)
 * requests (248,000 for 1000 ids × sizes 64..2047; 41,000 for 1000 ids × 280..320). The multipliers scatter
 * consecutive requests over the whole id and size ranges, so even a short run sees the full size mix.
 * A key that comes back only after ≥ lcm(n, S) − 1 other distinct keys was long evicted from an LRU of
 * 2000 entries: every request misses the server's QR cache.
 */
export function uniqueQrScript(dir: string, name: string, o: UniqueQrOptions): { file: string; period: number } {
  const S = o.sizeMax - o.sizeMin + 1;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const n = fs.readFileSync(o.idsFile, 'utf8').split('\n').filter(Boolean).length;
  if (gcd(7919, n) !== 1 || gcd(997, S) !== 1) throw new Error(`multipliers not coprime with n=${n} or S=${S}`);
  const period = (n * S) / gcd(n, S);
  const file = write(
    dir,
    name,
    `${header(o.idsFile)}
local c = 0
request = function()
  local k = ${o.base} + c * ${o.threads} + ((tid or 1) - 1)
  c = c + 1
  local id = ids[((k * 7919) % n) + 1]
  local size = ${o.sizeMin} + ((k * 997) % ${S})
  return wrk.format(nil, ${JSON.stringify(o.prefix)} .. id .. "/qr?size=" .. size)
end
`,
  );
  return { file, period };
}
