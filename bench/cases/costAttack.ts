import type { Db, Document, MongoClient } from 'mongodb';
import { mintDevToken } from '../../src/auth/devToken.js';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { ledgerChain } from '../lib/documents.js';
import { heapUsedBytes, sleep, type ServerProcess } from '../lib/processes.js';
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
// server's V8 heap at its highest (goal < 512 MB), and the attacker's first verification (the
// one full pass that records the tenant's verified prefix) with the victim's p50 during it.

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
    server = await ctx.server('cost-attack', dbName);
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

    // The attacker's first verification: the one full pass (it records the verified prefix).
    let firstDone = false;
    const t0 = Date.now();
    const first = gql(url, attacker, '{ verifyLedgerCheckpoint { treeSize valid entriesChecked } }').finally(() => (firstDone = true));
    const duringFirst = await victimReads(url, victim, planIds, () => firstDone, 600_000);
    const firstAnswer = await first;
    const firstMs = Date.now() - t0;
    const firstValid = (firstAnswer.body.data as { verifyLedgerCheckpoint?: { valid: boolean } } | undefined)?.verifyLedgerCheckpoint?.valid;

    // The attack, twice: 15 aliases per request (refused), then the 3 the budget admits.
    const attack = async (aliases: number) => {
      const pick = (i: number) => sizes[(i * 7919) % sizes.length] as number;
      let stop = false;
      const answers = { ok: 0, refused: 0, other: 0 };
      let heapMax = 0;
      const loops = Array.from({ length: IN_FLIGHT }, async (_, w) => {
        for (let n = 0; !stop; n++) {
          const query = `{ ${Array.from({ length: aliases }, (_, i) => `a${i}: verifyLedgerCheckpoint(treeSize: ${pick(w * 1000 + n * aliases + i)}) { valid entriesChecked }`).join(' ')} }`;
          const r = await gql(url, attacker, query);
          if (r.body.errors?.[0]?.extensions?.code === 'GRAPHQL_VALIDATION_FAILED') answers.refused += 1;
          else if (!r.body.errors) answers.ok += 1;
          else answers.other += 1;
        }
      });
      const heap = (async () => {
        while (!stop) {
          heapMax = Math.max(heapMax, (await heapUsedBytes(server as ServerProcess)) ?? 0);
          await sleep(250);
        }
      })();
      await sleep(500);
      const reads = await victimReads(url, victim, planIds, () => false, MEASURE_MS);
      stop = true;
      await Promise.all([...loops, heap]);
      return { p50: percentile(reads, 50), p99: percentile(reads, 99), reads: reads.length, answers, heapMax };
    };
    await sleep(2000);
    const admittedRun = await attack(3);
    const refusedRun = await attack(15);
    // The machine's load drifts (other processes): idle again after the attacks, for reference.
    const idleAfter = percentile(await victimReads(url, victim, planIds, () => false, MEASURE_MS), 50);
    // Against the lower of the two idle figures: the machine's drift must not flatter the ratio.
    const idleRef = Math.min(idleP50, idleAfter);
    const worst = Math.max(refusedRun.p50, admittedRun.p50) / idleRef;
    const heapMb = Math.max(refusedRun.heapMax, admittedRun.heapMax) / 1e6;
    ctx.rows.push({
      id: '9',
      what,
      load: `victim: plan(planId) one at a time, ${MEASURE_MS / 1000} s per phase; attacker: ${IN_FLIGHT} in flight, closed loop, checkpoint sizes spread over ${sizes.length} checkpoints`,
      service: `victim p50 ${ms(refusedRun.p50)} with 15 aliases (${refusedRun.answers.refused} requests refused, ${refusedRun.answers.ok} answered), ${ms(admittedRun.p50)} with 3 (${admittedRun.answers.ok} answered, ${admittedRun.answers.other} errors); p99 ${ms(refusedRun.p99)} / ${ms(admittedRun.p99)}; heap max ${heapMb.toFixed(0)} MB; first verification ${ms(firstMs)} (valid=${String(firstValid)}), victim p50 during it ${ms(percentile(duringFirst, 50))}`,
      baseline: `victim idle p50 ${ms(idleP50)} (${ms(idleAfter)} after the attacks)`,
      ratio: `${ratio(worst)} p50 under attack (first pass: ${ratio(percentile(duringFirst, 50) / idleRef)})`,
      goal: GOAL,
      verdict: worst <= 3 && heapMb < 512 ? 'pass' : 'miss',
      figures: { entries: ENTRIES, idleP50, idleAfter, refusedRun, admittedRun, firstMs, duringFirstP50: percentile(duringFirst, 50), checkpoints: sizes.length },
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
  slice: 0.05,
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
