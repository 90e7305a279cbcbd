/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by module
 * (package in node_modules, project file, node internals, native/GC).
 */
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function moduleOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return url.split('/')[0]!.replace(/^node:internal.*/, 'node:internal');
  const src = /\/(dist|src)\/(.*)$/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  return url;
}

export function summariseProfile(file: string, top = 25): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const sampled = [...self.values()].reduce((s, n) => s + n, 0);
  let idle = 0;
  for (const [id, us] of self) if (byId.get(id)!.callFrame.functionName === '(idle)') idle += us;
  // Percentages are of the busy (non-idle) time: idle waits (e.g. between scenarios) would only dilute them.
  const total = sampled - idle;
  const byFn = new Map<string, number>();
  const byModule = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') continue;
    const cf = n.callFrame;
    const fnKey = `${cf.functionName || '(anonymous)'}  ${cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '$1/')}:${cf.lineNumber + 1}`;
    byFn.set(fnKey, (byFn.get(fnKey) ?? 0) + us);
    const m = moduleOf(cf.url, cf.functionName);
    byModule.set(m, (byModule.get(m) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`profile ${file}: ${(sampled / 1e6).toFixed(1)} s sampled, ${(total / 1e6).toFixed(1)} s busy (percentages below are of busy time)`, 'self time by module:'];
  for (const [m, us] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 20)) lines.push(`  ${pct(us)}  ${m}`);
  lines.push('self time by function:');
  for (const [f, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${f}`);
  return lines.join('\n');
}
