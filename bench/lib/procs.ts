/**
 * Child processes for bench/api.ts: the CLI (migrate, keys create), the service (`node dist/cli.js serve`),
 * the bare Fastify ceiling server, and CPU accounting from /proc while wrk runs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

const children = new Set<ChildProcess>();

/** Stops every child this process started (by their pids), e.g. on an error or Ctrl-C. */
export function killChildren() {
  for (const c of children) if (c.exitCode === null && c.pid) c.kill('SIGKILL');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

export interface Server {
  child: ChildProcess;
  url: string;
  stop(): Promise<number | null>;
  output(): string;
}

/** Starts a long-running node process and waits until `readyPath` answers 200. */
export async function startServer(args: string[], env: NodeJS.ProcessEnv, cwd: string, port: number, readyPath: string): Promise<Server> {
  // Benchmarks drive one key and one address far past any production limit: the limiter still runs
  // (its cost is measured), but refuses nothing unless the caller sets limits itself.
  const limits = { RATE_LIMIT_PER_KEY: '100000000', RATE_LIMIT_PER_IP: '100000000' };
  const child = spawn(process.execPath, args, { env: { ...limits, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`);
    try {
      const r = await fetch(url + readyPath);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(t);
        children.delete(child);
        return code;
      }
      children.delete(child);
      return child.exitCode;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CPU accounting
// ---------------------------------------------------------------------------------------------

const TICKS = 100; // USER_HZ on Linux

function procTicks(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

function allTicks(): Map<number, number> {
  const m = new Map<number, number>();
  for (const d of fs.readdirSync('/proc')) {
    if (/^\d+$/.test(d)) m.set(Number(d), procTicks(Number(d)));
  }
  return m;
}

function machineTicks(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3]! + line[4]!;
  const total = line.reduce((s, n) => s + n, 0);
  return { busy: total - idle, total };
}

/**
 * Measures, over an interval, the CPU used by the server and by the given PostgreSQL backends (in % of
 * one core), by every other process that was alive at both ends (not wrk: it has exited; in % of one core),
 * and by the whole machine (in % of all cores).
 */
export function cpuMeter(serverPid: number) {
  const before = allTicks();
  const m0 = machineTicks();
  const t0 = process.hrtime.bigint();
  return (pgPids: number[] = []) => {
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    const after = allTicks();
    const m1 = machineTicks();
    const delta = (pid: number) => (after.has(pid) && before.has(pid) ? after.get(pid)! - before.get(pid)! : 0);
    const pg = new Set(pgPids);
    let pgTicks = 0;
    let other = 0;
    for (const pid of after.keys()) {
      if (pg.has(pid)) pgTicks += after.get(pid)! - (before.get(pid) ?? 0);
      else if (pid !== serverPid && pid !== process.pid) other += delta(pid);
    }
    const pct = (ticks: number) => (ticks / TICKS / sec) * 100;
    return {
      serverPct: pct(delta(serverPid)),
      postgresPct: pct(pgTicks),
      otherPct: pct(other),
      machinePct: ((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * 100,
    };
  };
}

/**
 * Waits until the machine is quiet (busy below `maxBusyPct` of all cores over a 2 s sample), at most
 * `maxSec` seconds: other work on a 2-core machine would distort the numbers. Returns the seconds waited
 * and the last busy reading.
 */
export async function waitQuiet(maxSec: number, maxBusyPct = 15): Promise<{ waited: number; busyPct: number }> {
  const t0 = Date.now();
  for (;;) {
    const m0 = machineTicks();
    await new Promise((r) => setTimeout(r, 2000));
    const m1 = machineTicks();
    const busyPct = ((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * 100;
    const waited = (Date.now() - t0) / 1000;
    if (busyPct < maxBusyPct || waited >= maxSec) return { waited, busyPct };
  }
}
