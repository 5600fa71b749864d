import type { Db, Document } from 'mongodb';
import { callApi } from '../lib/api.js';
import type { BenchCase } from '../lib/benchCase.js';
import { Skipped, type Budget, type Window } from '../lib/budget.js';
import { freshWrite } from '../lib/documents.js';
import { startBenchFakeGemini } from '../lib/fakeGemini.js';
import { fmtRun, mb, verdictOf } from '../lib/figures.js';
import { TENANT, type Harness } from '../lib/harness.js';
import { sleep, type ServerProcess } from '../lib/processes.js';
import type { Row } from '../lib/report.js';
import { SEED_BATCH } from '../lib/seed.js';
import { ms, rate, ratio } from '../lib/stats.js';

// Case 10 (BENCH_ONLY=10): proposal runs over the book of business (docs/runs.md), each part
// with a server and database of its own:
//   10a  a real run of BENCH_RUN_ITEMS accounts (rules generator): items/s against proposePlan
//        at 64 in flight over as many other accounts (goal ≥ 1.5×); 10a′ against the raw driver
//        inserting the same plan and PLAN_CREATED documents in batches (goal ≥ 0.5×);
//   10b  interactive proposePlan p50 (one in flight) during a dry run against the same with the
//        service idle (goal ≤ 2×);
//   10c  fake Gemini answering in BENCH_LLM_DELAY_MS, GEMINI_REQUESTS_PER_MINUTE=600: the model
//        calls' rate during a dry run of BENCH_RUN_LLM_ITEMS (goal: within 5% of 600/min);
//   10d  with BENCH_RUN_MEMORY_ITEMS set (100,000 for the goal): server RSS after a dry run of
//        10,000 items and after one of that many (goal: growth < 20%).

const MODEL_LIMIT_PER_MINUTE = 600;
const SIGNALS = [
  { type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' },
  { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
];
const item = (accountId: string) => ({ accountId, planType: 'RENEWAL_DEFENSE', signals: SIGNALS });
const accounts = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
const PROPOSE = 'mutation Propose($input: ProposePlanInput!) { proposePlan(input: $input) { source plan { planId } } }';
const proposeBodies = (ids: string[]) => ids.map((id) => JSON.stringify({ query: PROPOSE, operationName: 'Propose', variables: { input: item(id) } }));
const RUN_FIELDS = 'runId status startedAt finishedAt counts { total pending created wouldCreate skippedOpenPlan skippedDuplicate rejected failed }';

interface RunView {
  runId: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  counts: Record<string, number>;
}

interface RunResult {
  items: number;
  /** From the service's startedAt to its finishedAt. */
  seconds: number;
  counts: Record<string, number>;
}

/** A run's observers: told when it started; asked at each poll whether to cancel it (it then ends CANCELLED). */
interface RunHooks {
  onStarted?: () => void;
  cancelWhen?: () => boolean;
}

/**
 * Creates, fills and starts a run, then polls it until it ends; throws Skipped when `budget`
 * runs out first (the run is cancelled).
 */

async function fullRun(server: ServerProcess, token: string, ids: string[], dryRun: boolean, budget: Budget, hooks: RunHooks = {}): Promise<RunResult> {
  const api = <T>(query: string, variables: Record<string, unknown>) => callApi<T>(server.url, token, query, variables);
  const { createProposalRun: run } = await api<{ createProposalRun: RunView }>(`mutation($d: Boolean!) { createProposalRun(dryRun: $d) { ${RUN_FIELDS} } }`, { d: dryRun });
  for (let i = 0; i < ids.length; i += SEED_BATCH) {
    await api('mutation($r: ID!, $items: [ProposePlanInput!]!) { addProposalRunItems(runId: $r, items: $items) { runId } }', { r: run.runId, items: ids.slice(i, i + SEED_BATCH).map(item) });
  }
  await api('mutation($r: ID!) { startProposalRun(runId: $r) { runId } }', { r: run.runId });
  hooks.onStarted?.();
  const cancel = () => api('mutation($r: ID!) { cancelProposalRun(runId: $r) { runId } }', { r: run.runId }).catch(() => undefined);
  let cancelled = false;
  for (;;) {
    await sleep(hooks.cancelWhen ? 100 : 500);
    if (!cancelled && hooks.cancelWhen?.()) {
      cancelled = true;
      await cancel();
    }
    if (budget.left() <= 0) {
      await cancel();
      throw new Skipped(`time budget: a run of ${ids.length} items had not finished`);
    }
    // A poll that fails (the store busy) is tried again at the next one.
    const polled = await api<{ proposalRun: RunView }>(`query($r: ID!) { proposalRun(runId: $r) { ${RUN_FIELDS} } }`, { r: run.runId }).catch(() => null);
    const view = polled?.proposalRun;
    if (view && (view.status === 'COMPLETED' || view.status === 'CANCELLED')) {
      return { items: view.counts.total ?? 0, seconds: (Date.parse(view.finishedAt!) - Date.parse(view.startedAt!)) / 1000, counts: view.counts };
    }
  }
}

/** The raw driver inserting `count` plans and PLAN_CREATED entries like one the service wrote, through the bulk path; plans per second. */
async function rawBaseline(h: Harness, db: Db, source: Db, count: number, window: Window): Promise<number> {
  const plan = await source.collection('plans').findOne({ tenant_id: TENANT });
  const entry = plan ? await source.collection('plan_ledger').findOne({ tenant_id: TENANT, plan_id: plan._id, seq: 1 }) : null;
  if (!plan || !entry) throw new Error('no plan to copy the raw writes from');
  const writes = Array.from({ length: count }, (_, i) => freshWrite({ plan, entry }, TENANT, i));
  const batches = (docs: Document[]) => Array.from({ length: Math.ceil(docs.length / SEED_BATCH) }, (_, i) => docs.slice(i * SEED_BATCH, (i + 1) * SEED_BATCH));
  const t0 = performance.now();
  const entries = await h.bulkInsert(db, 'plan_ledger', batches(writes.map((w) => w.entry)), window.deadline);
  const plans = await h.bulkInsert(db, 'plans', batches(writes.map((w) => w.plan)), window.deadline);
  if (entries < count || plans < count) throw new Skipped(`time budget: the raw driver wrote ${plans} of ${count} plans`);
  return count / ((performance.now() - t0) / 1000);
}

const RUN_ENV = (concurrency: number) => ({ PROPOSAL_RUN_CONCURRENCY: String(concurrency), PROPOSAL_RUN_POLL_MS: '200' });

/** 10a, 10a′ and 10b: one server on bench_runs. */
async function throughputAndInteractive(h: Harness, window: Window): Promise<Row[]> {
  const { cfg } = h;
  const n = cfg.runItems;
  const rows: Row[] = [];
  /** 10a's run rate (items/s), when measured: sizes 10b's dry run. */
  let realRate = 0;
  const server = await h.server('runs', 'bench_runs', RUN_ENV(cfg.runConcurrency));
  try {
    if (!window.fits()) throw new Skipped('time budget');
    const label = `proposePlan c=64 over ${n} accounts (10a)`;
    const propose = await h.run(h.gqlJob(server, h.token, label, proposeBodies(accounts('p64', n)), h.limits(label, 64, { warmupMs: 0, durationMs: Math.max(1000, window.left() - 5000), maxRequests: n }), '"planId"'), window, server);
    // The baseline's background work (sealing its entries, tallying its plans) ends before the
    // run starts, so that neither side pays for the other's.
    await h.awaitProcessIdle(server.pid, 60_000, 'the server, after the proposePlan baseline');
    await h.awaitStoreIdle(60_000, 'after the proposePlan baseline');
    h.log(`case 10a: a real run of ${n} accounts (PROPOSAL_RUN_CONCURRENCY=${cfg.runConcurrency})`);
    const real = await fullRun(server, h.token, accounts('run', n), false, window);
    const runRate = real.items / real.seconds;
    h.log(`case 10a′: raw driver, ${n} plans and entries in batches of ${SEED_BATCH}`);
    const rawDb = h.admin.db('bench_runs_raw');
    const rawRate = await rawBaseline(h, rawDb, h.admin.db('bench_runs'), n, window).finally(() => rawDb.dropDatabase().catch(() => undefined));
    realRate = runRate;
    const vsPropose = runRate / propose.throughput;
    rows.push({
      id: '10a',
      what: `proposal run, ${n} accounts (rules), vs proposePlan at 64 in flight`,
      load: `run: ${real.items} items in ${real.seconds.toFixed(1)} s, ${cfg.runConcurrency} in flight`,
      service: `${rate(runRate)} items`,
      baseline: `proposePlan: ${fmtRun(propose)}`,
      ratio: ratio(vsPropose),
      goal: '≥ 1.5×',
      verdict: verdictOf(propose.errors === 0 ? vsPropose >= 1.5 : null),
      figures: { runRate, propose, counts: real.counts },
    });
    rows.push({
      id: '10a′',
      what: `proposal run vs the raw driver (same documents, batches of ${SEED_BATCH})`,
      load: `${n} plans + PLAN_CREATED entries`,
      service: `${rate(runRate)} items`,
      baseline: `${rate(rawRate)} plans`,
      ratio: ratio(runRate / rawRate),
      goal: '≥ 0.5×',
      verdict: verdictOf(runRate / rawRate >= 0.5),
      figures: { runRate, rawRate },
    });
  } catch (e) {
    rows.push(h.failRow('10a', 'proposal run throughput', '≥ 1.5× / ≥ 0.5×', e));
  }

  const what = 'interactive proposePlan p50 (1 in flight) during a dry run vs idle';
  try {
    if (!window.fits(cfg.runInteractiveMs * 2)) throw new Skipped('time budget');
    const job = (label: string, prefix: string) => h.gqlJob(server, h.token, label, proposeBodies(accounts(prefix, 4096)), h.limits(label, 1, { durationMs: cfg.runInteractiveMs }), '"planId"');
    const idle = await h.run(job('proposePlan c=1, idle (10b)', 'idle'), window, server);
    // The dry run must outlast the interactive window: a dry run goes faster than 10a's real one
    // (no plan is stored), and between the interactive calls it runs at full speed. It is
    // cancelled once the window ends.
    const dryItems = Math.min(100_000, Math.max(n, 2000, Math.ceil((3 * realRate * cfg.runInteractiveMs) / 1000)));
    let started = false;
    let ended = false;
    let windowOver = false;
    const during = fullRun(server, h.token, accounts('busy', dryItems), true, window, { onStarted: () => (started = true), cancelWhen: () => windowOver }).finally(() => (ended = true));
    while (!started && !ended) await sleep(50);
    const busy = await h.run(job('proposePlan c=1, during a run (10b)', 'busy-i'), window, server).finally(() => (windowOver = true));
    const endedFirst = ended;
    await during;
    const r = busy.latency.p50 / idle.latency.p50;
    if (endedFirst) h.notes.push('10b: the dry run ended before the interactive window did: part of the "during" figure is idle.');
    rows.push({
      id: '10b',
      what,
      load: `${busy.requests} calls during a dry run of ${dryItems} items (cancelled when the window ended), ${idle.requests} idle`,
      service: fmtRun(busy, false),
      baseline: fmtRun(idle, false),
      ratio: ratio(r),
      goal: '≤ 2×',
      verdict: verdictOf(busy.errors + idle.errors === 0 ? r <= 2 : null, !endedFirst),
      figures: { idle, busy },
    });
  } catch (e) {
    rows.push(h.failRow('10b', what, '≤ 2×', e));
  } finally {
    await server.stop();
    await h.admin.db('bench_runs').dropDatabase().catch(() => undefined);
  }
  return rows;
}

/** 10c: the model's rate limit during a dry run. */
async function modelRate(h: Harness, window: Window): Promise<Row> {
  const { cfg } = h;
  const what = `model calls during a run: fake Gemini at ${cfg.llmDelayMs} ms, limit ${MODEL_LIMIT_PER_MINUTE}/min`;
  const gemini = await startBenchFakeGemini(cfg.llmDelayMs);
  let server: ServerProcess | null = null;
  try {
    server = await h.server('runs-llm', 'bench_runs_llm', {
      ...RUN_ENV(16),
      GEMINI_API_KEY: 'bench',
      GEMINI_BASE_URL: gemini.baseUrl,
      GEMINI_REQUESTS_PER_MINUTE: String(MODEL_LIMIT_PER_MINUTE),
    });
    h.log(`case 10c: dry run of ${cfg.runLlmItems} items, model at ${cfg.llmDelayMs} ms, limit ${MODEL_LIMIT_PER_MINUTE}/min`);
    let first: { at: number; answered: number } | null = null;
    const sample = setInterval(() => {
      if (!first && gemini.answered() >= 10) first = { at: performance.now(), answered: gemini.answered() };
    }, 20);
    const run = await fullRun(server, h.token, accounts('llm', cfg.runLlmItems), true, window).finally(() => clearInterval(sample));
    const last = { at: performance.now(), answered: gemini.answered() };
    const from = first as { at: number; answered: number } | null;
    // The steady part: from the 10th answer on (the last poll adds up to 500 ms of idle: bounded by the run's own end).
    const perMinute = from ? ((last.answered - from.answered) / Math.min((last.at - from.at) / 1000, run.seconds)) * 60 : Number.NaN;
    return {
      id: '10c',
      what,
      load: `dry run of ${run.items} items in ${run.seconds.toFixed(1)} s`,
      service: `${perMinute.toFixed(0)} calls/min`,
      baseline: `${MODEL_LIMIT_PER_MINUTE}/min`,
      ratio: ratio(perMinute / MODEL_LIMIT_PER_MINUTE),
      goal: 'within 5%',
      verdict: verdictOf(Number.isFinite(perMinute) ? Math.abs(perMinute / MODEL_LIMIT_PER_MINUTE - 1) <= 0.05 : null),
      figures: { perMinute, answered: gemini.answered(), counts: run.counts },
    };
  } catch (e) {
    return h.failRow('10c', what, 'within 5%', e);
  } finally {
    await server?.stop();
    await gemini.close();
    await h.admin.db('bench_runs_llm').dropDatabase().catch(() => undefined);
  }
}

/** 10d: settled RSS after a 10k-item dry run, then after one of BENCH_RUN_MEMORY_ITEMS. */
async function runMemory(h: Harness, window: Window): Promise<Row> {
  const large = h.cfg.runMemoryItems;
  const small = Math.min(10_000, large);
  const what = `server RSS after a ${small}-item dry run, then after a ${large}-item one`;
  let server: ServerProcess | null = null;
  try {
    server = await h.server('runs-memory', 'bench_runs_memory', RUN_ENV(h.cfg.runConcurrency));
    await fullRun(server, h.token, accounts('mem-a', small), true, window);
    const before = await h.settledMemory(server);
    await fullRun(server, h.token, accounts('mem-b', large), true, window);
    const after = await h.settledMemory(server);
    const growth = after.rss / before.rss - 1;
    return {
      id: '10d',
      what,
      load: `${large} items (dry), GC forced before each reading: ${String(after.gcForced && before.gcForced)}`,
      service: mb(after.rss),
      baseline: mb(before.rss),
      ratio: `${(growth * 100).toFixed(1)}%`,
      goal: '< 20%',
      verdict: verdictOf(growth < 0.2),
      figures: { before, after, growth },
    };
  } catch (e) {
    return h.failRow('10d', what, '< 20%', e);
  } finally {
    await server?.stop();
    await h.admin.db('bench_runs_memory').dropDatabase().catch(() => undefined);
  }
}

export const proposalRunsCase: BenchCase = {
  id: '10',
  title: 'proposal runs: throughput, interactive latency, model rate, memory',
  slice: 0.0977,
  seeds: ['none: every part makes its runs and proposals through its own server'],
  async run(h, window) {
    const rows = await throughputAndInteractive(h, window).catch((e: unknown) => [h.failRow('10a', 'proposal run throughput', '≥ 1.5× / ≥ 0.5×', e)]);
    rows.push(await modelRate(h, window));
    if (h.cfg.runMemoryItems > 0) rows.push(await runMemory(h, window));
    else h.notes.push(`10d (RSS from 10k to 100k run items) runs with BENCH_RUN_MEMORY_ITEMS=100000; interactive windows of 10b: ${ms(h.cfg.runInteractiveMs)}.`);
    return rows;
  },
};
