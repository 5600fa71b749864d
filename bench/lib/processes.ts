import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findProjectRoot } from '../../src/config/projectRoot.js';

// Every process the bench starts is registered here with a way to stop it by its pid, and
// run.ts stops them all in a finally block and on SIGINT/SIGTERM. The servers under test run
// under a small sh guard that also stops them when the bench itself dies (even on SIGKILL):
// the guard watches its stdin, a pipe only the bench holds, which the kernel closes on exit.

export const PROJECT_ROOT = findProjectRoot();

/** Stop functions of everything started and not yet stopped, by label. */
export class ProcessRegistry {
  private readonly live = new Map<number, { label: string; stop: () => void | Promise<void> }>();

  /** Registers a pid; the returned function unregisters it. */
  track(pid: number, label: string, stop: () => void | Promise<void>): () => void {
    this.live.set(pid, { label, stop });
    return () => {
      this.live.delete(pid);
    };
  }

  pids(): { pid: number; label: string }[] {
    return [...this.live.entries()].map(([pid, { label }]) => ({ pid, label }));
  }

  /** Stops everything still registered, newest first; never throws. */
  async stopAll(): Promise<void> {
    for (const [pid, { stop }] of [...this.live.entries()].reverse()) {
      try {
        await stop();
      } catch {
        killPid(pid, 'SIGKILL');
      }
      this.live.delete(pid);
    }
  }
}

export function killPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); its state letter says it is gone.
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the pid is gone. */
export async function stopPid(pid: number, graceMs = 15_000): Promise<void> {
  if (!pidAlive(pid)) return;
  killPid(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(50);
  if (pidAlive(pid)) {
    killPid(pid, 'SIGKILL');
    while (pidAlive(pid)) await sleep(20);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (for the server's inspector, opened only to force a GC). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** RSS of a process from /proc/<pid>/status, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

// $1: log file, the rest: the command. Prints the command's pid, then waits for it. When our
// end of its stdin closes (we stopped it, or we died) it sends the command SIGTERM.
const GUARD = [
  'exec 3<&0',
  'log="$1"; shift',
  '"$@" </dev/null >>"$log" 2>&1 & child=$!',
  'echo "$child"',
  '{ cat <&3 >/dev/null; kill -TERM "$child" 2>/dev/null; } & watcher=$!',
  'wait "$child"; status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

/** Settings the service reads from its environment: none leaks in from the caller's shell. */
const SERVICE_ENV = /^(NODE_ENV|HOST|PORT|LOG_LEVEL|MONGODB_.*|DATA_DIR|JWT_.*|GEMINI_.*|LEDGER_.*|WEBHOOK_.*|PROPOSAL_.*|LLM_TIMEOUT_MS|PROPOSAL_LLM_FALLBACK|TENANT_GATE_POLICIES|MAX_BODY_BYTES|NODE_OPTIONS)$/;

export interface ServerOptions {
  name: string;
  env: Record<string, string>;
  logFile: string;
  /** Writes a V8 CPU profile (<name>.cpuprofile) into this folder when the server exits. */
  cpuProfDir?: string;
  registry: ProcessRegistry;
  startTimeoutMs?: number;
}

export interface ServerProcess {
  name: string;
  /** pid of the node process itself (what RSS is read from). */
  pid: number;
  url: string;
  logFile: string;
  inspectPort: number;
  stop(): Promise<void>;
}

/** The server entry point: the compiled one when the bench itself runs compiled, else src through tsx. */
function serverCommand(): string[] {
  const compiled = fileURLToPath(import.meta.url).endsWith('.js');
  if (compiled) {
    const main = resolve(PROJECT_ROOT, 'dist', 'src', 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build`);
    return [main];
  }
  return ['--import', 'tsx', resolve(PROJECT_ROOT, 'src', 'main.ts')];
}

/**
 * Starts `node <main>` as a separate process with the given environment, on a port it picks
 * (PORT=0), and resolves once its "ready" log line names the URL.
 */
export async function startServer(options: ServerOptions): Promise<ServerProcess> {
  const inspectPort = await freePort();
  const flags = [`--inspect-port=127.0.0.1:${inspectPort}`];
  if (options.cpuProfDir) flags.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`, `--cpu-prof-name=${options.name}.cpuprofile`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SERVICE_ENV.test(k)) env[k] = v;
  Object.assign(env, { HOST: '127.0.0.1', PORT: '0' }, options.env);
  closeSync(openSync(options.logFile, 'a'));
  const guard: ChildProcess = spawn('sh', ['-c', GUARD, 'bench-server-guard', options.logFile, process.execPath, ...flags, ...serverCommand()], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  if (guard.pid === undefined) throw new Error(`${options.name}: could not spawn the server`);
  const guardPid = guard.pid;
  const pid = await new Promise<number>((resolvePid, reject) => {
    let text = '';
    guard.stdout?.setEncoding('utf8');
    guard.stdout?.on('data', (chunk: string) => {
      text += chunk;
      const line = /^(\d+)\n/.exec(text);
      if (line) resolvePid(Number(line[1]));
    });
    guard.once('exit', () => reject(new Error(`${options.name}: the server guard exited at once`)));
  });

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      await stopPid(pid);
      guard.stdin?.end();
      if (guard.exitCode === null && guard.signalCode === null) {
        await new Promise<void>((done) => {
          const t = setTimeout(() => {
            killPid(guardPid, 'SIGKILL');
            done();
          }, 5000);
          guard.once('exit', () => {
            clearTimeout(t);
            done();
          });
        });
      }
      untrack();
    })());
  const untrack = options.registry.track(pid, `server ${options.name}`, stop);

  try {
    const url = await waitForReady(options.logFile, pid, options.startTimeoutMs ?? 60_000);
    return { name: options.name, pid, url, logFile: options.logFile, inspectPort, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitForReady(logFile: string, pid: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    for (const line of text.split('\n')) {
      if (!line.includes('service ready')) continue;
      try {
        const entry = JSON.parse(line) as { url?: string };
        if (entry.url) return entry.url.replace(/\/graphql$/, '');
      } catch {
        // not a JSON line
      }
    }
    if (!pidAlive(pid)) throw new Error(`the server exited during start-up; its log:\n${tail(text)}`);
    await sleep(100);
  }
  throw new Error(`the server was not ready within ${timeoutMs} ms; its log:\n${tail(readFileSync(logFile, 'utf8'))}`);
}

export const tail = (text: string, lines = 15) => text.trimEnd().split('\n').slice(-lines).join('\n');

// Runs in a throwaway node process: Node 20 has WebSocket only behind a flag.
const GC_CLIENT = `
const port = Number(process.argv[1]);
const deadline = Date.now() + 10000;
async function target() {
  for (;;) {
    try {
      const list = await (await fetch('http://127.0.0.1:' + port + '/json/list')).json();
      if (list[0] && list[0].webSocketDebuggerUrl) return list[0].webSocketDebuggerUrl;
    } catch {}
    if (Date.now() > deadline) throw new Error('inspector did not open');
    await new Promise((r) => setTimeout(r, 100));
  }
}
target().then((url) => {
  const ws = new WebSocket(url);
  let id = 0;
  const send = () => ws.send(JSON.stringify({ id: ++id, method: 'HeapProfiler.collectGarbage' }));
  ws.onopen = send;
  ws.onmessage = (m) => {
    const msg = JSON.parse(String(m.data));
    if (msg.id === undefined) return;
    if (msg.error) { console.error(JSON.stringify(msg.error)); process.exit(1); }
    if (id < 2) send(); else { ws.close(); process.exit(0); }
  };
  ws.onerror = () => { console.error('websocket error'); process.exit(1); };
}, (e) => { console.error(String(e)); process.exit(1); });
setTimeout(() => { console.error('timeout'); process.exit(1); }, 15000);
`;

/**
 * Forces two full garbage collections in the server through its inspector (SIGUSR1 opens it
 * on the --inspect-port it was started with). Nothing is added to the service for this.
 */
export async function forceGc(server: ServerProcess, registry: ProcessRegistry): Promise<boolean> {
  if (!killPid(server.pid, 'SIGUSR1')) return false;
  const major = Number(process.versions.node.split('.')[0]);
  const flags = major < 22 ? ['--experimental-websocket', '--no-warnings'] : [];
  const child = spawn(process.execPath, [...flags, '-e', GC_CLIENT, String(server.inspectPort)], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (child.pid === undefined) return false;
  const untrack = registry.track(child.pid, 'gc client', () => {
    child.kill('SIGKILL');
  });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
  untrack();
  if (code !== 0) process.stderr.write(`bench: forcing a GC in ${server.name} failed: ${err.trim()}\n`);
  return code === 0;
}

/** The server's V8 heap (in use and committed) and memory outside it, from its own /metrics (prom-client default metrics). */
export async function heapBytes(server: ServerProcess): Promise<{ heapUsed: number | null; heapTotal: number | null; external: number | null }> {
  try {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const metric = (name: string) => {
      const match = new RegExp(`^${name}\\s+([0-9.e+]+)`, 'm').exec(text);
      return match ? Number(match[1]) : null;
    };
    return { heapUsed: metric('nodejs_heap_size_used_bytes'), heapTotal: metric('nodejs_heap_size_total_bytes'), external: metric('nodejs_external_memory_bytes') };
  } catch {
    return { heapUsed: null, heapTotal: null, external: null };
  }
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on Linux for every architecture Node supports

/** CPU time (user + system) a process has used so far, in milliseconds; null when it is gone. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** The command name of a process, or null. */
export function commOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Direct children of a process (from /proc/<pid>/task/<pid>/children). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
