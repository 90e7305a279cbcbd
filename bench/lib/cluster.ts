/**
 * Helpers for bench/api.ts --workers N: waiting until every process of a node:cluster server listens,
 * and CPU accounting over a process and all its descendants (a cluster primary and its workers).
 */
import fs from 'node:fs';
import type { Server } from './procs.js';

const TICKS = 100; // USER_HZ on Linux

function stat(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

/** PIDs of every descendant of `root` (not root itself). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(Number(d));
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * CPU of the descendants of `root` over an interval, in % of one core (only processes alive at both ends,
 * as procs.ts's cpuMeter counts "other"): added to the server column and taken off "other CPU".
 */
export function descendantCpuMeter(root: number): () => number {
  const pids = descendants(root);
  const before = new Map(pids.map((p) => [p, stat(p)?.ticks]));
  const t0 = process.hrtime.bigint();
  return () => {
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    let ticks = 0;
    for (const [pid, b] of before) {
      const a = stat(pid)?.ticks;
      if (a !== undefined && b !== undefined) ticks += a - b;
    }
    return (ticks / TICKS / sec) * 100;
  };
}

/** Until `workers` distinct pids have answered the service's /healthz (it names the worker in a cluster). */
export async function waitServiceWorkers(server: Server, workers: number, timeoutMs = 60_000): Promise<number[]> {
  const seen = new Set<number>();
  const deadline = Date.now() + timeoutMs;
  while (seen.size < workers) {
    if (Date.now() > deadline) throw new Error(`only ${seen.size} of ${workers} service workers answered /healthz:\n${server.output()}`);
    // Fresh connections (no keep-alive), so the cluster hands each to a worker in turn.
    const r = await fetch(server.url + '/healthz', { headers: { connection: 'close' } }).catch(() => undefined);
    const body = r?.ok ? ((await r.json()) as { pid?: number }) : undefined;
    if (body?.pid) seen.add(body.pid);
    else await new Promise((res) => setTimeout(res, 50));
  }
  return [...seen];
}

/** Until bench/lib/bare-cluster.ts has printed that all its workers listen. */
export async function waitBareWorkers(server: Server, workers: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!server.output().includes(`bare-cluster: ${workers} workers listening`)) {
    if (Date.now() > deadline) throw new Error(`bare cluster did not report ${workers} workers listening:\n${server.output()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
