import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { LedgerEntryRecord } from '../../src/domain/ledger.js';
import { parseCheckpointNote } from '../../src/domain/ledgerCheckpoint.js';
import { combineCover, consistencyProofRanges, fromHex, inclusionProofRanges, leafHash, rootOfLeaves, toHex, verifyConsistency, verifyInclusion, type Hash } from '../../src/domain/merkleTree.js';
import { parsePrivateKey } from '../../src/config/ledgerSigningKey.js';
import { CheckpointSigner, generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';
import { LedgerSealer } from '../../src/services/ledgerLog/LedgerSealer.js';
import { rangeHashes } from '../../src/services/ledgerLog/nodeReads.js';
import { ensureIndexes } from '../../src/store/indexes.js';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { LedgerLogStore } from '../../src/store/ledgerLog/LedgerLogStore.js';
import { PlanLedger } from '../../src/store/PlanLedger.js';
import { chainAppender } from '../support/ledgerAppends.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { memoryLogger } from './storeFixtures.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const signer = new CheckpointSigner(parsePrivateKey(generateSigningKey()));

describe('the sealer', () => {
  let t: TestDb;
  let logStore: LedgerLogStore;
  const notified: LedgerEntryRecord[] = [];
  let ledger: PlanLedger;

  beforeAll(async () => {
    t = await openTestDb('seal');
    await ensureIndexes(t.db);
    logStore = new LedgerLogStore(t.db, { logger: memoryLogger() });
    ledger = new PlanLedger(t.db, { logger: memoryLogger(), onAppended: (e) => notified.push(e) });
  });
  afterAll(async () => {
    await t.close();
  });

  const sealerFor = () => new LedgerSealer({ store: logStore, signer, logger: quiet, intervalMs: 100 });

  async function write(tenant: string, plans: number, perPlan: number): Promise<LedgerEntryRecord[]> {
    const out: LedgerEntryRecord[] = [];
    const append = chainAppender(ledger);
    await Promise.all(
      Array.from({ length: plans }, async () => {
        const planId = randomUUID();
        for (let i = 0; i < perPlan; i++) out.push(await append({ plan_id: planId, tenant_id: tenant, account_id: 'acc', event_type: 'PLAN_UPDATED', actor: 'a', data: { i } }));
      }),
    );
    return out;
  }

  /** The log as stored, checked against the entries: each sealed exactly once, root signed. */
  async function expectSealedOnce(tenant: string, entries: readonly LedgerEntryRecord[]) {
    const leaves = await t.db.collection(LEDGER_LOG_COLLECTIONS.leaves).find({ tenant_id: tenant }).sort({ index: 1 }).toArray();
    expect(leaves.map((l) => l.index)).toEqual(entries.map((_, i) => i));
    expect(new Set(leaves.map((l) => l.entry_id))).toEqual(new Set(entries.map((e) => e.entry_id)));
    const byId = new Map(entries.map((e) => [e.entry_id, e]));
    const leafHashes = leaves.map((l) => leafHash(fromHex((byId.get(l.entry_id as string) as LedgerEntryRecord).hash) as Hash));
    const latest = await logStore.latestCheckpoint(tenant);
    expect(latest?.tree_size).toBe(entries.length);
    expect(latest?.root_hash).toBe(toHex(rootOfLeaves(leafHashes)));
    expect(signer.verify(latest!.note, latest!.signature, latest!.key_id)).toBe(true);
    expect(parseCheckpointNote(latest!.note)).toMatchObject({ tenantId: tenant, treeSize: entries.length, rootHash: latest!.root_hash });
    return { leaves, leafHashes, latest: latest! };
  }

  it('seals what the ledger appended, signs a checkpoint, and serves proofs from stored nodes', async () => {
    const tenant = `t-${randomUUID()}`;
    notified.length = 0;
    const sealer = sealerFor();
    const first = await write(tenant, 3, 4);
    for (const e of notified) sealer.notify(e);
    expect(await sealer.sealAll()).toEqual({ sealed: 12 });
    const { leaves: firstLeaves } = await expectSealedOnce(tenant, first);
    const firstRoot = (await logStore.latestCheckpoint(tenant))!.root_hash;

    notified.length = 0;
    const second = await write(tenant, 5, 7);
    for (const e of notified) sealer.notify(e);
    // A repeated notification (a retried append) is sealed once.
    for (const e of notified.slice(0, 3)) sealer.notify(e);
    await sealer.sealAll();
    const all = [...firstLeaves.map((l) => first.find((e) => e.entry_id === l.entry_id)!), ...second];
    const { leafHashes, latest } = await expectSealedOnce(tenant, all);
    expect(latest.seq).toBe(2);

    const root = fromHex(latest.root_hash) as Hash;
    for (const index of [0, 1, 11, 12, 30, all.length - 1]) {
      const path = await rangeHashes(logStore, tenant, inclusionProofRanges(index, all.length));
      expect(verifyInclusion(index, all.length, leafHashes[index] as Hash, path!, root)).toBe(true);
    }
    const proof = await rangeHashes(logStore, tenant, consistencyProofRanges(12, all.length));
    expect(verifyConsistency(12, all.length, fromHex(firstRoot) as Hash, root, proof!)).toBe(true);
    // Nothing new: no new checkpoint.
    expect(await sealer.sealAll()).toEqual({ sealed: 0 });
    expect((await logStore.latestCheckpoint(tenant))!.seq).toBe(2);
  });

  it('keeps every entry sealed exactly once when sealers race', async () => {
    const tenant = `t-${randomUUID()}`;
    notified.length = 0;
    const entries = await write(tenant, 6, 10);
    const sealers = [sealerFor(), sealerFor(), sealerFor()];
    for (const s of sealers) for (const e of notified) s.notify(e);
    // The lease keeps them apart, so first expire it on every attempt: each sealer acts as if alone.
    const racing = sealers.map((s) => {
      (logStore as unknown as { acquireLease: () => Promise<boolean> }).acquireLease = async () => true;
      return s.sealAll();
    });
    await Promise.all(racing);
    for (const s of sealers) await s.sealAll();
    delete (logStore as unknown as { acquireLease?: unknown }).acquireLease;
    const leaves = await t.db.collection(LEDGER_LOG_COLLECTIONS.leaves).find({ tenant_id: tenant }).sort({ index: 1 }).toArray();
    expect(leaves.length).toBe(entries.length);
    expect(new Set(leaves.map((l) => l.entry_id)).size).toBe(entries.length);
    const hashes = leaves.map((l) => fromHex(l.leaf_hash as string) as Hash);
    const latest = await logStore.latestCheckpoint(tenant);
    expect(latest?.tree_size).toBe(entries.length);
    expect(latest?.root_hash).toBe(toHex(combineCover([rootOfLeaves(hashes)])));
    // Every checkpoint any of them signed is a prefix of the final log.
    for (const c of await logStore.allCheckpoints(tenant)) {
      expect(c.root_hash).toBe(toHex(rootOfLeaves(hashes.slice(0, c.tree_size))));
    }
  });

  it("one sealer's overlapping rounds (its timer and a caller) take turns: the log stays whole and trusted", async () => {
    const tenant = `t-${randomUUID()}`;
    notified.length = 0;
    const sealer = sealerFor();
    const rounds: Promise<{ sealed: number }>[] = [];
    // Entries arrive while earlier rounds are still in flight, as under a busy store.
    for (let wave = 0; wave < 6; wave++) {
      notified.length = 0;
      await write(tenant, 2, 5);
      for (const e of notified) sealer.notify(e);
      rounds.push(sealer.sealAll(), sealer.sealAll());
    }
    const sealed = (await Promise.all(rounds)).reduce((n, r) => n + r.sealed, 0);
    expect(sealed).toBe(60);
    expect(sealer.inconsistency(tenant)).toBeNull();
    const entries = await t.db.collection('plan_ledger').find({ tenant_id: tenant }).toArray();
    const leaves = await t.db.collection(LEDGER_LOG_COLLECTIONS.leaves).find({ tenant_id: tenant }).sort({ index: 1 }).toArray();
    expect(leaves.map((l) => l.index)).toEqual(entries.map((_, i) => i));
    expect((await logStore.latestCheckpoint(tenant))?.tree_size).toBe(60);
  });

  it('continues the log a sealer left half-written, and reconcile finds entries nobody was told of', async () => {
    const tenant = `t-${randomUUID()}`;
    notified.length = 0;
    const entries = await write(tenant, 2, 5);
    const dying = sealerFor();
    for (const e of notified) dying.notify(e);
    // Dies after its leaves went in: no lookups, no nodes, no checkpoint.
    const store = logStore as unknown as Record<string, unknown>;
    store.insertEntryLeaves = async () => {
      throw new Error('killed');
    };
    await dying.sealAll();
    delete store.insertEntryLeaves;
    expect(await logStore.latestCheckpoint(tenant)).toBeNull();
    expect(await logStore.logSize(tenant)).toBe(10);

    // A new sealer with no notifications: reconcile compares counts and finds the rest.
    notified.length = 0;
    const more = await write(tenant, 1, 3);
    const next = sealerFor();
    expect(await next.reconcile()).toBe(3);
    await next.sealAll();
    const leaves = await t.db.collection(LEDGER_LOG_COLLECTIONS.leaves).find({ tenant_id: tenant }).sort({ index: 1 }).toArray();
    expect(leaves.length).toBe(13);
    expect(new Set(leaves.map((l) => l.entry_id))).toEqual(new Set([...entries, ...more].map((e) => e.entry_id)));
    const latest = await logStore.latestCheckpoint(tenant);
    expect(latest?.tree_size).toBe(13);
    expect(latest?.root_hash).toBe(toHex(rootOfLeaves(leaves.map((l) => fromHex(l.leaf_hash as string) as Hash))));
    // The lookups the dead sealer never wrote were completed.
    expect(await logStore.leafIndexesOf(tenant, leaves.slice(0, 10).map((l) => l.entry_id as string))).toEqual(leaves.slice(0, 10).map((l) => l.index));
    // A repeated notification of a sealed entry whose lookup exists is dropped.
    next.notify(entries[0] as LedgerEntryRecord);
    expect(await next.sealAll()).toEqual({ sealed: 0 });
    expect(next.pendingCount()).toBe(0);
  });

  it('refuses to sign once the log is not an extension of what it signed (rolled back)', async () => {
    const tenant = `t-${randomUUID()}`;
    notified.length = 0;
    await write(tenant, 1, 4);
    const sealer = sealerFor();
    for (const e of notified) sealer.notify(e);
    await sealer.sealAll();
    expect(sealer.lastSigned(tenant)?.size).toBe(4);
    // Roll the log back straight in the database: the last two leaves and the checkpoint go.
    await t.db.collection(LEDGER_LOG_COLLECTIONS.leaves).deleteMany({ tenant_id: tenant, index: { $gte: 2 } });
    await t.db.collection(LEDGER_LOG_COLLECTIONS.checkpoints).deleteMany({ tenant_id: tenant });
    notified.length = 0;
    await write(tenant, 1, 1);
    for (const e of notified) sealer.notify(e);
    expect(await sealer.sealAll()).toEqual({ sealed: 0 });
    expect(sealer.inconsistency(tenant)).toMatch(/not an extension of checkpoint 4/);
    expect(await logStore.latestCheckpoint(tenant)).toBeNull();
  });
});
