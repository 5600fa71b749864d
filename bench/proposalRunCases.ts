import type { Db, MongoClient } from 'mongodb';
import { freshWrite } from './lib/documents.js';
import { startBenchFakeGemini } from './lib/fakeGemini.js';
import { rssBytes, type ServerProcess } from './lib/processes.js';
import type { Row, Verdict } from './lib/report.js';
import { percentile } from './lib/stats.js';

// Case 9 (BENCH_ONLY=9): proposal runs over the book of business (docs/runs.md). Each part in
// its own server process and database on the run's store:
//   9a  a real run of BENCH_RUN_ITEMS (10,000) accounts, rules generator: items/s vs proposePlan
//       at 64 in flight over as many accounts (goal ≥ 1.5×) and vs the raw driver inserting the
//       same plan and ledger documents in batches of 500 (goal ≥ 0.5×);
//   9b  interactive proposePlan p50 (one in flight) during a run vs with the service idle (goal ≤ 2×);
//   9c  fake Gemini answering in 300 ms, GEMINI_REQUESTS_PER_MINUTE=600: the model calls' rate
//       during a dry run of BENCH_RUN_LLM_ITEMS (goal: within 5% of 600/min);
//   9d  with BENCH_RUN_MEMORY_ITEMS set (100,000 for the goal): server RSS after a dry run of
//       10,000 items and after one of that many (goal: growth < 20%).

export interface RunBenchContext {
  admin: MongoClient;
  token: string;
  rows: Row[];
  notes: string[];
  log(message: string): void;
  server(name: string, dbName: string, extra?: Record<string, string>): Promise<ServerProcess>;
}

const num = (name: string, fallback: number) => (process.env[name]?.trim() ? Number(process.env[name]) : fallback);
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));
const TENANT = 'bench';
const CHUNK = 500;
const SIGNALS = [
  { type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' },
  { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
];
const item = (accountId: string) => ({ accountId, planType: 'RENEWAL_DEFENSE', signals: SIGNALS });
const PROPOSE = 'mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId } } }';

async function gql<T>(server: ServerProcess, token: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(server.url.endsWith('/graphql') ? server.url : `${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(body.errors?.[0]?.message ?? `HTTP ${res.status}`);
  return body.data;
}

interface RunResult {
  runId: string;
  items: number;
  seconds: number;
  counts: Record<string, number>;
}

/** Creates, fills and starts a run; resolves when it has ended, timed by the service's startedAt/finishedAt. */
async function fullRun(server: ServerProcess, token: string, accounts: string[], dryRun: boolean, onStarted?: () => void): Promise<RunResult> {
  const fields = 'runId status startedAt finishedAt counts { total pending created wouldCreate skippedOpenPlan skippedDuplicate rejected failed }';
  type View = { runId: string; status: string; startedAt: string | null; finishedAt: string | null; counts: Record<string, number> };
  const { createProposalRun: run } = await gql<{ createProposalRun: View }>(server, token, `mutation($d: Boolean!) { createProposalRun(dryRun: $d) { ${fields} } }`, { d: dryRun });
  for (let i = 0; i < accounts.length; i += CHUNK) {
    await gql(server, token, 'mutation($r: ID!, $items: [ProposePlanInput!]!) { addProposalRunItems(runId: $r, items: $items) { runId } }', {
      r: run.runId,
      items: accounts.slice(i, i + CHUNK).map(item),
    });
  }
  await gql(server, token, 'mutation($r: ID!) { startProposalRun(runId: $r) { runId } }', { r: run.runId });
  onStarted?.();
  for (;;) {
    await sleep(500);
    // A poll that fails (the store busy) is tried again at the next one.
    const polled = await gql<{ proposalRun: View }>(server, token, `query($r: ID!) { proposalRun(runId: $r) { ${fields} } }`, { r: run.runId }).catch(() => null);
    if (!polled) continue;
    const view = polled.proposalRun;
    if (view.status === 'COMPLETED' || view.status === 'CANCELLED') {
      const seconds = (Date.parse(view.finishedAt!) - Date.parse(view.startedAt!)) / 1000;
      return { runId: run.runId, items: view.counts.total!, seconds, counts: view.counts };
    }
  }
}

/** proposePlan for each account, `inFlight` at a time; proposals per second. */
async function proposeAll(server: ServerProcess, token: string, accounts: string[], inFlight: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < accounts.length) {
        const accountId = accounts[next++]!;
        await gql(server, token, PROPOSE, { input: item(accountId) });
      }
    }),
  );
  return accounts.length / ((performance.now() - t0) / 1000);
}

/** proposePlan one at a time for `ms`; the latencies. */
async function interactive(server: ServerProcess, token: string, prefix: string, msec: number, stop?: () => boolean): Promise<number[]> {
  const samples: number[] = [];
  const until = Date.now() + msec;
  for (let i = 0; Date.now() < until && !stop?.(); i++) {
    const t0 = performance.now();
    await gql(server, token, PROPOSE, { input: item(`${prefix}-${i}`) });
    samples.push(performance.now() - t0);
  }
  return samples.sort((a, b) => a - b);
}

/** The raw driver writing the same plan and PLAN_CREATED documents, 500 at a time: documents per second. */
async function rawBaseline(db: Db, source: Db, count: number): Promise<number> {
  const plan = await source.collection('plans').findOne({ tenant_id: TENANT });
  const entry = plan ? await source.collection('plan_ledger').findOne({ tenant_id: TENANT, plan_id: plan._id, seq: 1 }) : null;
  if (!plan || !entry) throw new Error('no plan to copy the raw writes from');
  const t0 = performance.now();
  for (let i = 0; i < count; i += CHUNK) {
    const writes = Array.from({ length: Math.min(CHUNK, count - i) }, (_, j) => freshWrite({ plan, entry }, TENANT, i + j));
    await db.collection('plan_ledger').insertMany(writes.map((w) => w.entry), { ordered: false });
    await db.collection('plans').insertMany(writes.map((w) => w.plan), { ordered: false });
  }
  return count / ((performance.now() - t0) / 1000);
}

const fixed = (n: number, digits = 1) => n.toFixed(digits);
const verdict = (ok: boolean): Verdict => (ok ? 'pass' : 'miss');

export async function runProposalRunCases(ctx: RunBenchContext): Promise<void> {
  const { admin, token, rows, notes, log } = ctx;
  const items = num('BENCH_RUN_ITEMS', 10_000);
  const concurrency = String(num('BENCH_RUN_CONCURRENCY', 8));
  const accounts = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  const runEnv = { PROPOSAL_RUN_CONCURRENCY: concurrency, PROPOSAL_RUN_POLL_MS: '200' };
  const fail = (id: string, what: string, goal: string, e: unknown) => {
    log(`case ${id} failed: ${String(e instanceof Error ? e.message : e)}`);
    rows.push({ id, what, load: String(e instanceof Error ? e.message : e).slice(0, 200), service: '', baseline: '', ratio: '', goal, verdict: 'error' });
  };

  // 9a and 9b: one server, database bench_runs.
  const server = await ctx.server('runs', 'bench_runs', runEnv);
  try {
    log(`9a: proposePlan at 64 in flight over ${items} accounts`);
    const proposeRate = await proposeAll(server, token, accounts('p64', items), 64);
    log(`9a: a real run of ${items} accounts (PROPOSAL_RUN_CONCURRENCY=${concurrency})`);
    const real = await fullRun(server, token, accounts('run', items), false);
    const runRate = real.items / real.seconds;
    log(`9a: raw driver, ${items} plans + entries in batches of ${CHUNK}`);
    const rawRate = await rawBaseline(admin.db('bench_runs_raw'), admin.db('bench_runs'), items);
    rows.push({
      id: '9a',
      what: `proposal run, ${items} accounts (rules) vs proposePlan at 64 in flight`,
      load: `run: ${real.items} items in ${fixed(real.seconds)} s`,
      service: `${fixed(runRate)} items/s`,
      baseline: `${fixed(proposeRate)} proposals/s`,
      ratio: `${fixed(runRate / proposeRate, 2)}×`,
      goal: '≥ 1.5×',
      verdict: verdict(runRate / proposeRate >= 1.5),
      figures: { runRate, proposeRate, counts: real.counts },
    });
    rows.push({
      id: '9a′',
      what: `proposal run vs raw driver (same documents, batches of ${CHUNK})`,
      load: `${items} plans + PLAN_CREATED entries`,
      service: `${fixed(runRate)} items/s`,
      baseline: `${fixed(rawRate)} plans/s`,
      ratio: `${fixed(runRate / rawRate, 2)}×`,
      goal: '≥ 0.5×',
      verdict: verdict(runRate / rawRate >= 0.5),
      figures: { runRate, rawRate },
    });

    const windowMs = num('BENCH_RUN_INTERACTIVE_MS', 15_000);
    log('9b: interactive proposePlan, idle then during a run');
    const idle = await interactive(server, token, 'idle', windowMs);
    let running = false;
    let ended = false;
    const during = fullRun(server, token, accounts('busy', Math.max(items, 2000)), true, () => (running = true)).finally(() => (ended = true));
    while (!running) await sleep(50);
    const busy = await interactive(server, token, 'busy-i', windowMs, () => ended);
    await during;
    const [p50Idle, p50Busy] = [percentile(idle, 50), percentile(busy, 50)];
    rows.push({
      id: '9b',
      what: 'interactive proposePlan p50 (1 in flight) during a run vs idle',
      load: `${busy.length} calls during a dry run, ${idle.length} idle`,
      service: `${fixed(p50Busy)} ms`,
      baseline: `${fixed(p50Idle)} ms`,
      ratio: `${fixed(p50Busy / p50Idle, 2)}×`,
      goal: '≤ 2×',
      verdict: verdict(p50Busy / p50Idle <= 2),
      figures: { p50Idle, p50Busy, p99Idle: percentile(idle, 99), p99Busy: percentile(busy, 99) },
    });
  } catch (e) {
    fail('9a', 'proposal run throughput', '≥ 1.5× / ≥ 0.5×', e);
  } finally {
    await server.stop();
  }

  // 9c: the model's rate limit.
  const gemini = await startBenchFakeGemini(300);
  const llmServer = await ctx.server('runs-llm', 'bench_runs_llm', {
    ...runEnv,
    PROPOSAL_RUN_CONCURRENCY: '16',
    GEMINI_API_KEY: 'bench-key',
    GEMINI_BASE_URL: gemini.baseUrl,
    GEMINI_REQUESTS_PER_MINUTE: '600',
  });
  try {
    const n = num('BENCH_RUN_LLM_ITEMS', 400);
    log(`9c: dry run of ${n} items, model at 300 ms, limit 600/min`);
    let first = null as { at: number; answered: number } | null;
    const sample = setInterval(() => {
      if (!first && gemini.answered() >= 10) first = { at: performance.now(), answered: gemini.answered() };
    }, 20);
    const run = await fullRun(llmServer, token, accounts('llm', n), true);
    clearInterval(sample);
    const last = { at: performance.now(), answered: gemini.answered() };
    // The steady part: from the 10th answer on (the last poll adds up to 500 ms of idle: bounded by the run's own end).
    const perMinute = first ? ((last.answered - first.answered) / Math.min((last.at - first.at) / 1000, run.seconds)) * 60 : NaN;
    rows.push({
      id: '9c',
      what: 'model calls during a run: fake Gemini at 300 ms, limit 600/min',
      load: `dry run of ${run.items} items in ${fixed(run.seconds)} s`,
      service: `${fixed(perMinute, 0)} calls/min`,
      baseline: '600/min',
      ratio: `${fixed(perMinute / 600, 3)}×`,
      goal: 'within 5%',
      verdict: verdict(Math.abs(perMinute / 600 - 1) <= 0.05),
      figures: { perMinute, answered: gemini.answered(), counts: run.counts },
    });
  } catch (e) {
    fail('9c', 'model rate limit', 'within 5%', e);
  } finally {
    await llmServer.stop();
    await gemini.close();
  }

  // 9d: memory from 10k to BENCH_RUN_MEMORY_ITEMS items (opt-in: 100k items take a while).
  const memoryItems = num('BENCH_RUN_MEMORY_ITEMS', 0);
  if (memoryItems > 0) {
    const memServer = await ctx.server('runs-memory', 'bench_runs_memory', runEnv);
    try {
      const small = Math.min(10_000, memoryItems);
      await fullRun(memServer, token, accounts('mem-a', small), true);
      const rssSmall = rssBytes(memServer.pid);
      await fullRun(memServer, token, accounts('mem-b', memoryItems), true);
      const rssLarge = rssBytes(memServer.pid);
      const growth = rssLarge / rssSmall - 1;
      rows.push({
        id: '9d',
        what: `server RSS after a ${small}-item run, then after a ${memoryItems}-item run (dry)`,
        load: `${memoryItems} items`,
        service: `${fixed(rssLarge / 2 ** 20)} MB`,
        baseline: `${fixed(rssSmall / 2 ** 20)} MB`,
        ratio: `${fixed(growth * 100)}%`,
        goal: '< 20%',
        verdict: verdict(growth < 0.2),
      });
    } catch (e) {
      fail('9d', 'run memory', '< 20%', e);
    } finally {
      await memServer.stop();
    }
  } else {
    notes.push('9d (RSS from 10k to 100k run items) runs with BENCH_RUN_MEMORY_ITEMS=100000.');
  }
}
