/**
 * The wrk script of bench/load.ts: a mixed read/write load on one service.
 *
 * Per request, at random: GET a passport (random id), GET the product list (half a title-word search on a
 * random one of its first pages, half the has_dpp list on a random page), or PATCH a passport's
 * carbon_footprint_kg (JSON body, application/json, the Bearer key). Every thread counts the status codes
 * it receives and, for 2xx, which kind of response it was (told apart by the body: a passport names its
 * dpp_id, a list starts with "items", a PATCH result is the rest), so the mix actually served is visible.
 * `done` prints wrk's summary and latency as a WRKJSON line (the format bench/lib/wrk.ts `runWrk` reads)
 * and the summed counts as a WRKSTATUS line.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface MixOptions {
  idsFile: string;
  /** Shares of passport GETs, list/search GETs and PATCHes, in % (the rest, if any, are passport GETs). */
  readPct: number;
  listPct: number;
  patchPct: number;
  searchWord: string;
  /** Pages of the search result and of the has_dpp list to pick from. */
  searchPages: number;
  listPages: number;
  apiKey: string;
}

export interface MixCounts {
  /** Responses by HTTP status. */
  status: Record<string, number>;
  /** 2xx responses by kind (passport, list, patch). */
  kinds: Record<string, number>;
  /** Requests sent by kind (written by `request`; includes ones still in flight at the end). */
  sent: Record<string, number>;
}

export function mixedScript(dir: string, o: MixOptions): string {
  const file = path.join(dir, 'mixed.lua');
  const lua = (s: string) => JSON.stringify(s); // a JSON string is a valid Lua string literal for these values
  fs.writeFileSync(
    file,
    `
local ids = {}
for line in io.lines(${lua(o.idsFile)}) do
  if #line > 0 then ids[#ids + 1] = line end
end
local n = #ids
local readCut = ${o.readPct / 100}
local listCut = ${(o.readPct + o.listPct) / 100}
local patchCut = ${(o.readPct + o.listPct + o.patchPct) / 100}
local auth = ${lua(`Bearer ${o.apiKey}`)}
local searchPath = ${lua(`/api/v1/compliance/dpp/products?search=${encodeURIComponent(o.searchWord)}&page=`)}
local listPath = "/api/v1/compliance/dpp/products?has_dpp=true&page="

local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

counts = {}
kinds = {}
sent = { passport = 0, list = 0, patch = 0 }

init = function(args)
  math.randomseed(os.time() + 7919 * (tid or 0))
end

local function bump(t, k)
  t[k] = (t[k] or 0) + 1
end

request = function()
  local r = math.random()
  if r < readCut or r >= patchCut then
    sent.passport = sent.passport + 1
    return wrk.format("GET", "/api/v1/compliance/dpp/" .. ids[math.random(1, n)], { ["Authorization"] = auth })
  elseif r < listCut then
    sent.list = sent.list + 1
    local p
    if math.random() < 0.5 then
      p = searchPath .. math.random(1, ${o.searchPages})
    else
      p = listPath .. math.random(1, ${o.listPages})
    end
    return wrk.format("GET", p, { ["Authorization"] = auth })
  else
    sent.patch = sent.patch + 1
    local body = string.format('{"carbon_footprint_kg":%.2f}', math.random() * 500)
    return wrk.format("PATCH", "/api/v1/compliance/dpp/" .. ids[math.random(1, n)],
      { ["Authorization"] = auth, ["Content-Type"] = "application/json" }, body)
  end
end

response = function(status, headers, body)
  bump(counts, tostring(status))
  if status >= 200 and status < 300 then
    if string.sub(body, 1, 8) == '{"items"' then
      bump(kinds, "list")
    elseif string.find(body, '"dpp_id"', 1, true) then
      bump(kinds, "passport")
    else
      bump(kinds, "patch")
    end
  end
end

local function json(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = string.format('"%s":%.0f', k, v) end
  return "{" .. table.concat(parts, ",") .. "}"
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
  local all, allKinds, allSent = {}, {}, {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do all[k] = (all[k] or 0) + v end
    for k, v in pairs(t:get("kinds")) do allKinds[k] = (allKinds[k] or 0) + v end
    for k, v in pairs(t:get("sent")) do allSent[k] = (allSent[k] or 0) + v end
  end
  io.write(string.format('WRKSTATUS {"status":%s,"kinds":%s,"sent":%s}\\n', json(all), json(allKinds), json(allSent)))
  io.write(string.format('WRKLATENCY {"p75_us":%.0f,"p999_us":%.0f,"mean_us":%.0f,"stdev_us":%.0f}\\n',
    latency:percentile(75), latency:percentile(99.9), latency.mean, latency.stdev))
end
`,
  );
  return file;
}

/** Reads the WRKSTATUS line of a run of `mixedScript` (from `WrkResult.raw`). */
export function mixCounts(raw: string): MixCounts {
  const line = raw.split('\n').find((l) => l.startsWith('WRKSTATUS '));
  if (!line) throw new Error(`wrk printed no WRKSTATUS line:\n${raw}`);
  return JSON.parse(line.slice('WRKSTATUS '.length)) as MixCounts;
}

/** Extra latency figures (p75, p99.9, mean, stdev; ms) from the WRKLATENCY line. */
export function mixLatency(raw: string): { p75ms: number; p999ms: number; meanMs: number; stdevMs: number } {
  const line = raw.split('\n').find((l) => l.startsWith('WRKLATENCY '));
  const j = line ? (JSON.parse(line.slice('WRKLATENCY '.length)) as Record<string, number>) : {};
  return { p75ms: (j.p75_us ?? NaN) / 1000, p999ms: (j.p999_us ?? NaN) / 1000, meanMs: (j.mean_us ?? NaN) / 1000, stdevMs: (j.stdev_us ?? NaN) / 1000 };
}
