import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { Db } from 'mongodb';
import { SignJWT } from 'jose';
import { ERROR_CODES } from '../../src/domain/errors.js';
import { hashLedgerEntry, utcDay } from '../../src/store/ledgerHash.js';
import { findProjectRoot } from '../../src/config/projectRoot.js';
import { readLines } from '../../src/store/embeddedStore.js';
import { postGql, startTestServer, TEST_JWT_SECRET, type GqlError, type RawResponse, type TestServer } from './testServer.js';
import { testStoreUri } from './testDb.js';
import { sleep, waitUntil } from './wait.js';

/**
 * Shared helpers of the reliability suite (test/reliability): raw HTTP GraphQL calls with a
 * deadline, bounded concurrency, a figures collector, a service on any store, a service as a
 * separate process, and a ledger audit that reads the store directly.
 */

export { postGql, TEST_JWT_SECRET };
export { sleep, waitUntil } from './wait.js';
export type { GqlError, PostOptions, RawResponse } from './testServer.js';

/** Codes a client may see: the contract's, and Apollo's own for requests that never reach a resolver. */
export const CLIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  ...ERROR_CODES.filter((c) => c !== 'INTERNAL_SERVER_ERROR'),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
]);

export const codesOf = (res: { errors?: GqlError[] }): string[] => (res.errors ?? []).map((e) => e.extensions?.code ?? '<none>');
export const firstCode = (res: { errors?: GqlError[] }): string | undefined => res.errors?.[0]?.extensions?.code;

/** Problems with a response that must never happen: 5xx, INTERNAL_SERVER_ERROR, an error without a contract code. */
export function contractViolations(res: RawResponse<unknown>): string[] {
  const problems: string[] = [];
  if (res.status === 0) problems.push(`no answer (${res.networkError ?? 'unknown'})`);
  if (res.status >= 500) problems.push(`HTTP ${res.status}`);
  for (const e of res.errors ?? []) {
    const code = e.extensions?.code;
    if (!code) problems.push(`error without code: ${e.message.slice(0, 200)}`);
    else if (!CLIENT_ERROR_CODES.has(code)) problems.push(`code ${code}: ${e.message.slice(0, 200)}`);
  }
  return problems;
}

/** Runs fn over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Counters printed as one summary table at the end of a file. */
export class Figures {
  private readonly values = new Map<string, number | string>();
  private readonly started = Date.now();

  constructor(private readonly title: string) {}

  add(name: string, n = 1): void {
    const current = this.values.get(name);
    this.values.set(name, (typeof current === 'number' ? current : 0) + n);
  }

  set(name: string, value: number | string): void {
    this.values.set(name, value);
  }

  get(name: string): number {
    const v = this.values.get(name);
    return typeof v === 'number' ? v : 0;
  }

  /** Adds each code of a histogram under `prefix`. */
  tally(prefix: string, key: string): void {
    this.add(`${prefix}[${key}]`);
  }

  print(): void {
    const lines = [...this.values.entries()].map(([k, v]) => `  ${k.padEnd(58)} ${String(v)}`);
    console.log(`\n=== reliability summary: ${this.title} (${((Date.now() - this.started) / 1000).toFixed(1)} s) ===\n${lines.join('\n')}\n`);
  }
}

/** Signs a token with any claims and header (HS256 unless told); for auth tests. */
export async function signToken(
  claims: Record<string, unknown>,
  options: { secret?: string; alg?: string; expSeconds?: number | null; header?: Record<string, unknown> } = {},
): Promise<string> {
  const alg = options.alg ?? 'HS256';
  let jwt = new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', ...(options.header ?? {}) }).setIssuedAt();
  if (options.expSeconds !== null) jwt = jwt.setExpirationTime(Math.floor(Date.now() / 1000) + (options.expSeconds ?? 600));
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

/** A plain token for the service's default test secret. */
export const tokenFor = (tenant: string, roles: string[], sub = 'tester', extra: Record<string, unknown> = {}) =>
  signToken({ sub, tenant_id: tenant, roles, ...extra });

export type ReliabilityServer = TestServer;

/** The real service in this process (without command monitoring, which load figures would pay for), against `uri` (the run's store by default). */
export const startReliabilityServer = (env: Record<string, string> = {}, uri = testStoreUri()): Promise<ReliabilityServer> =>
  startTestServer(env, { uri, monitorCommands: false, dbPrefix: 'rel' });

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  /** Base URL (no /graphql). */
  url: string;
  /** Every stdout/stderr line so far. */
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  /** Not yet exited (nor ended by a signal). */
  running(): boolean;
  /** Ends it if it still runs: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Runs `node --import tsx src/main.ts` as its own process and waits for its ready line. */
export async function spawnServiceProcess(env: Record<string, string>, readyTimeoutMs = 30_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: findProjectRoot(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', JWT_SECRET: TEST_JWT_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not spawn the service process');
  const pid = child.pid;
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service process did not get ready within ${readyTimeoutMs} ms:\n${output.slice(-20).join('\n')}`));
    }, readyTimeoutMs);
    const onLine = (line: string) => {
      output.push(line);
      if (!line.includes('renewal-defense service ready')) return;
      try {
        const parsed = JSON.parse(line) as { url?: string };
        if (parsed.url) {
          clearTimeout(timer);
          resolve(parsed.url.replace(/\/graphql$/, ''));
        }
      } catch {
        /* not JSON: keep waiting */
      }
    };
    for (const stream of [child.stdout, child.stderr]) readLines(stream, onLine);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`service process exited before ready (code ${code}, signal ${signal}):\n${output.slice(-20).join('\n')}`));
    });
  });
  const kill = (signal: NodeJS.Signals) => void process.kill(pid, signal);
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async (graceMs = 15_000) => {
    if (!running()) return;
    kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    if (running()) kill('SIGKILL');
  };
  return { child, pid, url, output, exited, kill, running, stop };
}

const NEXT_STATUS: Readonly<Record<string, string | null>> = {
  PLAN_CREATED: 'DRAFT',
  PLAN_UPDATED: null,
  PLAN_APPROVED: 'APPROVED',
  PLAN_ACTIVATED: 'ACTIVE',
  PLAN_PAUSED: 'PAUSED',
  PLAN_RESUMED: 'ACTIVE',
  PLAN_ABORTED: 'ABORTED',
  PLAN_COMPLETED: 'COMPLETED',
  PLAN_EXPIRED: 'EXPIRED',
};

export interface LedgerAudit {
  plans: number;
  entries: number;
  /** Plans whose ledger event is still in the plan document's outbox. */
  pending: number;
  /** One line per problem found; empty when every plan has its complete, valid chain. */
  problems: string[];
}

/**
 * Reads every plan and ledger entry of a database straight from the store and checks, per plan:
 * seq runs 1..n without a gap, the first entry is PLAN_CREATED, each prev_hash is the previous
 * hash and each hash recomputes, the entry count equals the plan's event_count (minus a pending
 * event when `allowPending`), and replaying the events from DRAFT gives the stored status.
 */
export async function auditLedgers(db: Db, options: { allowPending?: boolean } = {}): Promise<LedgerAudit> {
  const plans = await db.collection<{ _id: string } & Record<string, unknown>>('plans').find({}).toArray();
  const entries = await db.collection<{ _id: string } & Record<string, unknown>>('plan_ledger').find({}).toArray();
  const byPlan = new Map<string, typeof entries>();
  for (const e of entries) {
    const key = `${String(e.tenant_id)}\u0000${String(e.plan_id)}`;
    const list = byPlan.get(key) ?? [];
    list.push(e);
    byPlan.set(key, list);
  }
  const problems: string[] = [];
  let pending = 0;
  for (const plan of plans) {
    const id = plan._id;
    const key = `${String(plan.tenant_id)}\u0000${id}`;
    const chain = (byPlan.get(key) ?? []).sort((a, b) => Number(a.seq) - Number(b.seq));
    byPlan.delete(key);
    const hasPending = plan.pending_event !== undefined && plan.pending_event !== null;
    if (hasPending) {
      pending += 1;
      if (!options.allowPending) problems.push(`${id}: ledger event still pending (${String((plan.pending_event as { event_type?: unknown }).event_type)})`);
    }
    const expected = Number(plan.event_count) - (hasPending ? 1 : 0);
    if (chain.length !== expected && !(hasPending && options.allowPending && chain.length === expected + 1)) {
      problems.push(`${id}: ${chain.length} ledger entries, event_count says ${String(plan.event_count)}${hasPending ? ' (one pending)' : ''}`);
    }
    if (chain.length === 0) {
      if (!(hasPending && options.allowPending)) problems.push(`${id}: no PLAN_CREATED`);
      continue;
    }
    if (chain[0]?.event_type !== 'PLAN_CREATED') problems.push(`${id}: first entry is ${String(chain[0]?.event_type)}`);
    let prev: string | null = null;
    let status: string | null = null;
    chain.forEach((e, i) => {
      if (e.seq !== i + 1) problems.push(`${id}: seq ${String(e.seq)} at position ${i + 1}`);
      if (e.prev_hash !== prev) problems.push(`${id}: seq ${String(e.seq)} prev_hash does not link`);
      const recomputed = hashLedgerEntry({
        entry_id: typeof e.entry_id === 'string' ? e.entry_id : e._id,
        plan_id: e.plan_id as string,
        tenant_id: e.tenant_id as string,
        account_id: e.account_id as string,
        event_type: e.event_type as string,
        timestamp: e.timestamp as Date,
        seq: e.seq as number,
        actor: (e.actor as string | null) ?? null,
        data: e.data as Record<string, unknown>,
        prev_hash: (e.prev_hash as string | null) ?? null,
      });
      if (recomputed !== e.hash) problems.push(`${id}: seq ${String(e.seq)} hash does not recompute`);
      if (e.day !== utcDay(e.timestamp as Date)) problems.push(`${id}: seq ${String(e.seq)} day does not match its timestamp`);
      prev = e.hash as string;
      const next = NEXT_STATUS[e.event_type as string];
      if (next) status = next;
    });
    // A pending transition already changed the plan; its event is the one not yet in the chain.
    const pendingType = hasPending ? (plan.pending_event as { event_type?: string }).event_type : undefined;
    const pendingInChain = hasPending && chain.some((e) => e._id === (plan.pending_event as { entry_id?: string }).entry_id);
    if (pendingType && !pendingInChain && NEXT_STATUS[pendingType]) status = NEXT_STATUS[pendingType] ?? status;
    if (status !== plan.plan_status) problems.push(`${id}: stored status ${String(plan.plan_status)}, ledger says ${String(status)}`);
  }
  for (const [key, orphan] of byPlan) problems.push(`ledger entries without a plan: ${key.replace('\u0000', '/')} (${orphan.length})`);
  return { plans: plans.length, entries: entries.length, pending, problems };
}

/** Counts of both collections, to prove that a refused request wrote nothing. */
export async function storeCounts(db: Db): Promise<{ plans: number; ledger: number }> {
  const [plans, ledger] = await Promise.all([db.collection('plans').countDocuments({}), db.collection('plan_ledger').countDocuments({})]);
  return { plans, ledger };
}

/**
 * Waits until the plans and the ledger stop changing. After a SIGKILL the store can still apply,
 * for a moment, commands the killed process had already sent (they wait in its socket buffers or
 * behind the store's write lock), so a test reading "what the kill left" waits for that first:
 * the same plans at the same versions and marks, and as many ledger entries, quietMs apart.
 */
export async function storeAtRest(db: Db, quietMs = 1000, timeoutMs = 30_000): Promise<void> {
  const fingerprint = async () => {
    const plans = await db.collection('plans').find({}, { projection: { _id: 1, event_count: 1, pending_event: 1, tally_mark: 1 } }).sort({ _id: 1 }).toArray();
    return JSON.stringify([plans, await db.collection('plan_ledger').countDocuments({})]);
  };
  let last = await fingerprint();
  await waitUntil('the store at rest after the kill', async () => {
    await sleep(quietMs);
    const now = await fingerprint();
    const same = now === last;
    last = now;
    return same;
  }, timeoutMs, 0);
}

/** Text a client must never see: driver, network or stack details. */
export const LEAK_PATTERN = /mongo|ECONNREFUSED|ECONNRESET|topology|server selection|127\.0\.0\.1:\d+|\bat .+\.(?:ts|js):\d+|stack|MongoNetwork|socket/i;

export const PROPOSE = `mutation Propose($input: ProposePlanInput!) {
  proposePlan(input: $input) { proposalId source droppedSteps { actionType reason }
    plan { planId tenantId accountId status objective approvedBy approvedAt createdBy steps { stepId actionType status sequence dependencies constraints } } }
}`;

export interface ProposedPlan {
  proposalId: string;
  source: string;
  droppedSteps: { actionType: string; reason: string }[];
  plan: {
    planId: string;
    tenantId: string;
    accountId: string;
    status: string;
    objective: string;
    approvedBy: string | null;
    approvedAt: string | null;
    createdBy: string | null;
    steps: { stepId: string; actionType: string; status: string; sequence: number; dependencies: string[]; constraints: unknown }[];
  };
}

export const TRANSITIONS = {
  approve: 'mutation($planId: ID!) { r: approvePlan(planId: $planId) { ok reasons { code message } plan { planId status } } }',
  activate: 'mutation($planId: ID!) { r: activatePlan(planId: $planId, preconditionsMet: true) { ok reasons { code message } plan { planId status } } }',
  pause: 'mutation($planId: ID!) { r: pausePlan(planId: $planId, reason: "reliability pause") { ok reasons { code message } plan { planId status } } }',
  resume: 'mutation($planId: ID!) { r: resumePlan(planId: $planId, preconditionsMet: true) { ok reasons { code message } plan { planId status } } }',
  abort: 'mutation($planId: ID!) { r: abortPlan(planId: $planId, reason: "reliability abort") { ok reasons { code message } plan { planId status } } }',
} as const;

export interface TransitionResult {
  ok: boolean;
  reasons: { code: string; message: string }[];
  plan: { planId: string; status: string } | null;
}

export const VERIFY = 'query($id: ID!) { verifyPlanLedger(planId: $id) { planId valid entries brokenAtSeq } }';

export const SIGNALS = [
  { type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' },
  { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
];

export const ALLOWED_ACTIONS: ReadonlySet<string> = new Set(['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF', 'ESCALATE_SUPPORT_RISK']);
