import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Db, Document, MongoClient } from 'mongodb';
import { mintDevToken } from '../../src/auth/devToken.js';
import type { BenchConfig } from './config.js';
import { Skipped, type Budget, type Window } from './budget.js';
import { cpuText } from './figures.js';
import { runLoadJob, type DriverOp, type HttpJob, type JobLimits, type LoadJob, type LoadResult } from './loadJob.js';
import { cpuMs, forceGc, heapBytes, rssBytes, sleep, startServer, type ProcessRegistry, type ServerProcess } from './processes.js';
import type { Row } from './report.js';
import { ReadSuiteData } from './readSuite.js';
import { bulkInsert } from './seed.js';
import { ms, rate } from './stats.js';

// What every case gets from bench/run.ts: the store, the servers it may start, load runs
// bounded by its window, and the helpers that turn a failure into a table row. One instance per
// run; the cases (bench/cases/*) share it, and with it the main server and the seeded data.

/** The tenant of every large data set and of the main server's proposals. */
export const TENANT = 'bench';
/** The raw driver's own tenant in case 1 (its writes stay apart from the service's). */
export const RAW_TENANT = 'bench-raw';
export const JWT_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';

const PLAN_FIELDS = 'planId planType tenantId accountId objective status expiresAt createdAt updatedAt createdBy steps { stepId actionType status sequence dependencies constraints }';
export const PLAN_QUERY = `query Plan($id: ID!) { plan(planId: $id) { ${PLAN_FIELDS} } }`;
const PROPOSE = `mutation Propose($input: ProposePlanInput!) { proposePlan(input: $input) { proposalId source droppedSteps { actionType reason } plan { ${PLAN_FIELDS} } } }`;

/** Proposal inputs over 512 accounts, with signals that make the rules choose all three steps. */
export const proposeBodies = Array.from({ length: 512 }, (_, i) =>
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

/**
 * What cases share, made on first use: the main server (database bench_main: the plans cases
 * 5, 1, 8 and 2 propose and read), and the read suite's data (bench_reads: cases 6 and 7d).
 */
export type Shared = 'mainServer' | 'readSuiteData';

/** One side of a comparison: how to build its job, and the server to watch (service sides). */
export interface Side {
  label: string;
  make: (l: JobLimits) => LoadJob;
  server?: ServerProcess;
}

export interface HarnessOptions {
  cfg: BenchConfig;
  registry: ProcessRegistry;
  admin: MongoClient;
  uri: string;
  /** pid of the FerretDB process (for its CPU time), when the bench started it. */
  storePid: number | null;
  tempDir: string;
  profDir: string | null;
  token: string;
  signingKey: string;
  started: number;
  isAborted: () => boolean;
}

export class Harness {
  readonly cfg: BenchConfig;
  readonly admin: MongoClient;
  readonly uri: string;
  readonly storePid: number | null;
  /** A plan-proposer token of TENANT. */
  readonly token: string;
  /** The ledger's checkpoint key (NODE_ENV=production requires one), new every run. */
  readonly signingKey: string;
  /** The key sealing webhook endpoint secrets (NODE_ENV=production requires one), new every run. */
  readonly webhookSecretKey = randomBytes(32).toString('base64');
  readonly tempDir: string;
  readonly notes: string[] = [];
  readonly runs: Record<string, LoadResult> = {};
  /** Everything the JSON result keeps beyond the rows. */
  readonly details: Record<string, unknown>;
  private readonly registry: ProcessRegistry;
  private readonly options: HarnessOptions;
  private main: Promise<ServerProcess> | null = null;
  private reads: ReadSuiteData | null = null;

  constructor(options: HarnessOptions) {
    this.options = options;
    this.cfg = options.cfg;
    this.admin = options.admin;
    this.uri = options.uri;
    this.storePid = options.storePid;
    this.token = options.token;
    this.signingKey = options.signingKey;
    this.tempDir = options.tempDir;
    this.registry = options.registry;
    this.details = { config: { ...options.cfg, only: options.cfg.only && [...options.cfg.only], ledgerParts: [...options.cfg.ledgerParts] }, runs: this.runs };
  }

  elapsed(): number {
    return Date.now() - this.options.started;
  }

  log(message: string): void {
    process.stderr.write(`[bench ${(this.elapsed() / 1000).toFixed(0).padStart(3)} s] ${message}\n`);
  }

  /** Whether BENCH_ONLY (if set) names case `id`. */
  wants(id: string): boolean {
    return this.cfg.only === null || this.cfg.only.has(id);
  }

  /**
   * A service process on database `dbName` of the bench's store: production mode (with the
   * run's JWT secret, checkpoint key and webhook key), rules generator; `extra` overrides.
   */
  server(name: string, dbName: string, extra: Record<string, string> = {}, startTimeoutMs?: number): Promise<ServerProcess> {
    return startServer({
      name,
      ...(startTimeoutMs ? { startTimeoutMs } : {}),
      env: { NODE_ENV: 'production', LOG_LEVEL: 'info', JWT_SECRET, LEDGER_SIGNING_KEY: this.signingKey, WEBHOOK_SECRET_KEY: this.webhookSecretKey, MONGODB_URI: this.uri, MONGODB_DB: dbName, ...extra },
      logFile: join(this.tempDir, `${name}.log`),
      registry: this.registry,
      ...(this.options.profDir ? { cpuProfDir: this.options.profDir } : {}),
    });
  }

  /** A token of `tenant` with `roles`, signed with the secret every bench server checks. */
  tokenFor(tenant: string, roles: string[], sub = 'bench'): Promise<string> {
    return mintDevToken({ secret: JWT_SECRET, tenantId: tenant, roles, sub, ttlSeconds: 3 * 3600 });
  }

  /** The database of the main server (cases 1, 2, 5 and 8 share it). */
  get mainDb(): Db {
    return this.admin.db('bench_main');
  }

  /** The main server, started on first use; bench/run.ts stops it after the last case needing it. */
  mainServer(): Promise<ServerProcess> {
    return (this.main ??= (async () => {
      this.log('starting server "main" (rules generator)');
      const s = await this.server('main', 'bench_main');
      this.log(`server main: pid ${s.pid}, ${s.url}`);
      return s;
    })());
  }

  /**
   * The read suite's data (bench_reads), seeded as cases grow it. Its sealed log is written
   * only when case 7d will read it.
   */
  readSuiteData(): ReadSuiteData {
    const withLog = this.wants('7') && this.cfg.ledgerParts.has('proof');
    return (this.reads ??= new ReadSuiteData(this.admin.db(ReadSuiteData.DB), this.signingKey, withLog));
  }

  /** Stops or drops what cases shared, once no later case needs it. */
  async release(what: Shared): Promise<void> {
    if (what === 'mainServer') {
      const main = this.main;
      this.main = null;
      if (main) await (await main).stop();
    } else if (this.reads) {
      this.reads = null;
      // Keeps the temp dir small.
      await this.admin.db(ReadSuiteData.DB).dropDatabase().catch(() => undefined);
    }
  }

  track(pid: number, label: string, stop: () => void | Promise<void>): () => void {
    return this.registry.track(pid, label, stop);
  }

  limits(label: string, concurrency: number, overrides: Partial<JobLimits> = {}): JobLimits {
    const { cfg } = this;
    return { label, concurrency, warmupMs: cfg.warmupMs, durationMs: cfg.durationMs, maxRequests: 1_000_000, timeoutMs: cfg.timeoutMs, ...overrides };
  }

  gqlJob(server: ServerProcess, token: string, label: string, bodies: string[], l: JobLimits, expect?: string): HttpJob {
    return { kind: 'http', ...l, label, url: `${server.url}/graphql`, headers: { authorization: `Bearer ${token}` }, bodies, ...(expect ? { expect } : {}) };
  }

  driverJob(dbName: string, label: string, driver: DriverOp, l: JobLimits, uri = this.uri): LoadJob {
    return { kind: 'driver', ...l, label, uri, db: dbName, driver };
  }

  /** Runs a load job bounded by the window: it reports what it has when the window closes. */
  async run(job: LoadJob, window: Budget, server?: ServerProcess): Promise<LoadResult> {
    if (this.options.isAborted()) throw new Error('aborted');
    const left = window.left();
    if (left < 1000) throw new Skipped(`no time left for ${job.label}`);
    const bounded = { ...job, maxWallMs: Math.min(job.maxWallMs ?? Number.POSITIVE_INFINITY, left), timeoutMs: Math.min(job.timeoutMs, left) } as LoadJob;
    this.log(`run ${job.label} (c=${job.concurrency}, warm-up ${job.warmupMs} ms, ${job.durationMs} ms / ${job.maxRequests} requests, at most ${(bounded.maxWallMs! / 1000).toFixed(0)} s)`);
    const { storePid } = this;
    const cpuBefore = { server: server ? cpuMs(server.pid) : null, store: storePid ? cpuMs(storePid) : null };
    const result = await runLoadJob(bounded, (pid, kill) => this.registry.track(pid, `load ${job.label}`, kill));
    if (this.options.isAborted()) throw new Error('aborted');
    const sent = result.warmupRequests + result.requests + result.errors;
    const perRequest = (before: number | null, after: number | null) => (before !== null && after !== null && sent > 0 ? (after - before) / sent : null);
    result.cpuPerRequest = {
      server: server ? perRequest(cpuBefore.server, cpuMs(server.pid)) : null,
      store: storePid ? perRequest(cpuBefore.store, cpuMs(storePid)) : null,
    };
    this.runs[job.label] = result;
    this.log(
      `  ${result.requests} ok, ${result.errors} errors (${result.timeouts} timeouts), ${rate(result.throughput)}, p50 ${ms(result.latency.p50)}, p99 ${ms(result.latency.p99)}` +
        (result.cpuPerRequest.server !== null || result.cpuPerRequest.store !== null ? `; CPU per request: ${cpuText(result)}` : '') +
        (result.errorSamples.length ? `; first error: ${result.errorSamples[0]}` : ''),
    );
    return result;
  }

  /**
   * Measures sides whose reads may be slow, one after the other: each first sends one probe
   * request (up to 20 s, and a fair part of the window). Under a second, a normal run follows;
   * up to 5 s, a run cut to the few requests the window allows; over that, the single cold
   * probe request is the figure. After a request the client gave up on, waits for the store to
   * finish it (it does not cancel it).
   */
  async measureSides(sides: Side[], concurrency: number, window: Window, overrides: Partial<JobLimits> = {}): Promise<LoadResult[]> {
    const { cfg } = this;
    const out: LoadResult[] = [];
    for (const [i, side] of sides.entries()) {
      // A fair part of what is left for each side still to come, and 20 s at most.
      const probeTimeout = Math.max(1000, Math.min(Math.max(cfg.timeoutMs, 20_000), window.left() / (sides.length - i) - 1000));
      const probeJob = () => side.make(this.limits(`${side.label} probe`, 1, { warmupMs: 0, durationMs: 1, maxRequests: 1, timeoutMs: probeTimeout }));
      let probe = await this.run(probeJob(), window, side.server);
      // A probe that neither answered nor failed was not counted (it ended past its 1 ms window): once more.
      if (probe.requests === 0 && probe.errors === 0) probe = await this.run(probeJob(), window, side.server);
      const took = probe.requests > 0 ? probe.latency.max : Number.POSITIVE_INFINITY;
      let result: LoadResult;
      if (took <= 1000) {
        result = await this.run(side.make(this.limits(side.label, concurrency, overrides)), window, side.server);
      } else if (took > 5000 || !window.fits()) {
        this.notes.push(`${side.label}: ${probe.requests > 0 ? `one read took ${ms(took)}, so that single cold request is the measurement` : `the probe request had no answer within ${ms(probe.timeoutMs)}`}.`);
        result = { ...probe, label: side.label };
      } else {
        const allow = Math.min(cfg.durationMs, window.left() / 3);
        result = await this.run(side.make(this.limits(side.label, concurrency, { warmupMs: 0, durationMs: allow, maxRequests: Math.max(1, Math.floor(allow / took)), timeoutMs: Math.max(cfg.timeoutMs, 4 * took) })), window, side.server);
        this.notes.push(`${side.label}: one read took ${ms(took)}, so it was measured over ${result.requests + result.errors} request(s) after its probe request.`);
      }
      out.push(result);
      if (probe.timeouts > 0 || result.timeouts > 0) await this.awaitStoreIdle(Math.max(0, Math.min(60_000, window.left() - 5000)), `after ${side.label} timed out`);
    }
    return out;
  }

  /**
   * Waits until the store process uses less than a tenth of a core (or maxMs passed). A read the
   * client gave up on keeps running in FerretDB, and must not slow down the next measurement.
   */
  awaitStoreIdle(maxMs: number, why: string): Promise<void> {
    return this.awaitProcessIdle(this.storePid, maxMs, why);
  }

  /** Waits until process `pid` uses less than a tenth of a core (or maxMs passed). */
  async awaitProcessIdle(pid: number | null, maxMs: number, why: string): Promise<void> {
    if (!pid) return;
    const start = Date.now();
    for (;;) {
      const before = cpuMs(pid);
      await sleep(500);
      const after = cpuMs(pid);
      if (before === null || after === null || after - before < 50) break;
      if (Date.now() - start >= maxMs) {
        this.log(`the store is still busy after ${ms(maxMs)} (${why}); going on`);
        return;
      }
    }
    if (Date.now() - start > 1000) this.log(`waited ${ms(Date.now() - start)} for the store to go idle (${why})`);
  }

  /** The row of a case its window had no room for. */
  skipRow(id: string, what: string, goal: string, why: string): Row {
    this.log(`case ${id} skipped: ${why}`);
    return { id, what, load: `skipped: ${why}`, service: '', baseline: '', ratio: '', goal, verdict: 'skipped' };
  }

  /** The row of a case that failed (or, for Skipped, was skipped). */
  failRow(id: string, what: string, goal: string, e: unknown): Row {
    if (e instanceof Skipped) return this.skipRow(id, what, goal, e.message);
    const text = String(e instanceof Error ? e.message : e).split('\n')[0] ?? '';
    this.log(`case ${id} failed: ${String(e instanceof Error ? (e.stack ?? e.message) : e)}`);
    return { id, what, load: `error: ${text.slice(0, 160)}`, service: '', baseline: '', ratio: '', goal, verdict: 'error' };
  }

  /** RSS after two forced full GCs (through the inspector) and a pause: the settle period. */
  async settledMemory(server: ServerProcess): Promise<{ rss: number; heapUsed: number | null; heapTotal: number | null; external: number | null; gcForced: boolean }> {
    await sleep(1000);
    const gcForced = await forceGc(server, this.registry);
    await sleep(2000);
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      samples.push(rssBytes(server.pid));
      await sleep(200);
    }
    samples.sort((a, b) => a - b);
    return { rss: samples[2] as number, ...(await heapBytes(server)), gcForced };
  }

  countPlans(db: Db, tenant: string): Promise<number> {
    return db.collection('plans').countDocuments({ tenant_id: tenant });
  }

  /** Proposals through the service until the tenant holds `target` plans, within the window. */
  async proposeUntil(server: ServerProcess, db: Db, target: number, window: Budget, label: string): Promise<{ count: number; result: LoadResult | null }> {
    const have = await this.countPlans(db, TENANT);
    if (have >= target) return { count: have, result: null };
    const job = this.gqlJob(server, this.token, label, proposeBodies, this.limits(label, 16, { warmupMs: 0, durationMs: Math.max(1000, window.left() - 5000), maxRequests: target - have }), '"source":"RULES"');
    const result = await this.run(job, window, server);
    return { count: await this.countPlans(db, TENANT), result };
  }

  /** The bulk path (bench/lib/seed.ts), stopping when the run is aborted. */
  bulkInsert(db: Db, collection: string, batches: Iterable<Document[]>, until: number): Promise<number> {
    return bulkInsert(db, collection, batches, until, this.options.isAborted);
  }
}
