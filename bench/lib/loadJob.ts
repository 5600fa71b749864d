import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LatencySummary } from './stats.js';
import type { RawRead, WriteTemplate } from './types.js';

// A load job runs in a process of its own (bench/lib/loadWorker), so the load generator never
// shares an event loop with the server under test or with the orchestrator. It is a closed
// loop: `concurrency` loops, each sending its next request when the previous one answered.
// Warm-up first (not recorded; it lasts until every loop has had an answer), then a measured
// window bounded by both a duration and a request count; requests still in flight at the
// deadline are awaited and recorded.

export interface JobLimits {
  label: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Bound on measured requests (the window also ends at durationMs). */
  maxRequests: number;
  /** One request taking longer counts as an error. */
  timeoutMs: number;
  /** Wall-clock bound on the whole job: it reports what it has then, in-flight requests as errors. */
  maxWallMs?: number;
}

/** GraphQL over HTTP/1.1 keep-alive: the bodies are sent round robin. */
export interface HttpJob extends JobLimits {
  kind: 'http';
  url: string;
  headers: Record<string, string>;
  bodies: string[];
  /** A 200 answer without this text counts as an error (e.g. '"source":"LLM"'). */
  expect?: string;
}

export type DriverOp =
  /** insertOne(plan) then insertOne(its ledger entry with its SHA-256 hash), like a proposal. */
  | { op: 'proposeWrites'; tenant: string; template: WriteTemplate }
  /**
   * The service's own store protocol for a new plan, without the service: insertOne(ledger
   * entry with the copy of the plan in created_plan, stored like the template's), then
   * insertOne(plan), one at a time.
   */
  | { op: 'proposeProtocol'; tenant: string; template: WriteTemplate }
  /** findOne({ _id, tenant_id }), ids round robin. */
  | { op: 'findPlan'; tenant: string; ids: string[] }
  /** findOne({ _id }) alone, ids round robin (the only read FerretDB v1 serves from an index). */
  | { op: 'findPlanById'; tenant: string; ids: string[] }
  /** find({ tenant_id }).sort({ updated_at: -1 }).limit(50). */
  | { op: 'listPlans'; tenant: string }
  /** find({ tenant_id, plan_id }).sort({ seq: 1 }).limit(50). */
  | { op: 'ledgerPage'; tenant: string; planId: string }
  /** findOne({ _id: ledgerEntryKey(tenant, plan, seq) }) for seq 1..count, in parallel. */
  | { op: 'ledgerPointReads'; tenant: string; planId: string; count: number }
  /** The read suite's queries (bench/lib/readSuite.ts), round robin: a find or an aggregate. */
  | { op: 'read'; reads: RawRead[] };

/** The raw driver doing the same store work, without the service. */
export interface DriverJob extends JobLimits {
  kind: 'driver';
  uri: string;
  db: string;
  driver: DriverOp;
}

export type LoadJob = HttpJob | DriverJob;

export interface LoadResult {
  label: string;
  concurrency: number;
  /** Measured requests that succeeded. */
  requests: number;
  errors: number;
  /** Up to 3 error texts, to tell what went wrong. */
  errorSamples: string[];
  /** Requests (successful or not) sent in warm-up. */
  warmupRequests: number;
  /** Measured window: from its start to the last measured answer. */
  elapsedMs: number;
  throughput: number;
  latency: LatencySummary;
  /** Whether the window ended at maxRequests rather than at durationMs. */
  cappedByCount: boolean;
  /** Whether maxWallMs cut the job short. */
  cutOff: boolean;
  /** Errors that were timeouts (or requests cut off by maxWallMs). */
  timeouts: number;
  /** CPU used during the job (warm-up included) per request sent, in ms, when known. */
  cpuPerRequest?: { server: number | null; store: number | null };
  /** CPU the load process itself used per request sent (warm-up included), in ms. */
  clientCpuPerRequest: number;
  /** The per-request timeout the job ran with. */
  timeoutMs: number;
}

const here = fileURLToPath(import.meta.url);
const workerPath = here.replace(/loadJob\.(ts|js)$/, 'loadWorker.$1');

/**
 * Runs a job in a fresh worker process and resolves with its result. A worker that does not
 * answer in time is killed by its pid; so is one left over when the orchestrator exits.
 */
export function runLoadJob(job: LoadJob, track: (pid: number, kill: () => void) => () => void): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // execArgv is inherited, so under tsx the worker runs through tsx too.
    const child = fork(workerPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const pid = child.pid;
    if (pid === undefined) {
      reject(new Error(`load worker for ${job.label} did not start`));
      return;
    }
    const untrack = track(pid, () => child.kill('SIGKILL'));
    // Warm-up can outlast warmupMs by one request, the window by another.
    const hardLimit = Math.min((job.maxWallMs ?? Number.POSITIVE_INFINITY) + 15_000, job.warmupMs + job.durationMs + 2 * job.timeoutMs + 20_000);
    let settled = false;
    const finish = (error: Error | null, result?: LoadResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      untrack();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (error) reject(error);
      else resolve(result as LoadResult);
    };
    const timer = setTimeout(() => finish(new Error(`load worker for ${job.label} gave no result within ${hardLimit} ms`)), hardLimit);
    child.once('message', (message: { ok: true; result: LoadResult } | { ok: false; error: string }) => {
      if (message.ok) finish(null, message.result);
      else finish(new Error(`load worker for ${job.label}: ${message.error}`));
    });
    child.once('error', (e) => finish(e));
    child.once('exit', (code, signal) => finish(new Error(`load worker for ${job.label} exited (code ${code}, signal ${signal})`)));
    child.send(job);
  });
}
