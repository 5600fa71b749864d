import type { Db, Document, MongoClient } from 'mongodb';
import { mintDevToken } from '../../src/auth/devToken.js';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { ledgerChain } from '../lib/documents.js';
import { heapBytes, sleep, type ServerProcess } from '../lib/processes.js';
import type { BenchCase } from '../lib/benchCase.js';
import { JWT_SECRET } from '../lib/harness.js';
import type { Row } from '../lib/report.js';
import { ms, percentile, ratio } from '../lib/stats.js';

// Case 9 (BENCH_ONLY=9): one tenant tries to exhaust the service with its most expensive read.
// A viewer of tenant "attacker" (BENCH_ATTACK_ENTRIES ledger entries, 100k by default, sealed
// by the service itself) keeps 4 requests in flight, each with 15 aliases of
// verifyLedgerCheckpoint over different checkpoint sizes (refused by the operation budget) and
// then with the 3 the budget admits; meanwhile a viewer of tenant "victim" reads plan(planId)
// one request at a time. Reported: the victim's p50 against its idle p50 (goal ≤ 3×), the
// server's V8 heap at its highest (goal < 512 MB). Row 9a: the attacker's FIRST verification
// of its fresh 100k tenant. The entries are sealed by a server whose background verifier is off;
// a second server on the same data starts its verifier (which finds the unverified tenant at
// start and catches up, paced) while the attacker keeps 4 requests in flight of
// verifyLedgerCheckpoint (answered VERIFICATION_PENDING until the background is done, then
// valid); the victim's p50 during that catch-up is compared with its idle p50.

export interface CostAttackContext {
  admin: MongoClient;
  jwtSecret: string;
  rows: Row[];
  log(message: string): void;
  server(name: string, dbName: string, extra?: Record<string, string>): Promise<ServerProcess>;
  bulkInsert(db: Db, collection: string, batches: Iterable<Document[]>, until: number): Promise<number>;
  failRow(id: string, what: string, goal: string, e: unknown): void;
}

const num = (name: string, fallback: number) => (process.env[name]?.trim() ? Number(process.env[name]) : fallback);
const ENTRIES = num('BENCH_ATTACK_ENTRIES', 100_000);
const MEASURE_MS = num('BENCH_ATTACK_MEASURE_MS', 8000);
const ATTACKER = 'attacker';
const VICTIM = 'victim';
const IN_FLIGHT = 4;
const PER_PLAN = 50;
const GOAL = "victim's plan(planId) p50 ≤ 3× idle; server heap < 512 MB";

function* entryBatches(count: number): Generator<Document[]> {
  const start = new Date(Date.now() - 86_400_000);
  let batch: Document[] = [];
  for (let p = 0; p * PER_PLAN < count; p++) {
    batch.push(...ledgerChain(ATTACKER, `attack-plan-${p}`, `acct-${p % 100}`, Math.min(PER_PLAN, count - p * PER_PLAN), start));
    if (batch.length >= 1000) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

async function gql(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<{ status: number; body: { data?: unknown; errors?: { extensions?: { code?: string } }[] } }> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: (await res.json()) as never };
}

/** plan(planId) of the victim, one at a time, until `until` returns true (or the time is up); latencies in ms. */
async function victimReads(url: string, token: string, planIds: string[], until: () => boolean, maxMs: number): Promise<number[]> {
  const out: number[] = [];
  const end = Date.now() + maxMs;
  for (let i = 0; !until() && Date.now() < end; i++) {
    const t0 = performance.now();
    const r = await gql(url, token, 'query($id: ID!) { plan(planId: $id) { planId status steps { stepId } } }', { id: planIds[i % planIds.length] });
    if (r.body.errors) throw new Error(`victim read failed: ${JSON.stringify(r.body.errors[0])}`);
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

export async function runCostAttackCase(ctx: CostAttackContext): Promise<void> {
  const what = `cost attack: 4 × 15 aliased verifyLedgerCheckpoint @ ${ENTRIES.toLocaleString('en-US')} entries vs another tenant's plan(planId)`;
  let server: ServerProcess | null = null;
  try {
    const dbName = 'bench_cost_attack';
    const db = ctx.admin.db(dbName);
    await db.dropDatabase();
    ctx.log(`case 9: loading ${ENTRIES.toLocaleString('en-US')} ledger entries of tenant ${ATTACKER}`);
    await ctx.bulkInsert(db, 'plan_ledger', entryBatches(ENTRIES), Date.now() + 600_000);
    // No background verifier on this one: the tenant stays unverified for row 9a.
    server = await ctx.server('cost-attack', dbName, { LEDGER_VERIFIER: 'off' });
    const token = (tenant: string, roles: string[]) => mintDevToken({ secret: ctx.jwtSecret, tenantId: tenant, roles, sub: `${tenant}-user`, ttlSeconds: 3600 });
    const attacker = await token(ATTACKER, ['plan-viewer']);
    const victim = await token(VICTIM, ['plan-viewer', 'plan-proposer']);
    const url = server.url;

    // The sealer finds the loaded entries at start and signs checkpoints as it goes.
    const sealStart = Date.now();
    let sealed = 0;
    while (Date.now() - sealStart < 600_000) {
      const [latest] = await db.collection(LEDGER_LOG_COLLECTIONS.checkpoints).find({ tenant_id: ATTACKER }).sort({ seq: -1 }).limit(1).toArray();
      sealed = (latest?.tree_size as number | undefined) ?? 0;
      if (sealed >= ENTRIES) break;
      await sleep(500);
    }
    if (sealed < ENTRIES) throw new Error(`only ${sealed} of ${ENTRIES} entries sealed in 10 minutes`);
    ctx.log(`case 9: sealed in ${ms(Date.now() - sealStart)}`);
    const sizes = (await db.collection(LEDGER_LOG_COLLECTIONS.checkpoints).find({ tenant_id: ATTACKER }).project({ tree_size: 1 }).toArray()).map((c) => c.tree_size as number);

    const planIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await gql(url, victim, 'mutation($i: ProposePlanInput!) { proposePlan(input: $i) { plan { planId } } }', {
        i: { accountId: `victim-acct-${i}`, planType: 'RENEWAL_DEFENSE', signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' }] },
      });
      planIds.push((r.body.data as { proposePlan: { plan: { planId: string } } }).proposePlan.plan.planId);
    }
    await victimReads(url, victim, planIds, () => false, 1500); // warm-up
    const idle = await victimReads(url, victim, planIds, () => false, MEASURE_MS);
    const idleP50 = percentile(idle, 50);

    // Row 9a: a server with its background verifier on finds the fresh tenant and catches up
    // while the attacker keeps asking for its first verification.
    await server.stop();
    server = null;
    const restart0 = Date.now();
    server = await ctx.server('cost-attack-verifying', dbName);
    const url2 = server.url;
    const firstAnswers = { pending: 0, valid: 0, other: 0 };
    let caughtUp = false;
    const t0 = Date.now();
    const firstLoops = Array.from({ length: IN_FLIGHT }, async () => {
      while (!caughtUp && Date.now() - t0 < 900_000) {
        const r = await gql(url2, attacker, '{ verifyLedgerCheckpoint { treeSize valid entriesChecked } }');
        const answer = (r.body.data as { verifyLedgerCheckpoint?: { valid: boolean; treeSize: number } } | null | undefined)?.verifyLedgerCheckpoint;
        if (r.body.errors?.[0]?.extensions?.code === 'VERIFICATION_PENDING') firstAnswers.pending += 1;
        else if (answer?.valid && answer.treeSize === ENTRIES) {
          firstAnswers.valid += 1;
          caughtUp = true;
        } else firstAnswers.other += 1;
      }
    });
    let firstHeapMax = 0;
    const firstHeap = (async () => {
      while (!caughtUp && Date.now() - t0 < 900_000) {
        firstHeapMax = Math.max(firstHeapMax, (await heapBytes(server as ServerProcess)).heapUsed ?? 0);
        await sleep(250);
      }
    })();
    await sleep(500);
    const duringFirst = await victimReads(url2, victim, planIds, () => caughtUp, 900_000);
    await Promise.all([...firstLoops, firstHeap]);
    const firstMs = Date.now() - t0;
    ctx.log(`case 9a: background verification of ${ENTRIES} leaves took ${ms(firstMs)} after a restart of ${ms(t0 - restart0)}; answers ${JSON.stringify(firstAnswers)}`);
    const duringFirstP50 = percentile(duringFirst, 50);

    // The attack, twice: 15 aliases per request (refused), then the 3 the budget admits.
    const attack = async (aliases: number) => {
      const pick = (i: number) => sizes[(i * 7919) % sizes.length] as number;
      let stop = false;
      const answers = { ok: 0, refused: 0, other: 0 };
      let heapMax = 0;
      const loops = Array.from({ length: IN_FLIGHT }, async (_, w) => {
        for (let n = 0; !stop; n++) {
          const query = `{ ${Array.from({ length: aliases }, (_, i) => `a${i}: verifyLedgerCheckpoint(treeSize: ${pick(w * 1000 + n * aliases + i)}) { valid entriesChecked }`).join(' ')} }`;
          const r = await gql(url2, attacker, query);
          if (r.body.errors?.[0]?.extensions?.code === 'GRAPHQL_VALIDATION_FAILED') answers.refused += 1;
          else if (!r.body.errors) answers.ok += 1;
          else answers.other += 1;
        }
      });
      const heap = (async () => {
        while (!stop) {
          heapMax = Math.max(heapMax, (await heapBytes(server as ServerProcess)).heapUsed ?? 0);
          await sleep(250);
        }
      })();
      await sleep(500);
      const reads = await victimReads(url2, victim, planIds, () => false, MEASURE_MS);
      stop = true;
      await Promise.all([...loops, heap]);
      return { p50: percentile(reads, 50), p99: percentile(reads, 99), reads: reads.length, answers, heapMax };
    };
    await sleep(2000);
    const admittedRun = await attack(3);
    const refusedRun = await attack(15);
    // The machine's load drifts (other processes): idle again after the attacks, for reference.
    const idleAfter = percentile(await victimReads(url2, victim, planIds, () => false, MEASURE_MS), 50);
    // Against the lower of the two idle figures: the machine's drift must not flatter the ratio.
    const idleRef = Math.min(idleP50, idleAfter);
    const worst = Math.max(refusedRun.p50, admittedRun.p50) / idleRef;
    const heapMb = Math.max(refusedRun.heapMax, admittedRun.heapMax) / 1e6;
    ctx.rows.push({
      id: '9',
      what,
      load: `victim: plan(planId) one at a time, ${MEASURE_MS / 1000} s per phase; attacker: ${IN_FLIGHT} in flight, closed loop, checkpoint sizes spread over ${sizes.length} checkpoints`,
      service: `victim p50 ${ms(refusedRun.p50)} with 15 aliases (${refusedRun.answers.refused} requests refused, ${refusedRun.answers.ok} answered), ${ms(admittedRun.p50)} with 3 (${admittedRun.answers.ok} answered, ${admittedRun.answers.other} errors); p99 ${ms(refusedRun.p99)} / ${ms(admittedRun.p99)}; heap max ${heapMb.toFixed(0)} MB`,
      baseline: `victim idle p50 ${ms(idleP50)} (${ms(idleAfter)} after the attacks)`,
      ratio: `${ratio(worst)} p50 under attack`,
      goal: GOAL,
      verdict: worst <= 3 && heapMb < 512 ? 'pass' : 'miss',
      figures: { entries: ENTRIES, idleP50, idleAfter, refusedRun, admittedRun, checkpoints: sizes.length },
    });
    const firstRatio = duringFirstP50 / idleRef;
    const firstHeapMb = firstHeapMax / 1e6;
    ctx.rows.push({
      id: '9a',
      what: `first verifyLedgerCheckpoint of a fresh ${ENTRIES.toLocaleString('en-US')}-entry tenant (background catch-up after a restart) vs another tenant's plan(planId)`,
      load: `victim: plan(planId) one at a time until the catch-up is done; attacker: ${IN_FLIGHT} in flight, closed loop, verifyLedgerCheckpoint of the latest checkpoint`,
      service: `background verification ${ms(firstMs)} (${Math.round(ENTRIES / (firstMs / 1000))} leaves/s); attacker answers: ${firstAnswers.pending} VERIFICATION_PENDING, ${firstAnswers.valid} valid, ${firstAnswers.other} other; victim p50 ${ms(duringFirstP50)}, p99 ${ms(percentile(duringFirst, 99))} (${duringFirst.length} reads); heap max ${firstHeapMb.toFixed(0)} MB`,
      baseline: `victim idle p50 ${ms(idleRef)} (the lower of before and after)`,
      ratio: `${ratio(firstRatio)} p50 during the first verification`,
      goal: GOAL,
      verdict: firstRatio <= 3 && firstHeapMb < 512 && firstAnswers.other === 0 && firstAnswers.valid > 0 ? 'pass' : 'miss',
      figures: { entries: ENTRIES, idleRef, firstMs, firstAnswers, duringFirstP50, duringFirstP99: percentile(duringFirst, 99), firstHeapMax },
    });
  } catch (e) {
    ctx.failRow('9', what, GOAL, e);
  } finally {
    await server?.stop();
  }
}

export const costAttackCase: BenchCase = {
  id: '9',
  title: "one tenant's expensive reads against another tenant's plan reads",
  slice: 0.142,
  seeds: ['bench_cost_attack: BENCH_ATTACK_ENTRIES unsealed entries of tenant attacker, sealed by the service it starts'],
  run: async (h) => {
    const rows: Row[] = [];
    await runCostAttackCase({
      admin: h.admin,
      jwtSecret: JWT_SECRET,
      rows,
      log: (m) => h.log(m),
      // Its server starts on the unsealed entries: start-up reconciliation reads them all first.
      server: (name, dbName, extra) => h.server(name, dbName, extra, 900_000),
      bulkInsert: (db, collection, batches, until) => h.bulkInsert(db, collection, batches, until),
      failRow: (id, what, goal, e) => void rows.push(h.failRow(id, what, goal, e)),
    });
    return rows;
  },
};
