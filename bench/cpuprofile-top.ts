/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time, self time by
 * module (package or source file), and top functions by inclusive (total) time.
 *
 *   npx tsx bench/cpuprofile-top.ts bench/results/prof/CPU....cpuprofile [--top 30]
 */
import fs from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const topIdx = args.indexOf('--top');
const TOP = topIdx >= 0 ? Number(args[topIdx + 1]) : 30;
if (!file) {
  console.error('usage: npx tsx bench/cpuprofile-top.ts <file.cpuprofile> [--top N]');
  process.exit(1);
}

const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map<number, ProfileNode>();
const parent = new Map<number, number>();
for (const n of profile.nodes) {
  byId.set(n.id, n);
  for (const c of n.children ?? []) parent.set(c, n.id);
}

const cwd = process.cwd();
function shortUrl(url: string): string {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(cwd)) u = path.relative(cwd, u);
  return u;
}
function moduleOf(url: string): string {
  const u = shortUrl(url);
  if (!u) return '(native/VM)';
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (u.startsWith('node:')) return 'node:' + u.slice(5).split('/')[0];
  return u;
}
function label(cf: CallFrame): string {
  const name = cf.functionName || '(anonymous)';
  const u = shortUrl(cf.url);
  return u ? `${name}  ${u}:${cf.lineNumber + 1}` : name;
}

// Sample durations: timeDeltas[i] is the gap before sample i; attribute it to sample i.
const self = new Map<string, number>();
const total = new Map<string, number>();
const byModule = new Map<string, number>();
let all = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = (profile.timeDeltas[i] ?? 0) / 1000; // ms
  const node = byId.get(profile.samples[i]!);
  if (!node) continue;
  all += dt;
  const key = label(node.callFrame);
  self.set(key, (self.get(key) ?? 0) + dt);
  const mod = node.callFrame.url ? moduleOf(node.callFrame.url) : node.callFrame.functionName.startsWith('(') ? node.callFrame.functionName : '(native/VM)';
  byModule.set(mod, (byModule.get(mod) ?? 0) + dt);
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const k = label(byId.get(id)!.callFrame);
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) ?? 0) + dt);
  }
}

const pct = (ms: number) => ((100 * ms) / all).toFixed(1).padStart(5) + '%';
const ms = (v: number) => v.toFixed(0).padStart(7) + ' ms';
function print(title: string, map: Map<string, number>, n: number, filter?: (k: string) => boolean) {
  console.log(`\n${title}`);
  [...map]
    .filter(([k]) => !filter || filter(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .forEach(([k, v]) => console.log(`${ms(v)} ${pct(v)}  ${k}`));
}

console.log(`${file}: ${(all / 1000).toFixed(1)} s sampled, ${profile.samples.length} samples`);
print(`Top ${TOP} by self time`, self, TOP);
print('Self time by module', byModule, 20);
print(`Top ${TOP} by total (inclusive) time, excluding the root/program entries`, total, TOP, (k) => !/^\((root|program|garbage collector|idle)\)/.test(k));
