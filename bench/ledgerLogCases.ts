import type { Db, Document, MongoClient } from 'mongodb';
import { formatCheckpointNote } from '../src/domain/ledgerCheckpoint.js';
import { appendLeaves, combineCover, fromHex, leafHash, toHex, type Hash } from '../src/domain/merkleTree.js';
import { parsePrivateKey } from '../src/config/ledgerSigningKey.js';
import { CheckpointSigner } from '../src/services/ledgerLog/checkpointSigner.js';
import { LEDGER_LOG_COLLECTIONS } from '../src/store/ledgerLog/ledgerLogIndexes.js';
import { checkpointKey, checkpointSizeKey, entryLeafKey, leafKey, nodeKey } from '../src/store/ledgerLog/LedgerLogStore.js';
import { LedgerTiles } from '../src/store/ledgerLog/LedgerTiles.js';
import { ledgerChain } from './lib/documents.js';
import type { HttpJob, JobLimits, LoadJob, LoadResult } from './lib/loadJob.js';
import type { ServerProcess } from './lib/processes.js';
import type { Row, Verdict } from './lib/report.js';
import { ms, rate, ratio } from './lib/stats.js';

// Case 6 (BENCH_ONLY=6): the verifiable ledger (docs/ledger.md). Each side runs in its own server
// process and database on the same store, in the same run:
//   7a/7b  proposePlan at 16 and 64 in flight, sealer on vs LEDGER_SEALER=off (goal: ≥ 0.9×);
//   7c     sealing throughput: entries bulk-loaded, a service started on them, time until a
//          signed checkpoint covers them all (goal: ≥ 1,000 entries/s);
//   7d     ledgerInclusionProof vs plan(planId) at BENCH_PROOF_ENTRIES (500k) entries (goal: p50
//          and p99 ≤ 3×); the log is seeded with insertMany (leaves, lookups, nodes, tiles, a
//          signed checkpoint computed here with the service's own tree and tile code and key);
//   7e     verifyLedgerCheckpoint over the log of 7c: entries/s (reported).

export interface LedgerBenchContext {
  cfg: { warmupMs: number; durationMs: number; timeoutMs: number };
  admin: MongoClient;
  token: string;
  signingKey: string;
  rows: Row[];
  notes: string[];
  log(message: string): void;
  server(name: string, dbName: string, extra?: Record<string, string>): Promise<ServerProcess>;
  run(job: LoadJob, window: { left(): number }, server?: ServerProcess): Promise<LoadResult>;
  gqlJob(server: ServerProcess, token: string, label: string, bodies: string[], l: JobLimits, expect?: string): HttpJob;
  limits(label: string, concurrency: number, overrides?: Partial<JobLimits>): JobLimits;
  bulkInsert(db: Db, collection: string, batches: Iterable<Document[]>, until: number): Promise<number>;
  proposeBodies: string[];
  window: { left(): number; deadline: number };
  fmtRun(r: LoadResult | null): string;
  cpuText(r: LoadResult): string;
  latencyRatio(a: LoadResult, b: LoadResult, p: 'p50' | 'p99'): { value: number; text: string; known: boolean };
  boundedVerdict(r: { value: number; text: string; known: boolean }, limit: number): Verdict;
  failRow(id: string, what: string, goal: string, e: unknown): void;
}

const TENANT = 'bench';
const num = (name: string, fallback: number) => (process.env[name]?.trim() ? Number(process.env[name]) : fallback);
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

/** BENCH_LEDGER_PARTS narrows case 7 to some of propose (7a/7b), seal (7c), proof (7d/7e). */
const parts = new Set((process.env.BENCH_LEDGER_PARTS ?? 'propose,seal,proof').split(',').map((p) => p.trim()));

export async function runLedgerLogCases(ctx: LedgerBenchContext): Promise<void> {
  const { admin, token, rows, log } = ctx;

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
          if (ctx.window.left() < 2 * rounds * side) throw new Error('time budget');
          const results: { on: LoadResult[]; off: LoadResult[] } = { on: [], off: [] };
          for (let round = 0; round < rounds; round++) {
            for (const which of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
              const srv = which === 'on' ? on : off;
              const label = `${what} (sealer ${which}, round ${round + 1})`;
              results[which].push(await ctx.run(ctx.gqlJob(srv, token, label, ctx.proposeBodies, l(label), '"source":"RULES"'), { left: () => side }, srv));
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
            service: `sealer on: ${ctx.fmtRun(withSealing)} · CPU/request: ${ctx.cpuText(withSealing)}; all ${entries.toLocaleString('en-US')} entries in a signed checkpoint ${ms(lag.ms)} after the run`,
            baseline: `LEDGER_SEALER=off: ${ctx.fmtRun(without)} · CPU/request: ${ctx.cpuText(without)}`,
            ratio: `${ratio(r)} throughput`,
            goal,
            verdict: r >= 0.9 ? 'pass' : 'miss',
            figures: { withSealing, without, throughputRatio: r, entries, sealLagMs: lag.ms, sealedTo: lag.size },
          });
        } catch (e) {
          ctx.failRow(id, what, goal, e);
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
    const count = num('BENCH_SEAL_ENTRIES', 20_000);
    const db = admin.db('bench_seal_bulk');
    try {
      const batches = chains(count, new Date(Date.now() - 3_600_000));
      const loaded = await ctx.bulkInsert(db, 'plan_ledger', batches, Number.POSITIVE_INFINITY);
      const started = Date.now();
      const sealer = await ctx.server('seal-bulk', 'bench_seal_bulk');
      const ready = Date.now();
      try {
        const done = await waitSealed(db, loaded, Date.now() + Math.max(30_000, ctx.window.left() - 60_000));
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
      ctx.failRow('7c', what, goal, e);
    } finally {
      await db.dropDatabase().catch(() => undefined);
    }
  }

  // ---- 7d/7e: proofs and verification over a large log ----
  if (parts.has('proof')) {
    const size = num('BENCH_PROOF_ENTRIES', 500_000);
    const goal = 'p50 and p99 ≤ 3× plan(planId)';
    const what = `ledgerInclusionProof vs plan(planId) @ ${size.toLocaleString('en-US')} entries`;
    const dbName = 'bench_proof';
    const db = admin.db(dbName);
    let proofServer: ServerProcess | null = null;
    try {
      // The server first (it creates the indexes, and its start-up sweeps scan an empty ledger,
      // as in case 3), then the seeded log, which it reads like its own.
      proofServer = await ctx.server('proof', dbName);
      const loadStart = Date.now();
      // The seeding stops where the case's window must keep time for its measurements.
      const { sample: sampleIds, seeded } = await seedLog(db, size, ctx.signingKey, (m) => log(m), ctx, ctx.window.deadline - 90_000);
      const loadMs = Date.now() - loadStart;
      log(`  seeded a ${seeded} entry log in ${ms(loadMs)}`);
      if (seeded < size) ctx.notes.push(`7d: the time budget ended the seeding at ${seeded.toLocaleString('en-US')} of ${size.toLocaleString('en-US')} entries; 7d is measured at that size.`);
      // A few plans through the service, for the plan(planId) side; then their seal.
      const proposed = await ctx.run(ctx.gqlJob(proofServer, token, 'proof: plans to read', ctx.proposeBodies, ctx.limits('proof: plans to read', 4, { warmupMs: 0, maxRequests: 40 }), '"source":"RULES"'), { left: () => 60_000 }, proofServer);
      void proposed;
      const planIds = (await db.collection('plans').find({ tenant_id: TENANT }, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
      await waitSealed(db, seeded + planIds.length, Date.now() + 30_000);
      const PLAN = 'query Plan($id: ID!) { plan(planId: $id) { planId planType tenantId accountId objective status expiresAt createdAt updatedAt createdBy steps { stepId actionType status sequence dependencies constraints } } }';
      const PROOF = 'query Proof($id: ID!) { ledgerInclusionProof(entryId: $id) { entryId leafIndex treeSize leafHash auditPath } }';
      const proofBodies = sampleIds.map((id) => JSON.stringify({ query: PROOF, operationName: 'Proof', variables: { id } }));
      const planBodies = planIds.map((id) => JSON.stringify({ query: PLAN, operationName: 'Plan', variables: { id } }));
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
      const p50 = ctx.latencyRatio(proof, plan, 'p50');
      const p99 = ctx.latencyRatio(proof, plan, 'p99');
      rows.push({
        id: '7d',
        what: `ledgerInclusionProof vs plan(planId) @ ${seeded.toLocaleString('en-US')} entries`,
        load: `closed loop, 1 in flight; ${seeded.toLocaleString('en-US')} entries in the log (seeded with insertMany in ${ms(loadMs)}), proofs of ${sampleIds.length} entries spread over it; 3 alternating rounds each (latency: median of the rounds)`,
        service: `ledgerInclusionProof: ${ctx.fmtRun(proof)}; the first proof of each entry (cold caches): p50 ${ms(cold.latency.p50)} · p99 ${ms(cold.latency.p99)}`,
        baseline: `plan(planId) on the same server: ${ctx.fmtRun(plan)}`,
        ratio: `${p50.text} p50, ${p99.text} p99`,
        goal,
        verdict: ctx.boundedVerdict(p50, 3) === 'pass' && ctx.boundedVerdict(p99, 3) === 'pass' ? 'pass' : ctx.boundedVerdict(p99.value > p50.value ? p99 : p50, 3),
        figures: { proof, plan, cold, p50Ratio: p50.value, p99Ratio: p99.value, size: seeded, loadMs },
      });
    } catch (e) {
      ctx.failRow('7d', what, goal, e);
    } finally {
      await proofServer?.stop();
      await db.dropDatabase().catch(() => undefined);
    }
  }
}

/** 7e: one full verification (two streamed queries, every entry rehashed, the whole tree rebuilt). */
async function verifyRow(ctx: LedgerBenchContext, server: ServerProcess): Promise<Row> {
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
    load: 'one request on the log 7c sealed: the whole tree rebuilt from the entries',
    service: `${ms(verifyMs)}, valid=${String(body.data?.verifyLedgerCheckpoint.valid)}`,
    baseline: '(reported)',
    ratio: `${Math.round((checked / verifyMs) * 1000).toLocaleString('en-US')} entries/s`,
    goal: '(reported)',
    verdict: body.data?.verifyLedgerCheckpoint.valid ? '' : 'error',
    figures: { verifyMs, checked, perSecond: (checked / verifyMs) * 1000 },
  };
}

/** Hash-chained plans of 50 entries, `count` entries in all, in insert batches. */
function* chains(count: number, start: Date, batchSize = 1000): Generator<Document[]> {
  let batch: Document[] = [];
  for (let p = 0, n = 0; n < count; p++) {
    const chain = ledgerChain(TENANT, `seal-plan-${p}`, `seal-acct-${p % 997}`, Math.min(50, count - n), start);
    n += chain.length;
    batch.push(...chain);
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/**
 * Seeds `size` entries and their sealed log (what the sealer would have written), returning a
 * sample of entry ids spread over the log.
 */
async function seedLog(db: Db, size: number, signingKey: string, log: (m: string) => void, ctx: LedgerBenchContext, until: number): Promise<{ sample: string[]; seeded: number }> {
  const start = new Date(Date.now() - 86_400_000);
  let state = { size: 0, frontier: [] as Hash[] };
  const sample: string[] = [];
  const every = Math.max(1, Math.floor(size / 500));
  // The store's own tile code; every node a tile needs was completed in this run (it remembers them).
  const tiles = new LedgerTiles(db.collection(LEDGER_LOG_COLLECTIONS.tiles), nodeKey);
  for (const entries of chains(size, start, 2000)) {
    if (Date.now() >= until) break;
    const leaves: Document[] = [];
    const lookups: Document[] = [];
    const hashes: Hash[] = [];
    for (const e of entries) {
      const index = state.size + hashes.length;
      const leaf = leafHash(fromHex(e.hash as string) as Hash);
      hashes.push(leaf);
      leaves.push({ _id: leafKey(TENANT, index), tenant_id: TENANT, index, entry_id: e.entry_id, entry_key: e._id, leaf_hash: toHex(leaf) });
      lookups.push({ _id: entryLeafKey(TENANT, e.entry_id as string), tenant_id: TENANT, entry_id: e.entry_id, index, entry_key: e._id });
      if (index % every === 0) sample.push(e.entry_id as string);
    }
    const next = appendLeaves(state.size, state.frontier, hashes);
    const nodes = next.completed.filter((c) => c.id.level > 0).map((c) => ({ _id: nodeKey(TENANT, c.id.level, c.id.index), tenant_id: TENANT, level: c.id.level, index: c.id.index, hash: toHex(c.hash) }));
    const tileDocs = await tiles.filledBy(TENANT, next.completed.map((c) => ({ id: c.id, hash: toHex(c.hash) })), () => Promise.resolve(new Map()));
    state = next;
    await Promise.all([
      ctx.bulkInsert(db, LEDGER_LOG_COLLECTIONS.tiles, tileDocs.length > 0 ? [tileDocs] : [], Number.POSITIVE_INFINITY),
      ctx.bulkInsert(db, 'plan_ledger', [entries], Number.POSITIVE_INFINITY),
      ctx.bulkInsert(db, LEDGER_LOG_COLLECTIONS.leaves, [leaves], Number.POSITIVE_INFINITY),
      ctx.bulkInsert(db, LEDGER_LOG_COLLECTIONS.entryLeaves, [lookups], Number.POSITIVE_INFINITY),
      ctx.bulkInsert(db, LEDGER_LOG_COLLECTIONS.nodes, [nodes], Number.POSITIVE_INFINITY),
    ]);
    if (state.size % 100_000 < entries.length) log(`  seeded ${state.size} of ${size}`);
  }
  const signer = new CheckpointSigner(parsePrivateKey(signingKey));
  const root = toHex(combineCover(state.frontier));
  const timestamp = new Date();
  const note = formatCheckpointNote({ tenantId: TENANT, treeSize: state.size, rootHash: root, timestamp });
  await db.collection(LEDGER_LOG_COLLECTIONS.checkpoints).insertOne({ _id: checkpointKey(TENANT, 1) as never, tenant_id: TENANT, seq: 1, tree_size: state.size, root_hash: root, timestamp, key_id: signer.keyId, signature: signer.sign(note), note });
  await db.collection(LEDGER_LOG_COLLECTIONS.checkpointSizes).insertOne({ _id: checkpointSizeKey(TENANT, state.size) as never, tenant_id: TENANT, tree_size: state.size, seq: 1 });
  return { sample: sample.filter((_, i) => i * every < state.size), seeded: state.size };
}
