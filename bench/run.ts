import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { mintDevToken } from '../src/auth/devToken.js';
import { generateSigningKey } from '../src/services/ledgerLog/checkpointSigner.js';
import { startEmbeddedStore, type EmbeddedStore } from '../src/store/embeddedStore.js';
import { costAttackCase } from './cases/costAttack.js';
import { ledgerLogCase } from './cases/ledgerLog.js';
import { llmCase } from './cases/llm.js';
import { memoryCase } from './cases/memory.js';
import { planLedgerCase } from './cases/planLedger.js';
import { playbookCase } from './cases/playbook.js';
import { pointReadsCase } from './cases/pointReads.js';
import { proposalRunsCase } from './cases/proposalRuns.js';
import { proposeCase } from './cases/propose.js';
import { readSuiteCase } from './cases/readSuite.js';
import { transitionsCase } from './cases/transitions.js';
import { webhooksCase } from './cases/webhooks.js';
import type { BenchCase } from './lib/benchCase.js';
import { Window } from './lib/budget.js';
import { benchConfig } from './lib/config.js';
import { Harness, JWT_SECRET, TENANT } from './lib/harness.js';
import { PROJECT_ROOT, ProcessRegistry, childPids, commOf } from './lib/processes.js';
import { markdownReport, writeResults, type Row } from './lib/report.js';
import { ms } from './lib/stats.js';

// npm run bench: starts its own store (embedded FerretDB in a temp dir, or BENCH_MONGODB_URI)
// and the service as separate processes, drives load from separate processes over loopback,
// measures every case (bench/cases/*) against the raw driver doing the same store work in the
// same run, and prints one table (also written to bench/results/latest.{md,json}). Every case
// has a slice of a fixed time budget, so the run ends in time however slow the store is;
// everything it starts is stopped by pid at the end, on failure and on Ctrl-C too. Knobs:
// bench/results/README.md; how to add a case: docs/benchmarks.md.

const memory = memoryCase();
/** The cases in the order they run (case 5 measures before case 1 and again after case 4). */
const CASES: BenchCase[] = [memory.first, proposeCase, transitionsCase, pointReadsCase, readSuiteCase, planLedgerCase, llmCase, memory.second, ledgerLogCase, costAttackCase, proposalRunsCase, playbookCase, webhooksCase];

const cfg = benchConfig();
const started = Date.now();
const elapsed = () => Date.now() - started;
const remaining = () => cfg.budgetMs - elapsed();
const wants = (c: BenchCase) => cfg.only === null || cfg.only.has(c.id);
const log = (message: string) => process.stderr.write(`[bench ${(elapsed() / 1000).toFixed(0).padStart(3)} s] ${message}\n`);
const RESULTS_DIR = resolve(PROJECT_ROOT, 'bench', 'results');

const registry = new ProcessRegistry();
const rows: Row[] = [];
let harness: Harness | null = null;
let store: EmbeddedStore | null = null;
let tempDir: string | null = null;
let storeName = 'embedded FerretDB (SQLite backend) in a temp dir';
let admin: MongoClient | null = null;
let aborted = false;
const loadAtStart = loadavg();
/** Seconds each case took (its settle wait included), in run order. */
const caseSeconds: { id: string; title: string; seconds: number }[] = [];

let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    await registry.stopAll();
    await admin?.close().catch(() => undefined);
    await store?.stop().catch(() => undefined);
    if (tempDir && !cfg.keepTemp) rmSync(tempDir, { recursive: true, force: true });
  })());
}
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    aborted = true;
    log(`${signal}: stopping everything the bench started`);
    void cleanup().finally(() => process.exit(code));
  });
}

/**
 * A case's time window: its slice of the budget (the slices of the cases run are scaled to
 * add up to 1), plus what earlier cases left unused, but never so much that the cases after
 * it lose their turn (they keep at least 60% of their slices).
 */
function windowOf(active: BenchCase[], index: number): Window {
  const total = active.reduce((sum, c) => sum + c.slice, 0) || 1;
  const share = (c: BenchCase) => c.slice / total;
  const own = share(active[index]!);
  const later = active.slice(index + 1).reduce((sum, c) => sum + share(c), 0);
  const unused = Math.max(0, remaining() - cfg.budgetMs * (own + later));
  const reserve = cfg.budgetMs * later * 0.6;
  return new Window(Date.now() + Math.max(0, Math.min(cfg.budgetMs * own + unused, remaining() - reserve)), cfg.warmupMs + cfg.durationMs);
}

async function main(): Promise<void> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const profDir = cfg.cpuProf ? resolve(RESULTS_DIR, 'profiles') : null;
  if (profDir) mkdirSync(profDir, { recursive: true });
  tempDir = mkdtempSync(join(tmpdir(), 'renewal-bench-'));
  log(`temp dir ${tempDir}; budget ${(cfg.budgetMs / 1000).toFixed(0)} s`);

  let uri: string;
  let storePid: number | null = null;
  if (cfg.mongoUri) {
    uri = cfg.mongoUri;
    storeName = 'the server at BENCH_MONGODB_URI';
  } else {
    log('starting the embedded store (FerretDB, SQLite backend)');
    store = await startEmbeddedStore({ dataDir: join(tempDir, 'ferretdb'), log: (line) => log(`ferretdb: ${line}`), ...(cfg.storeDebugAddr ? { debugAddr: cfg.storeDebugAddr } : {}) });
    registry.track(store.pid, 'embedded store', () => store?.stop());
    storePid = childPids(store.pid).find((pid) => commOf(pid) === 'ferretdb') ?? null;
    uri = store.uri;
    let version = 'v1';
    try {
      version = readFileSync(resolve(PROJECT_ROOT, '.bin', 'ferretdb.version'), 'utf8').trim();
    } catch {
      // keep the generic name
    }
    storeName = `embedded FerretDB ${version} (SQLite backend) in a temp dir`;
  }
  admin = new MongoClient(uri, cfg.mongoUri ? {} : { directConnection: true });
  await admin.connect();
  const token = await mintDevToken({ secret: JWT_SECRET, tenantId: TENANT, roles: ['plan-proposer'], sub: 'bench', ttlSeconds: 3 * 3600 });
  const h = new Harness({ cfg, registry, admin, uri, storePid, tempDir, profDir, token, signingKey: generateSigningKey(), started, isAborted: () => aborted });
  harness = h;

  const active = CASES.filter(wants);
  for (const [i, c] of active.entries()) {
    if (aborted) break;
    const t0 = Date.now();
    if ((c.settleMs ?? 10_000) > 0) await h.awaitStoreIdle(c.settleMs ?? 10_000, `before case ${c.id}`);
    const window = windowOf(active, i);
    log(`case ${c.id}: ${c.title} (window ${(window.left() / 1000).toFixed(0)} s${c.seeds.length ? `; seeds: ${c.seeds.join('; ')}` : ''})`);
    try {
      rows.push(...(await c.run(h, window)));
    } catch (e) {
      rows.push(h.failRow(c.id, c.title, '', e));
    }
    for (const shared of c.shares ?? []) if (!active.slice(i + 1).some((later) => later.shares?.includes(shared))) await h.release(shared);
    caseSeconds.push({ id: c.id, title: c.title, seconds: Math.round((Date.now() - t0) / 1000) });
    log(`case ${c.id} took ${caseSeconds.at(-1)!.seconds} s`);
  }
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  log(`bench failed: ${String(e instanceof Error ? (e.stack ?? e.message) : e)}`);
  rows.push({ id: '!', what: 'bench run', load: String(e instanceof Error ? e.message : e).slice(0, 200), service: '', baseline: '', ratio: '', goal: '', verdict: 'error' });
} finally {
  const left = registry.pids();
  await cleanup();
  if (left.length) log(`stopped: ${left.map((p) => `${p.label} (pid ${p.pid})`).join(', ')}`);
}

if (aborted) process.exit(130);
const cpuModel = cpus()[0]?.model.trim() ?? 'unknown CPU';
const header = {
  title: `npm run bench — ${new Date(started).toISOString()}`,
  lines: [
    `Machine: ${availableParallelism()} cores (${cpuModel}), Node ${process.version}, ${process.platform}/${process.arch}; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')} at start, ${loadavg().map((l) => l.toFixed(2)).join(' / ')} at end`,
    `Store: ${storeName}. Service: its own process (node dist/src/main.js), NODE_ENV=production (case 12: test, for loopback webhook endpoints), LOG_LEVEL=info, rules generator (cases 4 and 10c: Gemini SDK against a fake on loopback). Load: separate processes over loopback, closed loop`,
    `Each run: ${cfg.warmupMs / 1000} s warm-up, then ${cfg.durationMs / 1000} s measured; latency per request at the client; requests over ${ms(cfg.timeoutMs)} count as timeouts; baselines: the official driver on the same store, same run`,
    `Run time: ${(elapsed() / 1000).toFixed(0)} s (this script; budget ${(cfg.budgetMs / 1000).toFixed(0)} s); per case: ${caseSeconds.map((c) => `${c.id} ${c.seconds} s`).join(', ')}`,
  ],
};
const details: Record<string, unknown> = harness ? (harness as Harness).details : {};
Object.assign(details, {
  header,
  machine: { cores: availableParallelism(), cpuModel, node: process.version, loadAtStart, loadAtEnd: loadavg() },
  runTimeMs: elapsed(),
  caseSeconds,
});
const notes = harness ? (harness as Harness).notes : [];
const paths = writeResults(RESULTS_DIR, header, rows, notes, details);
process.stdout.write(`\n${markdownReport(header, rows, notes)}\n`);
log(`wrote ${paths.md} and ${paths.json}`);
process.exit(failed ? 1 : 0);
