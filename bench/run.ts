import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MongoClient, type Db, type Document } from 'mongodb';
import { mintDevToken } from '../src/auth/devToken.js';
import { ensureStockFerretdbBinary, startEmbeddedStore, type EmbeddedStore } from '../src/store/embeddedStore.js';
import { generateSigningKey } from '../src/services/ledgerLog/checkpointSigner.js';
import { runLedgerLogCases } from './ledgerLogCases.js';
import { runCostAttackCase } from './cases/costAttack.js';
import { ledgerChain } from './lib/documents.js';
import { LEDGER_PER_PLAN, SMALL_TENANT, SMALL_TENANT_PLANS, planIdOf, readQueries, seed, seedBatches, type ReadQuery } from './lib/readSuite.js';
import { startBenchFakeGemini, type BenchFakeGemini } from './lib/fakeGemini.js';
import { runLoadJob, type DriverOp, type HttpJob, type JobLimits, type LoadJob, type LoadResult, type WriteTemplate } from './lib/loadJob.js';
import { PROJECT_ROOT, ProcessRegistry, childPids, commOf, cpuMs, forceGc, heapUsedBytes, rssBytes, sleep, startServer, type ServerProcess } from './lib/processes.js';
import { markdownReport, writeResults, type Row, type Verdict } from './lib/report.js';
import { ms, rate, ratio } from './lib/stats.js';

// npm run bench: starts its own store (embedded FerretDB in a temp dir, or BENCH_MONGODB_URI)
// and the service as separate processes, drives load from separate processes over loopback,
// measures every case against the raw driver doing the same store work in the same run, and
// prints one table (also written to bench/results/latest.{md,json}). Every case has a slice of
// a fixed time budget, so the run ends in time however slow the store is; everything it starts
// is stopped by pid at the end, on failure and on Ctrl-C too. Knobs: bench/results/README.md.

const env = process.env;
const num = (name: string, fallback: number) => {
  const v = env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
};

const cfg = {
  warmupMs: num('BENCH_WARMUP_MS', 1500),
  durationMs: num('BENCH_DURATION_MS', 5000),
  /** One request taking longer counts as a timeout (an error). */
  timeoutMs: num('BENCH_TIMEOUT_MS', 10_000),
  /** Wall-clock budget of this script (the build before it is not counted). */
  budgetMs: num('BENCH_BUDGET_MS', 1_300_000),
  concurrencies: (env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map((s) => Number(s.trim())).filter((n) => n > 0),
  readConcurrency: num('BENCH_READ_CONCURRENCY', 1),
  memoryFirst: num('BENCH_MEMORY_FIRST', 1000),
  memoryTarget: num('BENCH_MEMORY_PROPOSALS', 20_000),
  ledgerSmall: num('BENCH_LEDGER_SMALL', 1000),
  ledgerLarge: num('BENCH_LEDGER_LARGE', 200_000),
  ledgerPlanEntries: 50,
  /** The read suite (case 6): plans of the large tenant at each size (10 ledger entries each). */
  readSizes: (env.BENCH_READ_SIZES ?? '1000,50000').split(',').map((s) => Number(s.trim())).filter((n) => n > 0),
  readWarmupMs: num('BENCH_READ_WARMUP_MS', 500),
  readDurationMs: num('BENCH_READ_DURATION_MS', 2500),
  llmDelayMs: num('BENCH_LLM_DELAY_MS', 300),
  llmConcurrency: num('BENCH_LLM_CONCURRENCY', 50),
  /** Case 8: DRAFT plans proposed, then approved once each. */
  transitionPlans: num('BENCH_TRANSITION_PLANS', 800),
  cpuProf: env.BENCH_CPU_PROF === '1',
  only: env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : null,
  mongoUri: env.BENCH_MONGODB_URI?.trim() || null,
  keepTemp: env.BENCH_KEEP_TEMP === '1',
};

/**
 * Each case's share of the budget (they add up to 1). A case ends at its slice's end or when
 * what is left must go to the cases after it, whichever is first; unused time passes on.
 */
const SLICES = { memoryFirst: 0.0184, propose: 0.0518, transitions: 0.02, reads: 0.0235, readSuite: 0.4135, ledger: 0.1177, llm: 0.022, memorySecond: 0.1177, ledgerLog: 0.2154 } as const;
type SliceName = keyof typeof SLICES;
const SLICE_CASE: Record<SliceName, string> = { memoryFirst: '5', propose: '1', transitions: '8', reads: '2', readSuite: '6', ledger: '3', llm: '4', memorySecond: '5', ledgerLog: '7' };
const ORDER: SliceName[] = ['memoryFirst', 'propose', 'transitions', 'reads', 'readSuite', 'ledger', 'llm', 'memorySecond', 'ledgerLog'];

const JWT_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';
/** The ledger's checkpoint key (NODE_ENV=production requires one), new every run. */
const LEDGER_SIGNING_KEY = generateSigningKey();
const TENANT = 'bench';
const RAW_TENANT = 'bench-raw';
const RESULTS_DIR = resolve(PROJECT_ROOT, 'bench', 'results');
const started = Date.now();
const elapsed = () => Date.now() - started;
const remaining = () => cfg.budgetMs - elapsed();
const wants = (c: string) => cfg.only === null || cfg.only.has(c);
const log = (message: string) => process.stderr.write(`[bench ${(elapsed() / 1000).toFixed(0).padStart(3)} s] ${message}\n`);

const PLAN_FIELDS = 'planId planType tenantId accountId objective status expiresAt createdAt updatedAt createdBy steps { stepId actionType status sequence dependencies constraints }';
const APPROVE = 'mutation Approve($id: ID!) { approvePlan(planId: $id) { ok plan { planId status } } }';
const PROPOSE = `mutation Propose($input: ProposePlanInput!) { proposePlan(input: $input) { proposalId source droppedSteps { actionType reason } plan { ${PLAN_FIELDS} } } }`;
const PLAN = `query Plan($id: ID!) { plan(planId: $id) { ${PLAN_FIELDS} } }`;
const LEDGER = 'query Ledger($id: ID!) { planLedger(filter: { planId: $id }, first: 50) { edges { cursor node { entryId planId seq eventType timestamp actor data prevHash hash } } pageInfo { hasNextPage endCursor } } }';

/** Proposal inputs over 512 accounts, with signals that make the rules choose all three steps. */
const proposeBodies = Array.from({ length: 512 }, (_, i) =>
  JSON.stringify({
    query: PROPOSE,
    operationName: 'Propose',
    variables: {
      input: {
        accountId: `acct-${i}`,
        planType: 'RENEWAL_DEFENSE',
        posture: { health: 'AT_RISK', arr: 120_000 + i, renewal_date: '2027-01-07' },
        signals: [
          { type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' },
          { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
          { type: 'USAGE_DROP', percent: 35 },
        ],
        history: [{ action_type: 'PREP_RENEWAL_BRIEF', at: '2026-10-01T10:00:00Z' }],
      },
    },
  }),
);

const registry = new ProcessRegistry();
const rows: Row[] = [];
const notes: string[] = [];
const runs: Record<string, LoadResult> = {};
const details: Record<string, unknown> = { config: cfg, runs };
let store: EmbeddedStore | null = null;
let fake: BenchFakeGemini | null = null;
let tempDir: string | null = null;
let storeName = 'embedded FerretDB (SQLite backend) in a temp dir';
let admin: MongoClient | null = null;
let aborted = false;
/** pid of the FerretDB process (for its CPU time), when the bench started it. */
let storePid: number | null = null;
const loadAtStart = loadavg();

let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    await registry.stopAll();
    await fake?.close().catch(() => undefined);
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

/** Time left for a run. */
interface Budget {
  left(): number;
}

/** A budget ending at `deadline`, within `outer`. */
const until = (deadline: number, outer?: Budget): Budget => ({ left: () => Math.min(outer ? outer.left() : Number.POSITIVE_INFINITY, deadline - Date.now()) });

/**
 * A case's time window: its slice of the budget (slices of the cases run share it all), plus
 * what earlier cases left unused, but never so much that the cases after it lose their turn.
 */
class Window implements Budget {
  readonly deadline: number;
  constructor(name: SliceName) {
    const active = ORDER.filter((n) => wants(SLICE_CASE[n]));
    const total = active.reduce((sum, n) => sum + SLICES[n], 0) || 1;
    const share = (n: SliceName) => SLICES[n] / total;
    const later = active.slice(active.indexOf(name) + 1).reduce((sum, n) => sum + share(n), 0);
    const own = cfg.budgetMs * share(name);
    const unused = Math.max(0, remaining() - cfg.budgetMs * (share(name) + later));
    const reserve = cfg.budgetMs * later * 0.6;
    this.deadline = Date.now() + Math.max(0, Math.min(own + unused, remaining() - reserve));
  }
  left(): number {
    return this.deadline - Date.now();
  }
  /** Room for one measured run (warm-up + window + a slow last request)? */
  fits(extraMs = 0): boolean {
    return this.left() >= cfg.warmupMs + cfg.durationMs + 2000 + extraMs;
  }
}

class Skipped extends Error {}

function limits(label: string, concurrency: number, overrides: Partial<JobLimits> = {}): JobLimits {
  return { label, concurrency, warmupMs: cfg.warmupMs, durationMs: cfg.durationMs, maxRequests: 1_000_000, timeoutMs: cfg.timeoutMs, ...overrides };
}

/** Runs a load job bounded by the window: it reports what it has when the window closes. */
async function run(job: LoadJob, window: Budget, server?: ServerProcess): Promise<LoadResult> {
  if (aborted) throw new Error('aborted');
  const left = window.left();
  if (left < 1000) throw new Skipped(`no time left for ${job.label}`);
  const bounded = { ...job, maxWallMs: Math.min(job.maxWallMs ?? Number.POSITIVE_INFINITY, left), timeoutMs: Math.min(job.timeoutMs, left) } as LoadJob;
  log(`run ${job.label} (c=${job.concurrency}, warm-up ${job.warmupMs} ms, ${job.durationMs} ms / ${job.maxRequests} requests, at most ${(bounded.maxWallMs! / 1000).toFixed(0)} s)`);
  const cpuBefore = { server: server ? cpuMs(server.pid) : null, store: storePid ? cpuMs(storePid) : null };
  const result = await runLoadJob(bounded, (pid, kill) => registry.track(pid, `load ${job.label}`, kill));
  if (aborted) throw new Error('aborted');
  const sent = result.warmupRequests + result.requests + result.errors;
  const perRequest = (before: number | null, after: number | null) => (before !== null && after !== null && sent > 0 ? (after - before) / sent : null);
  result.cpuPerRequest = {
    server: server ? perRequest(cpuBefore.server, cpuMs(server.pid)) : null,
    store: storePid ? perRequest(cpuBefore.store, cpuMs(storePid)) : null,
  };
  runs[job.label] = result;
  log(
    `  ${result.requests} ok, ${result.errors} errors (${result.timeouts} timeouts), ${rate(result.throughput)}, p50 ${ms(result.latency.p50)}, p99 ${ms(result.latency.p99)}` +
      (result.cpuPerRequest.server !== null || result.cpuPerRequest.store !== null ? `; CPU per request: ${cpuText(result)}` : '') +
      (result.errorSamples.length ? `; first error: ${result.errorSamples[0]}` : ''),
  );
  return result;
}

/**
 * Waits until the store process uses less than a tenth of a core (or maxMs passed). A read the
 * client gave up on keeps running in FerretDB, and must not slow down the next measurement.
 */
async function awaitStoreIdle(maxMs: number, why: string): Promise<void> {
  return awaitProcessIdle(storePid, maxMs, why);
}

/** Waits until process `pid` uses less than a tenth of a core (or maxMs passed). */
async function awaitProcessIdle(pid: number | null, maxMs: number, why: string): Promise<void> {
  if (!pid) return;
  const start = Date.now();
  for (;;) {
    const before = cpuMs(pid);
    await sleep(500);
    const after = cpuMs(pid);
    if (before === null || after === null || after - before < 50) break;
    if (Date.now() - start >= maxMs) {
      log(`the store is still busy after ${ms(maxMs)} (${why}); going on`);
      return;
    }
  }
  if (Date.now() - start > 1000) log(`waited ${ms(Date.now() - start)} for the store to go idle (${why})`);
}

/** "service 2.1 ms + store 6.3 ms" (or "client …" for a raw driver run) of CPU per request. */
function cpuText(r: LoadResult): string {
  const parts: string[] = [];
  if (r.cpuPerRequest?.server != null) parts.push(`service ${ms(r.cpuPerRequest.server)}`);
  else if (Number.isFinite(r.clientCpuPerRequest)) parts.push(`client ${ms(r.clientCpuPerRequest)}`);
  if (r.cpuPerRequest?.store != null) parts.push(`store ${ms(r.cpuPerRequest.store)}`);
  return parts.join(' + ');
}

/** One side of a comparison: how to build its job, and the server to watch (service sides). */
interface Side {
  label: string;
  make: (l: JobLimits) => LoadJob;
  server?: ServerProcess;
}

/**
 * Measures sides whose reads may be slow, one after the other: each first sends one probe
 * request (up to 20 s, and a fair part of the window). Under a second, a normal run follows; up to 5 s, a run cut to the few
 * requests the window allows; over that, the single cold probe request is the figure. After a
 * request the client gave up on, waits for the store to finish it (it does not cancel it).
 */
async function measureSides(sides: Side[], concurrency: number, window: Window, overrides: Partial<JobLimits> = {}): Promise<LoadResult[]> {
  const out: LoadResult[] = [];
  for (const [i, side] of sides.entries()) {
    // A fair part of what is left for each side still to come, and 20 s at most.
    const probeTimeout = Math.max(1000, Math.min(Math.max(cfg.timeoutMs, 20_000), window.left() / (sides.length - i) - 1000));
    const probeJob = () => side.make(limits(`${side.label} probe`, 1, { warmupMs: 0, durationMs: 1, maxRequests: 1, timeoutMs: probeTimeout }));
    let probe = await run(probeJob(), window, side.server);
    // A probe that neither answered nor failed was not counted (it ended past its 1 ms window): once more.
    if (probe.requests === 0 && probe.errors === 0) probe = await run(probeJob(), window, side.server);
    const took = probe.requests > 0 ? probe.latency.max : Number.POSITIVE_INFINITY;
    let result: LoadResult;
    if (took <= 1000) {
      result = await run(side.make(limits(side.label, concurrency, overrides)), window, side.server);
    } else if (took > 5000 || !window.fits()) {
      notes.push(`${side.label}: ${probe.requests > 0 ? `one read took ${ms(took)}, so that single cold request is the measurement` : `the probe request had no answer within ${ms(probe.timeoutMs)}`}.`);
      result = { ...probe, label: side.label };
    } else {
      const allow = Math.min(cfg.durationMs, window.left() / 3);
      result = await run(side.make(limits(side.label, concurrency, { warmupMs: 0, durationMs: allow, maxRequests: Math.max(1, Math.floor(allow / took)), timeoutMs: Math.max(cfg.timeoutMs, 4 * took) })), window, side.server);
      notes.push(`${side.label}: one read took ${ms(took)}, so it was measured over ${result.requests + result.errors} request(s) after its probe request.`);
    }
    out.push(result);
    if (probe.timeouts > 0 || result.timeouts > 0) await awaitStoreIdle(Math.max(0, Math.min(60_000, window.left() - 5000)), `after ${side.label} timed out`);
  }
  return out;
}

function gqlJob(server: ServerProcess, token: string, label: string, bodies: string[], l: JobLimits, expect?: string): HttpJob {
  return { kind: 'http', ...l, label, url: `${server.url}/graphql`, headers: { authorization: `Bearer ${token}` }, bodies, ...(expect ? { expect } : {}) };
}

function driverJob(uri: string, dbName: string, label: string, driver: DriverOp, l: JobLimits): LoadJob {
  return { kind: 'driver', ...l, label, uri, db: dbName, driver };
}

/** "412/s · p50 3.1 ms · p99 9.8 ms", or what went wrong. */
function fmtRun(r: LoadResult | null, withRate = true): string {
  if (!r) return 'n/a';
  if (r.requests === 0) return r.timeouts > 0 ? `no answer within ${ms(r.timeoutMs)} (${r.timeouts} timeout${r.timeouts > 1 ? 's' : ''})` : `no answer (${r.errors} errors)`;
  const errs = r.errors ? ` · ${r.errors} err${r.timeouts ? ` (${r.timeouts} timeouts)` : ''}` : '';
  return `${withRate ? `${rate(r.throughput)} · ` : ''}p50 ${ms(r.latency.p50)} · p99 ${ms(r.latency.p99)}${errs}`;
}

/** A latency percentile, or (when every request timed out) the timeout as a lower bound. */
function latencyOf(r: LoadResult, p: 'p50' | 'p99'): { value: number; lowerBound: boolean } | null {
  if (r.requests > 0) {
    // Timeouts are slower than every answer: past half of the requests, p50 is a lower bound too.
    const bound = r.timeouts > 0 && (p === 'p99' ? r.timeouts / (r.requests + r.errors) > 0.01 : r.timeouts >= r.requests);
    return { value: bound ? Math.max(r.latency[p], r.timeoutMs) : r.latency[p], lowerBound: bound };
  }
  return r.timeouts > 0 ? { value: r.timeoutMs, lowerBound: true } : null;
}

function latencyRatio(a: LoadResult, b: LoadResult, p: 'p50' | 'p99'): { value: number; text: string; known: boolean } {
  const x = latencyOf(a, p);
  const y = latencyOf(b, p);
  if (!x || !y || (x.lowerBound && y.lowerBound)) return { value: Number.NaN, text: 'n/a', known: false };
  const value = x.value / y.value;
  if (x.lowerBound) return { value, text: `> ${ratio(value)}`, known: true };
  if (y.lowerBound) return { value, text: `< ${ratio(value)}`, known: true };
  return { value, text: ratio(value), known: true };
}

/** pass/miss for "ratio ≤ limit" when a side may be only a bound (a timeout): undecided is incomplete. */
function boundedVerdict(r: { value: number; text: string; known: boolean }, limit: number): Verdict {
  if (!r.known) return 'error';
  if (r.text.startsWith('>')) return r.value > limit ? 'miss' : 'incomplete';
  if (r.text.startsWith('<')) return r.value <= limit ? 'pass' : 'incomplete';
  return r.value <= limit ? 'pass' : 'miss';
}

const verdictOf = (ok: boolean | null, complete = true): Verdict => (ok === null ? 'error' : !complete ? 'incomplete' : ok ? 'pass' : 'miss');
const mb = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MB`);

function skipRow(id: string, what: string, goal: string, why: string): void {
  log(`case ${id} skipped: ${why}`);
  rows.push({ id, what, load: `skipped: ${why}`, service: '', baseline: '', ratio: '', goal, verdict: 'skipped' });
}

function failRow(id: string, what: string, goal: string, e: unknown): void {
  if (e instanceof Skipped) return skipRow(id, what, goal, e.message);
  const text = String(e instanceof Error ? e.message : e).split('\n')[0] ?? '';
  log(`case ${id} failed: ${String(e instanceof Error ? (e.stack ?? e.message) : e)}`);
  rows.push({ id, what, load: `error: ${text.slice(0, 160)}`, service: '', baseline: '', ratio: '', goal, verdict: 'error' });
}

/** RSS after two forced full GCs (through the inspector) and a pause: the settle period. */
async function settledMemory(server: ServerProcess): Promise<{ rss: number; heapUsed: number | null; gcForced: boolean }> {
  await sleep(1000);
  const gcForced = await forceGc(server, registry);
  await sleep(2000);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rssBytes(server.pid));
    await sleep(200);
  }
  samples.sort((a, b) => a - b);
  return { rss: samples[2] as number, heapUsed: await heapUsedBytes(server), gcForced };
}

const countPlans = (db: Db, tenant: string) => db.collection('plans').countDocuments({ tenant_id: tenant });

/** Proposals through the service until the tenant holds `target` plans, within the window. */
async function proposeUntil(server: ServerProcess, token: string, db: Db, target: number, window: Budget, label: string): Promise<{ count: number; result: LoadResult | null }> {
  const have = await countPlans(db, TENANT);
  if (have >= target) return { count: have, result: null };
  const result = await run(gqlJob(server, token, label, proposeBodies, limits(label, 16, { warmupMs: 0, durationMs: Math.max(1000, window.left() - 5000), maxRequests: target - have }), '"source":"RULES"'), window, server);
  return { count: await countPlans(db, TENANT), result };
}

/** insertMany in batches, two in flight, until done or `until` (epoch ms); returns how many went in. */
async function bulkInsert(db: Db, collection: string, batches: Iterable<Document[]>, until: number): Promise<number> {
  let n = 0;
  let inFlight: Promise<number> | null = null;
  for (const batch of batches) {
    if (Date.now() >= until || aborted) break;
    const insert = db
      .collection(collection)
      .insertMany(batch, { ordered: false })
      .then((r) => r.insertedCount);
    if (inFlight) n += await inFlight;
    inFlight = insert;
  }
  if (inFlight) n += await inFlight;
  return n;
}

/**
 * `count` ledger entries as hash-chained plans of `perPlan` entries, in insert batches. The
 * plan `last` is written last: the newest plan, and the last rows of a store that scans.
 */
function* ledgerBatches(count: number, perPlan: number, last: string, batchSize = 1000): Generator<Document[]> {
  const plans = Math.max(1, Math.ceil(count / perPlan));
  const start = new Date(Date.now() - 86_400_000);
  let batch: Document[] = [];
  for (let p = 0; p < plans; p++) {
    const planId = p === plans - 1 ? last : `ledger-plan-${p}`;
    batch.push(...ledgerChain(TENANT, planId, `ledger-acct-${p % 997}`, perPlan, start));
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

async function main(): Promise<void> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const profDir = resolve(RESULTS_DIR, 'profiles');
  if (cfg.cpuProf) mkdirSync(profDir, { recursive: true });
  tempDir = mkdtempSync(join(tmpdir(), 'renewal-bench-'));
  log(`temp dir ${tempDir}; budget ${(cfg.budgetMs / 1000).toFixed(0)} s`);

  let uri: string;
  if (cfg.mongoUri) {
    uri = cfg.mongoUri;
    storeName = 'the server at BENCH_MONGODB_URI';
  } else {
    log('starting the embedded store (FerretDB, SQLite backend)');
    store = await startEmbeddedStore({ dataDir: join(tempDir, 'ferretdb'), log: (line) => log(`ferretdb: ${line}`) });
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
  const adminClient = admin;
  const token = await mintDevToken({ secret: JWT_SECRET, tenantId: TENANT, roles: ['plan-proposer'], sub: 'bench', ttlSeconds: 3 * 3600 });
  const server = (name: string, dbName: string, extra: Record<string, string> = {}) =>
    startServer({
      name,
      env: { NODE_ENV: 'production', LOG_LEVEL: 'info', JWT_SECRET, LEDGER_SIGNING_KEY, MONGODB_URI: uri, MONGODB_DB: dbName, ...extra },
      logFile: join(tempDir as string, `${name}.log`),
      registry,
      ...(cfg.cpuProf ? { cpuProfDir: profDir } : {}),
    });

  const mainDbName = 'bench_main';
  const mainDb = adminClient.db(mainDbName);
  let mainServer: ServerProcess | null = null;
  let memoryFirst: { count: number; rss: number; heapUsed: number | null; gcForced: boolean } | null = null;
  const memoryWhat = `memory: server RSS after ${cfg.memoryFirst.toLocaleString('en-US')} → ${cfg.memoryTarget.toLocaleString('en-US')} proposals`;

  // ---- one server process (database bench_main) for case 5 and cases 1 and 2 ----
  if (wants('1') || wants('2') || wants('5') || wants('8')) {
    log('starting server "main" (rules generator)');
    mainServer = await server('main', mainDbName);
    log(`server main: pid ${mainServer.pid}, ${mainServer.url}`);
  }

  // ---- case 5, first point: RSS after the first 1k proposals ----
  if (mainServer && wants('5')) {
    const window = new Window('memoryFirst');
    try {
      const first = await proposeUntil(mainServer, token, mainDb, cfg.memoryFirst, window, `memory: proposals to ${cfg.memoryFirst}`);
      memoryFirst = { count: first.count, ...(await settledMemory(mainServer)) };
      log(`after ${first.count} proposals: RSS ${mb(memoryFirst.rss)}, heap used ${mb(memoryFirst.heapUsed)}`);
      if (first.count < cfg.memoryFirst) notes.push(`5: the first memory point is at ${first.count} proposals (its time slice ended before ${cfg.memoryFirst}).`);
    } catch (e) {
      failRow('5', memoryWhat, 'growth < 20%', e);
    }
  }

  // ---- case 1: proposePlan at each concurrency, against the raw driver's writes ----
  if (mainServer && wants('1')) {
    await awaitStoreIdle(10_000, 'before case 1');
    const window = new Window('propose');
    const goal = 'throughput ≥ 0.6× raw';
    let template: WriteTemplate | null = null;
    try {
      if ((await countPlans(mainDb, TENANT)) === 0) {
        await run(gqlJob(mainServer, token, 'proposePlan seed', proposeBodies, limits('proposePlan seed', 1, { warmupMs: 0, maxRequests: 20 }), '"source":"RULES"'), window);
      }
      const plan = await mainDb.collection('plans').findOne({ tenant_id: TENANT });
      const entry = plan ? await mainDb.collection('plan_ledger').findOne({ tenant_id: TENANT, plan_id: plan._id, seq: 1 }) : null;
      if (!plan || !entry) throw new Error('no proposed plan to copy the raw writes from');
      template = { plan, entry };
      details.writeTemplate = { planJsonBytes: JSON.stringify(plan).length, entryJsonBytes: JSON.stringify(entry).length };
    } catch (e) {
      failRow('1', 'proposePlan', goal, e);
    }
    for (const [i, c] of cfg.concurrencies.entries()) {
      const id = `1${String.fromCharCode(97 + i)}`;
      const what = `proposePlan c=${c}`;
      if (!template) break;
      // Each concurrency gets its share of what is left, service and raw driver alike.
      const share = window.left() / (cfg.concurrencies.length - i);
      const runCount = i === 0 ? 3 : 2; // service, raw, and at c=1 the protocol replay
      const sideMs = Math.max(cfg.warmupMs + cfg.durationMs + 3000, share / runCount);
      if (share < 2 * (cfg.warmupMs + cfg.durationMs) + 2000) {
        skipRow(id, what, goal, 'time budget');
        continue;
      }
      try {
        const plansBefore = await countPlans(mainDb, TENANT);
        const svc = await run(gqlJob(mainServer, token, `${what} (service)`, proposeBodies, limits(`${what} (service)`, c), '"source":"RULES"'), until(Date.now() + sideMs, window), mainServer);
        const raw = await run(driverJob(uri, mainDbName, `${what} (raw driver)`, { op: 'proposeWrites', tenant: RAW_TENANT, template }, limits(`${what} (raw driver)`, c)), until(Date.now() + sideMs, window));
        // The protocol replay is a diagnostic; at c=1 it is clean (at higher concurrency SQLite's
        // write lock dominates it), and it costs a run.
        const protocol = i === 0 && window.fits()
          ? await run(driverJob(uri, mainDbName, `${what} (raw, service's store protocol)`, { op: 'proposeProtocol', tenant: RAW_TENANT, template }, limits(`${what} (raw, service's store protocol)`, c)), until(Date.now() + sideMs, window))
          : null;
        const r = svc.throughput / raw.throughput;
        rows.push({
          id,
          what,
          load: `closed loop, ${c} in flight; ${plansBefore.toLocaleString('en-US')} plans stored before`,
          service: `${fmtRun(svc)} · CPU/request: ${cpuText(svc)}`,
          baseline:
            `raw insertOne plan + insertOne ledger entry (SHA-256): ${fmtRun(raw)} · CPU/request: ${cpuText(raw)}` +
            (protocol ? `; raw doing the service's store protocol (entry with the plan's copy, then plan): ${fmtRun(protocol)} · CPU/request: ${cpuText(protocol)}` : ''),
          ratio: `${ratio(r)} throughput${protocol ? ` (service ÷ raw doing its protocol: ${ratio(svc.throughput / protocol.throughput)})` : ''}`,
          goal,
          verdict: verdictOf(raw.requests > 0 ? r >= 0.6 : null),
          figures: { service: svc, raw, protocol, throughputRatio: r, plansBefore },
        });
      } catch (e) {
        failRow(id, what, goal, e);
      }
    }
  }

  // ---- case 8: a lifecycle transition (approvePlan of fresh DRAFT plans): CPU per request ----
  if (mainServer && wants('8')) {
    await awaitStoreIdle(10_000, 'before case 8');
    const window = new Window('transitions');
    const c = 16;
    const what = `approvePlan c=${c}`;
    try {
      const approver = await mintDevToken({ secret: JWT_SECRET, tenantId: TENANT, roles: ['plan-approver'], sub: 'bench-approver', ttlSeconds: 3600 });
      const wanted = cfg.transitionPlans;
      // An approved plan cannot be approved again: each request approves a DRAFT plan of its own.
      await run(gqlJob(mainServer, token, 'approvePlan seed', proposeBodies, limits('approvePlan seed', c, { warmupMs: 0, durationMs: window.left(), maxRequests: wanted }), '"source":"RULES"'), window);
      const ids = (await mainDb.collection('plans').find({ tenant_id: TENANT, plan_status: 'DRAFT' }, { projection: { _id: 1 } }).limit(wanted).toArray()).map((d) => String(d._id));
      const bodies = ids.map((id) => JSON.stringify({ query: APPROVE, operationName: 'Approve', variables: { id } }));
      const svc = await run(gqlJob(mainServer, approver, what, bodies, limits(what, c, { warmupMs: 0, durationMs: window.left(), maxRequests: bodies.length }), '"ok":true'), window, mainServer);
      rows.push({
        id: '8',
        what,
        load: `closed loop, ${c} in flight; ${ids.length.toLocaleString('en-US')} DRAFT plans, each approved once`,
        service: `${fmtRun(svc)} · CPU/request: ${cpuText(svc)}`,
        baseline: 'none (a diagnostic: CPU per transition)',
        ratio: 'n/a',
        goal: 'CPU per request stated',
        verdict: verdictOf(svc.requests > 0 && svc.errors === 0),
        figures: { service: svc },
      });
    } catch (e) {
      failRow('8', what, 'CPU per request stated', e);
    }
  }

  // ---- case 2: plan(planId), against the raw driver's reads (lists: case 6) ----
  if (mainServer && wants('2')) {
    await awaitStoreIdle(10_000, 'before case 2');
    const window = new Window('reads');
    const goal = 'p99 ≤ 2× raw';
    const c = cfg.readConcurrency;
    try {
      if ((await countPlans(mainDb, TENANT)) < 60) {
        await run(gqlJob(mainServer, token, 'reads seed', proposeBodies, limits('reads seed', 4, { warmupMs: 0, maxRequests: 100 }), '"source":"RULES"'), window);
      }
      const ids = (await mainDb.collection('plans').find({ tenant_id: TENANT }, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
      // A fixed sample spread over the stored plans (old and new), visited round robin by both sides.
      const n = Math.min(500, ids.length);
      const sample = Array.from({ length: n }, (_, i) => ids[Math.floor((i * ids.length) / n)] as string);
      const stored = ids.length;
      const cases: { id: string; what: string; bodies: string[]; driver: DriverOp; baseline: string; alt?: { driver: DriverOp; name: string } }[] = [
        {
          id: '2a',
          what: 'plan(planId)',
          bodies: sample.map((id) => JSON.stringify({ query: PLAN, operationName: 'Plan', variables: { id } })),
          driver: { op: 'findPlan', tenant: TENANT, ids: sample },
          baseline: 'raw findOne {_id, tenant_id}',
          alt: { driver: { op: 'findPlanById', tenant: TENANT, ids: sample }, name: 'raw findOne {_id}' },
        },
      ];
      for (const k of cases) {
        try {
          if (!window.fits()) throw new Skipped('time budget');
          const [svc, raw] = (await measureSides(
            [
              { label: `${k.what} (service)`, make: (l) => gqlJob(mainServer as ServerProcess, token, l.label, k.bodies, l), server: mainServer as ServerProcess },
              { label: `${k.what} (raw driver)`, make: (l) => driverJob(uri, mainDbName, l.label, k.driver, l) },
            ],
            c,
            window,
          )) as [LoadResult, LoadResult];
          const alt = k.alt && window.fits() ? await run(driverJob(uri, mainDbName, `${k.what} (${k.alt.name})`, k.alt.driver, limits(`${k.what} (${k.alt.name})`, c)), window) : null;
          const p99 = latencyRatio(svc, raw, 'p99');
          const p50 = latencyRatio(svc, raw, 'p50');
          rows.push({
            id: k.id,
            what: k.what,
            load: `closed loop, ${c} in flight; ${stored.toLocaleString('en-US')} plans stored`,
            service: fmtRun(svc),
            baseline: `${k.baseline}: ${fmtRun(raw)}${alt && k.alt ? `; ${k.alt.name}: ${fmtRun(alt)}` : ''}`,
            ratio: `${p99.text} p99 (p50 ${p50.text})${alt ? `; p99 vs {_id} alone ${latencyRatio(svc, alt, 'p99').text}` : ''}`,
            goal,
            verdict: boundedVerdict(p99, 2),
            figures: { service: svc, raw, alt, p99Ratio: p99.value, p50Ratio: p50.value, plansStored: stored },
          });
        } catch (e) {
          failRow(k.id, k.what, goal, e);
        }
      }
    } catch (e) {
      failRow('2', 'reads', goal, e);
    }
  }

  // ---- case 6: the read suite: the dashboard's reads at each size, stock vs patched vs raw ----
  // The large tenant grows from the first size to the last (10 ledger entries per plan); a
  // small tenant of 100 plans sits beside it throughout. Patched FerretDB is the bench's store;
  // stock FerretDB (.bin/ferretdb-stock, built on demand) gets the same documents in a store of
  // its own. Each has its own service process; the raw driver reads the patched store.
  if (wants('6')) {
    await awaitStoreIdle(10_000, 'before case 6');
    const window = new Window('readSuite');
    const goal = 'see each row';
    let stockStore: EmbeddedStore | null = null;
    const servers: ServerProcess[] = [];
    try {
      const dbName = 'bench_reads';
      const sides: { name: 'patched' | 'stock'; uri: string; db: Db; server: ServerProcess }[] = [];
      const patchedServer = await server('reads', dbName);
      servers.push(patchedServer);
      sides.push({ name: 'patched', uri, db: adminClient.db(dbName), server: patchedServer });
      let stockClient: MongoClient | null = null;
      if (!cfg.mongoUri) {
        log('building and starting stock FerretDB (no patches) for case 6');
        const binary = await ensureStockFerretdbBinary();
        const started = await startEmbeddedStore({ dataDir: join(tempDir as string, 'ferretdb-stock'), binary, log: (line) => log(`ferretdb-stock: ${line}`) });
        stockStore = started;
        registry.track(started.pid, 'stock store', () => started.stop());
        stockClient = new MongoClient(started.uri, { directConnection: true });
        await stockClient.connect();
        const stockServer = await server('reads-stock', dbName, { MONGODB_URI: started.uri });
        servers.push(stockServer);
        sides.push({ name: 'stock', uri: started.uri, db: stockClient.db(dbName), server: stockServer });
      } else notes.push('6: with BENCH_MONGODB_URI there is no stock FerretDB to compare with.');
      const smallToken = await mintDevToken({ secret: JWT_SECRET, tenantId: SMALL_TENANT, roles: ['plan-viewer'], sub: 'bench', ttlSeconds: 3 * 3600 });
      const now = Date.now();
      const seedTo = async (tenant: string, from: number, to: number) => {
        const t0 = Date.now();
        const counts = await Promise.all(sides.map((side) => seed(side.db, seedBatches(tenant, from, to, now))));
        const n = counts[0] ?? 0;
        log(`  seeded ${n} plans (+${n * LEDGER_PER_PLAN} ledger entries) of ${tenant} into ${sides.length} store(s) in ${ms(Date.now() - t0)}`);
      };
      await seedTo(SMALL_TENANT, 0, SMALL_TENANT_PLANS);
      const sizes = [...cfg.readSizes].sort((a, b) => a - b);
      const biggest = sizes.at(-1) ?? 0;
      type Measured = { patched: LoadResult; raw: LoadResult; stock: LoadResult | null };
      const results = new Map<number, Map<string, Measured>>();
      let have = 0;
      for (const size of sizes) {
        await seedTo(TENANT, have, size);
        have = size;
        await awaitStoreIdle(20_000, 'after seeding');
        const ids = Array.from({ length: 200 }, (_, k) => planIdOf(TENANT, Math.floor((k * size) / 200)));
        const queries: (ReadQuery & { tenantToken?: string })[] = [
          ...readQueries(TENANT, size, ids, now),
          { ...readQueries(SMALL_TENANT, SMALL_TENANT_PLANS, [], now).find((q) => q.key === 'plans')!, key: 'small', what: `small tenant's plans(first: 50) (${SMALL_TENANT_PLANS} plans)`, tenantToken: smallToken },
        ];
        const bySize = new Map<string, Measured>();
        results.set(size, bySize);
        const overrides = { warmupMs: cfg.readWarmupMs, durationMs: cfg.readDurationMs };
        const label = (q: ReadQuery, side: string) => `6 ${q.key} @${size} (${side})`;
        for (const q of queries) {
          if (!window.fits()) throw new Skipped(`time budget (at ${size} plans, ${q.what})`);
          const t = q.tenantToken ?? token;
          const [patched, raw] = await measureSides(
            [
              { label: label(q, 'patched service'), make: (l) => gqlJob(patchedServer, t, l.label, q.bodies, l), server: patchedServer },
              { label: label(q, 'raw driver, patched'), make: (l) => driverJob(uri, dbName, l.label, { op: 'read', reads: q.raw }, l) },
            ],
            cfg.readConcurrency,
            window,
            overrides,
          );
          bySize.set(q.key, { patched: patched!, raw: raw!, stock: null });
        }
        // Stock FerretDB after the patched store's runs: a read the client gave up on goes on in
        // the stock store for a while, and must not slow down the patched figures.
        const stockSide = sides.find((sd) => sd.name === 'stock');
        if (stockSide) {
          for (const q of queries) {
            if (!window.fits()) break;
            const t = q.tenantToken ?? token;
            const [stock] = await measureSides([{ label: label(q, 'stock service'), make: (l) => gqlJob(stockSide.server, t, l.label, q.bodies, l), server: stockSide.server }], cfg.readConcurrency, window, overrides);
            bySize.get(q.key)!.stock = stock ?? null;
          }
          if (stockStore) await awaitProcessIdle(childPids(stockStore.pid).find((pid) => commOf(pid) === 'ferretdb') ?? null, 120_000, 'stock store, after its reads');
        }
      }
      const small = results.get(sizes[0] ?? 0);
      const large = results.get(biggest);
      if (!small || !large) throw new Error('no sizes measured');
      const sizeText = (n: number) => `${n.toLocaleString('en-US')} plans / ${(n * LEDGER_PER_PLAN).toLocaleString('en-US')} entries`;
      for (const q of readQueries(TENANT, biggest, [], now).concat([{ key: 'small', what: `small tenant's plans(first: 50) (${SMALL_TENANT_PLANS} plans, beside the large tenant)`, bodies: [], raw: [], flat: true }])) {
        const a = small.get(q.key);
        const b = large.get(q.key);
        const point = large.get('plan');
        if (!a || !b || !point) continue;
        const growth = latencyRatio(b.patched, a.patched, 'p50');
        const vsRaw = latencyRatio(b.patched, b.raw, 'p99');
        const vsStock = b.stock ? latencyRatio(b.stock, b.patched, 'p50') : null;
        const vsPoint = latencyRatio(b.patched, point.patched, 'p50');
        const checks: { text: string; verdict: Verdict }[] = [];
        if (q.flat) checks.push({ text: `p50 @${biggest.toLocaleString('en-US')} ≤ 1.3× @${(sizes[0] ?? 0).toLocaleString('en-US')}`, verdict: boundedVerdict(growth, 1.3) });
        if (q.vsPointRead) checks.push({ text: `p50 ≤ ${q.vsPointRead}× plan(planId)`, verdict: boundedVerdict(vsPoint, q.vsPointRead) });
        if (q.key !== 'plan') checks.push({ text: 'p99 ≤ 2× raw', verdict: boundedVerdict(vsRaw, 2) });
        if (q.key === 'stats' && vsStock) {
          // Both sides may be bounds (timeouts): "< x" means the stock side answered faster than x times.
          checks.push({ text: 'stock p50 ≥ 20× patched', verdict: !vsStock.known ? 'error' : vsStock.value >= 20 ? (vsStock.text.startsWith('<') ? 'incomplete' : 'pass') : vsStock.text.startsWith('>') ? 'incomplete' : 'miss' });
        }
        const verdicts = checks.map((c) => c.verdict);
        const verdict: Verdict = verdicts.length === 0 ? '' : verdicts.includes('error') ? 'error' : verdicts.includes('miss') ? 'miss' : verdicts.includes('incomplete') ? 'incomplete' : 'pass';
        rows.push({
          id: `6${q.key === 'small' ? 'h' : 'abcdefg'[['plan', 'plans', 'status', 'account', 'counts', 'feed', 'stats'].indexOf(q.key)]}`,
          what: q.what,
          load: `closed loop, ${cfg.readConcurrency} in flight; large tenant ${sizeText(sizes[0] ?? 0)} → ${sizeText(biggest)}`,
          service: `@${(sizes[0] ?? 0).toLocaleString('en-US')}: ${fmtRun(a.patched, false)}; @${biggest.toLocaleString('en-US')}: ${fmtRun(b.patched, false)}`,
          baseline: `raw driver @${biggest.toLocaleString('en-US')}: ${fmtRun(b.raw, false)}; stock FerretDB @${(sizes[0] ?? 0).toLocaleString('en-US')}: ${fmtRun(a.stock, false)}, @${biggest.toLocaleString('en-US')}: ${fmtRun(b.stock, false)}`,
          ratio: `growth ${growth.text} p50; ${vsRaw.text} raw p99; ${q.key === 'plan' ? '' : `${vsPoint.text} plan(planId) p50; `}stock ${vsStock ? `${vsStock.text}` : 'n/a'} slower (p50)`,
          goal: checks.map((c) => c.text).join('; ') || '(reference)',
          verdict,
          figures: { small: a, large: b, growthP50: growth.value, vsRawP99: vsRaw.value, vsPointP50: vsPoint.value, stockSlowerP50: vsStock?.value ?? null, sizes },
        });
      }
      await stockClient?.close();
    } catch (e) {
      failRow('6', 'read suite (plans lists, counts, feed, stats)', goal, e);
    } finally {
      for (const s of servers) await s.stop();
      await stockStore?.stop();
      await adminClient.db('bench_reads').dropDatabase().catch(() => undefined);
    }
  }

  // ---- case 3: planLedger for one 50-entry plan at 1k and at 200k entries ----
  // One database per size, each with its own server process. The plan read has the same id
  // in both and its entries are the last ones written (the newest plan): a store that scans
  // cannot look flat by meeting them first.
  if (wants('3')) {
    await awaitStoreIdle(10_000, 'before case 3');
    const window = new Window('ledger');
    const goal = 'p50 at 200k ≤ 1.3× at 1k';
    const what = 'planLedger(planId), 50 entries';
    try {
      const c = cfg.readConcurrency;
      const perPlan = cfg.ledgerPlanEntries;
      const target = 'ledger-target-plan';
      const body = [JSON.stringify({ query: LEDGER, operationName: 'Ledger', variables: { id: target } })];
      const atSize = async (entries: number, loadUntil: number) => {
        const dbName = `bench_ledger_${entries}`;
        const db = adminClient.db(dbName);
        const ledgerServer = await server(`ledger-${entries}`, dbName); // creates the indexes
        try {
          log(`loading ${entries} ledger entries into ${dbName}`);
          const loadStart = Date.now();
          // The target plan is the last batch: when time runs out, load it anyway, early.
          const all = [...ledgerBatches(entries, perPlan, target)];
          const last = all.pop() ?? [];
          let loaded = await bulkInsert(db, 'plan_ledger', all, loadUntil);
          loaded += await bulkInsert(db, 'plan_ledger', [last], Number.POSITIVE_INFINITY);
          const loadMs = Date.now() - loadStart;
          log(`  loaded ${loaded} entries in ${ms(loadMs)} (${rate((loaded / loadMs) * 1000)})`);
          await awaitStoreIdle(20_000, 'after the bulk load');
          // The raw find goes last: on a store that scans, it is the slow one.
          const sides: Side[] = [
            { label: `planLedger @${loaded} (service)`, make: (l) => gqlJob(ledgerServer, token, l.label, body, l), server: ledgerServer },
            { label: `planLedger @${loaded} (raw reads by _id)`, make: (l) => driverJob(uri, dbName, l.label, { op: 'ledgerPointReads', tenant: TENANT, planId: target, count: perPlan + 1 }, l) },
            { label: `planLedger @${loaded} (raw driver)`, make: (l) => driverJob(uri, dbName, l.label, { op: 'ledgerPage', tenant: TENANT, planId: target }, l) },
          ];
          const [svc, points, raw] = (await measureSides(sides, c, window)) as [LoadResult, LoadResult, LoadResult];
          return { svc, raw, points, loaded, loadMs };
        } finally {
          await ledgerServer.stop();
          await db.dropDatabase().catch(() => undefined); // keeps the temp dir small
        }
      };
      const ledgerRow = (id: string, m: Awaited<ReturnType<typeof atSize>>, rowGoal: string): Row => ({
        id,
        what: `${what} @ ${m.loaded.toLocaleString('en-US')} entries`,
        load: `closed loop, ${c} in flight; ${m.loaded.toLocaleString('en-US')} entries over ${Math.ceil(m.loaded / perPlan)} plans, the plan read written last; bulk load ${ms(m.loadMs)} (${rate((m.loaded / m.loadMs) * 1000)})`,
        service: fmtRun(m.svc),
        baseline: `raw find {tenant_id, plan_id} sort {seq: 1} limit 50: ${fmtRun(m.raw)}; raw ${perPlan + 1} findOne {_id} at once: ${fmtRun(m.points)}`,
        ratio: `p50 ${latencyRatio(m.svc, m.raw, 'p50').text} raw find, ${latencyRatio(m.svc, m.points, 'p50').text} raw reads by _id`,
        goal: rowGoal,
        verdict: '',
        figures: { service: m.svc, raw: m.raw, rawById: m.points, entries: m.loaded, loadMs: m.loadMs },
      });
      const small = await atSize(cfg.ledgerSmall, Number.POSITIVE_INFINITY);
      rows.push(ledgerRow('3a', small, '(reference for 3c)'));
      // The large load may use the window but for what its measurements need.
      const large = await atSize(cfg.ledgerLarge, window.deadline - 36_000);
      rows.push(ledgerRow('3b', large, '(see 3c)'));
      const growth = latencyRatio(large.svc, small.svc, 'p50');
      const complete = large.loaded >= cfg.ledgerLarge;
      if (!complete) notes.push(`3: the time budget ended the bulk load at ${large.loaded.toLocaleString('en-US')} of ${cfg.ledgerLarge.toLocaleString('en-US')} entries; 3b and 3c are measured at that size.`);
      rows.push({
        id: '3c',
        what: `planLedger growth ${small.loaded.toLocaleString('en-US')} → ${large.loaded.toLocaleString('en-US')} entries`,
        load: 'p50 at the large size ÷ p50 at the small size',
        service: `${ms(small.svc.latency.p50)} → ${latencyOf(large.svc, 'p50')?.lowerBound ? '> ' : ''}${ms(latencyOf(large.svc, 'p50')?.value)}`,
        baseline: `raw find ${latencyRatio(large.raw, small.raw, 'p50').text}; raw reads by _id ${latencyRatio(large.points, small.points, 'p50').text}`,
        ratio: `${growth.text} p50 (p99 ${latencyRatio(large.svc, small.svc, 'p99').text})`,
        goal,
        verdict: complete ? boundedVerdict(growth, 1.3) : growth.known && !growth.text.startsWith('<') && growth.value > 1.3 ? 'miss' : 'incomplete',
        figures: { growthP50: growth.value, rawGrowthP50: latencyRatio(large.raw, small.raw, 'p50').value, complete },
      });
    } catch (e) {
      failRow('3', what, goal, e);
    }
  }

  // ---- case 4: the LLM path, fake Gemini answering after a fixed delay (own server and database) ----
  if (wants('4')) {
    await awaitStoreIdle(30_000, 'before case 4');
    const window = new Window('llm');
    const goal = 'p50 − delay < 15 ms';
    const what = `proposePlan via LLM (fake Gemini, ${cfg.llmDelayMs} ms)`;
    let llmServer: ServerProcess | null = null;
    try {
      if (!window.fits(5000)) throw new Skipped('time budget');
      fake = await startBenchFakeGemini(cfg.llmDelayMs);
      llmServer = await server('llm', 'bench_llm', { GEMINI_API_KEY: 'bench', GEMINI_BASE_URL: fake.baseUrl });
      const c = cfg.llmConcurrency;
      const svc = await run(gqlJob(llmServer, token, 'proposePlan via LLM (service)', proposeBodies, limits('proposePlan via LLM (service)', c), '"source":"LLM"'), window, llmServer);
      const direct = await run(
        {
          kind: 'http',
          ...limits('fake Gemini called directly', c, { durationMs: Math.min(cfg.durationMs, 3000) }),
          url: `${fake.baseUrl}/v1beta/models/gemini-flash-latest:generateContent`,
          headers: { 'x-goog-api-key': 'bench' },
          bodies: [JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'plan' }] }], generationConfig: { responseMimeType: 'application/json' } })],
        },
        until(Date.now() + Math.max(window.left(), 15_000)),
      );
      const p50 = latencyOf(svc, 'p50');
      const overhead = p50 ? p50.value - cfg.llmDelayMs : Number.NaN;
      rows.push({
        id: '4',
        what,
        load: `closed loop, ${c} in flight; store writes as in case 1`,
        service: fmtRun(svc),
        baseline: `fake Gemini called directly: ${fmtRun(direct)}`,
        ratio: `overhead p50 ${p50?.lowerBound ? '> ' : ''}${ms(overhead)} (p50 − direct call p50: ${ms(svc.latency.p50 - direct.latency.p50)})`,
        goal,
        verdict: verdictOf(p50 ? overhead < 15 : null),
        figures: { service: svc, direct, overheadP50: overhead, overheadVsDirect: svc.latency.p50 - direct.latency.p50, fakeAnswered: fake.answered() },
      });
      // Diagnostic: the same path with few requests in flight, below the write capacity of
      // the store, so the figure is the path's own overhead rather than queueing for writes.
      const lowC = Math.max(1, Math.round(c / 10));
      if (!window.fits()) skipRow('4′', `${what}, c=${lowC} (diagnostic)`, '(shows 4 without write queueing)', 'time budget');
      else {
        const low = await run(gqlJob(llmServer, token, `proposePlan via LLM c=${lowC} (service)`, proposeBodies, limits(`proposePlan via LLM c=${lowC} (service)`, lowC), '"source":"LLM"'), window, llmServer);
        rows.push({
          id: '4′',
          what: `${what}, c=${lowC} (diagnostic)`,
          load: `closed loop, ${lowC} in flight: offered load below the store's write capacity`,
          service: fmtRun(low),
          baseline: `fake Gemini delay ${cfg.llmDelayMs} ms`,
          ratio: `overhead p50 ${ms(low.latency.p50 - cfg.llmDelayMs)}`,
          goal: '(shows 4 without write queueing)',
          verdict: '',
          figures: { service: low, overheadP50: low.latency.p50 - cfg.llmDelayMs },
        });
      }
    } catch (e) {
      failRow('4', what, goal, e);
    } finally {
      await llmServer?.stop();
      await fake?.close().catch(() => undefined);
      fake = null;
    }
  }

  // ---- case 5, second point: on to 20k proposals on the first server, then RSS again ----
  if (mainServer && wants('5') && memoryFirst) {
    const goal = 'RSS growth < 20%';
    try {
      const window = new Window('memorySecond');
      const more = await proposeUntil(mainServer, token, mainDb, cfg.memoryTarget, until(window.deadline - 30_000), `memory: proposals to ${cfg.memoryTarget}`);
      const second = await settledMemory(mainServer);
      const growth = (second.rss - memoryFirst.rss) / memoryFirst.rss;
      const reached = more.count >= cfg.memoryTarget;
      if (!reached) notes.push(`5: the time budget ended the proposals at ${more.count.toLocaleString('en-US')} of ${cfg.memoryTarget.toLocaleString('en-US')} (${more.result ? `${rate(more.result.throughput)}, p50 ${ms(more.result.latency.p50)} at the end` : 'n/a'}), so growth is measured to ${more.count.toLocaleString('en-US')}.`);
      rows.push({
        id: '5',
        what: `memory: server RSS, ${memoryFirst.count.toLocaleString('en-US')} → ${more.count.toLocaleString('en-US')} proposals`,
        load: `proposals at 16 in flight${wants('1') || wants('2') ? ' (cases 1–2 ran in between)' : ''}; RSS after 2 forced full GCs${second.gcForced && memoryFirst.gcForced ? '' : ' (GC could not be forced)'} and a pause`,
        service: `RSS ${mb(memoryFirst.rss)} → ${mb(second.rss)}`,
        baseline: `V8 heap used ${mb(memoryFirst.heapUsed)} → ${mb(second.heapUsed)}`,
        ratio: `${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}% RSS`,
        goal,
        verdict: verdictOf(growth < 0.2, reached),
        figures: { first: memoryFirst, second: { count: more.count, ...second }, growth, lastRun: more.result },
      });
    } catch (e) {
      failRow('5', memoryWhat, goal, e);
    }
  }

  if (mainServer) await mainServer.stop();

  // ---- case 7: the verifiable ledger (bench/ledgerLogCases.ts) ----
  if (wants('7')) {
    await awaitStoreIdle(10_000, 'before case 7');
    const window = new Window('ledgerLog');
    await runLedgerLogCases({
      cfg,
      admin: adminClient,
      token,
      signingKey: LEDGER_SIGNING_KEY,
      rows,
      notes,
      log,
      server,
      run,
      gqlJob,
      limits,
      bulkInsert,
      proposeBodies,
      window,
      fmtRun,
      cpuText,
      latencyRatio,
      boundedVerdict,
      failRow,
    });
  }

  // ---- case 9: one tenant's expensive reads vs another's plan reads (bench/cases/costAttack.ts) ----
  if (wants('9')) {
    // Its server starts on 100k unsealed entries: start-up reconciliation reads them all first.
    const slowStart = (name: string, dbName: string) =>
      startServer({ name, env: { NODE_ENV: 'production', LOG_LEVEL: 'info', JWT_SECRET, LEDGER_SIGNING_KEY, MONGODB_URI: uri, MONGODB_DB: dbName }, logFile: join(tempDir as string, `${name}.log`), registry, startTimeoutMs: 900_000 });
    await runCostAttackCase({ admin: adminClient, jwtSecret: JWT_SECRET, rows, log, server: slowStart, bulkInsert, failRow });
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
    `Store: ${storeName}. Service: its own process (node dist/src/main.js), NODE_ENV=production, LOG_LEVEL=info, rules generator (case 4: Gemini SDK against a fake on loopback). Load: separate processes over loopback, closed loop`,
    `Each run: ${cfg.warmupMs / 1000} s warm-up, then ${cfg.durationMs / 1000} s measured; latency per request at the client; requests over ${ms(cfg.timeoutMs)} count as timeouts; baselines: the official driver on the same store, same run`,
    `Run time: ${(elapsed() / 1000).toFixed(0)} s (this script; budget ${(cfg.budgetMs / 1000).toFixed(0)} s)`,
  ],
};
Object.assign(details, {
  header,
  machine: { cores: availableParallelism(), cpuModel, node: process.version, loadAtStart, loadAtEnd: loadavg() },
  runTimeMs: elapsed(),
});
const paths = writeResults(RESULTS_DIR, header, rows, notes, details);
process.stdout.write(`\n${markdownReport(header, rows, notes)}\n`);
log(`wrote ${paths.md} and ${paths.json}`);
process.exit(failed ? 1 : 0);
