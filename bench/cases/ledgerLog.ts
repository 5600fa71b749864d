import type { Db } from 'mongodb';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import type { BenchCase } from '../lib/benchCase.js';
import type { Window } from '../lib/budget.js';
import { boundedVerdict, cpuText, fmtRun, latencyRatio } from '../lib/figures.js';
import { PLAN_QUERY, TENANT, proposeBodies, type Harness } from '../lib/harness.js';
import type { LoadResult } from '../lib/loadJob.js';
import type { ServerProcess } from '../lib/processes.js';
import type { Row } from '../lib/report.js';
import { LEDGER_PER_PLAN, ReadSuiteData, SEEDED_BY } from '../lib/readSuite.js';
import { ledgerBatches } from '../lib/seed.js';
import { ms, rate, ratio } from '../lib/stats.js';

// Case 7 (BENCH_ONLY=7): the verifiable ledger (docs/ledger.md). Each side runs in its own server
// process and database on the same store, in the same run:
//   7a/7b  proposePlan at 16 and 64 in flight, sealer on vs LEDGER_SEALER=off (goal: ≥ 0.9×);
//   7c     sealing throughput: entries bulk-loaded, a service started on them, time until a
//          signed checkpoint covers them all (goal: ≥ 1,000 entries/s);
//   7d     ledgerInclusionProof vs plan(planId) at BENCH_PROOF_ENTRIES (500k) entries (goal: p50
//          and p99 ≤ 3×) on the read suite's data (case 6's 50k plans of 10 entries), whose log
//          was seeded with it (leaves, lookups, nodes, tiles, a signed checkpoint computed with
//          the service's own tree and tile code and key: bench/lib/seed.ts);
//   7e     verifyLedgerCheckpoint over the log of 7c, the whole pass in one request (the background
//          verifier off and the request bound lifted, as an audit would): entries/s (reported).

const CONCURRENCIES = [16, 64];
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

async function latestCheckpointSize(db: Db): Promise<number> {
  const [latest] = await db.collection(LEDGER_LOG_COLLECTIONS.checkpoints).find({ tenant_id: TENANT }).sort({ seq: -1 }).limit(1).toArray();
  return (latest?.tree_size as number | undefined) ?? 0;
}

/** Waits until a checkpoint covers `entries` (or the deadline); the time it took. */
async function waitSealed(db: Db, entries: number, deadline: number): Promise<{ ms: number; size: number }> {
  const start = Date.now();
  let size = 0;
  while (Date.now() < deadline) {
    size = await latestCheckpointSize(db);
    if (size >= entries) break;
    await sleep(100);
  }
  return { ms: Date.now() - start, size };
}

/** Alternating runs of one side as one: requests over time for throughput, the median of the runs' p50 and p99. */
function merged(rs: LoadResult[]): LoadResult {
  const requests = rs.reduce((n, r) => n + r.requests, 0);
  const seconds = rs.reduce((n, r) => n + (r.throughput > 0 ? r.requests / r.throughput : 0), 0);
  const p = (k: 'p50' | 'p99') => [...rs.map((r) => r.latency[k])].sort((a, b) => a - b)[Math.floor(rs.length / 2)] as number;
  return { ...(rs[0] as LoadResult), requests, errors: rs.reduce((n, r) => n + r.errors, 0), throughput: seconds > 0 ? requests / seconds : 0, latency: { ...(rs[0] as LoadResult).latency, p50: p('p50'), p99: p('p99') } };
}

export const ledgerLogCase: BenchCase = {
  id: '7',
  title: 'the verifiable ledger (sealing, proofs, verification)',
  slice: 0.0742,
  shares: ['readSuiteData'],
  seeds: ['bench_seal_bulk: BENCH_SEAL_ENTRIES unsealed entries (7c/7e)', 'bench_reads (the read suite’s data, case 6): BENCH_PROOF_ENTRIES entries of the large tenant and their sealed log (7d)'],
  run: runLedgerLogCases,
};

/** BENCH_LEDGER_PARTS narrows case 7 to some of propose (7a/7b), seal (7c/7e), proof (7d). */
async function runLedgerLogCases(ctx: Harness, window: Window): Promise<Row[]> {
  const { admin, token } = ctx;
  const log = (m: string) => ctx.log(m);
  const rows: Row[] = [];
  const parts = ctx.cfg.ledgerParts;

  // ---- 7a/7b: proposePlan with and without the sealer ----
  if (parts.has('propose')) {
    const goal = 'throughput with sealing ≥ 0.9× without';
    const on = await ctx.server('seal-on', 'bench_seal_on');
    const off = await ctx.server('seal-off', 'bench_seal_off', { LEDGER_SEALER: 'off' });
    try {
      for (const [i, c] of CONCURRENCIES.entries()) {
        const id = `7${String.fromCharCode(97 + i)}`;
        const what = `proposePlan c=${c}, sealing on vs off`;
        try {
          // Alternating short runs (off, on, on, off, off, on): the machine's load drifts, and
          // each side sees the same drift. Throughput is the sum of requests over the sum of time.
          const rounds = 3;
          const l = (label: string) => ctx.limits(label, c, { durationMs: Math.max(1000, Math.round(ctx.cfg.durationMs / 2)) });
          const side = ctx.cfg.warmupMs + ctx.cfg.durationMs / 2 + 3000;
          if (window.left() < 2 * rounds * side) throw new Error('time budget');
          const results: { on: LoadResult[]; off: LoadResult[] } = { on: [], off: [] };
          for (let round = 0; round < rounds; round++) {
            for (const which of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
              const srv = which === 'on' ? on : off;
              const label = `${what} (sealer ${which}, round ${round + 1})`;
              results[which].push(await ctx.run(ctx.gqlJob(srv, token, label, proposeBodies, l(label), '"source":"RULES"'), { left: () => side }, srv));
            }
          }
          const withSealing = merged(results.on);
          const without = merged(results.off);
          const db = admin.db('bench_seal_on');
          const entries = await db.collection('plan_ledger').countDocuments({ tenant_id: TENANT });
          const lag = await waitSealed(db, entries, Date.now() + 30_000);
          const r = withSealing.throughput / without.throughput;
          rows.push({
            id,
            what,
            load: `closed loop, ${c} in flight; each side its own server and database; 3 alternating rounds each (latency: median of the rounds)`,
            service: `sealer on: ${fmtRun(withSealing)} · CPU/request: ${cpuText(withSealing)}; all ${entries.toLocaleString('en-US')} entries in a signed checkpoint ${ms(lag.ms)} after the run`,
            baseline: `LEDGER_SEALER=off: ${fmtRun(without)} · CPU/request: ${cpuText(without)}`,
            ratio: `${ratio(r)} throughput`,
            goal,
            verdict: r >= 0.9 ? 'pass' : 'miss',
            figures: { withSealing, without, throughputRatio: r, entries, sealLagMs: lag.ms, sealedTo: lag.size },
          });
        } catch (e) {
          rows.push(ctx.failRow(id, what, goal, e));
        }
      }
    } finally {
      await on.stop();
      await off.stop();
    }
  }

  // ---- 7c: sealing throughput on bulk-loaded entries ----
  if (parts.has('seal')) {
    const goal = '≥ 1,000 entries/s';
    const what = 'sealing throughput (start-up reconcile, then sealer rounds)';
    const count = ctx.cfg.sealEntries;
    const db = admin.db('bench_seal_bulk');
    try {
      const batches = ledgerBatches({ tenant: TENANT, entries: count, perPlan: 50, prefix: 'seal' });
      const loaded = await ctx.bulkInsert(db, 'plan_ledger', batches, Number.POSITIVE_INFINITY);
      const started = Date.now();
      // 7e measures a whole pass in one request: no background verifier, the request's bound lifted.
      const sealer = await ctx.server('seal-bulk', 'bench_seal_bulk', { LEDGER_VERIFIER: 'off', LEDGER_VERIFY_REQUEST_MAX_LEAVES: '1000000' });
      const ready = Date.now();
      try {
        const done = await waitSealed(db, loaded, Date.now() + Math.max(30_000, window.left() - 60_000));
        const sealMs = Date.now() - ready;
        const perSecond = (done.size / sealMs) * 1000;
        rows.push({
          id: '7c',
          what,
          load: `${loaded.toLocaleString('en-US')} entries bulk-loaded, then a service started on them (its start-up reconcile queues them: ${ms(ready - started)} to ready)`,
          service: `${done.size.toLocaleString('en-US')} entries in signed checkpoints ${ms(sealMs)} after ready: ${rate(perSecond).replace('/s', ' entries/s')}`,
          baseline: '(goal is absolute)',
          ratio: `${Math.round(perSecond).toLocaleString('en-US')} entries/s`,
          goal,
          verdict: done.size >= loaded ? (perSecond >= 1000 ? 'pass' : 'miss') : 'incomplete',
          figures: { loaded, sealed: done.size, sealMs, startMs: ready - started, perSecond },
        });
        rows.push(await verifyRow(ctx, sealer));
      } finally {
        await sealer.stop();
      }
    } catch (e) {
      rows.push(ctx.failRow('7c', what, goal, e));
    } finally {
      await db.dropDatabase().catch(() => undefined);
    }
  }

  // ---- 7d/7e: proofs and verification over a large log ----
  if (parts.has('proof')) {
    const size = ctx.cfg.proofEntries;
    const goal = 'p50 and p99 ≤ 3× plan(planId)';
    const what = `ledgerInclusionProof vs plan(planId) @ ${size.toLocaleString('en-US')} entries`;
    const data = ctx.readSuiteData();
    const db = data.db;
    let proofServer: ServerProcess | null = null;
    try {
      // The read suite's data (case 6 seeded it, sealed; seeded here up to the size otherwise),
      // stopping where the case's window must keep time for its measurements.
      const loadStart = Date.now();
      const had = data.plansOf(TENANT) * LEDGER_PER_PLAN;
      await data.growTo(TENANT, Math.ceil(size / LEDGER_PER_PLAN), window.deadline - 90_000);
      const seeded = await data.seal(TENANT);
      const loadMs = Date.now() - loadStart;
      log(`  ${had >= size ? `case 6 had seeded a ${seeded} entry log` : `seeded a ${seeded} entry log in ${ms(loadMs)}`}`);
      if (seeded < size) ctx.notes.push(`7d: the time budget ended the seeding at ${seeded.toLocaleString('en-US')} of ${size.toLocaleString('en-US')} entries; 7d is measured at that size.`);
      const every = Math.max(1, Math.floor(seeded / 500));
      const sampleIds = Array.from({ length: Math.ceil(seeded / every) }, (_, k) => data.entryIdAt(TENANT, k * every));
      // The server on the seeded data, which it reads like its own; its start-up sweeps first.
      // Without the background verifier: the log was seeded outside the service, and its one-time
      // catch-up (measured against another tenant's reads in case 9a) is not what 7d measures.
      proofServer = await ctx.server('proof', ReadSuiteData.DB, { LEDGER_VERIFIER: 'off' });
      await ctx.awaitStoreIdle(30_000, 'after the proof server started');
      // A few plans through the service, for the plan(planId) side; then their seal.
      await ctx.run(ctx.gqlJob(proofServer, token, 'proof: plans to read', proposeBodies, ctx.limits('proof: plans to read', 4, { warmupMs: 0, maxRequests: 40 }), '"source":"RULES"'), { left: () => 60_000 }, proofServer);
      const planIds = (await db.collection('plans').find({ tenant_id: TENANT, created_by: { $ne: SEEDED_BY } }, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
      await waitSealed(db, seeded + planIds.length, Date.now() + 30_000);
      const PROOF = 'query Proof($id: ID!) { ledgerInclusionProof(entryId: $id) { entryId leafIndex treeSize leafHash auditPath } }';
      const proofBodies = sampleIds.map((id) => JSON.stringify({ query: PROOF, operationName: 'Proof', variables: { id } }));
      const planBodies = planIds.map((id) => JSON.stringify({ query: PLAN_QUERY, operationName: 'Plan', variables: { id } }));
      // One untimed pass over every sampled entry first (its figures: the cold proofs), as the
      // plan side's few plans are read many times over in its warm-up; then alternating short
      // runs (proof, plan, plan, proof, proof, plan), as in 7a/7b: the shared machine's load
      // drifts, and each side sees the same drift.
      const coldLabel = `inclusion proof @${seeded}, first of each entry`;
      const cold = await ctx.run(ctx.gqlJob(proofServer, token, coldLabel, proofBodies, ctx.limits(coldLabel, 1, { warmupMs: 0, maxRequests: proofBodies.length, durationMs: 120_000 }), '"auditPath"'), { left: () => 130_000 }, proofServer);
      const side = ctx.cfg.warmupMs + ctx.cfg.durationMs / 2 + 3000;
      const l = (label: string) => ctx.limits(label, 1, { durationMs: Math.max(1000, Math.round(ctx.cfg.durationMs / 2)) });
      const runs: { proof: LoadResult[]; plan: LoadResult[] } = { proof: [], plan: [] };
      for (let round = 0; round < 3; round++) {
        for (const which of round % 2 === 0 ? (['proof', 'plan'] as const) : (['plan', 'proof'] as const)) {
          const label = `${which === 'proof' ? 'inclusion proof' : 'plan(planId)'} @${seeded} (round ${round + 1})`;
          const job = which === 'proof' ? ctx.gqlJob(proofServer, token, label, proofBodies, l(label), '"auditPath"') : ctx.gqlJob(proofServer, token, label, planBodies, l(label), '"planId"');
          runs[which].push(await ctx.run(job, { left: () => side }, proofServer));
        }
      }
      const proof = merged(runs.proof);
      const plan = merged(runs.plan);
      const p50 = latencyRatio(proof, plan, 'p50');
      const p99 = latencyRatio(proof, plan, 'p99');
      rows.push({
        id: '7d',
        what: `ledgerInclusionProof vs plan(planId) @ ${seeded.toLocaleString('en-US')} entries`,
        load: `closed loop, 1 in flight; ${seeded.toLocaleString('en-US')} entries in the log (the read suite's data, ${had >= size ? 'seeded by case 6' : `seeded with insertMany in ${ms(loadMs)}`}), proofs of ${sampleIds.length} entries spread over it; 3 alternating rounds each (latency: median of the rounds)`,
        service: `ledgerInclusionProof: ${fmtRun(proof)}; the first proof of each entry (cold caches): p50 ${ms(cold.latency.p50)} · p99 ${ms(cold.latency.p99)}`,
        baseline: `plan(planId) on the same server: ${fmtRun(plan)}`,
        ratio: `${p50.text} p50, ${p99.text} p99`,
        goal,
        verdict: boundedVerdict(p50, 3) === 'pass' && boundedVerdict(p99, 3) === 'pass' ? 'pass' : boundedVerdict(p99.value > p50.value ? p99 : p50, 3),
        figures: { proof, plan, cold, p50Ratio: p50.value, p99Ratio: p99.value, size: seeded, loadMs },
      });
    } catch (e) {
      rows.push(ctx.failRow('7d', what, goal, e));
    } finally {
      await proofServer?.stop();
    }
  }
  return rows;
}

/** 7e: one full verification (two streamed queries, every entry rehashed, the whole tree rebuilt). */
async function verifyRow(ctx: Harness, server: ServerProcess): Promise<Row> {
  const verifyStart = Date.now();
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.token}` },
    body: JSON.stringify({ query: '{ verifyLedgerCheckpoint { treeSize valid entriesChecked firstBadLeafIndex } }' }),
    signal: AbortSignal.timeout(60_000),
  });
  const body = (await res.json()) as { data?: { verifyLedgerCheckpoint: { valid: boolean; entriesChecked: number } } };
  const verifyMs = Date.now() - verifyStart;
  const checked = body.data?.verifyLedgerCheckpoint.entriesChecked ?? 0;
  return {
    id: '7e',
    what: `verifyLedgerCheckpoint @ ${checked.toLocaleString('en-US')} entries`,
    load: 'one request on the log 7c sealed (background verifier off, request bound lifted): the whole tree rebuilt from the entries',
    service: `${ms(verifyMs)}, valid=${String(body.data?.verifyLedgerCheckpoint.valid)}`,
    baseline: '(reported)',
    ratio: `${Math.round((checked / verifyMs) * 1000).toLocaleString('en-US')} entries/s`,
    goal: '(reported)',
    verdict: body.data?.verifyLedgerCheckpoint.valid ? '' : 'error',
    figures: { verifyMs, checked, perSecond: (checked / verifyMs) * 1000 },
  };
}
