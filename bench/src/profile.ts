import { Session } from 'node:inspector/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './report';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

/** The parts of V8's .cpuprofile this summary reads. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

/** Runs `work` under V8's sampling CPU profiler; only this thread (TDK's) is profiled. */
export async function profiled<T>(work: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    const result = await work();
    const { profile } = await session.post('Profiler.stop');
    return { result, profile: profile as CpuProfile };
  } finally {
    session.disconnect();
  }
}

interface Entry {
  name: string;
  ms: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time by package (TDK's own code and Node's by file). */
  groups: Entry[];
  /** Self time by function. */
  functions: Entry[];
  /** TDK's own functions with everything they called synchronously. */
  tdkInclusive: Entry[];
}

export function summarise(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  const tdkInclusive = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    // A sample stands for the time until the next one.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const leaf = byId.get(id);
    if (!leaf) return;
    totalMs += ms;
    const { group, name } = describe(leaf.callFrame);
    add(groups, group, ms);
    add(functions, name, ms);
    // Each TDK function on the stack once, however deep the recursion.
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame && isTdkCode(frame.url)) onStack.add(describe(frame).name);
    }
    for (const name of onStack) add(tdkInclusive, name, ms);
  });
  const sorted = (map: Map<string, number>) =>
    [...map].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return {
    totalMs,
    groups: sorted(groups),
    functions: sorted(functions),
    tdkInclusive: sorted(tdkInclusive),
  };
}

const root = fileURLToPath(repoRoot);
const isTdkCode = (url: string) => url.startsWith('file://') && !url.includes('/node_modules/');

function describe({ functionName, url, lineNumber }: CallFrame): { group: string; name: string } {
  const fn = functionName || '(anonymous)';
  // V8's own entries, (idle), (program), (garbage collector), and native code: V8 builtins, Node's
  // bindings and addons (LiteSVM's execution shows under its native function names).
  if (url === '') return { group: fn.startsWith('(') ? fn : '(native)', name: fn };
  if (url.startsWith('wasm://')) return { group: 'wasm (PGlite)', name: fn };
  if (url.startsWith('node:')) return { group: url, name: `${fn} — ${url}:${lineNumber + 1}` };
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const inPackage = path.lastIndexOf('/node_modules/');
  if (inPackage >= 0) {
    const file = path.slice(inPackage + '/node_modules/'.length);
    const parts = file.split('/');
    const group = (file.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
    return { group, name: `${fn} — ${file}:${lineNumber + 1}` };
  }
  // TDK's TypeScript runs through tsx, whose output has no useful line numbers: the file says enough.
  const file = relative(root, path);
  return { group: file, name: `${fn} — ${file}` };
}

export function summaryMarkdown(summary: ProfileSummary, limit = 15): string {
  const share = (ms: number) => `${((100 * ms) / summary.totalMs).toFixed(1)}%`;
  const table = (title: string, entries: Entry[]) =>
    [
      `| ${title} | ms | share |`,
      '|---|--:|--:|',
      ...entries
        .slice(0, limit)
        .map((e) => `| ${e.name.replaceAll('|', '\\|')} | ${Math.round(e.ms)} | ${share(e.ms)} |`),
    ].join('\n');
  return [
    table('self time by package or file', summary.groups),
    '',
    table('self time by function', summary.functions),
    '',
    table("TDK's functions, with what they call synchronously", summary.tdkInclusive),
  ].join('\n');
}
