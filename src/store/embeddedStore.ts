import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { findProjectRoot } from '../config/projectRoot.js';

/**
 * Launches the embedded store: FerretDB (SQLite backend) as a child process on a free
 * loopback port. FerretDB does not notice when its parent dies, so it runs under a small
 * `sh` guard that kills it when our stdin pipe closes: the kernel closes that pipe whenever
 * this process exits, even on SIGKILL, so no FerretDB outlives its parent.
 */

const PROJECT_ROOT = findProjectRoot();
const BINARY = resolve(PROJECT_ROOT, '.bin', 'ferretdb');
const BUILD_SCRIPT = resolve(PROJECT_ROOT, 'scripts', 'build-ferretdb.sh');

// $1 is the binary, the rest its flags. fd 3 keeps our stdin for the watcher, since
// background jobs of a non-interactive shell get /dev/null as stdin.
const GUARD_SCRIPT = [
  'exec 3<&0',
  '"$@" </dev/null & child=$!',
  '{ cat <&3 >/dev/null; kill -TERM "$child" 2>/dev/null; } & watcher=$!',
  'trap \'kill -TERM "$child" 2>/dev/null\' TERM INT',
  'wait "$child"; status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

/**
 * The appName in the URI of an embedded store this code started: it marks the server as our
 * FerretDB, so the connection takes FerretDB's settings (mongoConnection.ts) for that URI only.
 */
export const EMBEDDED_STORE_APP_NAME = 'renewal-defense-embedded-ferretdb';

/** Whether `uri` is one startEmbeddedStore made (its marker above). */
export function isEmbeddedStoreUri(uri: string): boolean {
  return new RegExp(`[?&]appName=${EMBEDDED_STORE_APP_NAME}(&|$)`).test(uri);
}

export interface EmbeddedStore {
  uri: string;
  port: number;
  /** pid of the guard process that owns FerretDB. */
  pid: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  startTimeoutMs?: number;
  log?: (line: string) => void;
  /** Where the store build's progress goes (default: stderr). */
  buildOutput?: (line: string) => void;
  /** Another FerretDB binary (benchmarks and tests compare .bin/ferretdb-stock); built by the caller. */
  binary?: string;
  /** A loopback address for FerretDB's debug handler (pprof goroutine dumps when diagnosing a stall); off by default. */
  debugAddr?: string;
}

/** While the build script runs and has said something, a line this often says it still does. */
const BUILD_HEARTBEAT_MS = 15_000;

/** How ensureFerretdbBinary runs the build. */
export interface EnsureBinaryOptions {
  /** Where each line of the build's output goes (default: stderr). */
  onOutput?: (line: string) => void;
  /** The build script (tests pass one of their own). */
  script?: string;
  heartbeatMs?: number;
}

/**
 * Builds .bin/ferretdb when missing (see scripts/build-ferretdb.sh; it returns at once when the
 * binary is current). What the script prints is passed on line by line, so a first start that
 * builds for minutes says so, with a heartbeat while the compiler is quiet.
 */
export async function ensureFerretdbBinary({ onOutput = (line) => process.stderr.write(`${line}\n`), script = BUILD_SCRIPT, heartbeatMs = BUILD_HEARTBEAT_MS }: EnsureBinaryOptions = {}): Promise<string> {
  const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const started = Date.now();
  const tail: string[] = [];
  let spoke = false;
  const heartbeat = setInterval(() => {
    if (spoke) onOutput(`build-ferretdb: still building (${Math.round((Date.now() - started) / 1000)} s)…`);
  }, heartbeatMs);
  heartbeat.unref();
  const onLine = (line: string) => {
    if (line.trim() === '') return;
    spoke = true;
    tail.push(line);
    if (tail.length > 20) tail.shift();
    onOutput(line);
  };
  for (const stream of [child.stdout, child.stderr]) readLines(stream, onLine);
  const code = await new Promise<number | null>((done) => {
    child.once('error', () => done(null));
    child.once('close', (exitCode) => done(exitCode));
  });
  clearInterval(heartbeat);
  if (code !== 0) throw new Error(`embedded store: ${relative(PROJECT_ROOT, script)} failed (exit ${code ?? 'spawn error'})${tail.length ? `:\n${tail.join('\n')}` : ''}`);
  return BINARY;
}

/** Calls onLine for each line a child process's output stream prints (the last one even without a newline). */
export function readLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let buffer = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
  stream?.on('end', () => {
    if (buffer) onLine(buffer);
  });
}

/** Builds .bin/ferretdb-stock (FerretDB without our patches, for comparisons) when missing. */
export async function ensureStockFerretdbBinary(): Promise<string> {
  await promisify(execFile)('bash', [BUILD_SCRIPT, '--stock'], { maxBuffer: 16 * 1024 * 1024 });
  return `${BINARY}-stock`;
}

export async function startEmbeddedStore(options: StartOptions): Promise<EmbeddedStore> {
  const binary = options.binary ?? (await ensureFerretdbBinary(options.buildOutput ? { onOutput: options.buildOutput } : {}));
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const args = [
    '--handler=sqlite',
    `--sqlite-url=file:${dataDir}/`,
    `--state-dir=${dataDir}`,
    `--listen-addr=127.0.0.1:${options.port ?? 0}`,
    '--telemetry=disable',
    `--debug-addr=${options.debugAddr ?? '-'}`,
    '--log-format=json',
    '--log-level=info', // the 'Listening on' line is INFO: it tells us the port
  ];
  const child = spawn('sh', ['-c', GUARD_SCRIPT, 'ferretdb-guard', binary, ...args], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, FERRETDB_TELEMETRY: 'disable', GOMAXPROCS: process.env.GOMAXPROCS ?? '2' },
  });
  if (child.pid === undefined) throw new Error('embedded store: could not spawn FerretDB');
  const port = await waitForListenPort(child, options.startTimeoutMs ?? 20_000, options.log);
  const uri = `mongodb://127.0.0.1:${port}/?appName=${EMBEDDED_STORE_APP_NAME}`;
  await waitForPing(uri, options.startTimeoutMs ?? 20_000);
  return { uri, port, pid: child.pid, stop: () => stopChild(child) };
}

function waitForListenPort(child: ChildProcess, timeoutMs: number, log?: (line: string) => void): Promise<number> {
  return new Promise((resolvePort, reject) => {
    let buffer = '';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    // Rebuilding an older build's indexes (patch 0006) is progress: each one restarts the wait.
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(new Error(`embedded store: FerretDB did not listen within ${timeoutMs} ms`)), timeoutMs);
    };
    const finish = (result: number | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (typeof result === 'number') resolvePort(result);
      else {
        child.kill('SIGKILL');
        reject(result);
      }
    };
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const match = /Listening on TCP 127\.0\.0\.1:(\d+)/.exec(line);
        if (match) finish(Number(match[1]));
        else if (line.includes('Stale index rebuilt')) {
          arm();
          log?.(line);
        }
        // FerretDB logs every failed command at WARN with a full dump; only errors are worth passing on.
        else if (/"level":"ERROR"|panic/.test(line)) log?.(line);
      }
    });
    child.once('exit', (code, signal) => finish(new Error(`embedded store: FerretDB exited early (code ${code}, signal ${signal})`)));
    arm();
  });
}

async function waitForPing(uri: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1000, directConnection: true });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (e) {
      lastError = e;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.close().catch(() => undefined);
    }
  }
  throw new Error(`embedded store: no ping answer within ${timeoutMs} ms: ${String(lastError)}`);
}

/** Closes the guard's stdin (it then stops FerretDB), waits, and kills by pid as a last resort. */
function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.stdin?.end();
  });
}
