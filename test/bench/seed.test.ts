import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Db } from 'mongodb';
import { fromHex, leafHash, toHex, verifyInclusion, type Hash } from '../../src/domain/merkleTree.js';
import { parsePrivateKey } from '../../src/config/ledgerSigningKey.js';
import { CheckpointSigner, generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';
import { LedgerSealer } from '../../src/services/ledgerLog/LedgerSealer.js';
import { ensureIndexes } from '../../src/store/indexes.js';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { LedgerLogStore } from '../../src/store/ledgerLog/LedgerLogStore.js';
import { PlanLedger } from '../../src/store/PlanLedger.js';
import { LEDGER_PER_PLAN, ReadSuiteData, planIdOf } from '../../bench/lib/readSuite.js';
import { SealedLogWriter, bulkInsert, ledgerBatches } from '../../bench/lib/seed.js';
import { memoryLogger } from '../store/storeFixtures.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

// The bench seeds with raw insertMany (bench/lib/seed.ts). Its documents must be what the
// service itself writes: here a small set of each kind is seeded, then read through the real
// service (plans, verifyPlanLedger, verifyLedgerCheckpoint, inclusion proofs), and the log the
// seeder writes is compared with the one the real sealer writes for the same entries.

const VERIFY_PLAN = 'query($id: ID!) { verifyPlanLedger(planId: $id) { valid entries brokenAtSeq checkpointTreeSize } }';
const PLAN = 'query($id: ID!) { plan(planId: $id) { planId accountId status steps { actionType } } }';
const COUNTS = '{ planStatusCounts { status count } }';
const VERIFY_LOG = '{ verifyLedgerCheckpoint { treeSize valid entriesChecked firstBadLeafIndex } }';
const PROOF = 'query($id: ID!) { ledgerInclusionProof(entryId: $id) { leafIndex treeSize leafHash auditPath } }';
const CHECKPOINT = '{ ledgerCheckpoint { treeSize rootHash } }';

const signingKey = generateSigningKey();
const start = new Date(Date.now() - 86_400_000);

describe('the bench seeder writes what the service writes', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ LEDGER_SIGNING_KEY: signingKey, LEDGER_SEALER: 'off' });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  }, 60_000);

  const q = async <T>(query: string, variables: Record<string, unknown>, token: string): Promise<T> => {
    const res = await server.gql<T>(query, variables, token);
    expect(res.errors).toBeUndefined();
    return res.data as T;
  };
  const viewer = (tenant: string) => server.token(tenant, ['plan-viewer']);

  it('read-suite data (cases 6 and 7d): the service reads the plans, verifies every chain and the sealed log; a mirror gets the same documents', async () => {
    const tenant = 'seed-reads';
    const mirror = await openTestDb('seedmirror');
    try {
      const data = new ReadSuiteData(server.db, signingKey, true);
      const detach = data.addMirror(mirror.db);
      expect(await data.growTo(tenant, 25)).toBe(25);
      expect(() => data.addMirror(mirror.db)).toThrow(/before the first seeding/);
      expect(await data.growTo(tenant, 73)).toBe(73);
      expect(await data.seal(tenant)).toBe(73 * LEDGER_PER_PLAN);
      expect(await data.seal(tenant)).toBe(73 * LEDGER_PER_PLAN); // no second checkpoint of the same size
      const token = await viewer(tenant);
      for (const i of [0, 24, 25, 72]) {
        const id = planIdOf(tenant, i);
        const { plan } = await q<{ plan: { planId: string; steps: unknown[] } }>(PLAN, { id }, token);
        expect(plan).toMatchObject({ planId: id });
        expect(plan.steps).toHaveLength(2);
        expect((await q<{ verifyPlanLedger: unknown }>(VERIFY_PLAN, { id }, token)).verifyPlanLedger).toMatchObject({ valid: true, entries: LEDGER_PER_PLAN, checkpointTreeSize: 730 });
      }
      const counts = (await q<{ planStatusCounts: { count: number }[] }>(COUNTS, {}, token)).planStatusCounts;
      expect(counts.reduce((n, c) => n + c.count, 0)).toBe(73);
      expect((await q<{ verifyLedgerCheckpoint: unknown }>(VERIFY_LOG, {}, token)).verifyLedgerCheckpoint).toEqual({ treeSize: 730, valid: true, entriesChecked: 730, firstBadLeafIndex: null });
      // Case 7d finds its sample of entries by log position.
      const leaves = await server.db.collection(LEDGER_LOG_COLLECTIONS.leaves).find({ tenant_id: tenant, index: { $in: [0, 9, 10, 377, 729] } }).sort({ index: 1 }).toArray();
      expect(leaves.map((l) => l.entry_id)).toEqual([0, 9, 10, 377, 729].map((i) => data.entryIdAt(tenant, i)));
      for (const c of ['plans', 'plan_ledger']) {
        const mine = await server.db.collection(c).find({ tenant_id: tenant }).sort({ _id: 1 }).toArray();
        expect(mine.length).toBeGreaterThan(0);
        expect(await mirror.db.collection(c).find({ tenant_id: tenant }).sort({ _id: 1 }).toArray()).toEqual(mine);
      }
      expect(await mirror.db.collection(LEDGER_LOG_COLLECTIONS.leaves).countDocuments({})).toBe(0);
      // Detached (as case 6 does before closing the stock store's client), it gets no more.
      detach();
      expect(await data.growTo(tenant, 80)).toBe(80);
      expect(await mirror.db.collection('plans').countDocuments({ tenant_id: tenant })).toBe(73);
      expect(await server.db.collection('plans').countDocuments({ tenant_id: tenant })).toBe(80);
    } finally {
      await mirror.close();
    }
  });

  // Cases 3 and 7 seed ledger entries without their plans (the reads measured need only the
  // entries), so the store's ledger verifies their chains (verifyPlanLedger wants the plan too).
  const ledger = () => new PlanLedger(server.db, { logger: memoryLogger() });

  it('ledger batches (cases 3 and 7c): every plan chain verifies, the last plan named as asked, times rising', async () => {
    const tenant = 'seed-ledger';
    const batches = [...ledgerBatches({ tenant, entries: 230, perPlan: 50, prefix: 'seed', lastPlanId: 'seed-last', start, batchSize: 100 })];
    expect(batches.map((b) => b.length)).toEqual([100, 100, 30]);
    const times = batches.flat().map((e) => (e.timestamp as Date).getTime());
    expect(times.every((t, i) => i === 0 || t > (times[i - 1] as number))).toBe(true);
    // By default the last entry is a minute old: none in the future.
    const last = [...ledgerBatches({ tenant, entries: 120, perPlan: 50, prefix: 'later' })].flat().at(-1)!.timestamp as Date;
    expect(Date.now() - last.getTime()).toBeGreaterThanOrEqual(59_000);
    expect(Date.now() - last.getTime()).toBeLessThan(120_000);
    expect(await bulkInsert(server.db, 'plan_ledger', batches)).toBe(230);
    for (const [id, entries] of [['seed-plan-0', 50], ['seed-plan-3', 50], ['seed-last', 30]] as const) {
      expect(await ledger().verify(tenant, id)).toMatchObject({ valid: true, entries });
    }
    const { planLedger } = await q<{ planLedger: { edges: { node: { seq: number } }[] } }>('query($id: ID!) { planLedger(filter: { planId: $id }, first: 50) { edges { node { seq } } } }', { id: 'seed-last' }, await viewer(tenant));
    expect(planLedger.edges.map((e) => e.node.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('a sealed log (SealedLogWriter): the service verifies the checkpoint, proves inclusion, and each chain verifies', async () => {
    const tenant = 'seed-log';
    const size = 700; // more than two full tiles
    const writer = new SealedLogWriter(server.db, tenant, signingKey);
    const sample: string[] = [];
    for (const batch of ledgerBatches({ tenant, entries: size, perPlan: 50, prefix: 'seed', start, batchSize: 300 })) {
      sample.push(batch[0]!.entry_id as string, batch.at(-1)!.entry_id as string);
      await writer.append(batch);
    }
    await writer.checkpoint();
    expect(writer.size).toBe(size);
    const token = await viewer(tenant);
    expect((await q<{ verifyLedgerCheckpoint: unknown }>(VERIFY_LOG, {}, token)).verifyLedgerCheckpoint).toEqual({ treeSize: size, valid: true, entriesChecked: size, firstBadLeafIndex: null });
    const { ledgerCheckpoint } = await q<{ ledgerCheckpoint: { treeSize: number; rootHash: string } }>(CHECKPOINT, {}, token);
    for (const entryId of sample) {
      const { ledgerInclusionProof: p } = await q<{ ledgerInclusionProof: { leafIndex: number; treeSize: number; leafHash: string; auditPath: string[] } }>(PROOF, { id: entryId }, token);
      expect(p.treeSize).toBe(size);
      expect(verifyInclusion(p.leafIndex, p.treeSize, fromHex(p.leafHash) as Hash, p.auditPath.map((h) => fromHex(h) as Hash), fromHex(ledgerCheckpoint.rootHash) as Hash)).toBe(true);
    }
    expect(await ledger().verify(tenant, 'seed-plan-13')).toMatchObject({ valid: true, entries: 50 });
  });
});

describe('the seeded log is the log the real sealer writes', () => {
  let seeded: TestDb;
  let sealed: TestDb;

  beforeAll(async () => {
    seeded = await openTestDb('seedlog');
    sealed = await openTestDb('seallog');
    await Promise.all([ensureIndexes(seeded.db), ensureIndexes(sealed.db)]);
  }, 60_000);
  afterAll(async () => {
    await seeded?.close();
    await sealed?.close();
  });

  const all = (db: Db, collection: string) => db.collection(collection).find({}).sort({ _id: 1 }).toArray();

  it('same leaves, lookups, nodes, tiles and root for the same entries', async () => {
    const tenant = 'seed-vs-sealer';
    const batches = [...ledgerBatches({ tenant, entries: 600, perPlan: 50, prefix: 'cmp', start, batchSize: 200 })];
    // The sealer seals a round's entries in time order: the seeder's order, as entries' times rise.
    const writer = new SealedLogWriter(seeded.db, tenant, signingKey);
    for (const batch of batches) await writer.append(batch);
    await writer.checkpoint();

    await bulkInsert(sealed.db, 'plan_ledger', batches);
    const store = new LedgerLogStore(sealed.db, { logger: memoryLogger() });
    const sealer = new LedgerSealer({ store, signer: new CheckpointSigner(parsePrivateKey(signingKey)), logger: { info: () => undefined, warn: () => undefined, error: () => undefined }, intervalMs: 100 });
    expect(await sealer.reconcile()).toBe(600);
    expect((await sealer.sealAll()).sealed).toBe(600);

    for (const c of [LEDGER_LOG_COLLECTIONS.leaves, LEDGER_LOG_COLLECTIONS.entryLeaves, LEDGER_LOG_COLLECTIONS.nodes, LEDGER_LOG_COLLECTIONS.tiles]) {
      const mine = await all(seeded.db, c);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine).toEqual(await all(sealed.db, c));
    }
    const leaves = await all(seeded.db, LEDGER_LOG_COLLECTIONS.leaves);
    expect(leaves).toHaveLength(600);
    expect(leaves.find((l) => l.index === 0)?.leaf_hash).toBe(toHex(leafHash(fromHex(batches[0]![0]!.hash as string) as Hash)));
    const [mine, theirs] = await Promise.all([seeded.db, sealed.db].map((db) => db.collection(LEDGER_LOG_COLLECTIONS.checkpoints).find({}).sort({ seq: -1 }).limit(1).next()));
    expect(mine).toMatchObject({ tree_size: 600, root_hash: theirs?.root_hash, key_id: theirs?.key_id });
  });
});
