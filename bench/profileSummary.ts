import { readFileSync } from 'node:fs';

// Summarizes a V8 .cpuprofile (as written by node --cpu-prof, e.g. BENCH_CPU_PROF=1): self
// time by package or source file, and the top functions. Usage:
//   node dist/bench/profileSummary.js bench/results/profiles/main.cpuprofile [top]

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: a package, a project file, Node itself, or V8's pseudo frames. */
export function categoryOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg ${pkg[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  const project = /\/(src|bench|dist)\/(.+)$/.exec(url);
  if (project) return `${project[1]}/${project[2]?.replace(/^src\//, '')}`;
  return url;
}

export function summarizeProfile(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const cat = categoryOf(frame);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us);
    const fn = `${frame.functionName || '(anonymous)'} ${cat}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const busy = total - (byCategory.get('(idle)') ?? 0);
  // Inclusive time of the project's own functions (self + everything they call), each counted
  // once per stack even when recursive.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || !/\/(src|dist)\//.test(frame.url) || /node_modules/.test(frame.url)) continue;
      const key = `${frame.functionName || '(anonymous)'} ${categoryOf(frame)}:${frame.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const internals = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame;
    if (frame?.url.startsWith('node:')) internals.set(frame.url, (internals.get(frame.url) ?? 0) + us);
  }
  const line = (name: string, us: number) => `${(us / 1000).toFixed(0).padStart(8)} ms ${((us / busy) * 100).toFixed(1).padStart(5)}%  ${name}`;
  const sorted = (m: Map<string, number>) => [...m.entries()].filter(([k]) => k !== '(idle)' && !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]);
  return [
    `profile: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s wall, ${(busy / 1e6).toFixed(1)} s on CPU (${((busy / total) * 100).toFixed(0)}%); shares below are of CPU time`,
    '',
    'self time by package / file:',
    ...sorted(byCategory).slice(0, top).map(([k, v]) => line(k, v)),
    '',
    'self time by function:',
    ...sorted(byFunction).slice(0, top).map(([k, v]) => line(k, v)),
    '',
    "inclusive time of the project's functions:",
    ...sorted(inclusive).slice(0, top).map(([k, v]) => line(k, v)),
    '',
    'node internals by module:',
    ...sorted(internals).slice(0, 10).map(([k, v]) => line(k, v)),
  ].join('\n');
}

const file = process.argv[2];
if (file && /profileSummary\.(ts|js)$/.test(process.argv[1] ?? '')) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(`${summarizeProfile(profile, Number(process.argv[3] ?? 25))}\n`);
}
